// scripts/check-cert.sh under dash and busybox ash: disabled, scepd not
// running (--once against the real CA), scepd running (SIGUSR1 and the
// status files), the lock, stale pid files; a fake scepd for the outcomes a
// real CA does not give on demand (failure, still busy at the timeout).

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/scripts/script_shell.h"
#include "tests/support/process.h"
#include "tests/support/scep_server.h"

namespace scepd::testing {
namespace {

const std::string kScript = kScriptsDir + "/check-cert.sh";

// Stands in for a running scepd: writes its pid file and status files and,
// on SIGUSR1, the status MODE asks for: "ok" (idle), "fail" (backoff) or
// "hang" (still running). Run through its #! line, so its comm is "scepd".
constexpr char kFakeScepd[] = R"(run=$1 mode=$2
write() {
  printf 'Module scepClient %s\n%s\n' "$1" "$3" >"$run/status.tmp" && mv "$run/status.tmp" "$run/status"
  printf '{\n  "module": "%s",\n  "state": "%s",\n  "last_error": "the CA is unreachable"\n}\n' \
    "$1" "$2" >"$run/status.json.tmp" && mv "$run/status.json.tmp" "$run/status.json"
}
write "not running" idle "Certificate enrolled 02"
echo $$ >"$run/scepd.pid"
on_usr1() {
  echo usr1 >>"$run/signals"
  case $mode in
    ok) write "not running" idle "Certificate enrolled 02" ;;
    fail) write "not running" backoff "Certificate enrolled 02" ;;
    hang) write running enrolling "Certificate re-enrollment" ;;
  esac
}
trap on_usr1 USR1
i=0
while [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
)";

class CheckCertTest : public ::testing::TestWithParam<Shell> {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(fake_bin().c_str(), 0755), 0);
    // A logger that records its arguments (there is no syslog in tests).
    WriteScript(fake_bin() + "/logger", "printf '%s\\n' \"$*\" >>" + ShellQuote(logged()) + "\n");
  }

  std::string data() const { return dir_.File("data"); }
  std::string run() const { return dir_.File("run"); }
  std::string conf() const { return dir_.File("scepd.conf"); }
  std::string fake_bin() const { return dir_.File("bin"); }
  std::string logged() const { return dir_.File("logger.out"); }

  void WriteConfig(const std::string& url, bool enabled = true, const std::string& extra = "") {
    WriteFile(conf(),
              "[scepd]\n"
              "enabled = " + std::string(enabled ? "yes" : "no") + "\n"
              "data_dir = " + data() + "\n"
              "run_dir = " + run() + "\n"
              "log_level = debug\n"
              "log_target = stderr\n"
              "serial_number = A1B2\n"
              "[certificate]\n"
              "url = " + url + "\n"
              "subject = /O=scepd test/CN=router-SN\n"
              "challenge_password = secret\n"
              "await_result = 1\n" + extra);
  }

  std::vector<std::string> Env(const std::string& scepd = kScepdBinary, int timeout_s = 60) {
    return {"PATH=" + GetParam().Path(fake_bin()), "SCEPD_CONF=" + conf(), "SCEPD=" + scepd,
            "CHECK_CERT_TIMEOUT=" + std::to_string(timeout_s)};
  }

  ProcessResult Check(const std::vector<std::string>& env) {
    return RunProcess(GetParam().Command(kScript), env, 150000);
  }

  // Starts the fake scepd in MODE and waits for its pid file.
  void StartFake(BackgroundProcess& fake, const std::string& mode) {
    ASSERT_EQ(::mkdir(run().c_str(), 0755), 0);
    WriteScript(fake_bin() + "/scepd", kFakeScepd);
    ASSERT_TRUE(fake.Start({fake_bin() + "/scepd", run(), mode}, dir_.File("fake.log")));
    ASSERT_TRUE(WaitUntil([&] { return PathExists(run() + "/scepd.pid"); }));
  }

  TempDir dir_{"scepd-check-cert-"};
};

TEST_P(CheckCertTest, DisabledLogsAndExitsZero) {
  WriteConfig("http://127.0.0.1:1/scep", false);
  auto r = Check(Env("/nonexistent/scepd"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("check-cert: automation disabled"), std::string::npos) << r.err;
  std::string log = ReadFile(logged());
  EXPECT_EQ(log.rfind("-t check-cert automation disabled", 0), 0u) << log;
  EXPECT_FALSE(PathExists(data()));
}

TEST_P(CheckCertTest, UnreadableSettingsMissingScepdAndABadTimeoutExitOne) {
  auto r = Check(Env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot read the settings " + conf()), std::string::npos) << r.err;

  WriteConfig("http://127.0.0.1:1/scep");
  r = Check(Env("/nonexistent/scepd"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("the scepd program was not found"), std::string::npos) << r.err;

  auto env = Env();
  env.back() = "CHECK_CERT_TIMEOUT=soon";
  r = Check(env);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("CHECK_CERT_TIMEOUT must be a number"), std::string::npos) << r.err;
}

TEST_P(CheckCertTest, NotRunningRunsScepdOnceAgainstTheCa) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  auto r = Check(Env());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("scepd is not running: checking with " + kScepdBinary + " --once"),
            std::string::npos) << r.err;
  EXPECT_TRUE(PathExists(data() + "/latest.crt"));
  EXPECT_EQ(ReadFile(run() + "/status"), "Module scepClient not running\nCertificate enrolled 02\n");
  EXPECT_NE(ReadFile(logged()).find("check done: certificate valid or enrolled"), std::string::npos);

  // The CA gone and the certificate still valid: nothing to do, still 0.
  ca.Stop();
  EXPECT_EQ(Check(Env()).exit_code, 0);
}

TEST_P(CheckCertTest, NotRunningAndTheCaRefusingExitsOne) {
  ScepServer::Options options;
  options.challenge = "other";
  ScepServer ca(options);
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  auto r = Check(Env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("check failed"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));
}

TEST_P(CheckCertTest, RunningScepdIsAskedWithSigusr1AndTheOutcomeAwaited) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  // renew_days beyond the CA's 365 days: the forced check renews.
  WriteConfig(ca.url(), true, "renew_days = 400\n");
  BackgroundProcess d;
  ASSERT_TRUE(d.Start({kScepdBinary, "-c", conf()}, dir_.File("scepd.log")));
  ASSERT_TRUE(WaitUntil([&] {
    return TryReadFile(run() + "/status").value_or("") ==
           "Module scepClient not running\nCertificate enrolled 02\n";
  }, 60000)) << ReadFile(dir_.File("scepd.log"));
  ASSERT_TRUE(PathExists(run() + "/scepd.pid"));

  auto r = Check(Env("/nonexistent/scepd"));
  ASSERT_EQ(r.exit_code, 0) << r.err << ReadFile(dir_.File("scepd.log"));
  EXPECT_NE(r.err.find("asked scepd (pid " + std::to_string(d.pid()) + ") to check now"),
            std::string::npos) << r.err;
  EXPECT_NE(ReadFile(dir_.File("scepd.log")).find("SIGUSR1: checking now"), std::string::npos);
  // Waited for the renewal, not just for the signal to arrive.
  EXPECT_EQ(ReadFile(run() + "/status"), "Module scepClient not running\nCertificate enrolled 03\n");
  EXPECT_TRUE(PathExists(data() + "/03.crt"));
  EXPECT_NE(r.err.find("status: Certificate enrolled 03 (idle)"), std::string::npos) << r.err;
  std::string leftovers = RunProcess({"ls", "-A", run()}).out;
  EXPECT_EQ(leftovers.find(".check-cert"), std::string::npos) << leftovers;
  EXPECT_TRUE(d.Running());
}

TEST_P(CheckCertTest, RunningScepdWithAValidCertificate) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  BackgroundProcess d;
  ASSERT_TRUE(d.Start({kScepdBinary, "-c", conf()}, dir_.File("scepd.log")));
  ASSERT_TRUE(WaitUntil([&] {
    return TryReadFile(run() + "/status").value_or("") ==
           "Module scepClient not running\nCertificate enrolled 02\n";
  }, 60000)) << ReadFile(dir_.File("scepd.log"));
  auto r = Check(Env("/nonexistent/scepd"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadFile(dir_.File("scepd.log")).find("SIGUSR1: checking now"), std::string::npos);
  EXPECT_EQ(ReadFile(run() + "/status"), "Module scepClient not running\nCertificate enrolled 02\n");
}

TEST_P(CheckCertTest, FailedCheckExitsOneAndBusyAtTheTimeoutExitsThree) {
  WriteConfig("http://127.0.0.1:1/scep");
  {
    BackgroundProcess fake;
    StartFake(fake, "fail");
    auto r = Check(Env("/nonexistent/scepd", 20));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("check failed: the CA is unreachable"), std::string::npos) << r.err;
    EXPECT_EQ(ReadFile(run() + "/signals"), "usr1\n");
  }
  RemoveTree(run());
  {
    BackgroundProcess fake;
    StartFake(fake, "hang");
    auto r = Check(Env("/nonexistent/scepd", 2));
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("still checking after 2s"), std::string::npos) << r.err;
  }
  RemoveTree(run());
  {
    BackgroundProcess fake;
    StartFake(fake, "ok");
    auto r = Check(Env("/nonexistent/scepd", 20));
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
}

TEST_P(CheckCertTest, StalePidFileMeansNotRunning) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  ASSERT_EQ(::mkdir(run().c_str(), 0755), 0);
  // The pid of a process that has exited.
  BackgroundProcess gone;
  ASSERT_TRUE(gone.Start({"true"}, dir_.File("true.log")));
  const pid_t dead = gone.pid();
  ASSERT_TRUE(gone.Wait(10000).has_value());
  WriteFile(run() + "/scepd.pid", std::to_string(dead) + "\n");
  auto r = Check(Env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("scepd is not running"), std::string::npos) << r.err;
  EXPECT_TRUE(PathExists(data() + "/latest.crt"));

  // A live process that is not scepd (this test) is not scepd either.
  WriteFile(run() + "/scepd.pid", std::to_string(::getpid()) + "\n");
  r = Check(Env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stale pid file"), std::string::npos) << r.err;
}

TEST_P(CheckCertTest, TwoAtOnceBothEndWithoutFailing) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  BackgroundProcess a, b;
  ASSERT_TRUE(a.Start(GetParam().Command(kScript), dir_.File("a.log"), Env()));
  ASSERT_TRUE(b.Start(GetParam().Command(kScript), dir_.File("b.log"), Env()));
  auto code_a = a.Wait(120000);
  auto code_b = b.Wait(120000);
  ASSERT_TRUE(code_a.has_value());
  ASSERT_TRUE(code_b.has_value());
  EXPECT_EQ(*code_a, 0) << ReadFile(dir_.File("a.log"));
  EXPECT_EQ(*code_b, 0) << ReadFile(dir_.File("b.log"));
  EXPECT_EQ(ReadFile(run() + "/status"), "Module scepClient not running\nCertificate enrolled 02\n");
  EXPECT_FALSE(PathExists(data() + "/03.crt")) << "enrolled twice";
  EXPECT_FALSE(PathExists(run() + "/check-cert.lock.d")) << "lock left behind";
}

TEST_P(CheckCertTest, ALockHeldByAnotherCheckExitsZeroAtOnce) {
  WriteConfig("http://127.0.0.1:1/scep");
  ASSERT_EQ(::mkdir(run().c_str(), 0755), 0);
  BackgroundProcess holder;
  if (GetParam().busybox) {
    // No flock among busybox's applets: the lock directory with a live
    // check-cert's pid.
    ASSERT_TRUE(holder.Start({"/bin/sh", "-c", "sleep 30; :", "check-cert.sh"},
                             dir_.File("holder.log")));
    ASSERT_EQ(::mkdir((run() + "/check-cert.lock.d").c_str(), 0755), 0);
    WriteFile(run() + "/check-cert.lock.d/pid", std::to_string(holder.pid()) + "\n");
  } else {
    ASSERT_TRUE(holder.Start({"flock", run() + "/check-cert.lock", "sleep", "30"},
                             dir_.File("holder.log")));
    ASSERT_TRUE(WaitUntil([&] {
      return RunProcess({"flock", "-n", run() + "/check-cert.lock", "true"}).exit_code != 0;
    }));
  }
  // scepd missing: getting past the lock would fail with 1.
  auto r = Check(Env("/nonexistent/scepd"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("check already in progress"), std::string::npos) << r.err;
  if (GetParam().busybox) {
    EXPECT_TRUE(PathExists(run() + "/check-cert.lock.d/pid")) << "another check's lock removed";
  }
}

TEST_P(CheckCertTest, AStaleLockDirectoryIsRemoved) {
  if (!GetParam().busybox) GTEST_SKIP() << "flock is in dash's PATH; the lock directory is busybox's";
  WriteConfig("http://127.0.0.1:1/scep");
  BackgroundProcess fake;
  StartFake(fake, "ok");
  BackgroundProcess gone;
  ASSERT_TRUE(gone.Start({"true"}, dir_.File("true.log")));
  const pid_t dead = gone.pid();
  ASSERT_TRUE(gone.Wait(10000).has_value());
  ASSERT_EQ(::mkdir((run() + "/check-cert.lock.d").c_str(), 0755), 0);
  WriteFile(run() + "/check-cert.lock.d/pid", std::to_string(dead) + "\n");
  auto r = Check(Env("/nonexistent/scepd", 20));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("removing the stale lock"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(run() + "/signals"), "usr1\n");
  EXPECT_FALSE(PathExists(run() + "/check-cert.lock.d"));
}

INSTANTIATE_TEST_SUITE_P(Shells, CheckCertTest, ::testing::Values(Dash(), Busybox()), ShellName);

}  // namespace
}  // namespace scepd::testing
