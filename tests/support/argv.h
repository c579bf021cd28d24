#pragma once
// argv as main() gets it, for tests of the command-line parsers: writable
// strings (the parsers overwrite secrets in place) and the pointer array.

#include <string>
#include <vector>

namespace scepd::testing {

class Argv {
 public:
  // `args` is the whole argument vector, the program name first.
  explicit Argv(std::vector<std::string> args) : args_(std::move(args)) {
    for (std::string& a : args_) pointers_.push_back(a.data());
  }
  Argv(const Argv&) = delete;
  Argv& operator=(const Argv&) = delete;
  int argc() const { return static_cast<int>(pointers_.size()); }
  char** argv() { return pointers_.data(); }
  // The arguments as they are now (after a parser hid what it hides).
  const std::vector<std::string>& args() const { return args_; }

 private:
  std::vector<std::string> args_;
  std::vector<char*> pointers_;
};

}  // namespace scepd::testing
