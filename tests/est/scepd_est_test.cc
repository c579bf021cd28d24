// scepd with protocol = est end to end: the real daemon binary against the
// test EST server (tests/est_server, HTTPS on 127.0.0.1) with real files.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <signal.h>

#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/key.h"
#include "core/ossl.h"
#include "tests/est_server/est_server.h"
#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/scepd_conf.h"
#include "tests/support/tinyproxy.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class ScepdEstTest : public ::testing::Test {
 protected:
  std::string data() const { return dir_.File("data"); }
  std::string run() const { return dir_.File("run"); }
  std::string conf() const { return dir_.File("scepd.conf"); }

  void Start(EstServerOptions options = {}) {
    server_ = std::make_unique<EstServer>(options);
    ASSERT_TRUE(server_->ok());
    WriteFile(dir_.File("tls-ca.pem"), server_->tls_ca_pem());
    WriteFile(dir_.File("ca.pem"), server_->ca_pem());
    WriteFile(dir_.File("est-password"), "estpass\n", 0600);
  }

  // The settings: Basic from a password file, the TLS anchor from `trust`
  // lines (default: tls_ca_file), `extra` lines after.
  void WriteConfig(const std::string& extra = "", std::string trust = "") {
    if (trust.empty()) trust = "tls_ca_file = " + dir_.File("tls-ca.pem") + "\n";
    ScepdConf c;
    c.data_dir = data();
    c.run_dir = run();
    c.url = server_->url();
    c.challenge = "";
    c.certificate_lines = "protocol = est\n" + trust +
                          "est_username = estuser\n"
                          "est_password_file = " + dir_.File("est-password") + "\n"
                          "renew_days = 30\n"
                          "await_result = 1\n"
                          "success_script = env > " + dir_.File("success.env") + "\n"
                          "failure_script = env > " + dir_.File("failure.env") + "; exit 3\n" +
                          extra;
    WriteScepdConf(conf(), c);
  }

  ProcessResult Once() { return RunProcess({kScepd, "-c", conf(), "--once"}, {}, 60000); }

  // latest.crt carries latest.key and was issued by the EST CA.
  void ExpectInstalledPair() {
    auto cert = ossl::CertFromPem(ReadFile(data() + "/latest.crt"), "latest.crt");
    auto key = ossl::PrivateKeyFromPem(ReadFile(data() + "/latest.key"), "latest.key");
    ASSERT_TRUE(cert.ok() && key.ok());
    EXPECT_TRUE(SamePublicKey(X509_get0_pubkey(cert->get()), key->get()));
    EXPECT_EQ(X509_check_issued(server_->ca_cert(), cert->get()), X509_V_OK);
    EXPECT_EQ(ReadFile(data() + "/ca.crt-0"), server_->ca_pem());
  }

  TempDir dir_{"scepd-est-d-"};
  std::unique_ptr<EstServer> server_;
};

TEST_F(ScepdEstTest, FirstEnrollmentWithBasicThenRenewalWithTheClientCertificate) {
  Start();
  WriteConfig("key_type = ec\n");
  auto first = Once();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(server_->enrollments(), 1);
  EXPECT_EQ(server_->reenrollments(), 0);
  EXPECT_EQ(server_->last_path(), "/.well-known/est/simpleenroll");
  ExpectInstalledPair();
  auto key = ossl::PrivateKeyFromPem(ReadFile(data() + "/latest.key"), "key");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(EVP_PKEY_base_id(key->get()), EVP_PKEY_EC);
  EXPECT_TRUE(Contains(ReadFile(run() + "/status.json"), "\"protocol\": \"est\""))
      << ReadFile(run() + "/status.json");
  EXPECT_TRUE(Contains(ReadFile(dir_.File("success.env")), "SCEP_EVENT=enrolled\n"));
  EXPECT_FALSE(Contains(first.err, "estpass")) << "the EST password reached the log";
  EXPECT_FALSE(Contains(ReadFile(dir_.File("success.env")), "estpass"));
  const std::string first_cert = ReadFile(data() + "/latest.crt");

  // The issued certificate lives one day: inside renew_days, so the next
  // run renews, authenticated by the current pair alone.
  auto renewal = Once();
  ASSERT_EQ(renewal.exit_code, 0) << renewal.err;
  EXPECT_EQ(server_->enrollments(), 2);
  EXPECT_EQ(server_->reenrollments(), 1);
  EXPECT_EQ(server_->last_path(), "/.well-known/est/simplereenroll");
  EXPECT_NE(ReadFile(data() + "/latest.crt"), first_cert);
  ExpectInstalledPair();
  EXPECT_TRUE(Contains(ReadFile(dir_.File("success.env")), "SCEP_EVENT=renewed\n"));
  EXPECT_TRUE(Contains(renewal.err, "simplereenroll")) << renewal.err;
}

TEST_F(ScepdEstTest, LabelAndRsaKeyAndPinnedBootstrapWithoutTlsCaFile) {
  Start();
  auto pem = ossl::CertFromPem(server_->ca_pem(), "ca");
  ASSERT_TRUE(pem.ok());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ASSERT_EQ(X509_digest(pem->get(), EVP_sha256(), md, &len), 1);
  const std::string pin = "ca_fingerprint = sha256:" + HexEncode(Bytes(md, md + len), ':') + "\n";
  WriteConfig("est_label = arbitraryLabel1\nkey_type = rsa\n", pin);
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server_->last_path(), "/.well-known/est/arbitraryLabel1/simpleenroll");
  ExpectInstalledPair();

  // A pin no certificate of the server has: nothing is sent but /cacerts.
  TempDir other;
  const std::string wrong(64, 'A');
  WriteConfig("", "ca_fingerprint = sha256:" + wrong + "\n");
  std::string text = ReadFile(conf());
  text.replace(text.find(data()), data().size(), other.File("data"));
  WriteFile(conf(), text);
  auto refused = Once();
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(Contains(refused.err, "no certificate in the /cacerts answer has the "
                                    "ca_fingerprint")) << refused.err;
  EXPECT_EQ(server_->enrollments(), 1);
  EXPECT_FALSE(PathExists(other.File("data") + "/latest.crt"));
}

TEST_F(ScepdEstTest, PendingTwiceThenIssued) {
  Start();
  server_->SetPending(2, "1");
  WriteConfig("key_type = ec\n");  // an EC key: quick under qemu too (cross-tests.txt)
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server_->enrollments(), 1);
  ExpectInstalledPair();
  EXPECT_FALSE(PathExists(data() + "/.pending/state"));
}

TEST_F(ScepdEstTest, RestartWhilePendingResumesTheSameRequest) {
  Start();
  server_->SetPending(1000, "1");
  WriteConfig();
  {
    BackgroundProcess d;
    ASSERT_TRUE(d.Start({kScepd, "-c", conf()}, dir_.File("scepd1.log")));
    // /cacerts, the first /simpleenroll (202), then one poll: saved by now.
    ASSERT_TRUE(WaitFor([&] { return server_->requests() >= 3; }))
        << ReadFile(dir_.File("scepd1.log"));
    d.Signal(SIGKILL);
    d.Wait(30000);
  }
  ASSERT_TRUE(PathExists(data() + "/.pending/state"));
  const std::string pending = ReadFile(data() + "/.pending/state");
  EXPECT_TRUE(Contains(pending, "simpleenroll")) << pending;
  server_->SetPending(0);
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.err, "resuming transaction")) << r.err;
  ExpectReliabilityRow("daemon.est-restart-while-pending", pending + r.err);
  EXPECT_EQ(server_->enrollments(), 1);
  ExpectInstalledPair();
  EXPECT_FALSE(PathExists(data() + "/.pending/state"));
}

TEST_F(ScepdEstTest, GarbageAnswersFailAndWriteNothing) {
  Start();
  WriteConfig();
  const std::pair<EstFault, const char*> cases[] = {
      {EstFault::kHtmlPage, "daemon.est-html-page"},
      {EstFault::kBrokenBase64, "daemon.est-broken-base64"},
      {EstFault::kWrongContentType, "daemon.est-wrong-content-type"},
      {EstFault::kOtherKey, "daemon.est-other-key"}};
  for (const auto& [fault, row] : cases) {
    SCOPED_TRACE(row);
    server_->SetFault(fault);
    auto r = Once();
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_FALSE(PathExists(data() + "/latest.crt"));
    const std::string env = ReadFile(dir_.File("failure.env"));
    EXPECT_TRUE(Contains(env, "SCEP_EVENT=failed\n")) << env;
    ExpectReliabilityRow(row, r.err + "exit " + std::to_string(r.exit_code) + "\n" + env);
  }
}

TEST_F(ScepdEstTest, WrongPasswordIsAClearAuthenticationFailure) {
  Start();
  WriteFile(dir_.File("wrong-password"), "not-it\n", 0600);
  WriteConfig();
  std::string text = ReadFile(conf());
  const std::string from = "est_password_file = " + dir_.File("est-password");
  text.replace(text.find(from), from.size(), "est_password = not-it");
  WriteFile(conf(), text);
  auto r = Once();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, "401")) << r.err;
  EXPECT_TRUE(Contains(r.err, "estrealm")) << r.err;
  EXPECT_FALSE(Contains(r.err, "not-it")) << "the password reached the log";
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));
  auto check = RunProcess({kScepd, "-c", conf(), "--check-config"}, {}, 30000);
  EXPECT_FALSE(Contains(check.out + check.err, "not-it"));
  EXPECT_TRUE(Contains(check.out, "est_password = ********")) << check.out;
  ExpectReliabilityRow("daemon.est-unauthorized",
                       r.err + "exit " + std::to_string(r.exit_code) + "\n--check-config:\n" +
                           check.out);
}

TEST_F(ScepdEstTest, ATlsCertificateFromAnotherCaIsNotTrusted) {
  EstServerOptions options;
  options.tls_by_other_ca = true;
  Start(options);
  // tls_ca_file holds the issuing CA, which did not sign the TLS certificate.
  WriteConfig("", "tls_ca_file = " + dir_.File("ca.pem") + "\n");
  auto r = Once();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(server_->enrollments(), 0);
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));
  EXPECT_TRUE(PathExists(dir_.File("failure.env")));
  ExpectReliabilityRow("daemon.est-wrong-tls-ca", r.err + "exit " + std::to_string(r.exit_code));
}

// Issue 21: protocol = est goes through the proxy setting (HTTP CONNECT to
// the HTTPS server) with the credentials from their file, both with
// tls_ca_file (the daemon's transport) and with a pinned bootstrap (the
// enroller's own transports); tinyproxy answers 407 without them.
TEST_F(ScepdEstTest, ProxySettingCarriesTheEstRequests) {
  Start();
  Tinyproxy proxy;
  proxy.RequireCredentials("gw", "pr0xy-pass");
  std::string error;
  ASSERT_TRUE(proxy.Start(dir_.path(), &error)) << error;
  WriteFile(dir_.File("proxy-creds"), "gw:pr0xy-pass\n", 0600);
  const std::string via = "proxy = " + proxy.address() + "\n";
  const std::string creds = "proxy_credentials_file = " + dir_.File("proxy-creds") + "\n";
  auto pem = ossl::CertFromPem(server_->ca_pem(), "ca");
  ASSERT_TRUE(pem.ok());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ASSERT_EQ(X509_digest(pem->get(), EVP_sha256(), md, &len), 1);
  const std::string pin = "ca_fingerprint = sha256:" + HexEncode(Bytes(md, md + len), ':') + "\n";
  int enrolled = 0;
  for (const std::string& trust : {std::string(), pin}) {
    SCOPED_TRACE(trust.empty() ? "tls_ca_file" : "pinned bootstrap");
    TempDir other;
    auto write = [&](const std::string& extra) {
      WriteConfig(extra, trust);
      std::string text = ReadFile(conf());
      text.replace(text.find(data()), data().size(), other.File("data"));
      WriteFile(conf(), text);
    };
    write(via);
    auto refused = Once();
    EXPECT_NE(refused.exit_code, 0) << refused.err;
    EXPECT_NE(refused.err.find("407"), std::string::npos) << refused.err;
    EXPECT_EQ(server_->enrollments(), enrolled) << "a request went around the proxy";
    EXPECT_FALSE(PathExists(other.File("data") + "/latest.crt"));

    write(via + creds);
    auto r = Once();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(server_->enrollments(), ++enrolled);
    EXPECT_TRUE(PathExists(other.File("data") + "/latest.crt"));
    EXPECT_FALSE(Contains(r.err, "pr0xy-pass")) << "proxy credentials logged";
  }
  proxy.Stop();
  EXPECT_TRUE(Contains(proxy.Log(), "CONNECT 127.0.0.1:" + std::to_string(server_->port())))
      << proxy.Log();
}

}  // namespace
}  // namespace scepd::testing
