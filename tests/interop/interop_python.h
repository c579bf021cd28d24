#pragma once
// Runs the interop suite's Python programs (tests/interop/*.py) with the
// Debian python3 that has python3-asn1crypto and python3-cryptography
// (SCEPD_PYTHON3, found by tests/CMakeLists.txt).

#include <string>
#include <vector>

#include "tests/support/process.h"

namespace scepd::testing {

// The path of tests/interop/<script>.
inline std::string InteropScript(const std::string& script) {
  return std::string(SCEPD_SOURCE_DIR) + "/tests/interop/" + script;
}

// Runs python3 tests/interop/<args[0]> args[1..] to completion (bounded).
inline ProcessResult RunInteropPython(std::vector<std::string> args, int timeout_ms = 120000) {
  args[0] = InteropScript(args[0]);
  args.insert(args.begin(), SCEPD_PYTHON3);
  return RunProcess(args, {"PYTHONDONTWRITEBYTECODE=1"}, timeout_ms);
}

// python3 with its arguments for a BackgroundProcess: tests/interop/<script>.
inline std::vector<std::string> InteropPythonCommand(const std::string& script,
                                                     std::vector<std::string> args) {
  args.insert(args.begin(), InteropScript(script));
  args.insert(args.begin(), SCEPD_PYTHON3);
  return args;
}

}  // namespace scepd::testing
