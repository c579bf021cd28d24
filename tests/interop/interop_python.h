#pragma once
// Runs the interop suite's Python programs (tests/interop/*.py) with the
// Debian python3 that has python3-asn1crypto and python3-cryptography
// (SCEPD_PYTHON3, found by tests/CMakeLists.txt), to completion or as a
// server in the background.

#include <gtest/gtest.h>

#include <string>
#include <utility>
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

// One of the Python servers (tests/interop/<script> --dir DIR flags...) as
// a background process. It picks its own port on 127.0.0.1 and writes it to
// DIR/port once it listens (no race for a port); DIR/requests.log has a line
// per request. Stopped when this goes out of scope.
class InteropServer {
 public:
  InteropServer(std::string script, std::string dir)
      : script_(std::move(script)), dir_(std::move(dir)) {}
  // Starts it and waits (bounded) for DIR/port; a test failure if it does
  // not come up.
  bool Start(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"--dir", dir_};
    args.insert(args.end(), flags.begin(), flags.end());
    std::string error;
    if (!process_.Start(InteropPythonCommand(script_, args), dir_ + "/server.log",
                        {"PYTHONDONTWRITEBYTECODE=1"}, "", &error)) {
      ADD_FAILURE() << error;
      return false;
    }
    bool up = WaitFor([&] { return PathExists(dir_ + "/port") || !process_.Running(); }, 60000);
    auto port = TryReadFile(dir_ + "/port");
    if (!up || !port || port->empty()) {
      ADD_FAILURE() << script_ << " did not start: "
                    << TryReadFile(dir_ + "/server.log").value_or("");
      return false;
    }
    port_ = *port;
    return true;
  }
  const std::string& port() const { return port_; }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }
  std::string Log() const { return TryReadFile(dir_ + "/requests.log").value_or(""); }

 private:
  std::string script_;
  std::string dir_;
  std::string port_;
  BackgroundProcess process_;
};

}  // namespace scepd::testing
