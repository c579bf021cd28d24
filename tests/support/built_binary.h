#pragma once
// The project's own programs as the tests run them. Natively that is the
// binary in the build tree. In a cross build (CMAKE_CROSSCOMPILING_EMULATOR
// set, e.g. qemu-arm -L <sysroot>) the kernel cannot exec a target binary,
// so tests/CMakeLists.txt writes a small sh wrapper per program that execs
// it under the emulator; the wrapper works from C++ tests and from the shell
// scripts under test alike, and signals reach the program through qemu.

#include <string>
#include <vector>

namespace scepd::testing {

// `relative` is the path inside the build tree ("daemon/scepd",
// "cli/sscep", "tests/responder/scep_responder").
std::string BuiltBinary(const std::string& relative);

// argv for running a target binary that is not in the build tree (one
// unpacked from a package): the emulator's words in front in a cross build,
// argv unchanged natively.
std::vector<std::string> TargetCommand(std::vector<std::string> argv);

// True in a cross build whose tests run under an emulator.
bool RunningUnderEmulator();

}  // namespace scepd::testing
