// The test EST server is not trusted on its own word: strongSwan's pki, an
// independent EST client, must get the CA certificates, enroll with Basic,
// wait out a 202, and re-enroll with its certificate as TLS client
// certificate against it.

#include <gtest/gtest.h>

#include <string>

#include "core/csr.h"
#include "core/key.h"
#include "core/ossl.h"
#include "tests/est_server/est_server.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"

namespace scepd::testing {
namespace {

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// A key (written as PEM) and a PEM request for it. RSA: Debian's pki
// loads no OpenSSL plugin, and its own (gmp) back end has no ECDSA.
void MakeRequest(int key_index, const std::string& key_file, const std::string& req_file,
                 const std::string& subject) {
  ossl::Ptr<EVP_PKEY> key = CachedKey(key_index);
  ASSERT_TRUE(key);
  CsrSpec spec;
  spec.subject = subject;
  auto csr = BuildCsr(spec, key.get());
  ASSERT_TRUE(csr.ok()) << csr.error().message;
  WriteFile(key_file, *ossl::PrivateKeyToPem(key.get()), 0600);
  WriteFile(req_file, *ossl::CsrToPem(csr->get()));
}

TEST(EstStrongswan, PkiEnrollsAndReenrollsAgainstTheTestServer) {
  if (RunProcess({"pki", "--help"}).exit_code == 127) {
    GTEST_SKIP() << "strongSwan's pki is not installed (strongswan-pki)";
  }
  EstServer server;
  ASSERT_TRUE(server.ok());
  TempDir dir("scepd-est-pki-");
  WriteFile(dir.File("ca.pem"), server.ca_pem());

  auto ca = RunProcess({"pki", "--estca", "--url", server.url(), "--cacert", dir.File("ca.pem"),
                        "--caout", dir.File("got-ca.pem"), "--outform", "pem"});
  ASSERT_EQ(ca.exit_code, 0) << Describe(ca);
  auto got = ossl::CertFromPem(ReadFile(dir.File("got-ca.pem")), "pki's CA file");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(X509_cmp(got->get(), server.ca_cert()), 0);

  MakeRequest(2, dir.File("ee.key"), dir.File("ee.req"), "/CN=pki-router");
  server.SetPending(2, "1");
  auto enroll = RunProcess({"pki", "--est", "--url", server.url(), "--cacert",
                            dir.File("ca.pem"), "--in", dir.File("ee.req"), "--userpass",
                            "estuser:estpass", "--interval", "1", "--maxpolltime", "30",
                            "--outform", "pem"});
  ASSERT_EQ(enroll.exit_code, 0) << Describe(enroll);
  EXPECT_EQ(server.requests(), 4);  // cacerts + two 202 + the certificate
  auto cert = ossl::CertFromPem(enroll.out, "pki's certificate");
  ASSERT_TRUE(cert.ok()) << Describe(enroll);
  auto key = ossl::PrivateKeyFromPem(ReadFile(dir.File("ee.key")), "key");
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(SamePublicKey(X509_get0_pubkey(cert->get()), key->get()));
  WriteFile(dir.File("ee.pem"), enroll.out);

  MakeRequest(3, dir.File("ee2.key"), dir.File("ee2.req"), "/CN=pki-router");
  auto reenroll = RunProcess({"pki", "--est", "--url", server.url(), "--cacert",
                              dir.File("ca.pem"), "--in", dir.File("ee2.req"), "--cert",
                              dir.File("ee.pem"), "--key", dir.File("ee.key"), "--interval",
                              "1", "--outform", "pem"});
  ASSERT_EQ(reenroll.exit_code, 0) << Describe(reenroll);
  EXPECT_EQ(server.reenrollments(), 1);
  auto cert2 = ossl::CertFromPem(reenroll.out, "pki's renewed certificate");
  ASSERT_TRUE(cert2.ok()) << Describe(reenroll);
  auto key2 = ossl::PrivateKeyFromPem(ReadFile(dir.File("ee2.key")), "key");
  ASSERT_TRUE(key2.ok());
  EXPECT_TRUE(SamePublicKey(X509_get0_pubkey(cert2->get()), key2->get()));
}

}  // namespace
}  // namespace scepd::testing
