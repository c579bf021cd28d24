// Whom scepd trusts: the CA pinned on first use (its fingerprint stored with
// the chain), a rollover only through GetNextCACert, and HTTPS servers
// verified by default. The real binaries against the project's responder.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/responder_process.h"
#include "tests/support/scepd_conf.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");
const std::string kSscep = BuiltBinary("cli/sscep");


// "AB:CD:..." as `openssl x509 -fingerprint -sha256` prints it.
std::string Sha256Of(const std::string& pem_file) {
  auto r = RunProcess({"openssl", "x509", "-in", pem_file, "-noout", "-fingerprint", "-sha256"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto eq = r.out.find('=');
  if (eq == std::string::npos) return "";
  std::string hex = r.out.substr(eq + 1);
  hex.erase(hex.find_last_not_of('\n') + 1);
  return hex;
}

class ScepdTrustTest : public ::testing::Test {
 protected:
  std::string data() const { return dir_.File("data"); }

  void WriteConfig(const std::string& url, const std::string& extra = "") {
    ScepdConf c;
    c.data_dir = data();
    c.run_dir = dir_.File("run");
    c.url = url;
    c.certificate_lines = "key_size = 1024\n"
                          "await_result = 1\n"
                          "http_timeout = 60\n"
                          "failure_script = env > " + dir_.File("failure.env") + "\n" + extra;
    WriteScepdConf(dir_.File("scepd.conf"), c);
  }

  ProcessResult Once() {
    return RunProcess({kScepd, "-c", dir_.File("scepd.conf"), "--once"}, {}, 120000);
  }

  TempDir dir_;
};

TEST_F(ScepdTrustTest, FirstUsePinsTheCaAndAChangedCaIsRefusedNamingBothFingerprints) {
  ResponderProcess ca(dir_.File("ca"));
  ASSERT_TRUE(ca.Start({"--key-bits", "1024"})) << TryReadFile(ca.log_path()).value_or("");
  WriteConfig(ca.url());
  auto first = Once();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("trusting the CA certificate"), std::string::npos) << first.err;
  const std::string pinned = Sha256Of(data() + "/ca.crt-0");
  EXPECT_EQ(ReadFile(data() + "/ca.fingerprint"), "sha256:" + pinned + "\n");

  // The server now presents another CA certificate (same name, other key).
  ASSERT_TRUE(ca.Start({"--other-ca", "--key-bits", "1024"}));
  auto getca = RunProcess({kSscep, "getca", "-u", ca.url(), "-c", dir_.File("other.crt")});
  ASSERT_EQ(getca.exit_code, 0) << getca.err;
  const std::string other = Sha256Of(dir_.File("other.crt"));
  ASSERT_NE(other, pinned);
  WriteConfig(ca.url(), "renew_days = 400\n");
  const std::string pin_before = ReadFile(data() + "/ca.fingerprint");
  const std::string chain_before = ReadFile(data() + "/ca.crt-0");
  auto refused = Once();
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("sha256:" + other), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("sha256:" + pinned), std::string::npos) << refused.err;
  std::string json = ReadFile(dir_.File("run/status.json"));
  EXPECT_NE(json.find("sha256:" + other), std::string::npos) << json;
  EXPECT_NE(json.find("sha256:" + pinned), std::string::npos) << json;
  EXPECT_NE(ReadFile(dir_.File("failure.env")).find("SCEP_ERROR=CA certificate changed"),
            std::string::npos);
  EXPECT_EQ(ReadFile(data() + "/ca.fingerprint"), pin_before);
  EXPECT_EQ(ReadFile(data() + "/ca.crt-0"), chain_before);
  EXPECT_EQ(LinkTarget(data() + "/latest.crt"), "02.crt");
  EXPECT_EQ(ca.CountRequests("\"operation\":\"PKIOperation\""), 1) << "only the first enrollment";
  ExpectReliabilityRow("trust.first-use-pin", first.err + ReadFile(data() + "/ca.fingerprint"));
  ExpectReliabilityRow("trust.changed-ca-refused", refused.err + json);
}

TEST_F(ScepdTrustTest, PinFromTheSettingsIsUsedInsteadOfFirstUse) {
  ResponderProcess ca(dir_.File("ca"));
  ASSERT_TRUE(ca.Start({"--key-bits", "1024"}));
  WriteConfig(ca.url(), "ca_fingerprint = sha256:" + std::string(64, 'A') + "\n");
  auto wrong = Once();
  EXPECT_EQ(wrong.exit_code, 1) << wrong.err;
  EXPECT_NE(wrong.err.find("does not match ca_fingerprint AA:AA:"), std::string::npos) << wrong.err;
  EXPECT_FALSE(PathExists(data() + "/ca.fingerprint"));
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));
  ExpectReliabilityRow("trust.settings-pin", wrong.err);
}

TEST_F(ScepdTrustTest, RolloverOnlyThroughGetNextCaCert) {
  ResponderProcess ca(dir_.File("ca"));
  ASSERT_TRUE(ca.Start({"--next-ca", "--key-bits", "1024"})) << TryReadFile(ca.log_path()).value_or("");
  WriteConfig(ca.url());
  auto first = Once();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // Fetched while the current CA is valid, verified by it, kept aside.
  EXPECT_NE(first.err.find("fetched with GetNextCACert and verified by the current CA"),
            std::string::npos)
      << first.err;
  ASSERT_TRUE(PathExists(data() + "/ca-next.crt"));
  EXPECT_EQ(Sha256Of(data() + "/ca-next.crt"), Sha256Of(ca.state_dir() + "/next-ca.crt"));
  const std::string old_ca = Sha256Of(data() + "/ca.crt-0");
  EXPECT_EQ(ReadFile(data() + "/ca.fingerprint"), "sha256:" + old_ca + "\n");

  // The CA is replaced by its successor.
  ASSERT_TRUE(ca.Start({"--promote-next-ca"})) << TryReadFile(ca.log_path()).value_or("");
  const std::string new_ca = Sha256Of(ca.ca_cert_path());
  ASSERT_NE(new_ca, old_ca);
  WriteConfig(ca.url(), "renew_days = 400\n");
  auto rolled = Once();
  ASSERT_EQ(rolled.exit_code, 0) << rolled.err;
  EXPECT_NE(rolled.err.find("CA rollover"), std::string::npos) << rolled.err;
  EXPECT_EQ(Sha256Of(data() + "/ca.crt-0"), new_ca);
  EXPECT_EQ(ReadFile(data() + "/ca.fingerprint"), "sha256:" + new_ca + "\n");
  EXPECT_FALSE(PathExists(data() + "/ca-next.crt")) << "adopted: no longer a successor";
  EXPECT_EQ(LinkTarget(data() + "/latest.crt"), "03.crt");
  auto verify = RunProcess({"openssl", "verify", "-CAfile", data() + "/ca.crt-0",
                            data() + "/latest.crt"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  ExpectReliabilityRow("trust.rollover", first.err + rolled.err);
}

// A self-signed HTTPS server: refused unless tls_ca_file (sscep:
// --tls-ca-file) names its certificate.
TEST_F(ScepdTrustTest, HttpsIsVerifiedByDefaultAndTrustsTheConfiguredCaFile) {
  const std::string cert = dir_.File("https.crt");
  const std::string key = dir_.File("https.key");
  auto made = RunProcess({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                          "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                          "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ResponderProcess ca(dir_.File("ca"));
  ASSERT_TRUE(ca.Start({"--tls-cert", cert, "--tls-key", key, "--key-bits", "1024"}))
      << TryReadFile(ca.log_path()).value_or("");
  const std::string url = "https://127.0.0.1:" + std::to_string(ca.port()) + "/scep";

  WriteConfig(url);
  auto refused = Once();
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("SSL certificate problem"), std::string::npos) << refused.err;
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));
  auto cli_refused = RunProcess({kSscep, "getca", "-u", url, "-c", dir_.File("ca.crt")});
  EXPECT_EQ(cli_refused.exit_code, 95) << cli_refused.err;
  EXPECT_NE(cli_refused.err.find("SSL certificate problem"), std::string::npos) << cli_refused.err;
  EXPECT_FALSE(PathExists(dir_.File("ca.crt")));
  EXPECT_EQ(ca.CountRequests("\"operation\""), 0) << "no request got through";

  WriteConfig(url, "tls_ca_file = " + cert + "\n");
  auto accepted = Once();
  EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
  EXPECT_TRUE(PathExists(data() + "/latest.crt"));
  auto cli_accepted =
      RunProcess({kSscep, "getca", "-u", url, "-c", dir_.File("ca.crt"), "--tls-ca-file", cert});
  EXPECT_EQ(cli_accepted.exit_code, 0) << cli_accepted.err;
  ExpectReliabilityRow("trust.https-self-signed-refused",
                       refused.err + cli_refused.err + "exit " +
                           std::to_string(cli_refused.exit_code));
  ExpectReliabilityRow("trust.https-ca-file", accepted.err + "exit " +
                                                  std::to_string(accepted.exit_code));
}

}  // namespace
}  // namespace scepd::testing
