// scepd end to end: the real binary, the real CA (micromdm scepserver) and
// the project's responder on 127.0.0.1, real files, real scripts.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/responder_process.h"
#include "tests/support/scep_server.h"
#include "tests/support/scepd_conf.h"
#include "tests/support/tinyproxy.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");

// `text` without the build tree's and the test directory's paths, so that a
// leak check for the challenge "secret" does not trip over a checkout or a
// temporary directory whose name happens to contain that word.
std::string WithoutPaths(std::string text, const std::string& test_dir) {
  const std::string build_root =
      std::filesystem::path(kScepd).parent_path().parent_path().string();
  for (const std::string& path :
       {test_dir, build_root, std::filesystem::current_path().string()}) {
    if (path.size() < 2) continue;
    for (auto at = text.find(path); at != std::string::npos; at = text.find(path, at)) {
      text.erase(at, path.size());
    }
  }
  return text;
}

class ScepdTest : public ::testing::Test {
 protected:
  std::string data() const { return dir_.File("data"); }
  std::string run() const { return dir_.File("run"); }
  std::string conf() const { return dir_.File("scepd.conf"); }

  // Writes the settings; `extra` lines go into [certificate].
  void WriteConfig(const std::string& url, const std::string& extra = "",
                   const std::string& challenge = "secret") {
    ScepdConf c;
    c.data_dir = data();
    c.run_dir = run();
    c.url = url;
    c.challenge = challenge;
    c.certificate_lines = "alt_name = DNS:router-SN.example\n"
                          "renew_days = 30\n"
                          "await_result = 1\n"
                          "success_script = env > " + dir_.File("success.env") + "\n"
                          "failure_script = env > " + dir_.File("failure.env") + "; exit 3\n" +
                          extra;
    WriteScepdConf(conf(), c);
  }

  ProcessResult Once() { return RunProcess({kScepd, "-c", conf(), "--once"}, {}, 120000); }

  TempDir dir_;
};

TEST_F(ScepdTest, FirstEnrollmentWritesTheExactLayoutStatusAndRunsTheSuccessScript) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err;

  EXPECT_EQ(Mode(data()), 0700u);
  EXPECT_EQ(Mode(data() + "/02.key"), 0600u);
  EXPECT_TRUE(PathExists(data() + "/02.crt"));
  EXPECT_EQ(LinkTarget(data() + "/latest.key"), "02.key");
  EXPECT_EQ(LinkTarget(data() + "/latest.crt"), "02.crt");
  EXPECT_EQ(ReadFile(data() + "/ca.crt-0"), ReadFile(ca.ca_cert_path()));
  EXPECT_FALSE(PathExists(data() + "/ca.crt-1"));
  EXPECT_FALSE(PathExists(data() + "/.pending/state"));

  EXPECT_EQ(ReadFile(run() + "/status"), "Module scepClient not running\nCertificate enrolled 02\n");
  std::string json = ReadFile(run() + "/status.json");
  EXPECT_NE(json.find("\"serial\": \"02\""), std::string::npos) << json;

  std::string env = ReadFile(dir_.File("success.env"));
  for (const char* want : {"SCEP_EVENT=enrolled\n", "SCEP_SERIAL=02\n",
                           "SCEP_SUBJECT=/O=scepd test/CN=router-A1B2\n", "SCEP_DATA_DIR="}) {
    EXPECT_NE(env.find(want), std::string::npos) << want << " in\n" << env;
  }
  EXPECT_NE(env.find("SCEP_CERT=" + data() + "/02.crt"), std::string::npos) << env;
  EXPECT_NE(env.find("SCEP_CA=" + data() + "/ca.crt-0"), std::string::npos) << env;
  EXPECT_EQ(WithoutPaths(env, dir_.path()).find("secret"), std::string::npos)
      << "challenge leaked to the script";
  EXPECT_EQ(WithoutPaths(r.err, dir_.path()).find("secret"), std::string::npos)
      << "challenge leaked to the log";
  auto verify = RunProcess({"openssl", "verify", "-CAfile", data() + "/ca.crt-0",
                            data() + "/latest.crt"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // A second run finds the certificate valid and changes nothing.
  auto again = Once();
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(LinkTarget(data() + "/latest.crt"), "02.crt");
  EXPECT_NE(again.err.find("valid"), std::string::npos) << again.err;
}

TEST_F(ScepdTest, RenewDaysBeyondTheValidityRenewsWithRenewalReqAndKeepsTheOldPair) {
  ScepServer::Options options;
  options.debug = true;
  ScepServer ca(options);
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  ASSERT_EQ(Once().exit_code, 0);
  std::string old_key = ReadFile(data() + "/02.key");

  WriteConfig(ca.url(), "", "secret");
  std::string text = ReadFile(conf());
  text.replace(text.find("renew_days = 30"), 15, "renew_days = 400");
  WriteFile(conf(), text);
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LinkTarget(data() + "/latest.crt"), "03.crt");
  EXPECT_EQ(LinkTarget(data() + "/latest.key"), "03.key");
  EXPECT_TRUE(PathExists(data() + "/02.crt"));
  EXPECT_EQ(ReadFile(data() + "/02.key"), old_key) << "old pair kept intact";
  EXPECT_NE(ReadFile(data() + "/03.key"), old_key) << "a new key";
  EXPECT_NE(ReadFile(ca.log_path()).find("RenewalReq (17)"), std::string::npos);
  EXPECT_NE(ReadFile(dir_.File("success.env")).find("SCEP_EVENT=renewed\n"), std::string::npos);
  EXPECT_EQ(ReadFile(run() + "/status"), "Module scepClient not running\nCertificate enrolled 03\n");
}

TEST_F(ScepdTest, RenewalUsesTheKeyMadeAheadOfTime) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  // renew_days beyond the CA's validity: every certificate is inside its
  // renewal window, so each run renews and makes the key for the next one.
  WriteConfig(ca.url());
  std::string text = ReadFile(conf());
  text.replace(text.find("renew_days = 30"), 15, "renew_days = 400");
  WriteFile(conf(), text);

  auto first = Once();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string next_key = data() + "/.next.key";
  ASSERT_TRUE(PathExists(next_key)) << first.err;
  EXPECT_EQ(Mode(next_key), 0600u);
  const std::string prepared = ReadFile(next_key);
  EXPECT_NE(prepared, ReadFile(data() + "/latest.key"));

  auto second = Once();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("using the 2048-bit RSA key made ahead of time"), std::string::npos)
      << second.err;
  EXPECT_EQ(second.err.find("generating a 2048-bit RSA key"), std::string::npos) << second.err;
  EXPECT_EQ(LinkTarget(data() + "/latest.key"), "03.key");
  EXPECT_EQ(ReadFile(data() + "/03.key"), prepared) << "the renewal used the prepared key";
  // And the key for the renewal after it is another one.
  ASSERT_TRUE(PathExists(next_key)) << second.err;
  EXPECT_NE(ReadFile(next_key), prepared);
}

TEST_F(ScepdTest, WrongChallengeRunsTheFailureScriptAndLosesNothing) {
  ScepServer::Options options;
  options.challenge = "right";
  ScepServer ca(options);
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url(), "", "wrong");
  auto r = Once();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(ReadFile(run() + "/status"), "Module scepClient not running\nCertificate not enrolled\n");
  std::string env = ReadFile(dir_.File("failure.env"));
  EXPECT_NE(env.find("SCEP_EVENT=failed\n"), std::string::npos) << env;
  EXPECT_NE(env.find("SCEP_FAIL_INFO=badRequest\n"), std::string::npos) << env;
  EXPECT_NE(env.find("SCEP_ERROR=the CA refused the request: FAILURE: badRequest"),
            std::string::npos) << env;
  EXPECT_NE(r.err.find("failure script exited with 3"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));

  // With a pair installed, a refused renewal leaves it in place and says so.
  WriteConfig(ca.url(), "", "right");
  ASSERT_EQ(Once().exit_code, 0);
  std::string text = ReadFile(conf());
  text.replace(text.find("challenge_password = right"), 26, "challenge_password = wrong");
  text.replace(text.find("renew_days = 30"), 15, "renew_days = 400");
  WriteFile(conf(), text);
  std::string cert_before = ReadFile(data() + "/latest.crt");
  auto refused = Once();
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("falling back to a first enrollment"), std::string::npos) << refused.err;
  EXPECT_EQ(ReadFile(data() + "/latest.crt"), cert_before);
  EXPECT_EQ(LinkTarget(data() + "/latest.key"), "02.key");
  EXPECT_EQ(ReadFile(run() + "/status"), "Module scepClient not running\nCertificate enrolled 02\n");
}

TEST_F(ScepdTest, DaemonReloadsOnSighupChecksOnSigusr1AndStopsOnSigterm) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  BackgroundProcess d;
  ASSERT_TRUE(d.Start({kScepd, "-c", conf()}, dir_.File("scepd.log")));
  ASSERT_TRUE(WaitFor([&] { return PathExists(data() + "/latest.crt"); }))
      << ReadFile(dir_.File("scepd.log"));
  ASSERT_TRUE(WaitFor([&] { return PathExists(run() + "/scepd.pid"); }));
  EXPECT_EQ(std::stoi(ReadFile(run() + "/scepd.pid")), d.pid());

  // SIGUSR1: a check now (the certificate is valid: nothing else happens).
  ASSERT_TRUE(d.Signal(SIGUSR1));
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(dir_.File("scepd.log")).find("SIGUSR1: checking now") != std::string::npos;
  }));
  EXPECT_EQ(LinkTarget(data() + "/latest.crt"), "02.crt");

  // SIGHUP after the web UI's Apply: renew_days beyond the validity renews.
  std::string text = ReadFile(conf());
  text.replace(text.find("renew_days = 30"), 15, "renew_days = 400");
  WriteFile(conf(), text);
  ASSERT_TRUE(d.Signal(SIGHUP));
  ASSERT_TRUE(WaitFor([&] { return LinkTarget(data() + "/latest.crt") == "03.crt"; }))
      << ReadFile(dir_.File("scepd.log"));

  ASSERT_TRUE(d.Signal(SIGTERM));
  auto code = d.Wait(60000);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_FALSE(PathExists(run() + "/scepd.pid"));
}

TEST_F(ScepdTest, CheckConfigMasksSecretsAndBadSettingsNameTheLine) {
  WriteConfig("http://127.0.0.1:1/scep");
  auto ok = RunProcess({kScepd, "-c", conf(), "--check-config"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("challenge_password = ********"), std::string::npos) << ok.out;
  EXPECT_EQ(WithoutPaths(ok.out, dir_.path()).find("secret"), std::string::npos);
  EXPECT_FALSE(PathExists(data())) << "nothing on disk is touched";

  WriteFile(conf(), ReadFile(conf()) + "key_size = huge\n");
  auto bad = RunProcess({kScepd, "-c", conf(), "--check-config"});
  EXPECT_EQ(bad.exit_code, 78);
  EXPECT_NE(bad.err.find(conf() + ":"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("key_size"), std::string::npos) << bad.err;
  EXPECT_FALSE(PathExists(data()));
}

TEST_F(ScepdTest, StatusCommandWorksWithoutARunningDaemon) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  auto before = RunProcess({kScepd, "-c", conf(), "status"});
  EXPECT_EQ(before.out, "Module scepClient not running\nCertificate not enrolled\n");
  ASSERT_EQ(Once().exit_code, 0);
  auto after = RunProcess({kScepd, "-c", conf(), "status"});
  EXPECT_EQ(after.out, "Module scepClient not running\nCertificate enrolled 02\n");
  auto json = RunProcess({kScepd, "-c", conf(), "status", "--json"});
  EXPECT_NE(json.out.find("\"not_after\""), std::string::npos) << json.out;
}

TEST_F(ScepdTest, PendingIsPolledUntilIssued) {
  ResponderProcess ca;
  ASSERT_TRUE(ca.Start({"--pending-polls", "2"}));
  WriteConfig(ca.url());
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ca.CountRequests("\"messageTypeName\":\"PKCSReq\""), 1);
  EXPECT_EQ(ca.CountRequests("\"messageTypeName\":\"CertPoll\""), 3);
  EXPECT_TRUE(PathExists(data() + "/latest.crt"));
}

TEST_F(ScepdTest, PendingPastMaxAwaitResultFails) {
  ResponderProcess ca;
  ASSERT_TRUE(ca.Start({"--pending-forever"}));
  WriteConfig(ca.url(), "max_await_result = 0\n");
  auto r = Once();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(ReadFile(dir_.File("failure.env")).find("still PENDING"), std::string::npos);
  EXPECT_FALSE(PathExists(data() + "/.pending/state")) << "the transaction is given up";
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));
}

TEST_F(ScepdTest, RestartDuringPendingResumesTheSameTransaction) {
  ResponderProcess ca;
  ASSERT_TRUE(ca.Start({"--pending-polls", "3"}));
  WriteConfig(ca.url());
  {
    BackgroundProcess d;
    ASSERT_TRUE(d.Start({kScepd, "-c", conf()}, dir_.File("scepd1.log")));
    ASSERT_TRUE(WaitFor([&] { return ca.CountRequests("\"messageTypeName\":\"CertPoll\"") >= 1; }))
        << ReadFile(dir_.File("scepd1.log"));
    d.Signal(SIGKILL);
    d.Wait(30000);
  }
  EXPECT_TRUE(PathExists(data() + "/.pending/state"));
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ca.CountRequests("\"messageTypeName\":\"PKCSReq\""), 1) << "not submitted again";
  std::string log = ReadFile(ca.request_log_path());
  auto at = log.find("\"transactionId\":\"");
  ASSERT_NE(at, std::string::npos);
  std::string tid = log.substr(at + 17, 64);
  EXPECT_EQ(ca.CountRequests("\"transactionId\":\"" + tid + "\""),
            ca.CountRequests("\"operation\":\"PKIOperation\""));
  EXPECT_TRUE(PathExists(data() + "/latest.crt"));
}

TEST_F(ScepdTest, DetachReturnsOnceStartedAndWritesThePidFile) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  auto r = RunProcess({kScepd, "-c", conf(), "-d"}, {}, 120000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(PathExists(run() + "/scepd.pid"));
  pid_t pid = std::stoi(ReadFile(run() + "/scepd.pid"));
  EXPECT_EQ(::kill(pid, 0), 0) << "the detached daemon runs";
  ASSERT_TRUE(WaitFor([&] { return PathExists(data() + "/latest.crt"); }));
  // A second instance refuses to start while the first holds the pid file.
  auto second = RunProcess({kScepd, "-c", conf()}, {}, 120000);
  EXPECT_EQ(second.exit_code, 75) << second.err;
  EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
  ::kill(pid, SIGTERM);
  EXPECT_TRUE(WaitFor([&] { return ::kill(pid, 0) != 0; }, 60000));
  EXPECT_FALSE(PathExists(run() + "/scepd.pid"));
}

TEST_F(ScepdTest, NamedCertificateSectionsKeepTheirOwnFilesAndStatus) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url(), "[certificate vpn]\n"
                        "data_dir = " + dir_.File("vpn") + "\n"
                        "url = " + ca.url() + "\n"
                        "subject = /CN=vpn-SN\n"
                        "challenge_password = secret\n");
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(PathExists(data() + "/latest.crt"));
  EXPECT_TRUE(PathExists(dir_.File("vpn") + "/latest.crt"));
  EXPECT_NE(LinkTarget(data() + "/latest.crt"), LinkTarget(dir_.File("vpn") + "/latest.crt"));
  auto subject = RunProcess({"openssl", "x509", "-in", dir_.File("vpn") + "/latest.crt", "-noout",
                             "-subject"});
  EXPECT_NE(subject.out.find("CN = vpn-A1B2"), std::string::npos) << subject.out;
  EXPECT_EQ(ReadFile(run() + "/status").substr(0, 30), "Module scepClient not running\n");
  std::string vpn_status = ReadFile(run() + "/status-vpn");
  EXPECT_NE(vpn_status.find("Certificate enrolled "), std::string::npos) << vpn_status;
}

TEST_F(ScepdTest, CaFingerprintPinRefusesAnotherCa) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url(), "ca_fingerprint = sha256:" + std::string(64, '0') + "\n");
  auto wrong = Once();
  EXPECT_EQ(wrong.exit_code, 1) << wrong.err;
  EXPECT_NE(wrong.err.find("does not match ca_fingerprint 00:00:"), std::string::npos) << wrong.err;
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));

  auto fp = RunProcess({"openssl", "x509", "-in", ca.ca_cert_path(), "-noout", "-fingerprint",
                        "-sha256"});
  std::string hex = fp.out.substr(fp.out.find('=') + 1);
  hex.erase(hex.find_last_not_of('\n') + 1);
  WriteConfig(ca.url(), "ca_fingerprint = sha256:" + hex + "\n");
  auto right = Once();
  EXPECT_EQ(right.exit_code, 0) << right.err;
  EXPECT_TRUE(PathExists(data() + "/latest.crt"));
}

// Issue 7: a certificate valid until after 2050 through the real binary. In
// the armhf and mipsel cross builds scepd and the responder run under qemu
// with a 32-bit time_t, where such a date does not fit: the status, the
// days left and the "still valid" decision must come out right all the same.
TEST_F(ScepdTest, CertificateValidPast2050IsEnrolledReportedAndKept) {
  ResponderProcess ca;
  // 9000 days from 2026 or later: past 2050-08, far past 2038-01-19.
  ASSERT_TRUE(ca.Start({"--valid-days", "9000"}));
  WriteConfig(ca.url());
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string enrolled = LinkTarget(data() + "/latest.crt");
  ASSERT_FALSE(enrolled.empty());

  // The host's openssl (64-bit time_t) says when the certificate ends.
  auto end = RunProcess({"openssl", "x509", "-in", data() + "/latest.crt", "-noout", "-enddate",
                         "-dateopt", "iso_8601"});
  ASSERT_EQ(end.exit_code, 0) << end.err;
  // "notAfter=2051-03-02 12:00:00Z" -> "2051-03-02T12:00:00Z"
  std::string iso = end.out.substr(end.out.find('=') + 1, 20);
  iso[10] = 'T';
  ASSERT_GE(iso.substr(0, 4), "2050") << end.out;

  auto json = RunProcess({kScepd, "-c", conf(), "status", "--json"});
  ASSERT_EQ(json.exit_code, 5) << "valid, but no daemon runs (--once)\n" << json.err;
  EXPECT_NE(json.out.find("\"not_after\": \"" + iso + "\""), std::string::npos)
      << iso << " in\n" << json.out;
  auto epoch_at = json.out.find("\"not_after_epoch\": ");
  ASSERT_NE(epoch_at, std::string::npos) << json.out;
  EXPECT_GT(std::stoll(json.out.substr(epoch_at + 19)), 2524608000LL) << json.out;
  auto days_at = json.out.find("\"days_left\": ");
  ASSERT_NE(days_at, std::string::npos) << json.out;
  const long long days_left = std::stoll(json.out.substr(days_at + 13));
  EXPECT_GE(days_left, 8998) << json.out;
  EXPECT_LE(days_left, 9000) << json.out;

  // A second run finds it valid: no renewal, no "expired".
  auto again = Once();
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(LinkTarget(data() + "/latest.crt"), enrolled);
  EXPECT_NE(again.err.find("valid"), std::string::npos) << again.err;
  EXPECT_EQ(again.err.find("expired"), std::string::npos) << again.err;
  EXPECT_EQ(ca.CountRequests("\"operation\":\"PKIOperation\""), 1) << "nothing sent again";
}

// Issue 21: the proxy setting carries the daemon's requests (and the
// credentials from their file reach the proxy, never the log).
TEST_F(ScepdTest, ProxySettingCarriesEveryRequestToTheCa) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  Tinyproxy proxy;
  std::string error;
  ASSERT_TRUE(proxy.Start(dir_.path(), &error)) << error;
  WriteFile(dir_.File("proxy-creds"), "gw:pr0xy-pass\n", 0600);
  WriteConfig(ca.url(), "proxy = " + proxy.address() + "\nproxy_credentials_file = " +
                            dir_.File("proxy-creds") + "\n");
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LinkTarget(data() + "/latest.crt"), "02.crt");
  proxy.Stop();
  const std::string log = proxy.Log();
  const std::string target = "http://127.0.0.1:" + std::to_string(ca.port()) + "/scep?operation=";
  EXPECT_NE(log.find("GET " + target + "GetCACert"), std::string::npos) << log;
  EXPECT_NE(log.find("PKIOperation"), std::string::npos) << log;
  EXPECT_EQ(r.err.find("pr0xy-pass"), std::string::npos) << "proxy credentials logged";

  // With the proxy gone the same settings cannot reach the CA: the requests
  // did go through it, not around it.
  WriteConfig(ca.url(), "proxy = " + proxy.address() + "\n");
  std::string text = ReadFile(conf());
  text.replace(text.find("renew_days = 30"), 15, "renew_days = 400");  // renew now
  WriteFile(conf(), text);
  auto down = Once();
  EXPECT_NE(down.exit_code, 0) << down.err;
  EXPECT_EQ(LinkTarget(data() + "/latest.crt"), "02.crt") << "the working pair was lost";
}

}  // namespace
}  // namespace scepd::testing
