#include "io/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace scepd {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct Captured {
  ChildExit exit;
  std::string out;
  std::string err;
};

ChildCommand Shell(const std::string& script) {
  ChildCommand command;
  command.program = "/bin/sh";
  command.argv = {"sh", "-c", script};
  return command;
}

Captured MustRun(const ChildCommand& command, const ChildLimits& limits = {}) {
  Captured c;
  auto r = RunChild(command, limits, [&c](ChildStream stream, std::string_view data) {
    (stream == ChildStream::kStdout ? c.out : c.err).append(data);
  });
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (r.ok()) c.exit = *r;
  return c;
}

double SecondsSince(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

TEST(ChildProcessTest, ExitStatusAndSeparateStreams) {
  ChildCommand command = Shell("echo out; echo err >&2; exit 3");
  command.merge_stderr = false;
  const Captured c = MustRun(command);
  ASSERT_TRUE(c.exit.wait_status.has_value());
  EXPECT_TRUE(WIFEXITED(*c.exit.wait_status));
  EXPECT_EQ(WEXITSTATUS(*c.exit.wait_status), 3);
  EXPECT_FALSE(c.exit.timed_out);
  EXPECT_EQ(c.out, "out\n");
  EXPECT_EQ(c.err, "err\n");
}

TEST(ChildProcessTest, MergedStreamsArriveAsStdoutInOrder) {
  const Captured c = MustRun(Shell("echo one; echo two >&2; echo three"));
  EXPECT_EQ(c.out, "one\ntwo\nthree\n");
  EXPECT_EQ(c.err, "");
}

TEST(ChildProcessTest, EnvironmentIsInheritedOrExactlyTheGivenOne) {
  ASSERT_EQ(::setenv("SCEPD_CHILD_PROCESS_TEST", "inherited", 1), 0);
  Captured c = MustRun(Shell("printf '%s' \"$SCEPD_CHILD_PROCESS_TEST\""));
  EXPECT_EQ(c.out, "inherited");

  ChildCommand exact = Shell("env");
  exact.environment = std::vector<std::string>{"A=1", "B=two words"};
  c = MustRun(exact);
  // sh may add PWD (and dash nothing else); the caller's variable is gone.
  EXPECT_NE(c.out.find("A=1\n"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("B=two words\n"), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find("SCEPD_CHILD_PROCESS_TEST"), std::string::npos) << c.out;
  ::unsetenv("SCEPD_CHILD_PROCESS_TEST");
}

TEST(ChildProcessTest, WorkingDirectoryIsKeptOrRoot) {
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  Captured c = MustRun(Shell("pwd -P"));
  char real[4096];
  ASSERT_NE(::realpath(cwd, real), nullptr);
  EXPECT_EQ(c.out, std::string(real) + "\n");

  ChildCommand rooted = Shell("pwd");
  rooted.chdir_root = true;
  c = MustRun(rooted);
  EXPECT_EQ(c.out, "/\n");
}

TEST(ChildProcessTest, StdinIsDevNullAndOnlyStdioIsInherited) {
  // A descriptor the caller forgot to mark close-on-exec stays behind.
  const int leaky = ::dup(2);
  ASSERT_GE(leaky, 0);
  const std::string leaky_path = "/proc/$$/fd/" + std::to_string(leaky);
  const Captured c = MustRun(Shell("cat; test -e /proc/$$/fd/0 && echo stdin; test -e " +
                                   leaky_path + " && echo leaked; echo done"));
  ::close(leaky);
  EXPECT_EQ(c.out, "stdin\ndone\n");
}

TEST(ChildProcessTest, TimeoutKillsTheGroupAtOnceWithoutGrace) {
  ChildLimits limits;
  limits.timeout = milliseconds(200);
  const auto start = steady_clock::now();
  const Captured c = MustRun(Shell("trap '' TERM; sleep 30"), limits);
  EXPECT_LT(SecondsSince(start), 5.0);
  EXPECT_TRUE(c.exit.timed_out);
  ASSERT_TRUE(c.exit.wait_status.has_value());
  EXPECT_EQ(ShellExitCode(*c.exit.wait_status), 128 + SIGKILL);
}

TEST(ChildProcessTest, TimeoutSendsTermFirstWhenThereIsAGrace) {
  ChildLimits limits;
  limits.timeout = milliseconds(300);
  limits.kill_grace = milliseconds(3000);
  const auto start = steady_clock::now();
  const Captured c = MustRun(Shell("trap 'echo term; exit 7' TERM; sleep 30 & wait"), limits);
  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_TRUE(c.exit.timed_out);
  EXPECT_EQ(c.out, "term\n");
  ASSERT_TRUE(c.exit.wait_status.has_value());
  EXPECT_EQ(ShellExitCode(*c.exit.wait_status), 7);
}

TEST(ChildProcessTest, OutputHeldOpenByABackgroundChild) {
  // With a drain period the run ends shortly after the shell's exit...
  ChildLimits drain;
  drain.timeout = milliseconds(3000);
  drain.drain_after_exit = milliseconds(100);
  auto start = steady_clock::now();
  Captured c = MustRun(Shell("echo started; sleep 5 & exit 0"), drain);
  EXPECT_LT(SecondsSince(start), 2.5);
  EXPECT_FALSE(c.exit.timed_out);
  EXPECT_EQ(c.out, "started\n");
  ASSERT_TRUE(c.exit.wait_status.has_value());
  EXPECT_EQ(ShellExitCode(*c.exit.wait_status), 0);

  // ...without one the open output is a timeout, and the group is killed.
  ChildLimits strict;
  strict.timeout = milliseconds(300);
  for (bool pidfd : {true, false}) {
    strict.use_pidfd = pidfd;
    start = steady_clock::now();
    c = MustRun(Shell("echo $$ > /dev/null; sleep 5 & exit 0"), strict);
    EXPECT_GE(SecondsSince(start), 0.25) << "pidfd " << pidfd;
    EXPECT_LT(SecondsSince(start), 2.5) << "pidfd " << pidfd;
    EXPECT_TRUE(c.exit.timed_out) << "pidfd " << pidfd;
  }
}

TEST(ChildProcessTest, ExitWithoutPidfdIsSeen) {
  ChildLimits limits;
  limits.use_pidfd = false;
  limits.drain_after_exit = milliseconds(0);
  const auto start = steady_clock::now();
  const Captured c = MustRun(Shell("exit 5"), limits);
  EXPECT_LT(SecondsSince(start), 2.0);
  ASSERT_TRUE(c.exit.wait_status.has_value());
  EXPECT_EQ(ShellExitCode(*c.exit.wait_status), 5);
}

TEST(ChildProcessTest, ProgramThatCannotBeRunIsAnError) {
  ChildCommand command;
  command.program = "/nonexistent/scepd-no-such-program";
  command.argv = {"x"};
  auto r = RunChild(command, {}, [](ChildStream, std::string_view) {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_EQ(r.error().message,
            "/nonexistent/scepd-no-such-program: No such file or directory");
}

TEST(ChildProcessTest, NulBytesAreRefusedBeforeAnythingRuns) {
  ChildCommand command = Shell(std::string("echo a\0b", 8));
  auto r = RunChild(command, {}, [](ChildStream, std::string_view) {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);

  command = Shell("true");
  command.environment = std::vector<std::string>{std::string("A=\0", 3)};
  r = RunChild(command, {}, [](ChildStream, std::string_view) {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(ChildProcessTest, ShellExitCodeConvention) {
  EXPECT_EQ(ShellExitCode(0), 0);
  EXPECT_EQ(ShellExitCode(3 << 8), 3);
  EXPECT_EQ(ShellExitCode(SIGTERM), 128 + SIGTERM);
}

}  // namespace
}  // namespace scepd
