// scepd against hostile and broken servers: the real binary, the project's
// responder injecting one fault at a time, real files and scripts. Each
// fault starts from an enrolled certificate that is due for renewal (and,
// where it matters, from an empty data_dir) and must end in a clear error in
// the log and status.json, the failure script, a scheduled retry, no crash,
// and data_dir unchanged (only the pending transaction may appear).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <ostream>
#include <memory>
#include <thread>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/responder_process.h"
#include "tests/support/scepd_conf.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");

// Every entry under `dir` but the pending transaction: relative path ->
// type, mode and content (or link target). Symbolic links are not followed.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return out;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string path = it->path().string();
    const std::string rel = path.substr(dir.size() + 1);
    if (rel == ".pending" || rel.rfind(".pending/", 0) == 0) continue;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    std::string entry = std::to_string(st.st_mode & 07777) + " ";
    if (S_ISLNK(st.st_mode)) {
      char buf[512];
      ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
      entry += "-> " + std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    } else if (S_ISREG(st.st_mode)) {
      entry += ReadFile(path);
    } else {
      entry += "dir";
    }
    out[rel] = entry;
  }
  return out;
}

std::string Diff(const std::map<std::string, std::string>& before,
                 const std::map<std::string, std::string>& after) {
  std::string out;
  for (const auto& [k, v] : before) {
    auto it = after.find(k);
    if (it == after.end()) out += "removed " + k + "\n";
    else if (it->second != v) out += "changed " + k + "\n";
  }
  for (const auto& [k, v] : after) {
    if (!before.count(k)) out += "added " + k + "\n";
  }
  return out;
}

void CopyTree(const std::string& from, const std::string& to) {
  auto r = RunProcess({"cp", "-a", from, to});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// Where a case points scepd.
enum class Target { kResponder, kClosedPort, kUnresolvable };

struct Fault {
  const char* id;                  // docs/reliability.md row
  std::vector<std::string> flags;  // scep_responder fault flags
  const char* message;             // what log, status.json and SCEP_ERROR must say
  bool from_empty = false;         // also run with an empty data_dir
  Target target = Target::kResponder;
  // http_timeout: short where the fault is the wait itself, else generous
  // (the responder makes a key for some faults; slow under emulation).
  int http_timeout = 60;
};

// gtest prints the row id instead of the bytes of the struct.
void PrintTo(const Fault& f, std::ostream* os) { *os << f.id; }

// Unresolvable names are looked up inside a network namespace of its own
// (only a loopback interface, down): the lookup cannot leave the machine.
bool CanIsolateNetwork() {
  static const bool ok = RunProcess({"unshare", "-rn", "true"}, {}, 10000).exit_code == 0;
  return ok;
}

// One enrollment made once for the whole suite: a responder state (the CA)
// and a data_dir holding the certificate it issued. Each case copies both.
class ScepdHostileTest : public ::testing::TestWithParam<Fault> {
 public:
  static void SetUpTestSuite() {
    templ_ = std::make_unique<TempDir>("scepd-hostile-template-");
    ResponderProcess ca(templ_->File("ca"));
    // Runs once per test process (ctest runs each case on its own): a small
    // CA key keeps that quick under emulation.
    ASSERT_TRUE(ca.Start({"--key-bits", "1024"})) << TryReadFile(ca.log_path()).value_or("");
    WriteConfig(templ_->path(), ca.url(), "renew_days = 30\n");
    auto r = RunProcess({kScepd, "-c", templ_->File("scepd.conf"), "--once"}, {}, 120000);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(PathExists(templ_->File("data/latest.crt")));
  }
  static void TearDownTestSuite() { templ_.reset(); }

  // The settings: the HTTP timeout, a small key, renew_days from `extra`.
  static void WriteConfig(const std::string& dir, const std::string& url,
                          const std::string& extra, int http_timeout = 60) {
    ScepdConf c;
    c.data_dir = dir + "/data";
    c.run_dir = dir + "/run";
    c.url = url;
    c.certificate_lines = "key_size = 1024\n"
                          "await_result = 1\n"
                          "http_timeout = " + std::to_string(http_timeout) + "\n"
                          "failure_script = env > " + dir + "/failure.env; exit 3\n" + extra;
    WriteScepdConf(dir + "/scepd.conf", c);
  }

 protected:
  static std::unique_ptr<TempDir> templ_;
};
std::unique_ptr<TempDir> ScepdHostileTest::templ_;

TEST_P(ScepdHostileTest, ClearErrorFailureScriptBackoffAndNothingOnDiskChanged) {
  const Fault& f = GetParam();
  if (f.target == Target::kUnresolvable && !CanIsolateNetwork()) {
    GTEST_SKIP() << "unshare -rn is not available: an unresolvable name would be looked up "
                    "by the real DNS server, which the tests must not contact";
  }
  for (bool enrolled : {true, false}) {
    if (!enrolled && !f.from_empty) continue;
    SCOPED_TRACE(enrolled ? "from an enrolled certificate due for renewal" : "from empty");
    TempDir dir("scepd-hostile-");
    CopyTree(templ_->File("ca"), dir.File("ca"));
    ResponderProcess ca(dir.File("ca"));
    std::string url;
    switch (f.target) {
      case Target::kResponder:
        {
          // Small keys for the faults that need another key (the CA's own
          // comes from the template).
          std::vector<std::string> flags = f.flags;
          flags.insert(flags.end(), {"--key-bits", "1024"});
          ASSERT_TRUE(ca.Start(flags)) << TryReadFile(ca.log_path()).value_or("");
        }
        url = ca.url();
        break;
      case Target::kClosedPort:
        url = "http://127.0.0.1:" + std::to_string(FreeLoopbackPort()) + "/scep";
        break;
      case Target::kUnresolvable:
        url = "http://scepd-test.invalid/scep";
        break;
    }
    if (enrolled) {
      CopyTree(templ_->File("data"), dir.File("data"));
    } else {
      ASSERT_EQ(::mkdir(dir.File("data").c_str(), 0700), 0);
    }
    // renew_days beyond the 365-day validity: the renewal is due now.
    WriteConfig(dir.path(), url, "renew_days = 400\n", f.http_timeout);
    const auto before = Snapshot(dir.File("data"));

    std::vector<std::string> argv = {kScepd, "-c", dir.File("scepd.conf"), "--once"};
    if (f.target == Target::kUnresolvable) argv.insert(argv.begin(), {"unshare", "-rn"});
    auto r = RunProcess(argv, {}, 120000);
    ca.Stop();

    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // a failed attempt, not a crash (128 + signal)
    EXPECT_NE(r.err.find(f.message), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("retrying at"), std::string::npos) << r.err;
    std::string json = ReadFile(dir.File("run/status.json"));
    EXPECT_NE(json.find("\"state\": \"backoff\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"last_result\": \"error\""), std::string::npos) << json;
    auto last_error = json.find("\"last_error\": ");
    ASSERT_NE(last_error, std::string::npos) << json;
    EXPECT_NE(json.substr(last_error, json.find('\n', last_error) - last_error).find(f.message),
              std::string::npos)
        << json;
    EXPECT_NE(json.find("\"next_check\": \""), std::string::npos) << json;
    EXPECT_EQ(ReadFile(dir.File("run/status")),
              enrolled ? "Module scepClient not running\nCertificate enrolled 02\n"
                       : "Module scepClient not running\nCertificate not enrolled\n");

    std::string env = ReadFile(dir.File("failure.env"));
    EXPECT_NE(env.find("SCEP_EVENT=failed\n"), std::string::npos) << env;
    EXPECT_NE(env.find("SCEP_DATA_DIR=" + dir.File("data") + "\n"), std::string::npos) << env;
    auto error_at = env.find("SCEP_ERROR=");
    ASSERT_NE(error_at, std::string::npos) << env;
    EXPECT_NE(env.substr(error_at, env.find('\n', error_at) - error_at).find(f.message),
              std::string::npos)
        << env;
    if (enrolled) {
      EXPECT_NE(env.find("SCEP_SERIAL=02\n"), std::string::npos) << env;
    }
    EXPECT_NE(r.err.find("failure script exited with 3"), std::string::npos) << r.err;

    const auto after = Snapshot(dir.File("data"));
    EXPECT_EQ(before, after) << Diff(before, after);
    if (enrolled) ExpectReliabilityRow(f.id, r.err + json + env);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Faults, ScepdHostileTest,
    ::testing::Values(
        Fault{"daemon.http-500", {"--http-status", "500", "--only-for", "PKIOperation"},
              "server answered HTTP 500", true},
        Fault{"daemon.http-404", {"--http-status", "404", "--only-for", "GetCACert"},
              "server answered HTTP 404"},
        Fault{"daemon.html-page", {"--html-error", "--only-for", "PKIOperation"}, "HTML page"},
        Fault{"daemon.empty-body", {"--empty-body", "--only-for", "PKIOperation"}, "empty body"},
        Fault{"daemon.truncated-der", {"--truncate", "--only-for", "PKIOperation"}, "not a DER"},
        Fault{"daemon.random-bytes", {"--garbage", "--only-for", "PKIOperation"}, "not a DER",
              true},
        Fault{"daemon.other-signer", {"--other-signer", "--only-for", "PKIOperation"},
              "signature does not verify"},
        Fault{"daemon.wrong-transaction-id", {"--wrong-tid", "--only-for", "PKIOperation"},
              "is not ours"},
        Fault{"daemon.wrong-nonce", {"--wrong-nonce", "--only-for", "PKIOperation"},
              "does not match our senderNonce"},
        Fault{"daemon.missing-nonce", {"--no-nonce", "--only-for", "PKIOperation"},
              "no recipientNonce"},
        Fault{"daemon.issued-other-key", {"--other-key"}, "none for our public key", true},
        Fault{"daemon.issued-other-subject", {"--other-subject"}, "not the requested", true},
        Fault{"daemon.issued-expired", {"--expired"}, "issued a certificate that expired at",
              true},
        Fault{"daemon.ca-changed", {"--other-ca"}, "CA certificate changed"},
        Fault{"daemon.huge-response",
              {"--huge-body", "104857600", "--only-for", "PKIOperation"},
              "response larger than 4194304 bytes", true},
        Fault{"daemon.never-answers", {"--never-answer", "--only-for", "PKIOperation"},
              "no answer from 127.0.0.1", true, Target::kResponder, 3},
        Fault{"daemon.byte-a-second", {"--drip-ms", "1000", "--only-for", "GetCACert"},
              "incomplete answer from 127.0.0.1", false, Target::kResponder, 3},
        Fault{"daemon.connection-refused", {}, "Failed to connect to 127.0.0.1", true,
              Target::kClosedPort},
        Fault{"daemon.name-does-not-resolve", {}, "scepd-test.invalid", true,
              Target::kUnresolvable}),
    [](const auto& param_info) {
      std::string n = std::string(param_info.param.id).substr(7);
      for (char& c : n) {
        if (c == '-') c = '_';
      }
      return n;
    });

// The daemon itself (not --once): a failure is retried after a backoff, a
// SIGUSR1 retries at once, and once the CA behaves the renewal goes through.
TEST(ScepdHostileDaemonTest, BacksOffAndRecoversOnSigusr1OnceTheCaBehaves) {
  TempDir dir("scepd-hostile-daemon-");
  ResponderProcess ca(dir.File("ca"));
  ASSERT_TRUE(ca.Start({"--key-bits", "1024"})) << TryReadFile(ca.log_path()).value_or("");
  ScepdHostileTest::WriteConfig(dir.path(), ca.url(), "renew_days = 30\n");
  auto first = RunProcess({kScepd, "-c", dir.File("scepd.conf"), "--once"}, {}, 120000);
  ASSERT_EQ(first.exit_code, 0) << first.err;

  ASSERT_TRUE(ca.Start({"--garbage", "--only-for", "PKIOperation"}));
  ScepdHostileTest::WriteConfig(dir.path(), ca.url(), "renew_days = 400\n");
  BackgroundProcess d;
  const std::string log = dir.File("scepd.log");
  ASSERT_TRUE(d.Start({kScepd, "-c", dir.File("scepd.conf")}, log));
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 600 && !pred(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pred();
  };
  ASSERT_TRUE(wait_for([&] {
    return TryReadFile(dir.File("run/status.json")).value_or("").find("\"state\": \"backoff\"") !=
           std::string::npos;
  })) << ReadFile(log);
  EXPECT_TRUE(d.Running()) << "no crash";
  EXPECT_NE(ReadFile(log).find("not a DER"), std::string::npos) << ReadFile(log);
  char target[64] = {};
  ASSERT_GT(::readlink(dir.File("data/latest.crt").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_STREQ(target, "02.crt");

  // The CA is repaired; the backoff (a minute at least) is cut short.
  ASSERT_TRUE(ca.Start({}));
  ASSERT_TRUE(d.Signal(SIGUSR1));
  ASSERT_TRUE(wait_for([&] {
    char t[64] = {};
    // A new serial: the mangled replies were issued too, so not always 03.
    return ::readlink(dir.File("data/latest.crt").c_str(), t, sizeof(t) - 1) > 0 &&
           std::string(t) != "02.crt";
  })) << ReadFile(log);
  ASSERT_TRUE(d.Signal(SIGTERM));
  EXPECT_EQ(d.Wait(10000), std::optional<int>(0));
}

}  // namespace
}  // namespace scepd::testing
