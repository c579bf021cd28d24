#include "tests/support/reliability_doc.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace scepd::testing {
namespace {

std::vector<std::string> SplitCells(const std::string& line) {
  // "| a | b | c |" -> {"a", "b", "c"}; a '|' inside a code span stays.
  std::vector<std::string> cells;
  std::string cell;
  bool in_code = false;
  for (std::size_t i = 1; i < line.size(); ++i) {
    char c = line[i];
    if (c == '`') in_code = !in_code;
    if (c == '|' && !in_code) {
      cells.push_back(cell);
      cell.clear();
      continue;
    }
    cell.push_back(c);
  }
  for (auto& s : cells) {
    auto b = s.find_first_not_of(' ');
    auto e = s.find_last_not_of(' ');
    s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
  }
  return cells;
}

std::vector<std::string> CodeSpans(const std::string& cell) {
  std::vector<std::string> spans;
  std::size_t pos = 0;
  while (true) {
    auto open = cell.find('`', pos);
    if (open == std::string::npos) break;
    auto close = cell.find('`', open + 1);
    if (close == std::string::npos) break;
    spans.push_back(cell.substr(open + 1, close - open - 1));
    pos = close + 1;
  }
  return spans;
}

}  // namespace

std::map<std::string, ReliabilityRow> ParseReliabilityDoc(const std::string& text,
                                                          std::string* error) {
  std::map<std::string, ReliabilityRow> rows;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] != '|') continue;
    auto cells = SplitCells(line);
    if (cells.size() < 3) continue;
    auto id_spans = CodeSpans(cells[0]);
    if (id_spans.size() != 1 || cells[0] != "`" + id_spans[0] + "`") continue;
    ReliabilityRow row;
    row.id = id_spans[0];
    row.tried = cells[1];
    row.happened = cells.back();
    row.quotes = CodeSpans(row.happened);
    row.line = number;
    if (rows.count(row.id) != 0) {
      if (error != nullptr) {
        *error += "docs/reliability.md:" + std::to_string(number) + ": duplicate id `" +
                  row.id + "` (first at line " + std::to_string(rows[row.id].line) + ")\n";
      }
      continue;
    }
    rows.emplace(row.id, row);
  }
  return rows;
}

const std::map<std::string, ReliabilityRow>& ReliabilityRows() {
  static const std::map<std::string, ReliabilityRow> rows = [] {
    std::ifstream in(std::string(SCEPD_SOURCE_DIR) + "/docs/reliability.md");
    std::stringstream text;
    text << in.rdbuf();
    std::string error;
    return ParseReliabilityDoc(text.str(), &error);
  }();
  return rows;
}

void ExpectReliabilityRow(const std::string& id, const std::string& observed) {
  const auto& rows = ReliabilityRows();
  auto it = rows.find(id);
  if (it == rows.end()) {
    ADD_FAILURE() << "docs/reliability.md has no row `" << id << "`: add one saying what "
                  << "happened";
    return;
  }
  for (const auto& quote : it->second.quotes) {
    EXPECT_NE(observed.find(quote), std::string::npos)
        << "docs/reliability.md:" << it->second.line << " (`" << id << "`) quotes `" << quote
        << "`, but the test did not see it. What it saw:\n"
        << observed;
  }
}

}  // namespace scepd::testing
