// scepd and secrets, through the real binary and the real CA: the data
// directory 0700 and key files 0600 whatever the umask; the challenge
// password never in the log (debug level), status files, process arguments
// or the environment of the scripts it runs. docs/reliability.md, section
// "Secrets".

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/scep_server.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");
// Distinctive, so that any copy of it is found.
const std::string kChallenge = "Zq9-chall3nge-Xw7";



// /proc/<pid>/<what> with NULs as newlines ("" when it cannot be read).
std::string ProcFile(pid_t pid, const std::string& what) {
  std::string text =
      TryReadFile("/proc/" + std::to_string(pid) + "/" + what).value_or("");
  for (char& c : text) {
    if (c == '\0') c = '\n';
  }
  return text;
}

class SecretsTest : public ::testing::Test {
 protected:
  std::string data() const { return dir_.File("data"); }
  std::string run() const { return dir_.File("run"); }
  std::string conf() const { return dir_.File("scepd.conf"); }

  // `challenge_line` is "challenge_password = ..." or "..._file = ...".
  void WriteConfig(const std::string& url, const std::string& challenge_line,
                   const std::string& extra = "") {
    // Each script records its own environment and command line and its
    // parent's (scepd's) command line.
    auto record = [this](const std::string& name) {
      const std::string base = dir_.File(name);
      return "tr '\\0' '\\n' < /proc/$$/environ > " + base + ".environ; " +
             "tr '\\0' '\\n' < /proc/$$/cmdline > " + base + ".cmdline; " +
             "tr '\\0' '\\n' < /proc/$PPID/cmdline > " + base + ".parent-cmdline\n";
    };
    WriteFile(conf(),
              "[scepd]\n"
              "enabled = yes\n"
              "data_dir = " + data() + "\n"
              "run_dir = " + run() + "\n"
              "log_level = trace\n"
              "log_target = stderr\n"
              "[certificate]\n"
              "url = " + url + "\n"
              "subject = /CN=router\n"
              "await_result = 1\n" +
              challenge_line + "\n"
              "success_script = " + record("success") +
              "failure_script = " + record("failure") + extra);
  }

  TempDir dir_;
};

TEST_F(SecretsTest, DataDirAndKeysArePrivateWhateverTheUmask) {
  ScepServer::Options options;
  options.challenge = kChallenge;
  ScepServer ca(options);
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url(), "challenge_password = " + kChallenge);
  std::string observed;
  for (const char* umask : {"000", "077", "022"}) {
    SCOPED_TRACE(umask);
    RemoveTree(data());
    if (std::string(umask) == "022") {
      // A data_dir someone made world-readable is tightened.
      ASSERT_EQ(::mkdir(data().c_str(), 0755), 0);
      ASSERT_EQ(::chmod(data().c_str(), 0755), 0);
    }
    auto r = RunProcess({"sh", "-c", std::string("umask ") + umask + "; exec \"$0\" -c " +
                                         ShellQuote(conf()) + " --once",
                         kScepd},
                        {}, 180000);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string key = data() + "/" + [&] {
      char buf[64] = {0};
      ssize_t n = ::readlink((data() + "/latest.key").c_str(), buf, sizeof(buf) - 1);
      return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    }();
    char line[160];
    std::snprintf(line, sizeof(line), "umask %s: data_dir %04o, key %04o, .pending %04o\n", umask,
                  Mode(data()), Mode(key), Mode(data() + "/.pending"));
    observed += line;
    EXPECT_EQ(Mode(data()), 0700u);
    EXPECT_EQ(Mode(key), 0600u);
    EXPECT_EQ(Mode(data() + "/.pending"), 0700u);
  }
  ExpectReliabilityRow("secrets.modes", observed);
}

TEST_F(SecretsTest, ChallengePasswordIsNeverShown) {
  ScepServer::Options options;
  options.challenge = kChallenge;
  ScepServer ca(options);
  ASSERT_TRUE(ca.Start());
  std::string observed;
  // Inline and from a file; a success and a failure (nobody listens on port 1).
  WriteFile(dir_.File("challenge"), kChallenge + "\n", 0600);
  for (const std::string& line : {"challenge_password = " + kChallenge,
                                  "challenge_password_file = " + dir_.File("challenge")}) {
    SCOPED_TRACE(line);
    RemoveTree(data());
    RemoveTree(run());
    for (const char* script : {"success", "failure"}) {
      for (const char* ext : {".environ", ".cmdline", ".parent-cmdline"}) {
        ::unlink(dir_.File(std::string(script) + ext).c_str());
      }
    }
    WriteConfig(ca.url(), line);
    const std::string log = dir_.File("scepd.log");
    BackgroundProcess d;
    ASSERT_TRUE(d.Start({kScepd, "-c", conf()}, log));
    ASSERT_TRUE(WaitFor([&] { return PathExists(dir_.File("success.parent-cmdline")); }))
        << ReadFile(log);
    const std::string own_cmdline = ProcFile(d.pid(), "cmdline");
    const std::string own_environ = ProcFile(d.pid(), "environ");
    ASSERT_TRUE(d.Signal(SIGTERM));
    EXPECT_EQ(d.Wait(20000), std::optional<int>(0));

    const std::string enrolled_log = ReadFile(log);
    RemoveTree(data());  // so that the next run must enroll, and fails
    WriteConfig("http://127.0.0.1:1/scep", line);
    auto failed = RunProcess({kScepd, "-c", conf(), "--once"}, {}, 180000);
    EXPECT_EQ(failed.exit_code, 1);
    auto check = RunProcess({kScepd, "-c", conf(), "--check-config"});
    auto status = RunProcess({kScepd, "-c", conf(), "status", "--json"});

    const std::vector<std::pair<std::string, std::string>> places = {
        {"log (trace level)", enrolled_log + failed.err},
        {"status", ReadFile(run() + "/status")},
        {"status.json", ReadFile(run() + "/status.json")},
        {"scepd status --json", status.out + status.err},
        {"--check-config", check.out + check.err},
        {"scepd cmdline", own_cmdline},
        {"scepd environ", own_environ},
        {"success script environ", ReadFile(dir_.File("success.environ"))},
        {"success script cmdline", ReadFile(dir_.File("success.cmdline"))},
        {"success script's parent cmdline", ReadFile(dir_.File("success.parent-cmdline"))},
        {"failure script environ", ReadFile(dir_.File("failure.environ"))},
        {"failure script cmdline", ReadFile(dir_.File("failure.cmdline"))},
        {"failure script's parent cmdline", ReadFile(dir_.File("failure.parent-cmdline"))},
    };
    for (const auto& [where, text] : places) {
      EXPECT_FALSE(text.empty()) << where << " was not captured";
      EXPECT_EQ(text.find(kChallenge), std::string::npos) << "challenge in " << where << ":\n"
                                                          << text;
      if (text.find(kChallenge) == std::string::npos) observed += "not in " + where + "\n";
    }
    EXPECT_NE(enrolled_log.find("installed"), std::string::npos) << "the CA took it";
  }
  ExpectReliabilityRow("secrets.challenge-never-shown", observed);
}

}  // namespace
}  // namespace scepd::testing
