#pragma once
// The shells the router scripts must run under, for parametrized tests:
// dash (Debian's /bin/sh) with the system's tools, and busybox ash with
// nothing but busybox applets in PATH, as on a router.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"

namespace scepd::testing {

inline const std::string kScriptsDir = std::string(SCEPD_SOURCE_DIR) + "/scripts";
inline const std::string kScepdBinary = BuiltBinary("daemon/scepd");

inline std::string BusyboxBinary() {
  for (const char* p : {"/bin/busybox", "/usr/bin/busybox"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "busybox";
}

// Fills `dir` with links to every busybox applet except those in `without`.
inline void MakeAppletDir(const std::string& dir, const std::set<std::string>& without = {}) {
  const std::string busybox = BusyboxBinary();
  auto list = RunProcess({busybox, "--list"});
  ASSERT_EQ(list.exit_code, 0) << "busybox --list: " << list.err;
  std::size_t pos = 0;
  while (pos < list.out.size()) {
    std::size_t end = list.out.find('\n', pos);
    if (end == std::string::npos) end = list.out.size();
    std::string applet = list.out.substr(pos, end - pos);
    pos = end + 1;
    if (applet.empty() || applet.find('/') != std::string::npos || without.count(applet)) continue;
    ASSERT_EQ(::symlink(busybox.c_str(), (dir + "/" + applet).c_str()), 0) << applet;
  }
}

// One directory of applet links per test process.
inline const std::string& BusyboxApplets() {
  static TempDir dir("scepd-busybox-");
  static const bool filled = (MakeAppletDir(dir.path()), true);
  (void)filled;
  return dir.path();
}

struct Shell {
  std::string name;               // test name suffix
  std::vector<std::string> argv;  // the interpreter
  bool busybox = false;

  // PATH for a script run under this shell, with `first` (':'-separated,
  // may be empty) in front.
  std::string Path(const std::string& first = "") const {
    std::string rest;
    if (busybox) {
      rest = BusyboxApplets();
    } else {
      const char* p = ::getenv("PATH");
      rest = p != nullptr && *p != '\0' ? p : "/usr/bin:/bin";
    }
    return first.empty() ? rest : first + ":" + rest;
  }

  // argv to run `script` with `args` under this shell.
  std::vector<std::string> Command(const std::string& script,
                                   const std::vector<std::string>& args = {}) const {
    std::vector<std::string> v = argv;
    v.push_back(script);
    v.insert(v.end(), args.begin(), args.end());
    return v;
  }
};

// gtest prints the parameter of a failing test by this.
inline void PrintTo(const Shell& shell, std::ostream* os) { *os << shell.name; }

inline Shell Dash() {
  return {"dash", {::access("/bin/dash", X_OK) == 0 ? "/bin/dash" : "/bin/sh"}, false};
}
inline Shell Busybox() { return {"busybox", {BusyboxBinary(), "sh"}, true}; }

inline std::string ShellName(const ::testing::TestParamInfo<Shell>& info) {
  return info.param.name;
}

// The permission bits of `path` (links not followed), 0 if it does not exist.
inline unsigned FileMode(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

// Writes an executable shell script.
inline void WriteScript(const std::string& path, const std::string& body) {
  WriteFile(path, "#!/bin/sh\n" + body, 0755);
}

// Waits (bounded) until `pred` holds.
template <class Pred>
bool WaitUntil(Pred pred, int timeout_ms = 30000) {
  for (int waited = 0; waited < timeout_ms; waited += 50) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

}  // namespace scepd::testing
