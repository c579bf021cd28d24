// est-client and scepd (protocol = est) against an independent EST server
// (tests/interop/interop_est_server.py: Python's ssl and http.server, the
// PKCS#7 and CsrAttrs encoded with python3-asn1crypto, certificates signed
// with python3-cryptography; no code shared with core/ or tests/est_server/).
// It answers HTTP/1.1 with base64 in 76-column CRLF lines and
// `application/pkcs7-mime; smime-type=certs-only`; /cacerts holds a root
// and the issuing CA under it, the TLS certificate comes from the root.
// The tests check the files written, not only the exit codes.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "cli/est_client_exit_code.h"
#include "core/key.h"
#include "core/ossl.h"
#include "tests/interop/interop_python.h"
#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/scepd_conf.h"

namespace scepd::testing {
namespace {

const std::string kClient = BuiltBinary("cli/est-client");
const std::string kScepd = BuiltBinary("daemon/scepd");

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

ossl::Ptr<X509> LoadCert(const std::string& path) {
  auto cert = ossl::CertFromPem(ReadFile(path), path);
  EXPECT_TRUE(cert.ok()) << cert.error().message;
  return cert.ok() ? std::move(*cert) : ossl::Ptr<X509>();
}

std::string CommonName(X509* cert) {
  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  return cn;
}

class InteropEstTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::mkdir(dir_.File("server").c_str(), 0700);
    WriteFile(dir_.File("password"), "estpass\n", 0600);
  }
  void Start(const std::vector<std::string>& flags = {}) {
    ASSERT_TRUE(server_.Start(flags));
    url_ = "https://127.0.0.1:" + server_.port();
  }
  // The server's files: root.crt (the TLS anchor) and ca.crt (the issuing CA).
  std::string Root() const { return server_.File("root.crt"); }
  std::string IssuingCa() const { return server_.File("ca.crt"); }

  ProcessResult Client(std::vector<std::string> args) {
    args.insert(args.begin(), kClient);
    return RunProcess(args, {}, 30000);
  }
  std::vector<std::string> Common(const std::string& command) {
    return {command, "--url", url_, "--cacert", Root()};
  }
  std::vector<std::string> Basic(const std::string& command) {
    auto args = Common(command);
    args.insert(args.end(), {"--user", "estuser", "--password-file", dir_.File("password")});
    return args;
  }

  // `cert_file` holds a certificate for the key in `key_file`, signed by the
  // server's issuing CA (names and signature).
  void ExpectIssuedFor(const std::string& cert_file, const std::string& key_file) {
    auto cert = LoadCert(cert_file);
    auto ca = LoadCert(IssuingCa());
    auto key = ossl::PrivateKeyFromPem(ReadFile(key_file), key_file);
    ASSERT_TRUE(cert && ca && key.ok());
    EXPECT_TRUE(SamePublicKey(X509_get0_pubkey(cert.get()), key->get())) << cert_file;
    EXPECT_EQ(X509_check_issued(ca.get(), cert.get()), X509_V_OK) << cert_file;
    EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca.get())), 1) << cert_file;
  }

  TempDir dir_{"scepd-interop-est-"};
  InteropServer server_{"interop_est_server.py", dir_.File("server")};
  std::string url_;
};

TEST_F(InteropEstTest, EstClientGetsTheCaCertificatesAndTheCsrAttrs) {
  Start({"--csrattrs", "--challenge", "let-me-in"});
  auto args = Common("cacerts");
  args.insert(args.end(), {"--out", dir_.File("cacerts.pem")});
  auto r = Client(args);
  ASSERT_EQ(r.exit_code, cli::kEstExitSuccess) << Describe(r);
  EXPECT_TRUE(Contains(r.err, "wrote 2 CA certificate(s)")) << r.err;
  // Both certificates of the answer, as served: the root, then the issuing CA.
  auto got = ossl::CertsFromPem(ReadFile(dir_.File("cacerts.pem")), "cacerts.pem");
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 2u);
  auto root = LoadCert(Root());
  auto ca = LoadCert(IssuingCa());
  ASSERT_TRUE(root && ca);
  EXPECT_EQ(X509_cmp((*got)[0].get(), root.get()), 0);
  EXPECT_EQ(X509_cmp((*got)[1].get(), ca.get()), 0);

  auto attrs = Client(Common("csrattrs"));
  ASSERT_EQ(attrs.exit_code, cli::kEstExitSuccess) << Describe(attrs);
  EXPECT_EQ(attrs.out,
            "challengePassword: requested\n"
            "key type: ec\n"
            "EC curve: P-256\n"
            "signature digest: SHA256\n"
            "extension requested: 1.3.6.1.1.1.1.22\n");
  EXPECT_EQ(Count(server_.Log(), "GET cacerts label=- status=200"), 1) << server_.Log();
  EXPECT_EQ(Count(server_.Log(), "GET csrattrs label=- status=200"), 1) << server_.Log();
}

TEST_F(InteropEstTest, EstClientEnrollsWithBasicThroughA202AndReenrollsWithItsCertificate) {
  Start({"--pending", "1"});
  auto args = Basic("enroll");
  args.insert(args.end(), {"--subject", "/CN=py-router", "--newkey", dir_.File("ee.key"), "--out",
                           dir_.File("ee.pem"), "--wait", "20"});
  auto r = Client(args);
  ASSERT_EQ(r.exit_code, cli::kEstExitSuccess) << Describe(r) << server_.Log();
  EXPECT_TRUE(Contains(r.err, "pending")) << r.err;
  ExpectIssuedFor(dir_.File("ee.pem"), dir_.File("ee.key"));
  EXPECT_EQ(Count(server_.Log(), "POST simpleenroll label=- status=202 auth=basic"), 1)
      << server_.Log();
  EXPECT_EQ(Count(server_.Log(), "POST simpleenroll label=- status=200 auth=basic issued"), 1)
      << server_.Log();
  ExpectReliabilityRow("interop.est-lines-and-202", Describe(r) + server_.Log());

  // The new pair authenticates the renewal (a TLS client certificate); the
  // server insists on the same subject.
  auto re = Common("reenroll");
  re.insert(re.end(), {"--label", "routers", "--cert", dir_.File("ee.pem"), "--key",
                       dir_.File("ee.key"), "--newkey", dir_.File("ee2.key"), "--out",
                       dir_.File("ee2.pem")});
  auto renewed = Client(re);
  ASSERT_EQ(renewed.exit_code, cli::kEstExitSuccess) << Describe(renewed) << server_.Log();
  ExpectIssuedFor(dir_.File("ee2.pem"), dir_.File("ee2.key"));
  auto second = LoadCert(dir_.File("ee2.pem"));
  ASSERT_TRUE(second);
  EXPECT_EQ(CommonName(second.get()), "py-router");
  EXPECT_EQ(Count(server_.Log(), "POST simplereenroll label=routers status=200 auth=cert issued"),
            1) << server_.Log();
}

TEST_F(InteropEstTest, EstClientFollowsTheCsrAttrsAndTheServerChecksTheChallenge) {
  Start({"--csrattrs", "--challenge", "let-me-in"});
  WriteFile(dir_.File("challenge"), "let-me-in\n", 0600);
  auto args = Basic("enroll");
  args.insert(args.end(), {"--use-csrattrs", "--challenge-file", dir_.File("challenge"),
                           "--subject", "/CN=py-router", "--newkey", dir_.File("ee.key"), "--out",
                           dir_.File("ee.pem")});
  auto r = Client(args);
  ASSERT_EQ(r.exit_code, cli::kEstExitSuccess) << Describe(r) << server_.Log();
  ExpectIssuedFor(dir_.File("ee.pem"), dir_.File("ee.key"));
  auto key = ossl::PrivateKeyFromPem(ReadFile(dir_.File("ee.key")), "ee.key");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(EVP_PKEY_base_id(key->get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key->get()), 256);
  EXPECT_EQ(Count(server_.Log(), "challengePassword ok issued"), 1) << server_.Log();

  // Another challenge: the server's 400 is a rejection, nothing written.
  WriteFile(dir_.File("challenge"), "not-it\n", 0600);
  args = Basic("enroll");
  args.insert(args.end(), {"--use-csrattrs", "--challenge-file", dir_.File("challenge"),
                           "--subject", "/CN=py-router", "--newkey", dir_.File("x.key"), "--out",
                           dir_.File("x.pem")});
  auto refused = Client(args);
  EXPECT_EQ(refused.exit_code, cli::kEstExitRejected) << Describe(refused);
  EXPECT_TRUE(Contains(refused.err, "HTTP 400")) << refused.err;
  EXPECT_FALSE(PathExists(dir_.File("x.pem")));
  EXPECT_FALSE(Contains(refused.err + refused.out, "not-it")) << "the challenge reached output";
  ExpectReliabilityRow("interop.est-wrong-challenge", Describe(refused) + server_.Log());
}

TEST_F(InteropEstTest, EstClientServerKeygenPkcs8) {
  Start();
  auto args = Basic("serverkeygen");
  args.insert(args.end(), {"--subject", "/CN=made-by-python", "--newkey", dir_.File("sk.key"),
                           "--out", dir_.File("sk.pem")});
  auto r = Client(args);
  ASSERT_EQ(r.exit_code, cli::kEstExitSuccess) << Describe(r) << server_.Log();
  ExpectIssuedFor(dir_.File("sk.pem"), dir_.File("sk.key"));
  struct stat st {};
  ASSERT_EQ(::stat(dir_.File("sk.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Count(server_.Log(), "POST serverkeygen label=- status=200 auth=basic key=pkcs8"), 1)
      << server_.Log();
}

// RFC 7030 4.4.2 with additional encryption: the request names the key of
// the client certificate (AsymmetricDecryptKeyIdentifier); the server, which
// checks that it is the TLS client certificate's, answers the key in a
// SignedData in an EnvelopedData encoded with asn1crypto.
TEST_F(InteropEstTest, EstClientServerKeygenWithTheKeyEncryptedToItsCertificate) {
  Start();
  auto enroll = Basic("enroll");
  enroll.insert(enroll.end(), {"--subject", "/CN=py-router", "--newkey", dir_.File("ee.key"),
                               "--out", dir_.File("ee.pem")});
  auto first = Client(enroll);
  ASSERT_EQ(first.exit_code, cli::kEstExitSuccess) << Describe(first) << server_.Log();

  // The option needs the pair whose key decrypts, and serverkeygen.
  auto no_pair = Basic("serverkeygen");
  no_pair.insert(no_pair.end(), {"--encrypted-key", "--subject", "/CN=x", "--newkey",
                                 dir_.File("x.key"), "--out", dir_.File("x.pem")});
  auto refused = Client(no_pair);
  EXPECT_EQ(refused.exit_code, cli::kEstExitError) << Describe(refused);
  EXPECT_TRUE(Contains(refused.err, "--encrypted-key needs the pair")) << refused.err;
  auto not_keygen = Client({"cacerts", "--url", url_, "--cacert", Root(), "--encrypted-key",
                            "--out", dir_.File("x.pem")});
  EXPECT_EQ(not_keygen.exit_code, cli::kEstExitError) << Describe(not_keygen);
  EXPECT_TRUE(Contains(not_keygen.err, "goes with serverkeygen")) << not_keygen.err;

  auto args = Common("serverkeygen");
  args.insert(args.end(), {"--cert", dir_.File("ee.pem"), "--key", dir_.File("ee.key"),
                           "--encrypted-key", "--subject", "/CN=made-by-python", "--newkey",
                           dir_.File("sk.key"), "--out", dir_.File("sk.pem")});
  auto r = Client(args);
  ASSERT_EQ(r.exit_code, cli::kEstExitSuccess) << Describe(r) << server_.Log();
  ExpectIssuedFor(dir_.File("sk.pem"), dir_.File("sk.key"));
  auto key = ossl::PrivateKeyFromPem(ReadFile(dir_.File("sk.key")), "sk.key");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(EVP_PKEY_base_id(key->get()), EVP_PKEY_EC);  // the server's P-256 key
  EXPECT_EQ(Count(server_.Log(), "POST serverkeygen label=- status=200 auth=cert key=enveloped"),
            1) << server_.Log();
}

TEST_F(InteropEstTest, AKeySentInTheClearWhenEncryptionWasAskedForIsNotUsed) {
  Start({"--plain-key"});
  auto enroll = Basic("enroll");
  enroll.insert(enroll.end(), {"--subject", "/CN=py-router", "--newkey", dir_.File("ee.key"),
                               "--out", dir_.File("ee.pem")});
  ASSERT_EQ(Client(enroll).exit_code, cli::kEstExitSuccess) << server_.Log();
  auto args = Common("serverkeygen");
  args.insert(args.end(), {"--cert", dir_.File("ee.pem"), "--key", dir_.File("ee.key"),
                           "--encrypted-key", "--subject", "/CN=made-by-python", "--newkey",
                           dir_.File("sk.key"), "--out", dir_.File("sk.pem")});
  auto r = Client(args);
  EXPECT_EQ(r.exit_code, cli::kEstExitBadAnswer) << Describe(r);
  EXPECT_TRUE(Contains(r.err, "unencrypted")) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("sk.key")));
  EXPECT_FALSE(PathExists(dir_.File("sk.pem")));
  EXPECT_EQ(Count(server_.Log(), "key=pkcs8"), 1) << server_.Log();
  ExpectReliabilityRow("interop.est-key-in-the-clear", Describe(r) + server_.Log());
}

// The daemon: a first enrollment with Basic (through one 202), the CA chain
// from /cacerts in ca.crt-N, then a renewal with the installed pair as TLS
// client certificate.
TEST_F(InteropEstTest, ScepdEnrollsThenRenewsAgainstThePythonServer) {
  Start({"--pending", "1"});
  ScepdConf c;
  c.data_dir = dir_.File("data");
  c.run_dir = dir_.File("run");
  c.url = url_;
  c.challenge = "";
  c.certificate_lines = "protocol = est\n"
                        "tls_ca_file = " + Root() + "\n"
                        "est_username = estuser\n"
                        "est_password_file = " + dir_.File("password") + "\n"
                        "key_type = ec\n"
                        "renew_days = 30\n"
                        "await_result = 1\n";
  WriteScepdConf(dir_.File("scepd.conf"), c);
  const std::string data = dir_.File("data");
  auto expect_installed = [&] {
    ExpectIssuedFor(data + "/latest.crt", data + "/latest.key");
    // ca.crt-0 is the issuing CA (the end of the chain), ca.crt-1 the root.
    auto ca0 = LoadCert(data + "/ca.crt-0");
    auto ca1 = LoadCert(data + "/ca.crt-1");
    auto ca = LoadCert(IssuingCa());
    auto root = LoadCert(Root());
    ASSERT_TRUE(ca0 && ca1 && ca && root);
    EXPECT_EQ(X509_cmp(ca0.get(), ca.get()), 0);
    EXPECT_EQ(X509_cmp(ca1.get(), root.get()), 0);
    EXPECT_FALSE(PathExists(data + "/ca.crt-2"));
  };

  auto first = RunProcess({kScepd, "-c", dir_.File("scepd.conf"), "--once"}, {}, 60000);
  ASSERT_EQ(first.exit_code, 0) << first.err << server_.Log();
  expect_installed();
  EXPECT_EQ(Count(server_.Log(), "POST simpleenroll label=- status=202 auth=basic"), 1)
      << server_.Log();
  EXPECT_EQ(Count(server_.Log(), "POST simpleenroll label=- status=200 auth=basic issued"), 1)
      << server_.Log();
  EXPECT_FALSE(Contains(first.err, "estpass")) << "the EST password reached the log";
  const std::string first_cert = ReadFile(data + "/latest.crt");

  // Issued for one day, inside renew_days: the next run renews.
  auto renewal = RunProcess({kScepd, "-c", dir_.File("scepd.conf"), "--once"}, {}, 60000);
  ASSERT_EQ(renewal.exit_code, 0) << renewal.err << server_.Log();
  EXPECT_NE(ReadFile(data + "/latest.crt"), first_cert);
  expect_installed();
  EXPECT_EQ(Count(server_.Log(), "POST simplereenroll label=- status=200 auth=cert issued"), 1)
      << server_.Log();
  EXPECT_EQ(Count(server_.Log(), "POST simpleenroll"), 2) << "renewed by Basic: " << server_.Log();
}

}  // namespace
}  // namespace scepd::testing
