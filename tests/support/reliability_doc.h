#pragma once
// docs/reliability.md is a table of every fault, crash point and bad input
// the tests try, and what happened. The tests keep it true:
//
//   | id | what was tried | what happened |
//   |---|---|---|
//   | `cli.http-500` | the server answers HTTP 500 | exit 95, `HTTP status 500`, nothing written |
//
// A row's id is the first cell's code span. Every other code span in the
// row's last cell is a piece of text the test saw (a log line, an error, a
// status state): ExpectReliabilityRow fails the calling test when the row is
// missing or one of its code spans does not occur in `observed`. A row
// therefore cannot claim a message the program no longer prints, and
// ReliabilityDoc.EveryRowHasATest (tests/support) fails for a row whose id no
// test names.

#include <map>
#include <string>
#include <vector>

namespace scepd::testing {

struct ReliabilityRow {
  std::string id;
  std::string tried;     // second cell, as written
  std::string happened;  // last cell, as written
  std::vector<std::string> quotes;  // code spans of the last cell
  int line = 0;          // 1-based line in docs/reliability.md
};

// Parses the table rows of a reliability document (lines starting with '|'
// whose first cell is a code span). Rows keyed by id; a duplicate id is
// reported as an error in *error (the later row is ignored).
std::map<std::string, ReliabilityRow> ParseReliabilityDoc(const std::string& text,
                                                          std::string* error);

// The rows of ${SCEPD_SOURCE_DIR}/docs/reliability.md (parsed once).
const std::map<std::string, ReliabilityRow>& ReliabilityRows();

// gtest assertion: the row `id` exists and each of its quotes occurs in
// `observed`. Adds a failure naming docs/reliability.md:LINE and the missing
// quote otherwise.
void ExpectReliabilityRow(const std::string& id, const std::string& observed);

}  // namespace scepd::testing
