#include "tests/support/built_binary.h"

#include <sstream>

namespace scepd::testing {
namespace {

std::vector<std::string> EmulatorWords() {
  std::vector<std::string> words;
#ifdef SCEPD_TEST_EMULATOR
  std::istringstream in(SCEPD_TEST_EMULATOR);
  std::string word;
  while (std::getline(in, word, '\n')) {
    if (!word.empty()) words.push_back(word);
  }
#endif
  return words;
}

}  // namespace

std::string BuiltBinary(const std::string& relative) {
  return std::string(SCEPD_RUN_DIR) + "/" + relative;
}

std::vector<std::string> TargetCommand(std::vector<std::string> argv) {
  auto words = EmulatorWords();
  argv.insert(argv.begin(), words.begin(), words.end());
  return argv;
}

bool RunningUnderEmulator() { return !EmulatorWords().empty(); }

}  // namespace scepd::testing
