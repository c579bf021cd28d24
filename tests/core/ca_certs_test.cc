#include "core/scep/ca_certs.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/scep/certs_only.h"
#include "tests/support/test_pki.h"

namespace scepd::scep {
namespace {

using testing::CachedKey;
using testing::CertSpec;
using testing::MakeCert;
using testing::MakeTestCa;
using testing::TestCa;

// Key indexes: the CA uses 7 (MakeTestCa's default); these are the rest.
constexpr int kRaSignKey = 0;
constexpr int kRaEncKey = 1;
constexpr int kRaBothKey = 2;
constexpr int kNextCaKey = 3;
constexpr int kStrangerKey = 4;
constexpr int kRootKey = 5;
constexpr int kNextRaKey = 6;

// Issues a non-CA certificate for key `key_index` from `ca`.
ossl::Ptr<X509> IssueRa(const TestCa& ca, const std::string& subject, int key_index,
                        int key_usage, long serial) {  // NOLINT(runtime/int)
  CertSpec spec;
  spec.subject = subject;
  spec.serial = serial;
  spec.key_usage = key_usage;
  return MakeCert(spec, CachedKey(key_index).get(), ca.cert.get(), ca.key.get());
}

ossl::Ptr<X509> Copy(X509* cert) { return ossl::UpRef(cert); }

std::vector<ossl::Ptr<X509>> Certs(std::initializer_list<X509*> list) {
  std::vector<ossl::Ptr<X509>> out;
  for (X509* c : list) out.push_back(Copy(c));
  return out;
}

bool Same(X509* a, X509* b) { return a != nullptr && b != nullptr && X509_cmp(a, b) == 0; }

Bytes Der(X509* cert) {
  auto der = ossl::CertToDer(cert);
  EXPECT_TRUE(der.ok());
  return der.ok() ? *der : Bytes{};
}

Bytes CertsOnlyDer(std::initializer_list<X509*> certs) {
  std::vector<X509*> v(certs);
  auto der = BuildCertsOnly(v);
  EXPECT_TRUE(der.ok()) << der.error().message;
  return der.ok() ? *der : Bytes{};
}

// A GetNextCACert answer: CMS SignedData by (cert, key) over `content`,
// binary, without S/MIME capabilities, the signer certificate included.
Bytes SignNextCa(const Bytes& content, X509* cert, EVP_PKEY* key) {
  ossl::Ptr<BIO> in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  ossl::Ptr<CMS_ContentInfo> cms(
      CMS_sign(cert, key, nullptr, in.get(), CMS_BINARY | CMS_NOSMIMECAP));
  EXPECT_TRUE(cms);
  if (!cms) return {};
  unsigned char* buf = nullptr;
  int n = i2d_CMS_ContentInfo(cms.get(), &buf);
  EXPECT_GT(n, 0);
  Bytes out(buf, buf + std::max(n, 0));
  OPENSSL_free(buf);
  return out;
}

// A CA with its RA certificates, issued fresh per test (keys are cached).
struct Pki {
  TestCa ca = MakeTestCa();
  ossl::Ptr<X509> ra_sign = IssueRa(ca, "/O=Test CA/CN=RA sign", kRaSignKey,
                                    KU_DIGITAL_SIGNATURE, 10);
  ossl::Ptr<X509> ra_enc = IssueRa(ca, "/O=Test CA/CN=RA enc", kRaEncKey,
                                   KU_KEY_ENCIPHERMENT, 11);
  ossl::Ptr<X509> ra_both = IssueRa(ca, "/O=Test CA/CN=RA", kRaBothKey,
                                    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, 12);
};

CaCertificates Select(std::vector<ossl::Ptr<X509>> certs) {
  auto r = SelectCaRoles(std::move(certs));
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? std::move(r).value() : CaCertificates{};
}

// ---- SelectCaRoles ----

TEST(CaCertRolesTest, SingleCertificateHoldsEveryRole) {
  Pki pki;
  CaCertificates c = Select(Certs({pki.ca.cert.get()}));
  ASSERT_EQ(c.all.size(), 1u);
  EXPECT_EQ(c.Ca(), c.all[0].get());
  EXPECT_EQ(c.Encryption(), c.all[0].get());
  EXPECT_EQ(c.Signer(), c.all[0].get());
  EXPECT_TRUE(c.ra.empty());
  EXPECT_EQ(c.Trusted(), std::vector<X509*>{c.all[0].get()});
}

TEST(CaCertRolesTest, SingleNonCaCertificateIsStillTheCa) {
  // One certificate is taken as it is, whatever its extensions say.
  Pki pki;
  CaCertificates c = Select(Certs({pki.ra_sign.get()}));
  EXPECT_TRUE(Same(c.Ca(), pki.ra_sign.get()));
  EXPECT_TRUE(Same(c.Encryption(), pki.ra_sign.get()));
}

TEST(CaCertRolesTest, EmptySetIsAParseError) {
  auto r = SelectCaRoles({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kParse);
}

TEST(CaCertRolesTest, CaPlusOneRaWithBothUsages) {
  Pki pki;
  CaCertificates c = Select(Certs({pki.ca.cert.get(), pki.ra_both.get()}));
  EXPECT_EQ(c.ca, 0u);
  EXPECT_EQ(c.encryption, 1u);
  EXPECT_EQ(c.signer, 1u);
  EXPECT_EQ(c.ra, std::vector<std::size_t>{1});
  EXPECT_EQ(c.Trusted(), (std::vector<X509*>{c.all[0].get(), c.all[1].get()}));
}

TEST(CaCertRolesTest, RaBeforeCaIsFine) {
  Pki pki;
  CaCertificates c = Select(Certs({pki.ra_both.get(), pki.ca.cert.get()}));
  EXPECT_EQ(c.ca, 1u);
  EXPECT_EQ(c.encryption, 0u);
  EXPECT_EQ(c.signer, 0u);
  EXPECT_TRUE(Same(c.Ca(), pki.ca.cert.get()));
  // The CA first, then the RA, whatever the received order.
  EXPECT_EQ(c.Trusted(), (std::vector<X509*>{c.all[1].get(), c.all[0].get()}));
}

TEST(CaCertRolesTest, SeparateSigningAndEncryptionRaInAnyOrder) {
  Pki pki;
  std::array<X509*, 3> order{pki.ca.cert.get(), pki.ra_sign.get(), pki.ra_enc.get()};
  std::sort(order.begin(), order.end());
  int permutations = 0;
  do {
    ++permutations;
    CaCertificates c = Select(Certs({order[0], order[1], order[2]}));
    EXPECT_TRUE(Same(c.Ca(), pki.ca.cert.get())) << "permutation " << permutations;
    EXPECT_TRUE(Same(c.Signer(), pki.ra_sign.get())) << "permutation " << permutations;
    EXPECT_TRUE(Same(c.Encryption(), pki.ra_enc.get())) << "permutation " << permutations;
    EXPECT_EQ(c.Trusted().size(), 3u);
    EXPECT_TRUE(Same(c.Trusted()[0], pki.ca.cert.get()));
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 6);
}

TEST(CaCertRolesTest, RaWithoutKeyUsageDoesBoth) {
  Pki pki;
  ossl::Ptr<X509> ra = IssueRa(pki.ca, "/CN=RA plain", kRaBothKey, 0, 20);
  CaCertificates c = Select(Certs({pki.ca.cert.get(), ra.get()}));
  EXPECT_TRUE(Same(c.Encryption(), ra.get()));
  EXPECT_TRUE(Same(c.Signer(), ra.get()));
}

TEST(CaCertRolesTest, LoneEncipherOnlyRaAlsoSigns) {
  Pki pki;
  CaCertificates c = Select(Certs({pki.ca.cert.get(), pki.ra_enc.get()}));
  EXPECT_TRUE(Same(c.Encryption(), pki.ra_enc.get()));
  EXPECT_TRUE(Same(c.Signer(), pki.ra_enc.get()));
}

TEST(CaCertRolesTest, LoneSignOnlyRaAlsoEncrypts) {
  Pki pki;
  CaCertificates c = Select(Certs({pki.ra_sign.get(), pki.ca.cert.get()}));
  EXPECT_TRUE(Same(c.Encryption(), pki.ra_sign.get()));
  EXPECT_TRUE(Same(c.Signer(), pki.ra_sign.get()));
}

TEST(CaCertRolesTest, MissingUsageFallsToTheOtherRa) {
  // Two RA certificates, both encipher-only: the second one signs.
  Pki pki;
  ossl::Ptr<X509> enc2 = IssueRa(pki.ca, "/CN=RA enc 2", kRaBothKey, KU_KEY_ENCIPHERMENT, 21);
  CaCertificates c = Select(Certs({pki.ca.cert.get(), pki.ra_enc.get(), enc2.get()}));
  EXPECT_TRUE(Same(c.Encryption(), pki.ra_enc.get()));
  EXPECT_TRUE(Same(c.Signer(), enc2.get()));
}

TEST(CaCertRolesTest, ChainWithoutRaPicksTheIssuingSubCa) {
  TestCa root = MakeTestCa("/CN=Root", kRootKey);
  CertSpec spec;
  spec.subject = "/CN=Sub CA";
  spec.is_ca = true;
  spec.key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
  spec.serial = 2;
  ossl::Ptr<X509> sub = MakeCert(spec, CachedKey(7).get(), root.cert.get(), root.key.get());
  for (bool sub_first : {true, false}) {
    CaCertificates c = sub_first ? Select(Certs({sub.get(), root.cert.get()}))
                                 : Select(Certs({root.cert.get(), sub.get()}));
    EXPECT_TRUE(Same(c.Ca(), sub.get())) << sub_first;
    EXPECT_TRUE(Same(c.Signer(), sub.get()));
    EXPECT_TRUE(Same(c.Encryption(), sub.get()));
    EXPECT_EQ(c.Trusted().size(), 1u);
  }
}

TEST(CaCertRolesTest, ChainWithRaPicksTheRaIssuer) {
  TestCa root = MakeTestCa("/CN=Root", kRootKey);
  CertSpec spec;
  spec.subject = "/CN=Sub CA";
  spec.is_ca = true;
  spec.key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
  spec.serial = 2;
  TestCa sub{CachedKey(7), nullptr};
  sub.cert = MakeCert(spec, sub.key.get(), root.cert.get(), root.key.get());
  ossl::Ptr<X509> ra = IssueRa(sub, "/CN=Sub RA", kRaBothKey,
                               KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, 3);
  CaCertificates c = Select(Certs({root.cert.get(), ra.get(), sub.cert.get()}));
  EXPECT_TRUE(Same(c.Ca(), sub.cert.get()));
  EXPECT_TRUE(Same(c.Signer(), ra.get()));
  EXPECT_TRUE(Same(c.Encryption(), ra.get()));
  EXPECT_EQ(c.Trusted().size(), 2u);  // the sub-CA and its RA, not the root
}

// CertPoll and GetCert name the CA that issues our certificate (RFC 8894
// sections 3.3.3, 3.3.4): never an RA, never the root above the issuer.
TEST(IssuingCaNameTest, EachShapeNamesTheIssuingCa) {
  TestCa root = MakeTestCa("/CN=Root", kRootKey);
  CertSpec spec;
  spec.subject = "/CN=Issuing CA";
  spec.is_ca = true;
  spec.key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
  spec.serial = 2;
  TestCa sub{CachedKey(7), nullptr};
  sub.cert = MakeCert(spec, sub.key.get(), root.cert.get(), root.key.get());
  ossl::Ptr<X509> ra_sign = IssueRa(sub, "/CN=RA sign", kRaSignKey, KU_DIGITAL_SIGNATURE, 3);
  ossl::Ptr<X509> ra_enc = IssueRa(sub, "/CN=RA enc", kRaEncKey, KU_KEY_ENCIPHERMENT, 4);
  auto names = [](const X509_NAME* name) {
    ossl::Ptr<BIO> b(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(b.get(), name, 0, XN_FLAG_ONELINE);
    return ToString(ossl::BioToBytes(b.get()));
  };
  const std::string issuing = names(X509_get_subject_name(sub.cert.get()));
  ASSERT_EQ(issuing, "CN = Issuing CA");

  // The CA alone.
  EXPECT_EQ(names(Select(Certs({sub.cert.get()})).IssuingCaName()), issuing);
  // The issuing CA with its root, either order.
  EXPECT_EQ(names(Select(Certs({root.cert.get(), sub.cert.get()})).IssuingCaName()), issuing);
  // RA signature + RA encryption + issuing CA + root, in several orders.
  const std::vector<std::vector<X509*>> orders = {
      {ra_sign.get(), ra_enc.get(), sub.cert.get(), root.cert.get()},
      {root.cert.get(), sub.cert.get(), ra_enc.get(), ra_sign.get()},
      {ra_enc.get(), root.cert.get(), ra_sign.get(), sub.cert.get()}};
  for (const auto& order : orders) {
    std::vector<ossl::Ptr<X509>> certs;
    for (X509* cert : order) certs.push_back(Copy(cert));
    CaCertificates c = Select(std::move(certs));
    EXPECT_EQ(names(c.IssuingCaName()), issuing);
    EXPECT_NE(names(X509_get_subject_name(c.Signer())), issuing) << "the RA signs";
  }
  // An RA certificate held on its own (sscep -c with the RA's file): its
  // issuer, not its own name.
  EXPECT_EQ(names(Select(Certs({ra_sign.get()})).IssuingCaName()), issuing);
}

TEST(CaCertRolesTest, ForeignCertificateGetsNoRoleAndNoTrust) {
  // An "RA" certificate issued by someone else, appended to a genuine CA.
  Pki pki;
  TestCa stranger = MakeTestCa("/O=Test CA/CN=Test CA", kStrangerKey);  // same name, other key
  ossl::Ptr<X509> fake_ra = IssueRa(stranger, "/CN=RA", kRaSignKey,
                                    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, 99);
  CaCertificates c = Select(Certs({fake_ra.get(), pki.ca.cert.get()}));
  EXPECT_TRUE(Same(c.Ca(), pki.ca.cert.get()));
  EXPECT_TRUE(Same(c.Signer(), pki.ca.cert.get()));
  EXPECT_TRUE(Same(c.Encryption(), pki.ca.cert.get()));
  EXPECT_TRUE(c.ra.empty());
  EXPECT_EQ(c.Trusted(), std::vector<X509*>{c.Ca()});
  EXPECT_EQ(c.all.size(), 2u);  // kept, but unused
}

TEST(CaCertRolesTest, SeveralCertificatesWithoutACaFail) {
  Pki pki;
  auto r = SelectCaRoles(Certs({pki.ra_sign.get(), pki.ra_enc.get()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kParse);
  EXPECT_NE(r.error().message.find("is a CA"), std::string::npos) << r.error().message;
}

// sscep -c ca.crt-0 -e ca.crt-1 without the CA's file: the RA certificates
// stand alone, the first signs, the one for keyEncipherment encrypts, and
// CertPoll names their issuer.
TEST(CaCertRolesTest, RaCertificatesWithoutTheirCa) {
  Pki pki;
  for (bool enc_first : {false, true}) {
    SCOPED_TRACE(enc_first ? "encryption RA first" : "signature RA first");
    auto r = enc_first ? RaRolesWithoutCa(Certs({pki.ra_enc.get(), pki.ra_sign.get()}))
                       : RaRolesWithoutCa(Certs({pki.ra_sign.get(), pki.ra_enc.get()}));
    ASSERT_TRUE(r.ok()) << r.error().message;
    X509* first = enc_first ? pki.ra_enc.get() : pki.ra_sign.get();
    EXPECT_TRUE(Same(r->Signer(), first));
    EXPECT_TRUE(Same(r->Encryption(), pki.ra_enc.get()));
    EXPECT_EQ(r->Trusted().size(), 2u);
    EXPECT_EQ(X509_NAME_cmp(r->IssuingCaName(), X509_get_subject_name(pki.ca.cert.get())), 0);
  }
  // A CA among them, certificates of two issuers, nothing: refused.
  auto with_ca = RaRolesWithoutCa(Certs({pki.ra_sign.get(), pki.ca.cert.get()}));
  ASSERT_FALSE(with_ca.ok());
  EXPECT_NE(with_ca.error().message.find("CA certificate"), std::string::npos);
  TestCa stranger = MakeTestCa("/CN=Another CA", kStrangerKey);
  ossl::Ptr<X509> foreign = IssueRa(stranger, "/CN=RA", kRaBothKey, KU_KEY_ENCIPHERMENT, 98);
  auto mixed = RaRolesWithoutCa(Certs({pki.ra_sign.get(), foreign.get()}));
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.error().message.find("different issuers"), std::string::npos);
  EXPECT_FALSE(RaRolesWithoutCa({}).ok());
}

TEST(CaCertRolesTest, IssuedByChecksNameAndSignature) {
  Pki pki;
  EXPECT_TRUE(IssuedBy(pki.ca.cert.get(), pki.ra_sign.get()));
  EXPECT_FALSE(IssuedBy(pki.ra_sign.get(), pki.ca.cert.get()));
  EXPECT_FALSE(IssuedBy(pki.ca.cert.get(), pki.ca.cert.get()));
  TestCa impostor = MakeTestCa("/O=Test CA/CN=Test CA", kStrangerKey);  // same name, other key
  EXPECT_FALSE(IssuedBy(impostor.cert.get(), pki.ra_sign.get()));
}

// ---- ParseGetCaCert ----

TEST(CaCertParseTest, SingleDerCertificate) {
  Pki pki;
  auto r = ParseGetCaCert("application/x-x509-ca-cert", Der(pki.ca.cert.get()));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->all.size(), 1u);
  EXPECT_TRUE(Same(r->Ca(), pki.ca.cert.get()));
}

TEST(CaCertParseTest, PemCertificateIsAcceptedToo) {
  Pki pki;
  auto pem = ossl::CertToPem(pki.ca.cert.get());
  ASSERT_TRUE(pem.ok());
  auto r = ParseGetCaCert("application/x-x509-ca-cert", ToBytes(*pem));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(Same(r->Ca(), pki.ca.cert.get()));
}

TEST(CaCertParseTest, CaRaPkcs7) {
  Pki pki;
  Bytes body = CertsOnlyDer({pki.ra_enc.get(), pki.ca.cert.get(), pki.ra_sign.get()});
  auto r = ParseGetCaCert("application/x-x509-ca-ra-cert", body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->all.size(), 3u);
  EXPECT_TRUE(Same(r->all[0].get(), pki.ra_enc.get()));  // received order kept
  EXPECT_TRUE(Same(r->Ca(), pki.ca.cert.get()));
  EXPECT_TRUE(Same(r->Encryption(), pki.ra_enc.get()));
  EXPECT_TRUE(Same(r->Signer(), pki.ra_sign.get()));
}

TEST(CaCertParseTest, ContentTypeCaseAndParametersIgnored) {
  Pki pki;
  Bytes body = CertsOnlyDer({pki.ca.cert.get(), pki.ra_both.get()});
  auto r = ParseGetCaCert(" Application/X-X509-CA-RA-Cert ; charset=binary", body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(Same(r->Signer(), pki.ra_both.get()));
}

TEST(CaCertParseTest, SniffsWithoutOrWithUnknownContentType) {
  Pki pki;
  Bytes der = Der(pki.ca.cert.get());
  Bytes p7 = CertsOnlyDer({pki.ca.cert.get(), pki.ra_both.get()});
  for (std::string_view type : {"", "application/octet-stream", "text/plain"}) {
    auto a = ParseGetCaCert(type, der);
    ASSERT_TRUE(a.ok()) << type << ": " << a.error().message;
    EXPECT_EQ(a->all.size(), 1u);
    auto b = ParseGetCaCert(type, p7);
    ASSERT_TRUE(b.ok()) << type << ": " << b.error().message;
    EXPECT_EQ(b->all.size(), 2u);
    EXPECT_TRUE(Same(b->Signer(), pki.ra_both.get()));
  }
}

TEST(CaCertParseTest, MislabelledBodyIsSniffed) {
  Pki pki;
  auto a = ParseGetCaCert("application/x-x509-ca-cert",
                          CertsOnlyDer({pki.ca.cert.get(), pki.ra_both.get()}));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->all.size(), 2u);
  auto b = ParseGetCaCert("application/x-x509-ca-ra-cert", Der(pki.ca.cert.get()));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->all.size(), 1u);
}

TEST(CaCertParseTest, EmptyBody) {
  auto r = ParseGetCaCert("application/x-x509-ca-cert", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kParse);
  EXPECT_EQ(r.error().message, "GetCACert: body is empty");
}

void ExpectNeither(std::string_view type, const Bytes& body, const char* what) {
  auto r = ParseGetCaCert(type, body);
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code, ErrorCode::kParse) << what;
  EXPECT_NE(r.error().message.find(
                "GetCACert: neither a DER certificate nor a PKCS#7 certs-only message"),
            std::string::npos)
      << what << ": " << r.error().message;
  EXPECT_EQ(ERR_peek_error(), 0u) << what << ": OpenSSL error queue not cleared";
}

TEST(CaCertParseTest, GarbageAndTruncatedDerAreRejected) {
  Pki pki;
  Bytes der = Der(pki.ca.cert.get());
  Bytes truncated(der.begin(), der.end() - 10);
  Bytes trailing = der;
  trailing.push_back(0x00);
  Bytes p7 = CertsOnlyDer({pki.ca.cert.get()});
  Bytes truncated_p7(p7.begin(), p7.begin() + static_cast<long>(p7.size() / 2));  // NOLINT
  // SEQUENCE, length 3, INTEGER 1 byte: valid DER, neither a cert nor a PKCS#7.
  Bytes wrong_der{0x30, 0x03, 0x02, 0x01, 0x05};
  for (std::string_view type : {"application/x-x509-ca-cert", "application/x-x509-ca-ra-cert", ""}) {
    ExpectNeither(type, ToBytes("<html>Not Found</html>"), "html");
    ExpectNeither(type, truncated, "truncated cert");
    ExpectNeither(type, trailing, "trailing byte");
    ExpectNeither(type, truncated_p7, "truncated PKCS#7");
    ExpectNeither(type, wrong_der, "wrong DER");
    ExpectNeither(type, ToBytes("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                  "bad PEM");
  }
}

TEST(CaCertParseTest, RoleErrorsNameTheOperation) {
  Pki pki;
  auto r = ParseGetCaCert("application/x-x509-ca-ra-cert",
                          CertsOnlyDer({pki.ra_sign.get(), pki.ra_enc.get()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kParse);
  EXPECT_EQ(r.error().message.rfind("GetCACert: CA certificates: none of the 2", 0), 0u)
      << r.error().message;
}

TEST(CaCertParseTest, Pkcs7WithoutCertificatesIsRejected) {
  auto r = ParseGetCaCert("application/x-x509-ca-ra-cert", CertsOnlyDer({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kParse);
  EXPECT_NE(r.error().message.find("no certificate"), std::string::npos) << r.error().message;
}

// ---- ParseGetNextCaCert ----

struct Rollover {
  Pki pki;
  TestCa next = MakeTestCa("/O=Test CA/CN=Rollover CA", kNextCaKey);
  ossl::Ptr<X509> next_ra = IssueRa(next, "/O=Test CA/CN=Rollover RA", kNextRaKey,
                                    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, 5);
  Bytes content = CertsOnlyDer({next.cert.get(), next_ra.get()});
};

CaCertificates Current(std::initializer_list<X509*> certs) { return Select(Certs(certs)); }

TEST(GetNextCaCertTest, SignedByCurrentCaVerifies) {
  Rollover r;
  CaCertificates current = Current({r.pki.ca.cert.get()});
  Bytes body = SignNextCa(r.content, r.pki.ca.cert.get(), r.pki.ca.key.get());
  auto next = ParseGetNextCaCert(body, current);
  ASSERT_TRUE(next.ok()) << next.error().message;
  ASSERT_EQ(next->all.size(), 2u);
  EXPECT_TRUE(Same(next->Ca(), r.next.cert.get()));
  EXPECT_TRUE(Same(next->Signer(), r.next_ra.get()));
  EXPECT_TRUE(Same(next->Encryption(), r.next_ra.get()));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(GetNextCaCertTest, SignedByCurrentRaVerifies) {
  Rollover r;
  CaCertificates current = Current({r.pki.ca.cert.get(), r.pki.ra_sign.get(), r.pki.ra_enc.get()});
  Bytes body = SignNextCa(r.content, r.pki.ra_sign.get(), CachedKey(kRaSignKey).get());
  auto next = ParseGetNextCaCert(body, current);
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_TRUE(Same(next->Ca(), r.next.cert.get()));
}

TEST(GetNextCaCertTest, SingleNewCaCertificate) {
  Rollover r;
  CaCertificates current = Current({r.pki.ca.cert.get()});
  Bytes body = SignNextCa(CertsOnlyDer({r.next.cert.get()}), r.pki.ca.cert.get(),
                          r.pki.ca.key.get());
  auto next = ParseGetNextCaCert(body, current);
  ASSERT_TRUE(next.ok()) << next.error().message;
  ASSERT_EQ(next->all.size(), 1u);
  EXPECT_TRUE(Same(next->Ca(), r.next.cert.get()));
}

void ExpectVerifyError(const Result<CaCertificates>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kVerify) << r.error().message;
  EXPECT_NE(r.error().message.find("GetNextCACert"), std::string::npos) << r.error().message;
  EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue not cleared";
}

TEST(GetNextCaCertTest, UnrelatedSignerIsRejected) {
  Rollover r;
  CaCertificates current = Current({r.pki.ca.cert.get()});
  TestCa stranger = MakeTestCa("/CN=Stranger", kStrangerKey);
  ExpectVerifyError(ParseGetNextCaCert(
      SignNextCa(r.content, stranger.cert.get(), stranger.key.get()), current));
}

TEST(GetNextCaCertTest, ImpostorWithTheCaNameAndSerialIsRejected) {
  // Same issuer name and serial as the current CA (so the SignerInfo points
  // at it), but another key: the signature must not verify.
  Rollover r;
  CaCertificates current = Current({r.pki.ca.cert.get()});
  TestCa impostor = MakeTestCa("/O=Test CA/CN=Test CA", kStrangerKey);
  ExpectVerifyError(ParseGetNextCaCert(
      SignNextCa(r.content, impostor.cert.get(), impostor.key.get()), current));
}

TEST(GetNextCaCertTest, RaNotInCurrentSetIsRejected) {
  // Signed by a genuine RA certificate the client was never given.
  Rollover r;
  CaCertificates current = Current({r.pki.ca.cert.get()});
  ExpectVerifyError(ParseGetNextCaCert(
      SignNextCa(r.content, r.pki.ra_sign.get(), CachedKey(kRaSignKey).get()), current));
}

TEST(GetNextCaCertTest, TamperedContentIsRejected) {
  Rollover r;
  CaCertificates current = Current({r.pki.ca.cert.get()});
  Bytes body = SignNextCa(r.content, r.pki.ca.cert.get(), r.pki.ca.key.get());
  // Change one letter of "Rollover CA" inside the signed content: the DER
  // stays well-formed, only the content digest changes.
  static constexpr std::string_view kName = "Rollover CA";
  auto it = std::search(body.begin(), body.end(), kName.begin(), kName.end());
  ASSERT_NE(it, body.end());
  *it = 'T';
  ExpectVerifyError(ParseGetNextCaCert(body, current));
}

TEST(GetNextCaCertTest, UnsignedCertsOnlyIsRejected) {
  Rollover r;
  CaCertificates current = Current({r.pki.ca.cert.get()});
  auto next = ParseGetNextCaCert(r.content, current);
  ExpectVerifyError(next);
  EXPECT_NE(next.error().message.find("not signed"), std::string::npos) << next.error().message;
}

TEST(GetNextCaCertTest, NotASignedDataIsAParseError) {
  Rollover r;
  CaCertificates current = Current({r.pki.ca.cert.get()});
  // A CMS "data" ContentInfo.
  ossl::Ptr<BIO> in(BIO_new_mem_buf(r.content.data(), static_cast<int>(r.content.size())));
  ossl::Ptr<CMS_ContentInfo> data(CMS_data_create(in.get(), CMS_BINARY));
  ASSERT_TRUE(data);
  unsigned char* buf = nullptr;
  int n = i2d_CMS_ContentInfo(data.get(), &buf);
  ASSERT_GT(n, 0);
  Bytes body(buf, buf + n);
  OPENSSL_free(buf);
  for (const Bytes& b : {body, Der(r.next.cert.get()), ToBytes("garbage"), Bytes{}}) {
    auto next = ParseGetNextCaCert(b, current);
    ASSERT_FALSE(next.ok());
    EXPECT_EQ(next.error().code, ErrorCode::kParse) << next.error().message;
    EXPECT_EQ(ERR_peek_error(), 0u) << next.error().message;
  }
}

TEST(GetNextCaCertTest, SignedGarbageContentIsAParseError) {
  Rollover r;
  CaCertificates current = Current({r.pki.ca.cert.get()});
  Bytes body = SignNextCa(ToBytes("not a PKCS#7"), r.pki.ca.cert.get(), r.pki.ca.key.get());
  auto next = ParseGetNextCaCert(body, current);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, ErrorCode::kParse) << next.error().message;
}

TEST(GetNextCaCertTest, NoCurrentCertificates) {
  Rollover r;
  Bytes body = SignNextCa(r.content, r.pki.ca.cert.get(), r.pki.ca.key.get());
  auto next = ParseGetNextCaCert(body, CaCertificates{});
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace scepd::scep
