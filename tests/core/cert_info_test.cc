#include "core/cert_info.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/csr.h"
#include "tests/support/test_pki.h"

namespace scepd {
namespace {

ossl::Ptr<X509> Cert(const testing::CertSpec& spec, int key_index = 0) {
  auto key = testing::CachedKey(key_index);
  return testing::MakeCert(spec, key.get(), nullptr, nullptr);
}

// What `openssl x509 -serial` prints after "serial=": i2a_ASN1_INTEGER.
std::string OpenSslSerial(const X509* cert) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  i2a_ASN1_INTEGER(bio.get(), X509_get0_serialNumber(cert));
  return ToString(ossl::BioToBytes(bio.get()));
}

// Replaces the serial (the signature no longer matters for these checks).
void SetSerialHex(X509* cert, const char* hex, bool negative = false) {
  BIGNUM* raw = nullptr;
  ASSERT_GT(BN_hex2bn(&raw, hex), 0);
  ossl::Ptr<BIGNUM> bn(raw);
  BN_set_negative(bn.get(), negative ? 1 : 0);
  ASSERT_NE(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)), nullptr);
}

TEST(CertInfoTest, SerialHexMatchesOpenSslX509Serial) {
  testing::CertSpec spec;
  auto cert = Cert(spec);
  EXPECT_EQ(SerialHex(cert.get()), "01");

  struct Case {
    const char* hex;
    bool negative;
    const char* expected;
  };
  const Case cases[] = {
      {"2", false, "02"},
      {"1234", false, "1234"},
      {"ABC", false, "0ABC"},
      {"80", false, "80"},
      {"0", false, "00"},
      {"5", true, "-05"},
      {"1FF", true, "-01FF"},
      {"7F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C", false,
       "7F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C"},  // 20 bytes, the RFC 5280 maximum
  };
  for (const Case& c : cases) {
    SetSerialHex(cert.get(), c.hex, c.negative);
    EXPECT_EQ(SerialHex(cert.get()), c.expected) << c.hex;
    EXPECT_EQ(SerialHex(cert.get()), OpenSslSerial(cert.get())) << c.hex;
  }
  EXPECT_EQ(SerialHex(nullptr), "");
}

TEST(CertInfoTest, SerialFromTestPki) {
  testing::CertSpec spec;
  spec.serial = 0x1234;
  EXPECT_EQ(SerialHex(Cert(spec).get()), "1234");
  spec.serial = 0xABC;
  EXPECT_EQ(SerialHex(Cert(spec).get()), "0ABC");
}

TEST(CertInfoTest, ValidityPast2038) {
  testing::CertSpec spec;
  spec.not_before = 1700000000;   // 2023-11-14T22:13:20Z, UTCTime
  spec.not_after = 2524608000;    // 2050-01-01T00:00:00Z, GeneralizedTime
  auto cert = Cert(spec);
  ASSERT_EQ(ASN1_STRING_type(X509_get0_notAfter(cert.get())), V_ASN1_GENERALIZEDTIME);
  auto not_before = NotBefore(cert.get());
  auto not_after = NotAfter(cert.get());
  ASSERT_TRUE(not_before.ok()) << not_before.error().message;
  ASSERT_TRUE(not_after.ok()) << not_after.error().message;
  EXPECT_EQ(*not_before, 1700000000);
  EXPECT_EQ(*not_after, 2524608000);

  spec.not_after = 2147483647 + 1LL;  // one second past the 32-bit time_t limit
  auto edge = Cert(spec);
  EXPECT_EQ(*NotAfter(edge.get()), 2147483648);

  EXPECT_FALSE(NotAfter(nullptr).ok());
  EXPECT_FALSE(NotBefore(nullptr).ok());
}

TEST(CertInfoTest, RejectsMalformedTime) {
  testing::CertSpec spec;
  auto cert = Cert(spec);
  ASSERT_EQ(ASN1_STRING_set(X509_getm_notAfter(cert.get()), "garbage", 7), 1);
  auto not_after = NotAfter(cert.get());
  ASSERT_FALSE(not_after.ok());
  EXPECT_EQ(not_after.error().code, ErrorCode::kParse);
  EXPECT_NE(not_after.error().message.find("notAfter"), std::string::npos);
}

TEST(CertInfoTest, SubjectAndIssuerStrings) {
  auto ca = testing::MakeTestCa("/O=Test CA/CN=Test CA");
  testing::CertSpec spec;
  auto key = testing::CachedKey(0);
  spec.subject = "/O=Example/CN=router 1";
  auto cert = testing::MakeCert(spec, key.get(), ca.cert.get(), ca.key.get());
  EXPECT_EQ(SubjectString(cert.get()), "/O=Example/CN=router 1");
  EXPECT_EQ(IssuerString(cert.get()), "/O=Test CA/CN=Test CA");
  EXPECT_EQ(SubjectString(nullptr), "");
}

TEST(CertInfoTest, KeyUsageInWords) {
  testing::CertSpec spec;
  EXPECT_EQ(KeyUsageString(Cert(spec).get()), "(none)");
  spec.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
  EXPECT_EQ(KeyUsageString(Cert(spec).get()), "Digital Signature, Key Encipherment");
  spec.key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
  EXPECT_EQ(KeyUsageString(Cert(spec).get()), "Certificate Sign, CRL Sign");
  spec.key_usage = KU_NON_REPUDIATION | KU_DATA_ENCIPHERMENT;
  EXPECT_EQ(KeyUsageString(Cert(spec).get()), "Non Repudiation, Data Encipherment");
}

TEST(CertInfoTest, FingerprintMatchesX509Digest) {
  testing::CertSpec spec;
  auto cert = Cert(spec);
  struct Case {
    const char* name;
    const EVP_MD* md;
  };
  const Case cases[] = {{"sha256", EVP_sha256()}, {"SHA1", EVP_sha1()}, {"Md5", EVP_md5()},
                        {"sha224", EVP_sha224()}, {"sha384", EVP_sha384()},
                        {"SHA512", EVP_sha512()}};
  for (const Case& c : cases) {
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    ASSERT_EQ(X509_digest(cert.get(), c.md, md.data(), &len), 1) << c.name;
    std::string expected;
    for (unsigned int i = 0; i < len; ++i) {
      char pair[4];
      std::snprintf(pair, sizeof(pair), i == 0 ? "%02X" : ":%02X", md[i]);
      expected += pair;
    }
    auto fp = Fingerprint(cert.get(), c.name);
    ASSERT_TRUE(fp.ok()) << c.name << ": " << fp.error().message;
    EXPECT_EQ(*fp, expected) << c.name;
    EXPECT_EQ(fp->size(), len * 3 - 1);
  }
}

TEST(CertInfoTest, FingerprintRejectsUnknownDigest) {
  testing::CertSpec spec;
  auto cert = Cert(spec);
  for (const char* name : {"sha3-256", "", "md4", "whirlpool"}) {
    auto fp = Fingerprint(cert.get(), name);
    ASSERT_FALSE(fp.ok()) << name;
    EXPECT_EQ(fp.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(fp.error().message.find("'" + std::string(name) + "'"), std::string::npos)
        << fp.error().message;
  }
}

TEST(CertInfoTest, KeyMatchesCert) {
  testing::CertSpec spec;
  auto key = testing::CachedKey(0);
  auto other = testing::CachedKey(1);
  auto cert = testing::MakeCert(spec, key.get(), nullptr, nullptr);
  EXPECT_TRUE(KeyMatchesCert(cert.get(), key.get()));
  EXPECT_FALSE(KeyMatchesCert(cert.get(), other.get()));
  EXPECT_FALSE(KeyMatchesCert(nullptr, key.get()));
  EXPECT_FALSE(KeyMatchesCert(cert.get(), nullptr));
}

// PEM of `key` in the given encoding: PKCS#8 ("PRIVATE KEY", what scepd
// writes) or the traditional PKCS#1 ("RSA PRIVATE KEY").
std::string KeyPem(EVP_PKEY* key, bool pkcs8) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  const int ok = pkcs8 ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                  nullptr)
                       : PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr,
                                                              0, nullptr, nullptr);
  EXPECT_EQ(ok, 1);
  const Bytes bytes = ossl::BioToBytes(bio.get());
  return std::string(bytes.begin(), bytes.end());
}

TEST(CertInfoTest, RsaKeyPemMatchesCertFromTheFileAlone) {
  testing::CertSpec spec;
  auto key = testing::CachedKey(0);
  auto other = testing::CachedKey(1);
  auto other_size = testing::CachedKey(2, 1024);
  auto cert = testing::MakeCert(spec, key.get(), nullptr, nullptr);
  EXPECT_EQ(RsaKeyPemMatchesCert(cert.get(), KeyPem(key.get(), true)), true);
  EXPECT_EQ(RsaKeyPemMatchesCert(cert.get(), KeyPem(other.get(), true)), false);
  EXPECT_EQ(RsaKeyPemMatchesCert(cert.get(), KeyPem(other_size.get(), true)), false);
  // Undecided, so the caller decodes: other encodings, other algorithms,
  // damage (a PEM cut short does not parse).
  EXPECT_EQ(RsaKeyPemMatchesCert(cert.get(), KeyPem(key.get(), false)), std::nullopt);
  ossl::Ptr<EVP_PKEY> ec(EVP_EC_gen("P-256"));
  ASSERT_NE(ec, nullptr);
  EXPECT_EQ(RsaKeyPemMatchesCert(cert.get(), KeyPem(ec.get(), true)), std::nullopt);
  auto ec_cert = testing::MakeCert(spec, ec.get(), nullptr, nullptr);
  EXPECT_EQ(RsaKeyPemMatchesCert(ec_cert.get(), KeyPem(key.get(), true)), std::nullopt);
  const std::string pem = KeyPem(key.get(), true);
  EXPECT_EQ(RsaKeyPemMatchesCert(cert.get(), pem.substr(0, pem.size() / 2)), std::nullopt);
  EXPECT_EQ(RsaKeyPemMatchesCert(cert.get(), "garbage"), std::nullopt);
  EXPECT_EQ(RsaKeyPemMatchesCert(cert.get(), ""), std::nullopt);
  EXPECT_EQ(RsaKeyPemMatchesCert(nullptr, pem), std::nullopt);
  // The whole key as a certificate would see it: same answers as the decoder.
  auto decoded = ossl::PrivateKeyFromPem(pem, "test key");
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(KeyMatchesCert(cert.get(), decoded->get()));
}

TEST(CheckIssuedCertificateTest, TheRequestedCommonNameInAnyOrderAndNotExpired) {
  auto key = testing::CachedKey(0);
  CsrSpec spec;
  spec.subject = "/CN=router/O=scepd test";
  auto csr = BuildCsr(spec, key.get());
  ASSERT_TRUE(csr.ok()) << csr.error().message;
  const std::int64_t now = std::time(nullptr);
  testing::CertSpec c;
  c.subject = "/O=scepd test/CN=router";  // micromdm's order
  EXPECT_TRUE(CheckIssuedCertificate(Cert(c).get(), csr->get(), now).ok());
  c.subject = "/DC=org/DC=example/CN=router";  // a profile's rewrite, same CN
  EXPECT_TRUE(CheckIssuedCertificate(Cert(c).get(), csr->get(), now).ok());

  c.subject = "/O=scepd test/CN=not the requested subject";
  Status other = CheckIssuedCertificate(Cert(c).get(), csr->get(), now);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kVerify);
  EXPECT_NE(other.error().message.find("not the requested /CN=router/O=scepd test"),
            std::string::npos)
      << other.error().message;

  c.subject = "/CN=router";
  c.not_before = now - 3 * 86400;
  c.not_after = now - 86400;
  Status expired = CheckIssuedCertificate(Cert(c).get(), csr->get(), now);
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.error().message.find("expired at"), std::string::npos);

  // Without a CN in the request, the same attributes in any order.
  spec.subject = "/O=scepd test/OU=routers";
  auto no_cn = BuildCsr(spec, key.get());
  ASSERT_TRUE(no_cn.ok()) << no_cn.error().message;
  c = testing::CertSpec();
  c.subject = "/OU=routers/O=scepd test";
  EXPECT_TRUE(CheckIssuedCertificate(Cert(c).get(), no_cn->get(), now).ok());
  c.subject = "/OU=routers";
  EXPECT_FALSE(CheckIssuedCertificate(Cert(c).get(), no_cn->get(), now).ok());
}

}  // namespace
}  // namespace scepd
