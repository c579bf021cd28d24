#include "io/process_hook_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace scepd {
namespace {

using Env = std::vector<std::pair<std::string, std::string>>;
using std::chrono::steady_clock;

Env BasicEnv() { return HookEnvironment({{"SCEP_EVENT", "renewed"}}, ""); }

HookResult MustRun(ProcessHookRunner& runner, const std::string& script, const Env& env,
                   int timeout_seconds = 20) {
  auto r = runner.Run(script, env, timeout_seconds);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : HookResult{};
}

double SecondsSince(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

int CountOpenFds() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

// True when the process is gone or a zombie (the killed background child of
// a killed shell is reparented; its new parent may reap it late).
bool ProcessDead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return true;
  const char state = line[paren + 2];
  return state == 'Z' || state == 'X';
}

TEST(ProcessHookRunnerTest, ExitCodes) {
  ProcessHookRunner runner;
  EXPECT_EQ(MustRun(runner, "exit 0", BasicEnv()).exit_code, 0);
  EXPECT_EQ(MustRun(runner, "exit 3", BasicEnv()).exit_code, 3);
  HookResult missing = MustRun(runner, "no-such-command-scepd-test", BasicEnv());
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_FALSE(missing.timed_out);
  ASSERT_FALSE(missing.output.empty());  // the shell says why
  EXPECT_NE(missing.output[0].find("no-such-command-scepd-test"), std::string::npos);
  EXPECT_EQ(MustRun(runner, "kill -TERM $$", BasicEnv()).exit_code, 128 + SIGTERM);
  EXPECT_EQ(MustRun(runner, "kill -KILL $$", BasicEnv()).exit_code, 128 + SIGKILL);
}

TEST(ProcessHookRunnerTest, OutputLinesInOrderFromStdoutAndStderr) {
  ProcessHookRunner runner;
  HookResult r = MustRun(runner,
                         "echo one; echo two >&2; echo three; echo four 1>&2; "
                         "printf 'crlf\\r\\n\\nno newline'",
                         BasicEnv());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, (std::vector<std::string>{"one", "two", "three", "four", "crlf", "",
                                                "no newline"}));
  EXPECT_TRUE(MustRun(runner, "true", BasicEnv()).output.empty());
}

TEST(ProcessHookRunnerTest, EnvironmentIsExactlyWhatWasGiven) {
  ASSERT_EQ(::setenv("SCEPD_TEST_LEAK", "must-not-reach-the-hook", 1), 0);
  ProcessHookRunner runner;
  const Env env = HookEnvironment({{"SCEP_EVENT", "enrolled"},
                                   {"SCEP_SERIAL", "0A1B2C"},
                                   {"SCEP_CERT", "/var/data/scepClient/0A1B2C.crt"},
                                   {"SCEP_SUBJECT", "/CN=router A/O=x y"}},
                                  "/opt/scepClient/bin");
  // What execve handed to the shell, in the order given.
  HookResult initial = MustRun(runner, "tr '\\0' '\\n' < /proc/$$/environ", env);
  // What a command started by the script sees: the shell adds PWD itself.
  HookResult seen = MustRun(runner, "env", env);
  ::unsetenv("SCEPD_TEST_LEAK");
  EXPECT_EQ(initial.exit_code, 0);
  EXPECT_EQ(initial.output, (std::vector<std::string>{
                                "PATH=/opt/scepClient/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                "HOME=/",
                                "LANG=C",
                                "SCEP_CERT=/var/data/scepClient/0A1B2C.crt",
                                "SCEP_EVENT=enrolled",
                                "SCEP_SERIAL=0A1B2C",
                                "SCEP_SUBJECT=/CN=router A/O=x y",
                            }));
  std::vector<std::string> lines = seen.output;
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "HOME=/",
                       "LANG=C",
                       "PATH=/opt/scepClient/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "PWD=/",
                       "SCEP_CERT=/var/data/scepClient/0A1B2C.crt",
                       "SCEP_EVENT=enrolled",
                       "SCEP_SERIAL=0A1B2C",
                       "SCEP_SUBJECT=/CN=router A/O=x y",
                   }));
}

TEST(ProcessHookRunnerTest, RunsWithAnEmptyEnvironment) {
  ProcessHookRunner runner;
  HookResult r = MustRun(runner, "echo \"[$SCEP_EVENT]\"", {});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, std::vector<std::string>{"[]"});
}

TEST(ProcessHookRunnerTest, ShellMetacharactersInValuesAreNeverExecuted) {
  testing::TempDir dir("scepd-hook-");
  const std::string marker = dir.File("marker");
  const std::string nasty = "$(touch " + marker + "); `touch " + marker + "`; rm -rf " +
                            dir.path() + " ; \"'\\ | & > " + marker + " $HOME * ?\n2nd line";
  ProcessHookRunner runner;
  const Env env = HookEnvironment({{"SCEP_ERROR", nasty}, {"SCEP_FAIL_INFO", "badRequest"}},
                                  "");
  // Quoted use: the value arrives byte for byte.
  HookResult quoted = MustRun(runner, "printf '%s' \"$SCEP_ERROR\"", env);
  EXPECT_EQ(quoted.exit_code, 0);
  std::string joined;
  for (std::size_t i = 0; i < quoted.output.size(); ++i) {
    joined += (i ? "\n" : "") + quoted.output[i];
  }
  EXPECT_EQ(joined, nasty);
  // Even careless unquoted use only splits words; nothing is substituted.
  HookResult unquoted = MustRun(runner, "echo $SCEP_ERROR >/dev/null; echo ok", env);
  EXPECT_EQ(unquoted.output, std::vector<std::string>{"ok"});
  EXPECT_FALSE(testing::PathExists(marker));
  EXPECT_TRUE(testing::PathExists(dir.path()));
}

TEST(ProcessHookRunnerTest, TimeoutKillsTheScriptAndItsChildren) {
  testing::TempDir dir("scepd-hook-");
  const std::string pid_file = dir.File("bg.pid");
  ProcessHookRunner runner;
  const auto start = steady_clock::now();
  HookResult r = MustRun(runner,
                         "sleep 100 & echo $! > " + pid_file + "; echo started; sleep 100",
                         BasicEnv(), 1);
  const double elapsed = SecondsSince(start);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  EXPECT_GE(elapsed, 0.9);
  EXPECT_LT(elapsed, 4.0);
  EXPECT_EQ(r.output, std::vector<std::string>{"started"});
  const std::string pid_text = testing::ReadFile(pid_file);
  ASSERT_FALSE(pid_text.empty());
  const pid_t bg = static_cast<pid_t>(std::stol(pid_text));
  // SIGTERM went to the whole group; allow a moment for delivery.
  for (int i = 0; i < 50 && !ProcessDead(bg); ++i) ::usleep(20000);
  EXPECT_TRUE(ProcessDead(bg)) << "background child " << bg << " survived";
}

TEST(ProcessHookRunnerTest, TimeoutEscalatesToSigkillWhenTermIsIgnored) {
  ProcessHookRunner runner;
  const auto start = steady_clock::now();
  HookResult r = MustRun(runner, "trap '' TERM; sleep 100; sleep 100", BasicEnv(), 1);
  const double elapsed = SecondsSince(start);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_GE(elapsed, 2.9);  // 1 s timeout + 2 s grace
  EXPECT_LT(elapsed, 4.5);
}

TEST(ProcessHookRunnerTest, ScriptThatClosesItsOutputStillTimesOut) {
  ProcessHookRunner runner;
  const auto start = steady_clock::now();
  HookResult r = MustRun(runner, "echo bye; exec >&- 2>&-; sleep 100", BasicEnv(), 1);
  const double elapsed = SecondsSince(start);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  EXPECT_LT(elapsed, 4.0);
  EXPECT_EQ(r.output, std::vector<std::string>{"bye"});
}

TEST(ProcessHookRunnerTest, WithoutPidfdTheSameContractHolds) {
  ProcessHookOptions options;
  options.use_pidfd = false;
  ProcessHookRunner runner(options);
  EXPECT_EQ(MustRun(runner, "echo hi; exit 5", BasicEnv()).output,
            std::vector<std::string>{"hi"});
  EXPECT_EQ(MustRun(runner, "exit 5", BasicEnv()).exit_code, 5);
  const auto start = steady_clock::now();
  HookResult r = MustRun(runner, "exec >&- 2>&-; sleep 100", BasicEnv(), 1);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(SecondsSince(start), 4.0);
}

TEST(ProcessHookRunnerTest, BackgroundProcessHoldingTheOutputDoesNotHoldTheRun) {
  // A success script may restart a service that inherits its stdout.
  ProcessHookRunner runner;
  const auto start = steady_clock::now();
  HookResult r = MustRun(runner, "sleep 30 & echo $!; exit 4", BasicEnv(), 20);
  EXPECT_LT(SecondsSince(start), 3.0);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 4);
  ASSERT_EQ(r.output.size(), 1u);
  const pid_t bg = static_cast<pid_t>(std::stol(r.output[0]));
  EXPECT_FALSE(ProcessDead(bg)) << "a finished script's children are left alone";
  ::kill(bg, SIGKILL);
}

TEST(ProcessHookRunnerTest, ManyLinesAreCutTo200WithANote) {
  ProcessHookRunner runner;
  HookResult r = MustRun(runner, "seq 1 10000", BasicEnv());
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_EQ(r.output.size(), kHookMaxLines + 1);
  EXPECT_EQ(r.output[0], "1");
  EXPECT_EQ(r.output[199], "200");
  EXPECT_EQ(r.output[200], "... 9800 more lines");
  EXPECT_EQ(MustRun(runner, "seq 1 201", BasicEnv()).output.back(), "... 1 more line");
  EXPECT_EQ(MustRun(runner, "seq 1 200", BasicEnv()).output.back(), "200");
}

TEST(ProcessHookRunnerTest, LongLinesAreCut) {
  ProcessHookRunner runner;
  HookResult r = MustRun(runner, "head -c 5000 /dev/zero | tr '\\0' a; echo; echo next",
                         BasicEnv());
  ASSERT_EQ(r.output.size(), 2u);
  EXPECT_EQ(r.output[0], std::string(kHookMaxLineBytes, 'a'));
  EXPECT_EQ(r.output[1], "next");
}

TEST(ProcessHookRunnerTest, ChildGetsOnlyStdioDevNullAndItsOwnGroup) {
  // A descriptor the test leaks on purpose (no close-on-exec).
  const int leaked = ::dup(2);
  ASSERT_GE(leaked, 0);
  ProcessHookRunner runner;
  HookResult fds = MustRun(runner, "ls /proc/$$/fd", BasicEnv());
  ::close(leaked);
  EXPECT_EQ(fds.output, (std::vector<std::string>{"0", "1", "2"}));

  HookResult in = MustRun(runner, "readlink /proc/$$/fd/0; cat; echo end", BasicEnv(), 5);
  EXPECT_FALSE(in.timed_out);
  EXPECT_EQ(in.output, (std::vector<std::string>{"/dev/null", "end"}));

  HookResult group =
      MustRun(runner, "echo $$; sed 's/.*) //' /proc/$$/stat | cut -d' ' -f3", BasicEnv());
  ASSERT_EQ(group.output.size(), 2u);
  EXPECT_EQ(group.output[0], group.output[1]) << "the shell leads its own process group";
  EXPECT_NE(group.output[1], std::to_string(::getpgrp()));
}

TEST(ProcessHookRunnerTest, SignalMaskAndDispositionsAreReset) {
  struct sigaction ignore {}, old_usr1 {}, old_pipe {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGUSR1, &ignore, &old_usr1);
  ::sigaction(SIGPIPE, &ignore, &old_pipe);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  sigaddset(&block, SIGHUP);
  ::pthread_sigmask(SIG_BLOCK, &block, &old_mask);

  ProcessHookRunner runner;
  // `exec` so that grep reports what the shell started with (a shell blocks
  // signals briefly around its own forks, so /proc/$$ would be racy).
  HookResult r =
      MustRun(runner, "exec grep -E '^Sig(Blk|Ign):' /proc/self/status", BasicEnv());

  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGUSR1, &old_usr1, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ASSERT_EQ(r.output.size(), 2u);
  EXPECT_EQ(r.output[0], "SigBlk:\t0000000000000000");
  EXPECT_EQ(r.output[1], "SigIgn:\t0000000000000000");
}

TEST(ProcessHookRunnerTest, NoDescriptorLeakOver50Runs) {
  ProcessHookRunner runner;
  MustRun(runner, "echo warm-up", BasicEnv());
  const int before = CountOpenFds();
  ASSERT_GT(before, 0);
  for (int i = 0; i < 50; ++i) {
    HookResult r = MustRun(runner, i % 2 ? "echo $SCEP_EVENT; exit 1" : "echo x >&2", BasicEnv());
    ASSERT_EQ(r.output.size(), 1u);
  }
  MustRun(runner, "sleep 5", BasicEnv(), 1);  // the timeout path too
  EXPECT_EQ(CountOpenFds(), before);
}

TEST(ProcessHookRunnerTest, UnusableEnvironmentIsAnError) {
  ProcessHookRunner runner;
  for (const Env& env : {Env{{"", "x"}}, Env{{"A=B", "x"}}, Env{{std::string("A\0B", 3), "x"}},
                         Env{{"SCEP_ERROR", std::string("a\0b", 3)}}}) {
    auto r = runner.Run("true", env, 5);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  auto r = runner.Run(std::string("true\0rm -rf /", 13), {}, 5);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(ProcessHookRunnerTest, ZeroTimeoutCountsAsOneSecond) {
  ProcessHookRunner runner;
  HookResult quick = MustRun(runner, "echo fine", BasicEnv(), 0);
  EXPECT_FALSE(quick.timed_out);
  EXPECT_EQ(quick.output, std::vector<std::string>{"fine"});
  const auto start = steady_clock::now();
  EXPECT_TRUE(MustRun(runner, "sleep 10", BasicEnv(), -5).timed_out);
  EXPECT_LT(SecondsSince(start), 3.0);
}

TEST(HookEnvironmentTest, FixedPartThenScepVariablesInNameOrder) {
  const Env env = HookEnvironment(
      {{"SCEP_SERIAL", "01"}, {"SCEP_EVENT", "failed"}, {"SCEP_ERROR", ""}}, "/opt/x/bin");
  EXPECT_EQ(env, (Env{{"PATH", "/opt/x/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                      {"HOME", "/"},
                      {"LANG", "C"},
                      {"SCEP_ERROR", ""},
                      {"SCEP_EVENT", "failed"},
                      {"SCEP_SERIAL", "01"}}));
  EXPECT_EQ(HookEnvironment({}, "")[0].second, "/usr/sbin:/usr/bin:/sbin:/bin");
}

TEST(HookEnvironmentTest, DropsUnsafeNamesAndNulValues) {
  const Env env = HookEnvironment({{"PATH", "/tmp/evil"},
                                   {"LD_PRELOAD", "/tmp/evil.so"},
                                   {"SCEP_lower", "x"},
                                   {"SCEP_A-B", "x"},
                                   {"SCEP_", "x"},
                                   {"SCEP_X Y", "x"},
                                   {"SCEP_NUL", std::string("a\0b", 3)},
                                   {"SCEP_OK_2", "kept"}},
                                  "/bin");
  EXPECT_EQ(env, (Env{{"PATH", "/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                      {"HOME", "/"},
                      {"LANG", "C"},
                      {"SCEP_OK_2", "kept"}}));
}

}  // namespace
}  // namespace scepd
