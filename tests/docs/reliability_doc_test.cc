// docs/reliability.md stays true: its rows parse, and each row's id is named
// by a test (the test then checks the row's quotes against what it saw).
#include "tests/support/reliability_doc.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace scepd::testing {
namespace {

TEST(ReliabilityDocParse, ReadsIdTriedHappenedAndQuotes) {
  std::string error;
  auto rows = ParseReliabilityDoc(
      "# t\n"
      "| id | tried | happened |\n"
      "|---|---|---|\n"
      "| `a.b` | HTTP 500 | exit 95, `HTTP status 500`, state `backoff` |\n"
      "| not an id | x | y |\n"
      "| `c|d` | pipe in a span | `x|y` |\n",
      &error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(rows.size(), 2u);
  const auto& a = rows.at("a.b");
  EXPECT_EQ(a.tried, "HTTP 500");
  EXPECT_EQ(a.line, 4);
  EXPECT_EQ(a.quotes, (std::vector<std::string>{"HTTP status 500", "backoff"}));
  EXPECT_EQ(rows.at("c|d").quotes, std::vector<std::string>{"x|y"});
}

TEST(ReliabilityDocParse, ReportsDuplicateIds) {
  std::string error;
  auto rows = ParseReliabilityDoc("| `a` | x | `1` |\n| `a` | y | `2` |\n", &error);
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_NE(error.find("reliability.md:2: duplicate id `a` (first at line 1)"), std::string::npos)
      << error;
}

TEST(ReliabilityDoc, ParsesWithoutDuplicates) {
  std::ifstream in(std::string(SCEPD_SOURCE_DIR) + "/docs/reliability.md");
  ASSERT_TRUE(in) << "docs/reliability.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  auto rows = ParseReliabilityDoc(text.str(), &error);
  EXPECT_EQ(error, "");
  EXPECT_FALSE(rows.empty());
}

TEST(ReliabilityDoc, EveryRowHasATest) {
  std::string sources;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(SCEPD_SOURCE_DIR) + "/tests")) {
    auto ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".cc" && ext != ".h")) continue;
    if (entry.path().filename() == "reliability_doc_test.cc") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    sources += text.str();
  }
  for (const auto& [id, row] : ReliabilityRows()) {
    EXPECT_NE(sources.find("\"" + id + "\""), std::string::npos)
        << "docs/reliability.md:" << row.line << ": no test names `" << id
        << "`; a row must be produced by a test";
  }
}

}  // namespace
}  // namespace scepd::testing
