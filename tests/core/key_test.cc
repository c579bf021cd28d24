#include "core/key.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "core/bytes.h"
#include "tests/support/test_pki.h"

namespace scepd {
namespace {

// A public-only copy of `key`, a different object with the same public part.
ossl::Ptr<EVP_PKEY> PublicOnly(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  EXPECT_GT(len, 0);
  const unsigned char* p = der;
  ossl::Ptr<EVP_PKEY> pub(d2i_PUBKEY(nullptr, &p, len));
  OPENSSL_free(der);
  EXPECT_TRUE(pub);
  return pub;
}

TEST(KeyTest, GeneratesRsaKeyOfRequestedSize) {
  auto key = GenerateRsaKey(1024);  // the one real generation: slow under emulation
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(EVP_PKEY_get_base_id(key->get()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(key->get()), 1024);
}

TEST(KeyTest, RejectsSizesOutOfRange) {
  for (int bits : {0, 512, 1023, 16385, -2048}) {
    auto key = GenerateRsaKey(bits);
    ASSERT_FALSE(key.ok()) << bits;
    EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(key.error().message.find("RSA key size " + std::to_string(bits)), std::string::npos)
        << key.error().message;
  }
}

TEST(KeyTest, SamePublicKeyComparesPublicHalves) {
  auto a = testing::CachedKey(0);
  auto b = testing::CachedKey(1);
  auto a_pub = PublicOnly(a.get());
  EXPECT_TRUE(SamePublicKey(a.get(), a.get()));
  EXPECT_TRUE(SamePublicKey(a.get(), a_pub.get()));
  EXPECT_TRUE(SamePublicKey(a_pub.get(), a.get()));
  EXPECT_FALSE(SamePublicKey(a.get(), b.get()));
  EXPECT_FALSE(SamePublicKey(a_pub.get(), b.get()));
  EXPECT_FALSE(SamePublicKey(nullptr, a.get()));
  EXPECT_FALSE(SamePublicKey(a.get(), nullptr));
}

TEST(KeyTest, PublicKeySha256HexHashesSubjectPublicKeyInfo) {
  auto a = testing::CachedKey(0);
  auto b = testing::CachedKey(1);
  auto hex = PublicKeySha256Hex(a.get());
  ASSERT_TRUE(hex.ok()) << hex.error().message;
  ASSERT_EQ(hex->size(), 64u);
  for (char c : *hex) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')) << *hex;

  // Independently: the SubjectPublicKeyInfo as a certificate carries it.
  testing::CertSpec spec;
  auto cert = testing::MakeCert(spec, a.get(), nullptr, nullptr);
  unsigned char* spki = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &spki);
  ASSERT_GT(len, 0);
  std::array<std::uint8_t, 32> md{};
  ASSERT_EQ(EVP_Q_digest(nullptr, "SHA256", nullptr, spki, static_cast<std::size_t>(len),
                         md.data(), nullptr),
            1);
  OPENSSL_free(spki);
  EXPECT_EQ(*hex, HexEncode(md));

  auto pub_hex = PublicKeySha256Hex(PublicOnly(a.get()).get());
  ASSERT_TRUE(pub_hex.ok());
  EXPECT_EQ(*pub_hex, *hex) << "private and public-only key hash alike";
  auto other = PublicKeySha256Hex(b.get());
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *hex);

  auto none = PublicKeySha256Hex(nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace scepd
