#include "cli/tectia/command_word.h"

#include <string>
#include <vector>

namespace scepd::tectia {
namespace {

bool EqualNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::size_t> MatchCommand(std::string_view word, std::span<const std::string_view> commands) {
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (EqualNoCase(word, commands[i])) return i;
  }
  const std::string quoted = "'" + std::string(word) + "'";
  std::vector<std::size_t> hits;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (word.size() < commands[i].size() && EqualNoCase(word, commands[i].substr(0, word.size()))) {
      hits.push_back(i);
    }
  }
  if (hits.empty()) {
    std::string known;
    for (std::string_view c : commands) known += (known.empty() ? "" : ", ") + std::string(c);
    return MakeError(ErrorCode::kInvalidArgument, "unknown command " + quoted + " (one of " + known + ")");
  }
  if (word.size() <= 3) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "command " + quoted + ": abbreviations need more than three letters");
  }
  if (hits.size() > 1) {
    std::string names;
    for (std::size_t i : hits) names += (names.empty() ? "" : ", ") + std::string(commands[i]);
    return MakeError(ErrorCode::kInvalidArgument, "command " + quoted + " is ambiguous: " + names);
  }
  return hits.front();
}

}  // namespace scepd::tectia
