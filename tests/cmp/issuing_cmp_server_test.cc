// The test CMP server that really issues (tests/cmp_server), judged by a
// client that is not ours, OpenSSL's `openssl cmp`, and by core/cmp for
// what it refuses. The daemon's CMP renewal tests rely on it.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/cmp/cmp_client.h"
#include "core/csr.h"
#include "core/ossl.h"
#include "io/curl_transport.h"
#include "tests/cmp/loopback_transport.h"
#include "tests/cmp_server/issuing_cmp_server.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"

namespace scepd::testing {
namespace {

constexpr char kCaName[] = "/O=CMP Test/CN=CMP Test CA";
constexpr char kSubject[] = "/O=scepd test/CN=router-1";

ossl::Ptr<X509> LoadCert(const std::string& path) {
  auto text = TryReadFile(path);
  if (!text) return nullptr;
  auto cert = ossl::CertFromPem(*text, path);
  return cert.ok() ? std::move(*cert) : nullptr;
}

std::string Name(X509* cert) {
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

bool HoldsKey(X509* cert, EVP_PKEY* key) { return EVP_PKEY_eq(X509_get0_pubkey(cert), key) == 1; }

bool IssuedBy(X509* cert, X509* ca) { return X509_verify(cert, X509_get0_pubkey(ca)) == 1; }

class IssuingCmpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    WriteFile(dir_.File("ca.pem"), server_.ca_pem());
    transport_ = LoopbackTransport();
    ASSERT_NE(transport_, nullptr);
  }

  // `openssl cmp` with one connection per message: with its default
  // keep-alive the pollReq after a `waiting` failed ("error sending"; see
  // issuing_cmp_server.h).
  ProcessResult OpensslCmp(std::vector<std::string> args) {
    std::vector<std::string> argv = {"openssl", "cmp", "-keep_alive", "0", "-server",
                                     "127.0.0.1:" + std::to_string(server_.port()) + "/pkix/"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, {}, 60000);
  }

  cmp::CmpOptions Options() {
    cmp::CmpOptions o;
    o.url = server_.url();
    o.recipient = kCaName;
    o.ca_cert = server_.ca_cert();
    return o;
  }

  IssuingCmpServer server_;
  TempDir dir_{"scepd-cmpsrv-"};
  std::unique_ptr<CurlTransport> transport_;
};

TEST_F(IssuingCmpServerTest, OpensslCmpEnrollsWithIrThenRenewsWithKurAfterWaiting) {
  auto key1 = CachedKey(1);
  auto key2 = CachedKey(2);
  WriteFile(dir_.File("ee1.key"), *ossl::PrivateKeyToPem(key1.get()), 0600);
  WriteFile(dir_.File("ee2.key"), *ossl::PrivateKeyToPem(key2.get()), 0600);

  // ir with PBM, implicit confirmation: OpenSSL's own client enrolls.
  auto ir = OpensslCmp({"-cmd", "ir", "-ref", "62154", "-secret", "pass:cmp-test-secret",
                        "-recipient", kCaName, "-newkey", dir_.File("ee1.key"), "-subject",
                        kSubject, "-implicit_confirm", "-certout", dir_.File("ir.crt"),
                        "-cacertsout", dir_.File("capubs.pem")});
  ASSERT_EQ(ir.exit_code, 0) << ir.out << ir.err << server_.log();
  auto cert1 = LoadCert(dir_.File("ir.crt"));
  ASSERT_TRUE(cert1);
  EXPECT_TRUE(HoldsKey(cert1.get(), key1.get())) << "not the key in the request";
  EXPECT_EQ(Name(cert1.get()), kSubject);
  EXPECT_TRUE(IssuedBy(cert1.get(), server_.ca_cert()));
  auto ca_pubs = LoadCert(dir_.File("capubs.pem"));
  ASSERT_TRUE(ca_pubs);
  EXPECT_EQ(X509_cmp(ca_pubs.get(), server_.ca_cert()), 0);

  // kur signed with that pair, answered `waiting` twice; then certConf.
  server_.SetWaiting(2);
  auto kur = OpensslCmp({"-cmd", "kur", "-cert", dir_.File("ir.crt"), "-key",
                         dir_.File("ee1.key"), "-newkey", dir_.File("ee2.key"), "-trusted",
                         dir_.File("ca.pem"), "-certout", dir_.File("kur.crt")});
  ASSERT_EQ(kur.exit_code, 0) << kur.out << kur.err << server_.log();
  auto cert2 = LoadCert(dir_.File("kur.crt"));
  ASSERT_TRUE(cert2);
  EXPECT_TRUE(HoldsKey(cert2.get(), key2.get())) << "not the new key";
  EXPECT_EQ(Name(cert2.get()), kSubject);
  EXPECT_TRUE(IssuedBy(cert2.get(), server_.ca_cert()));
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(cert1.get()),
                             X509_get0_serialNumber(cert2.get())),
            0);
  EXPECT_EQ(server_.count("ir"), 1);
  EXPECT_EQ(server_.count("kur"), 1);
  EXPECT_EQ(server_.count("pollReq"), 2) << server_.log();
  EXPECT_EQ(server_.count("certConf"), 1) << "the kur was not confirmed";
  EXPECT_EQ(server_.issued(), 2);
}

TEST_F(IssuingCmpServerTest, RefusesAWrongSecretAndASignerFromAnotherCaIssuesP10cr) {
  auto key1 = CachedKey(1);
  // A wrong secret: the server refuses the ir (its error answer is MAC-
  // protected with its own secret, which our client cannot verify).
  {
    cmp::MacProtection mac{"62154", "not-the-secret"};
    auto session = cmp::CmpSession::Create(*transport_, Options(), &mac, nullptr);
    ASSERT_TRUE(session) << session.error().message;
    cmp::NewCertRequest r;
    r.new_key = key1.get();
    r.subject = kSubject;
    auto out = (*session)->Start(r);
    EXPECT_FALSE(out && out->kind == cmp::Outcome::Kind::kIssued);
  }
  EXPECT_EQ(server_.issued(), 0) << server_.log();

  // A kur signed by a certificate of another CA: refused.
  auto other = MakeTestCa("/CN=Other CA", 5);
  CertSpec spec;
  spec.subject = kSubject;
  spec.serial = 9;
  auto foreign = MakeCert(spec, key1.get(), other.cert.get(), other.key.get());
  {
    cmp::SignatureProtection sig{foreign.get(), key1.get()};
    auto session = cmp::CmpSession::Create(*transport_, Options(), nullptr, &sig);
    ASSERT_TRUE(session) << session.error().message;
    auto key2 = CachedKey(2);
    cmp::NewCertRequest r;
    r.type = cmp::Request::kKur;
    r.new_key = key2.get();
    auto out = (*session)->Start(r);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->kind, cmp::Outcome::Kind::kRejected);
  }
  EXPECT_EQ(server_.issued(), 0) << server_.log();

  // The right secret, then a p10cr signed with the pair it gave.
  ossl::Ptr<X509> cert1;
  {
    cmp::MacProtection mac{"62154", "cmp-test-secret"};
    auto session = cmp::CmpSession::Create(*transport_, Options(), &mac, nullptr);
    ASSERT_TRUE(session) << session.error().message;
    cmp::NewCertRequest r;
    r.new_key = key1.get();
    r.subject = kSubject;
    auto out = (*session)->Start(r);
    ASSERT_TRUE(out) << out.error().message << server_.log();
    ASSERT_EQ(out->kind, cmp::Outcome::Kind::kIssued) << out->status_text;
    cert1 = std::move(out->cert);
  }
  auto key3 = CachedKey(3);
  CsrSpec csr_spec;
  csr_spec.subject = "/O=scepd test/CN=router-2";
  csr_spec.alt_names = "DNS:router-2.example";
  auto csr = BuildCsr(csr_spec, key3.get());
  ASSERT_TRUE(csr) << csr.error().message;
  cmp::SignatureProtection sig{cert1.get(), key1.get()};
  auto session = cmp::CmpSession::Create(*transport_, Options(), nullptr, &sig);
  ASSERT_TRUE(session) << session.error().message;
  cmp::NewCertRequest r;
  r.type = cmp::Request::kP10cr;
  r.csr = csr->get();
  auto out = (*session)->Start(r);
  ASSERT_TRUE(out) << out.error().message << server_.log();
  ASSERT_EQ(out->kind, cmp::Outcome::Kind::kIssued) << out->status_text;
  EXPECT_TRUE(HoldsKey(out->cert.get(), key3.get()));
  EXPECT_EQ(Name(out->cert.get()), "/O=scepd test/CN=router-2");
  EXPECT_GE(X509_get_ext_by_NID(out->cert.get(), NID_subject_alt_name, -1), 0)
      << "the requested extension was not copied";
  EXPECT_EQ(server_.count("p10cr"), 1);
}

}  // namespace
}  // namespace scepd::testing
