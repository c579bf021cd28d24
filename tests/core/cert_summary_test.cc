#include "core/cert_summary.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>

#include "core/cert_info.h"
#include "core/der.h"
#include "core/subject.h"
#include "tests/support/test_pki.h"

namespace scepd {
namespace {

Bytes Der(X509* cert) {
  auto der = ossl::CertToDer(cert);
  EXPECT_TRUE(der.ok());
  return der.ok() ? *der : Bytes();
}

std::string Pem(X509* cert) {
  auto pem = ossl::CertToPem(cert);
  EXPECT_TRUE(pem.ok());
  return pem.ok() ? *pem : "";
}

std::span<const std::uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The summary read from the DER must be what OpenSSL's full parse gives.
void ExpectSameAsFullParse(X509* cert) {
  const Bytes der = Der(cert);
  auto summary = SummarizeCertificateDer(der);
  ASSERT_TRUE(summary.has_value());
  auto parsed = ossl::CertFromDer(der, "test");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*summary, SummaryOf(parsed->get()));
  EXPECT_EQ(summary->serial, SerialHex(cert));
  EXPECT_EQ(summary->subject, SubjectString(cert));
  EXPECT_EQ(summary->not_before, *NotBefore(cert));
  EXPECT_EQ(summary->not_after, *NotAfter(cert));
}

TEST(CertSummaryTest, AgreesWithTheFullParse) {
  auto ca = testing::MakeTestCa();
  auto key = testing::CachedKey(0);
  testing::CertSpec spec;
  spec.subject = "/C=DE/O=Example GmbH/OU=Routers+CN=r\xC3\xB6uter 1/serialNumber=SN 42";
  spec.serial = 0x7FEDCBA9;
  spec.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
  auto cert = testing::MakeCert(spec, key.get(), ca.cert.get(), ca.key.get());
  // A multi-valued RDN (OU+CN) the way the settings' subject makes it.
  auto name = ParseSubject(spec.subject);
  ASSERT_TRUE(name.ok());
  ASSERT_EQ(X509_set_subject_name(cert.get(), name->get()), 1);
  ASSERT_GT(X509_sign(cert.get(), ca.key.get(), EVP_sha256()), 0);
  ExpectSameAsFullParse(cert.get());
  auto summary = SummarizeCertificateDer(Der(cert.get()));
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(summary->serial, "7FEDCBA9");
  EXPECT_EQ(summary->subject, "/C=DE/O=Example GmbH/OU=Routers+CN=r\xC3\xB6uter 1/serialNumber=SN 42");
  EXPECT_FALSE(summary->rsa_public_key.empty());
  ExpectSameAsFullParse(ca.cert.get());
}

TEST(CertSummaryTest, SerialsTimesAndVersions) {
  auto key = testing::CachedKey(1);
  testing::CertSpec spec;
  spec.not_before = 1700000000;  // UTCTime
  spec.not_after = 2524608000;   // 2050-01-01: GeneralizedTime
  auto cert = testing::MakeCert(spec, key.get(), nullptr, nullptr);
  ExpectSameAsFullParse(cert.get());
  auto summary = SummarizeCertificateDer(Der(cert.get()));
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(summary->not_before, 1700000000);
  EXPECT_EQ(summary->not_after, 2524608000);

  // A 20-byte serial, a negative one (both as `openssl x509 -serial`).
  for (const char* hex : {"7F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C", "-1FF", "80", "0"}) {
    BIGNUM* raw = nullptr;
    ASSERT_GT(BN_hex2bn(&raw, hex), 0);
    ossl::Ptr<BIGNUM> bn(raw);
    ASSERT_NE(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())), nullptr);
    ASSERT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);
    ExpectSameAsFullParse(cert.get());
  }

  // Version 1: no [0] version field in front of the serial.
  ASSERT_EQ(X509_set_version(cert.get(), X509_VERSION_1), 1);
  ASSERT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);
  const Bytes der = Der(cert.get());
  auto tbs = der::Read(der::Read(der)->content);
  ASSERT_TRUE(tbs.has_value());
  ASSERT_EQ(der::Read(tbs->content)->tag, der::kInteger);
  ExpectSameAsFullParse(cert.get());
}

TEST(CertSummaryTest, AnEcKeyHasNoRsaPublicKey) {
  ossl::Ptr<EVP_PKEY> ec(EVP_EC_gen("P-256"));
  ASSERT_TRUE(ec);
  testing::CertSpec spec;
  spec.subject = "/CN=ec";
  auto cert = testing::MakeCert(spec, ec.get(), nullptr, nullptr);
  ExpectSameAsFullParse(cert.get());
  auto summary = SummarizeCertificateDer(Der(cert.get()));
  ASSERT_TRUE(summary.has_value());
  EXPECT_TRUE(summary->rsa_public_key.empty());
}

TEST(CertSummaryTest, TheRsaKeyIsTheOneTheKeyFileIsComparedWith) {
  auto key = testing::CachedKey(0);
  auto other = testing::CachedKey(1);
  testing::CertSpec spec;
  auto cert = testing::MakeCert(spec, key.get(), nullptr, nullptr);
  auto summary = SummarizeCertificateDer(Der(cert.get()));
  ASSERT_TRUE(summary.has_value());
  auto mine = ossl::PrivateKeyToPem(key.get());
  auto theirs = ossl::PrivateKeyToPem(other.get());
  ASSERT_TRUE(mine.ok() && theirs.ok());
  EXPECT_EQ(RsaKeyPemMatches(summary->rsa_public_key, *mine), true);
  EXPECT_EQ(RsaKeyPemMatches(summary->rsa_public_key, *theirs), false);
  EXPECT_EQ(RsaKeyPemMatches(summary->rsa_public_key, "garbage"), std::nullopt);
  EXPECT_EQ(RsaKeyPemMatches({}, *mine), std::nullopt);
}

TEST(CertSummaryTest, FilesInPemOrDer) {
  auto key = testing::CachedKey(0);
  testing::CertSpec spec;
  spec.subject = "/CN=file";
  auto cert = testing::MakeCert(spec, key.get(), nullptr, nullptr);
  const std::string pem = Pem(cert.get());
  const Bytes der = Der(cert.get());
  auto expected = SummarizeCertificateDer(der);
  ASSERT_TRUE(expected.has_value());

  EXPECT_EQ(SummarizeCertificateFile(der), expected);
  EXPECT_EQ(SummarizeCertificateFile(Span(pem)), expected);
  // Text before the block, as `openssl x509 -text` writes it, and CRLF lines.
  EXPECT_EQ(SummarizeCertificateFile(Span("Certificate:\n    Data: ...\n" + pem)), expected);
  std::string crlf;
  for (char c : pem) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(SummarizeCertificateFile(Span(crlf)), expected);

  // Left to the full parse: another block first, headers, no end line,
  // broken base64, nothing.
  auto key_pem = ossl::PrivateKeyToPem(key.get());
  ASSERT_TRUE(key_pem.ok());
  EXPECT_EQ(SummarizeCertificateFile(Span(*key_pem + pem)), std::nullopt);
  std::string headers = pem;
  headers.insert(headers.find('\n') + 1, "Proc-Type: 4,ENCRYPTED\n\n");
  EXPECT_EQ(SummarizeCertificateFile(Span(headers)), std::nullopt);
  EXPECT_EQ(SummarizeCertificateFile(Span(pem.substr(0, pem.size() - 10))), std::nullopt);
  std::string bad = pem;
  bad[40] = '*';
  EXPECT_EQ(SummarizeCertificateFile(Span(bad)), std::nullopt);
  EXPECT_EQ(SummarizeCertificateFile(Span(std::string("garbage\n"))), std::nullopt);
  EXPECT_EQ(SummarizeCertificateFile({}), std::nullopt);
}

TEST(CertSummaryTest, EveryTruncationAndTrailingByteIsRefused) {
  auto key = testing::CachedKey(0);
  testing::CertSpec spec;
  auto cert = testing::MakeCert(spec, key.get(), nullptr, nullptr);
  const Bytes der = Der(cert.get());
  for (std::size_t n = 0; n < der.size(); ++n) {
    EXPECT_EQ(SummarizeCertificateDer(std::span(der).first(n)), std::nullopt) << n;
  }
  Bytes longer = der;
  longer.push_back(0);
  EXPECT_EQ(SummarizeCertificateDer(longer), std::nullopt);
}

// Each byte changed in turn: whenever OpenSSL still parses the certificate
// and so does the summary, both read the same facts; a change in the
// framing or in a field the summary decodes is refused or agrees.
TEST(CertSummaryTest, ChangedBytesNeverDisagreeWithTheFullParse) {
  auto key = testing::CachedKey(1, 1024);
  testing::CertSpec spec;
  spec.subject = "/O=Flip/CN=bits";
  auto cert = testing::MakeCert(spec, key.get(), nullptr, nullptr);
  const Bytes der = Der(cert.get());
  int both = 0;
  for (std::size_t i = 0; i < der.size(); ++i) {
    for (std::uint8_t x : {0x01, 0x80, 0xff}) {
      Bytes changed = der;
      changed[i] ^= x;
      auto summary = SummarizeCertificateDer(changed);
      auto parsed = ossl::CertFromDer(changed, "flip");
      ClearOpenSslErrors();
      if (!summary || !parsed.ok()) continue;
      ++both;
      EXPECT_EQ(*summary, SummaryOf(parsed->get())) << "byte " << i << " ^ " << int{x};
    }
  }
  EXPECT_GT(both, static_cast<int>(der.size()));  // most changes leave a certificate
}

TEST(CertSummaryTest, SummaryOfNothingIsEmpty) {
  EXPECT_EQ(SummaryOf(nullptr), CertSummary());
}

}  // namespace
}  // namespace scepd
