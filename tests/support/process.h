#pragma once
// Child processes and scratch files for tests: run a program to completion
// and capture its output, keep a server running in the background with its
// output in a log file, make and remove temporary trees, pick a free
// loopback port. Everything is bounded in time; nothing here throws.
//
// Failures of the helpers themselves (fork, pipe, mkdtemp, unreadable file)
// are reported with gtest's ADD_FAILURE and an empty/negative result, so the
// calling test fails with a message instead of crashing.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace scepd::testing {

// Outcome of RunProcess. exit_code is the child's exit status, 128 + signal
// number if a signal killed it, 127 if the program could not be executed
// (the reason is then in `err`), and -1 if no child could be started.
struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  bool timed_out = false;  // the child was SIGKILLed after timeout_ms
};

// Runs argv[0] (looked up in PATH like execvp) with argv, the current
// environment plus `extra_env` ("NAME=value", overriding same-named
// variables), `stdin_data` on its standard input, and `cwd` as its working
// directory when non-empty. Collects stdout and stderr until the child exits.
// After `timeout_ms` (ScaledTimeout) the child's process group is SIGKILLed and timed_out
// set. If the child exits but a grandchild keeps its output pipes open, the
// pipes are abandoned shortly after, so a program that starts a daemon does
// not hang the test.
// A bound written for native speed, stretched (x4) where the tests run under
// an emulator (the cross builds: qemu-user is 10 to 20 times slower, more on
// a busy machine). RunProcess and BackgroundProcess::Wait apply it
// themselves; tests use it for their own wait loops. Bounds only: a test that
// works never waits for them.
int ScaledTimeout(int timeout_ms);

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env = {},
                         int timeout_ms = 60000, const std::string& stdin_data = "",
                         const std::string& cwd = "");

// A child process that runs while the test goes on (a CA server, the daemon
// under test). Its stdin is /dev/null; stdout and stderr both go to a log
// file chosen by the caller, so tests can read what it printed. The child is
// the leader of its own process group and gets SIGKILL if the thread that
// started it dies, so a crashed test does not leave servers behind.
// Move-only; the destructor calls Stop().
class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  ~BackgroundProcess();
  BackgroundProcess(BackgroundProcess&& other) noexcept;
  BackgroundProcess& operator=(BackgroundProcess&& other) noexcept;
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Starts argv (PATH lookup as execvp) with the current environment plus
  // `extra_env` ("NAME=value"), in `cwd` when non-empty, writing stdout and
  // stderr to `log_path` (created or truncated). Returns false and fills
  // *error if the log cannot be opened, the fork fails or the program
  // cannot be executed. A previous child must have been stopped first.
  bool Start(const std::vector<std::string>& argv, const std::string& log_path,
             const std::vector<std::string>& extra_env = {}, const std::string& cwd = "",
             std::string* error = nullptr);

  // The child's pid, or -1 when none is running or it has been reaped.
  pid_t pid() const noexcept { return pid_; }
  const std::string& log_path() const noexcept { return log_path_; }

  // True while the child has not exited (reaps it if it has).
  bool Running();

  // Sends `sig` to the child. False if there is no child or kill() fails.
  bool Signal(int sig);

  // Waits up to timeout_ms for the child to exit and returns its exit code
  // (128 + signal if killed), or nullopt if it is still running. Once the
  // child has been reaped the same code is returned again.
  std::optional<int> Wait(int timeout_ms);

  // Stops the child: SIGINT, then SIGTERM, then SIGKILL to its process
  // group, each with a bounded wait (5 s, 3 s, 5 s). Returns the exit code,
  // or nullopt if there was no child or it could not be reaped.
  std::optional<int> Stop();

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

// Creates a fresh directory "<$TMPDIR or /tmp>/<prefix>XXXXXX" (mode 0700)
// and returns its path; "" (and a test failure) if that fails.
std::string MakeTempDir(const std::string& prefix);

// Removes `path` and everything below it without following symlinks. Does
// nothing for "" or "/"; a missing path is not an error.
void RemoveTree(const std::string& path);

// A MakeTempDir directory removed (RemoveTree) when this goes out of scope,
// unless the environment variable SCEPD_KEEP_TEST_DIRS is set to non-empty,
// which keeps it for post-mortem debugging.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "scepd-test-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const noexcept { return path_; }
  // path() + "/" + name.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Whole contents of a file; "" and a test failure if it cannot be read.
std::string ReadFile(const std::string& path);

// Contents of a file, or nullopt if it cannot be read (no test failure):
// for files whose absence is a legitimate outcome.
std::optional<std::string> TryReadFile(const std::string& path);

// True if `path` exists (any type; symlinks are not followed).
bool PathExists(const std::string& path);

// The target of the symbolic link `path`, or "" if it is not one.
std::string LinkTarget(const std::string& path);

// The permission bits of `path` itself (lstat: a link is not followed), or
// 0 if it does not exist.
unsigned Mode(const std::string& path);

// Polls `pred` every 100 ms until it holds or `timeout_ms` (ScaledTimeout:
// longer under an emulator) has passed; the last answer of `pred`.
template <class Pred>
bool WaitFor(Pred pred, int timeout_ms = 120000) {
  for (int waited = 0; waited < ScaledTimeout(timeout_ms); waited += 100) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

// Creates or truncates `path` with exactly `mode` (umask does not apply)
// and writes `content`. Records a test failure if that fails.
void WriteFile(const std::string& path, const std::string& content, unsigned mode = 0644);

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read
// it back, close); -1 and a test failure if no socket could be bound.
// Another process may still grab it: servers should retry on "in use".
int FreeLoopbackPort();

// Quotes `s` for a POSIX shell command line ('...' with embedded quotes
// escaped), for generated test scripts.
std::string ShellQuote(const std::string& s);

}  // namespace scepd::testing
