// est-client against the test EST server on 127.0.0.1: every command, Basic
// and client-certificate authentication, 202 + Retry-After, and each fault
// refused with a clear message and nothing written.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "cli/est_client_exit_code.h"
#include "core/bytes.h"
#include "core/key.h"
#include "core/ossl.h"
#include "tests/est_server/est_server.h"
#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"

namespace scepd::testing {
namespace {

const std::string kClient = BuiltBinary("cli/est-client");

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

class EstClientTest : public ::testing::Test {
 protected:
  void Start(EstServerOptions options = {}) {
    server_ = std::make_unique<EstServer>(options);
    ASSERT_TRUE(server_->ok());
    WriteFile(dir_.File("ca.pem"), server_->ca_pem());
    WriteFile(dir_.File("password"), "estpass\n", 0600);
  }
  ProcessResult Run(std::vector<std::string> args, const std::string& stdin_data = "") {
    args.insert(args.begin(), {kClient});
    return RunProcess(args, {}, 30000, stdin_data);
  }
  std::vector<std::string> Common(const std::string& command) {
    return {command, "--url", server_->url(), "--cacert", dir_.File("ca.pem")};
  }
  // enroll with Basic into ee.key / ee.pem.
  ProcessResult EnrollBasic(std::vector<std::string> extra = {}) {
    auto args = Common("enroll");
    for (const char* a : {"--user", "estuser", "--password-file"}) args.push_back(a);
    args.push_back(dir_.File("password"));
    for (const std::string& a : {std::string("--subject"), std::string("/CN=router-1"),
                                 std::string("--newkey"), dir_.File("ee.key"),
                                 std::string("--out"), dir_.File("ee.pem")}) {
      args.push_back(a);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }
  // The certificate in `cert_file` carries the key in `key_file`.
  void ExpectPair(const std::string& cert_file, const std::string& key_file) {
    auto cert = ossl::CertFromPem(ReadFile(cert_file), "cert");
    auto key = ossl::PrivateKeyFromPem(ReadFile(key_file), "key");
    ASSERT_TRUE(cert.ok() && key.ok());
    EXPECT_TRUE(SamePublicKey(X509_get0_pubkey(cert->get()), key->get()));
    EXPECT_EQ(X509_check_issued(server_->ca_cert(), cert->get()), X509_V_OK);
    struct stat st {};
    ASSERT_EQ(::stat(key_file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }

  TempDir dir_{"scepd-est-"};
  std::unique_ptr<EstServer> server_;
};

TEST_F(EstClientTest, CaCertsWithAnchorAndWithPinnedBootstrap) {
  Start();
  auto args = Common("cacerts");
  args.insert(args.end(), {"--out", dir_.File("got-ca.pem")});
  auto r = Run(args);
  ASSERT_EQ(r.exit_code, cli::kEstExitSuccess) << Describe(r);
  EXPECT_EQ(ReadFile(dir_.File("got-ca.pem")), server_->ca_pem());
  EXPECT_EQ(server_->last_sni(), "");  // no SNI for an IP address

  // By name: the server name goes out as SNI and the certificate's
  // DNS:localhost is checked.
  auto by_name = Run({"cacerts", "--url", "https://localhost:" + std::to_string(server_->port()),
                      "--cacert", dir_.File("ca.pem"), "--out", dir_.File("by-name.pem")});
  ASSERT_EQ(by_name.exit_code, 0) << Describe(by_name);
  EXPECT_EQ(server_->last_sni(), "localhost");

  unsigned char md[32];
  unsigned int n = 0;
  ASSERT_EQ(X509_digest(server_->ca_cert(), EVP_sha256(), md, &n), 1);
  const std::string fp = HexEncode(std::span<const std::uint8_t>(md, n), ':');
  auto pinned = Run({"cacerts", "--url", server_->url(), "--pin-sha256", fp, "--out",
                     dir_.File("pinned.pem")});
  ASSERT_EQ(pinned.exit_code, 0) << Describe(pinned);
  EXPECT_EQ(ReadFile(dir_.File("pinned.pem")), server_->ca_pem());

  std::string wrong = fp;
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  auto refused = Run({"cacerts", "--url", server_->url(), "--pin-sha256", wrong, "--out",
                      dir_.File("wrong.pem")});
  EXPECT_EQ(refused.exit_code, cli::kEstExitBadAnswer) << Describe(refused);
  EXPECT_TRUE(Contains(refused.err, "fingerprint")) << refused.err;
  EXPECT_FALSE(PathExists(dir_.File("wrong.pem")));
  ExpectReliabilityRow("est.wrong-pin", refused.err + "exit " + std::to_string(refused.exit_code));

  // No trust anchor at all is a usage error, never a blind connection.
  auto blind = Run({"cacerts", "--url", server_->url(), "--out", dir_.File("blind.pem")});
  EXPECT_EQ(blind.exit_code, cli::kEstExitError) << Describe(blind);
  EXPECT_EQ(server_->requests(), 5);  // 1 + 1 by name + 2 pinned + 1 wrong pin
}

TEST_F(EstClientTest, EnrollWithBasicThenReenrollWithTheClientCertificate) {
  Start();
  auto r = EnrollBasic({"--key-type", "ec"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ExpectPair(dir_.File("ee.pem"), dir_.File("ee.key"));
  EXPECT_EQ(server_->enrollments(), 1);

  // Password from standard input instead of a file.
  auto args = Common("enroll");
  args.insert(args.end(), {"--user", "estuser", "--subject", "/CN=router-2", "--newkey",
                           dir_.File("stdin.key"), "--out", dir_.File("stdin.pem")});
  auto from_stdin = Run(args, "estpass\n");
  ASSERT_EQ(from_stdin.exit_code, 0) << Describe(from_stdin);
  EXPECT_FALSE(Contains(from_stdin.err + from_stdin.out, "estpass"));

  auto re = Common("reenroll");
  re.insert(re.end(), {"--cert", dir_.File("ee.pem"), "--key", dir_.File("ee.key"), "--newkey",
                       dir_.File("ee2.key"), "--out", dir_.File("ee2.pem"), "--chain",
                       dir_.File("chain.pem")});
  auto renewed = Run(re);
  ASSERT_EQ(renewed.exit_code, 0) << Describe(renewed);
  ExpectPair(dir_.File("ee2.pem"), dir_.File("ee2.key"));
  EXPECT_EQ(server_->reenrollments(), 1);
  auto cert = ossl::CertFromPem(ReadFile(dir_.File("ee2.pem")), "cert");
  ASSERT_TRUE(cert.ok());
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert->get()), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "router-1");

  // Without a client certificate the server answers 401: exit 4, nothing written.
  auto no_cert = Common("reenroll");
  no_cert.insert(no_cert.end(), {"--cert", dir_.File("ee.pem"), "--key", dir_.File("ee2.key"),
                                 "--out", dir_.File("x.pem")});
  auto mismatch = Run(no_cert);
  EXPECT_EQ(mismatch.exit_code, cli::kEstExitError) << Describe(mismatch);
  EXPECT_TRUE(Contains(mismatch.err, "does not belong")) << mismatch.err;
  EXPECT_FALSE(PathExists(dir_.File("x.pem")));
}

TEST_F(EstClientTest, PendingTwiceThenIssued) {
  Start();
  server_->SetPending(2, "1");
  auto r = EnrollBasic({"--wait", "20"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(server_->requests(), 3);
  EXPECT_TRUE(Contains(r.err, "pending")) << r.err;
  ExpectPair(dir_.File("ee.pem"), dir_.File("ee.key"));

  // Without --wait a 202 (here with an HTTP date) is exit 3; the new key is
  // kept for the next try, no certificate written.
  server_->SetPending(1, "Sun, 06 Nov 2094 08:49:37 GMT");
  auto args = Common("enroll");
  args.insert(args.end(), {"--user", "estuser", "--password-file", dir_.File("password"),
                           "--subject", "/CN=r", "--newkey", dir_.File("p.key"), "--out",
                           dir_.File("p.pem")});
  auto pending = Run(args);
  EXPECT_EQ(pending.exit_code, cli::kEstExitPending) << Describe(pending);
  EXPECT_TRUE(Contains(pending.err, "2094-11-06 08:49:37 UTC")) << pending.err;
  EXPECT_TRUE(PathExists(dir_.File("p.key")));
  EXPECT_FALSE(PathExists(dir_.File("p.pem")));
}

TEST_F(EstClientTest, CsrAttrsAndServerKeygenAndLabels) {
  Start();
  auto rfc = Base64Decode(
      "MEEGCSqGSIb3DQEJBzASBgcqhkjOPQIBMQcGBSuBBAAiMBYGCSqGSIb3DQEJDjEJ"
      "BgcrBgEBAQEWBggqhkjOPQQDAw==");
  ASSERT_TRUE(rfc.ok());
  server_->SetCsrAttrs(*rfc);
  auto attrs = Run(Common("csrattrs"));
  ASSERT_EQ(attrs.exit_code, 0) << Describe(attrs);
  EXPECT_TRUE(Contains(attrs.out, "challengePassword: requested")) << attrs.out;
  EXPECT_TRUE(Contains(attrs.out, "EC curve: P-384")) << attrs.out;
  EXPECT_TRUE(Contains(attrs.out, "extension requested: 1.3.6.1.1.1.1.22")) << attrs.out;

  // Following csrattrs: a P-384 key, and the challenge password it asks for.
  auto refused = EnrollBasic({"--use-csrattrs"});
  EXPECT_EQ(refused.exit_code, cli::kEstExitError) << Describe(refused);
  EXPECT_TRUE(Contains(refused.err, "challengePassword")) << refused.err;
  WriteFile(dir_.File("challenge"), "let-me-in\n", 0600);
  auto followed = EnrollBasic({"--use-csrattrs", "--challenge-file", dir_.File("challenge")});
  ASSERT_EQ(followed.exit_code, 0) << Describe(followed);
  auto key = ossl::PrivateKeyFromPem(ReadFile(dir_.File("ee.key")), "key");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(EVP_PKEY_get_bits(key->get()), 384);

  auto args = Common("serverkeygen");
  args.insert(args.end(), {"--label", "routers", "--user", "estuser", "--password-file",
                           dir_.File("password"), "--subject", "/CN=made-by-server", "--newkey",
                           dir_.File("sk.key"), "--out", dir_.File("sk.pem")});
  auto keygen = Run(args);
  ASSERT_EQ(keygen.exit_code, 0) << Describe(keygen);
  ExpectPair(dir_.File("sk.pem"), dir_.File("sk.key"));
  EXPECT_EQ(server_->last_path(), "/.well-known/est/routers/serverkeygen");
}

struct FaultCase {
  const char* id;  // docs/reliability.md row
  EstFault fault;
  int exit_code;
  const char* message;
};

TEST_F(EstClientTest, EveryFaultIsRefusedAndNothingIsWritten) {
  Start();
  const FaultCase cases[] = {
      {"est.wrong-content-type", EstFault::kWrongContentType, cli::kEstExitNetwork, "expected application/pkcs7-mime"},
      {"est.broken-base64", EstFault::kBrokenBase64, cli::kEstExitBadAnswer, "base64"},
      {"est.html-page", EstFault::kHtmlPage, cli::kEstExitNetwork, "HTML page"},
      {"est.unauthorized", EstFault::kUnauthorized, cli::kEstExitAuthentication, "WWW-Authenticate: Basic realm"},
      {"est.other-key", EstFault::kOtherKey, cli::kEstExitBadAnswer, "requested key"},
  };
  for (const FaultCase& c : cases) {
    server_->SetFault(c.fault);
    auto r = EnrollBasic();
    EXPECT_EQ(r.exit_code, c.exit_code) << c.message << "\n" << Describe(r);
    EXPECT_TRUE(Contains(r.err, c.message)) << r.err;
    EXPECT_FALSE(PathExists(dir_.File("ee.pem"))) << c.message;
    EXPECT_FALSE(PathExists(dir_.File("ee.key"))) << c.message;
    ExpectReliabilityRow(c.id, r.err + "exit " + std::to_string(r.exit_code));
  }
  server_->SetFault(EstFault::kNone);
  ASSERT_EQ(EnrollBasic().exit_code, 0);
}

TEST_F(EstClientTest, AServerCertificateFromAnotherCaIsNotTrusted) {
  EstServerOptions options;
  options.tls_by_other_ca = true;
  Start(options);
  auto r = EnrollBasic();
  EXPECT_EQ(r.exit_code, cli::kEstExitNetwork) << Describe(r);
  EXPECT_TRUE(Contains(r.err, "not trusted")) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("ee.pem")));
  EXPECT_EQ(server_->requests(), 0);
  ExpectReliabilityRow("est.wrong-ca", r.err + "exit " + std::to_string(r.exit_code));
}

TEST_F(EstClientTest, Base64InLinesIsReadToo) {
  EstServerOptions options;
  options.base64_lines = true;
  Start(options);
  auto r = EnrollBasic();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ExpectPair(dir_.File("ee.pem"), dir_.File("ee.key"));
}

TEST_F(EstClientTest, SecretsAreRefusedOnTheCommandLine) {
  Start();
  auto args = Common("enroll");
  args.insert(args.end(), {"--password", "estpass"});
  auto r = Run(args);
  EXPECT_EQ(r.exit_code, cli::kEstExitError);
  EXPECT_TRUE(Contains(r.err, "--password-file")) << r.err;
  EXPECT_EQ(server_->requests(), 0);
}

}  // namespace
}  // namespace scepd::testing
