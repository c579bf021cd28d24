#include "core/scep/ca_caps.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "core/ossl.h"

namespace scepd::scep {
namespace {

CaCaps Caps(std::initializer_list<Capability> list) {
  CaCaps caps;
  for (Capability c : list) caps.Set(c);
  return caps;
}

// ---- ParseCaCaps ----

TEST(CaCapsTest, ParsesMicromdmListWithoutTrailingNewline) {
  // Exactly what micromdm scepserver 2.1.0 answers.
  CaCaps caps = ParseCaCaps("Renewal\nSHA-1\nSHA-256\nAES\nDES3\nSCEPStandard\nPOSTPKIOperation");
  EXPECT_TRUE(caps.Has(Capability::kRenewal));
  EXPECT_TRUE(caps.Has(Capability::kSHA1));
  EXPECT_TRUE(caps.Has(Capability::kSHA256));
  EXPECT_TRUE(caps.Has(Capability::kAES));
  EXPECT_TRUE(caps.Has(Capability::kDES3));
  EXPECT_TRUE(caps.Has(Capability::kSCEPStandard));
  EXPECT_TRUE(caps.Has(Capability::kPOSTPKIOperation));
  EXPECT_FALSE(caps.Has(Capability::kGetNextCACert));
  EXPECT_FALSE(caps.Has(Capability::kSHA512));
  EXPECT_FALSE(caps.Has(Capability::kUpdate));
  EXPECT_EQ(caps.ToString(), "AES DES3 POSTPKIOperation Renewal SHA-1 SHA-256 SCEPStandard");
  EXPECT_TRUE(UsePost(caps));
}

TEST(CaCapsTest, AcceptsCrlfAndTrailingNewline) {
  CaCaps caps = ParseCaCaps("POSTPKIOperation\r\nSHA-512\r\nGetNextCACert\r\n");
  EXPECT_EQ(caps, Caps({Capability::kPOSTPKIOperation, Capability::kSHA512,
                        Capability::kGetNextCACert}));
}

TEST(CaCapsTest, IsCaseInsensitiveAndTrimsWhitespace) {
  CaCaps caps = ParseCaCaps("  aes \n\tsha-384\t\nrenewal\r\nupDATE\nsha-224\ndes3");
  EXPECT_EQ(caps, Caps({Capability::kAES, Capability::kSHA384, Capability::kRenewal,
                        Capability::kUpdate, Capability::kSHA224, Capability::kDES3}));
}

TEST(CaCapsTest, SkipsBlankLinesAndUnknownKeywords) {
  CaCaps caps = ParseCaCaps("\n\nFooBar\nSHA-256\n\r\n\nSHA256\nAES-256\nRenewal2\nRenewal\n\n");
  // "SHA256", "AES-256" and "Renewal2" are not RFC 8894 keywords.
  EXPECT_EQ(caps, Caps({Capability::kSHA256, Capability::kRenewal}));
}

TEST(CaCapsTest, EmptyBodyMeansNoCapabilities) {
  EXPECT_EQ(ParseCaCaps("").bits, 0u);
  EXPECT_EQ(ParseCaCaps("\r\n \n").bits, 0u);
  EXPECT_EQ(ParseCaCaps("").ToString(), "");
  EXPECT_FALSE(UsePost(ParseCaCaps("")));
}

TEST(CaCapsTest, ScepStandardImpliesAesPostAndSha256) {
  CaCaps caps = ParseCaCaps("SCEPStandard");
  EXPECT_TRUE(caps.Has(Capability::kAES));
  EXPECT_TRUE(caps.Has(Capability::kPOSTPKIOperation));
  EXPECT_TRUE(caps.Has(Capability::kSHA256));
  EXPECT_FALSE(caps.Has(Capability::kDES3));
  EXPECT_EQ(caps.ToString(), "AES POSTPKIOperation SHA-256 SCEPStandard");
}

TEST(CaCapsTest, ToStringUsesCanonicalNamesInFixedOrder) {
  CaCaps caps = Caps({Capability::kSHA256, Capability::kRenewal, Capability::kPOSTPKIOperation,
                      Capability::kAES});
  EXPECT_EQ(caps.ToString(), "AES POSTPKIOperation Renewal SHA-256");
  EXPECT_EQ(ParseCaCaps(caps.ToString()), caps);
  EXPECT_STREQ(CapabilityName(Capability::kSHA1), "SHA-1");
  EXPECT_STREQ(CapabilityName(Capability::kGetNextCACert), "GetNextCACert");
}

TEST(CaCapsTest, UsePostNeedsPostOrStandard) {
  EXPECT_TRUE(UsePost(Caps({Capability::kPOSTPKIOperation})));
  EXPECT_TRUE(UsePost(Caps({Capability::kSCEPStandard})));  // set by hand, no implied bits
  EXPECT_FALSE(UsePost(Caps({Capability::kAES, Capability::kSHA256, Capability::kRenewal})));
}

// ---- ChooseAlgorithms ----

AlgorithmPolicy Policy(bool legacy, std::string cipher, std::string digest) {
  AlgorithmPolicy p;
  p.legacy = legacy;
  p.force_cipher = std::move(cipher);
  p.force_digest = std::move(digest);
  return p;
}

Algorithms Choose(const CaCaps& caps, const AlgorithmPolicy& policy = {}) {
  auto r = ChooseAlgorithms(caps, policy);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : Algorithms{};
}

TEST(AlgorithmChoiceTest, MicromdmGetsAes256AndSha256) {
  CaCaps caps = ParseCaCaps("Renewal\nSHA-1\nSHA-256\nAES\nDES3\nSCEPStandard\nPOSTPKIOperation");
  EXPECT_EQ(Choose(caps), (Algorithms{"AES-256-CBC", "SHA256"}));
  // legacy only changes the fallback, not what an able CA gets.
  EXPECT_EQ(Choose(caps, Policy(true, "", "")), (Algorithms{"AES-256-CBC", "SHA256"}));
}

TEST(AlgorithmChoiceTest, StrongestDigestWins) {
  EXPECT_EQ(Choose(ParseCaCaps("SHA-1\nSHA-224\nSHA-256\nSHA-384\nSHA-512")).digest, "SHA512");
  EXPECT_EQ(Choose(ParseCaCaps("SHA-1\nSHA-384\nSHA-256")).digest, "SHA384");
  EXPECT_EQ(Choose(ParseCaCaps("SHA-224\nSHA-1")).digest, "SHA224");
  EXPECT_EQ(Choose(ParseCaCaps("SHA-1")).digest, "SHA1");
  EXPECT_EQ(Choose(ParseCaCaps("SCEPStandard")).digest, "SHA256");
}

TEST(AlgorithmChoiceTest, AesBeatsDes3) {
  EXPECT_EQ(Choose(ParseCaCaps("DES3\nAES")).cipher, "AES-256-CBC");
  EXPECT_EQ(Choose(ParseCaCaps("DES3")).cipher, "DES-EDE3-CBC");
  EXPECT_EQ(Choose(ParseCaCaps("DES3"), Policy(true, "", "")).cipher, "DES-EDE3-CBC");
}

TEST(AlgorithmChoiceTest, NothingAdvertisedFallsBack) {
  EXPECT_EQ(Choose(CaCaps{}), (Algorithms{"DES-EDE3-CBC", "SHA1"}));
  EXPECT_EQ(Choose(CaCaps{}, Policy(true, "", "")), (Algorithms{"DES-CBC", "MD5"}));
  EXPECT_EQ(Choose(ParseCaCaps("Renewal\nPOSTPKIOperation")),
            (Algorithms{"DES-EDE3-CBC", "SHA1"}));
}

TEST(AlgorithmChoiceTest, ForcedChoiceWinsOverCaps) {
  CaCaps caps = ParseCaCaps("AES\nSHA-512");
  EXPECT_EQ(Choose(caps, Policy(false, "3des", "sha1")),
            (Algorithms{"DES-EDE3-CBC", "SHA1"}));
  EXPECT_EQ(Choose(caps, Policy(false, "aes128", "")).cipher, "AES-128-CBC");
  EXPECT_EQ(Choose(caps, Policy(false, "AES192", "")).cipher, "AES-192-CBC");
  EXPECT_EQ(Choose(caps, Policy(false, "aes256", "")).cipher, "AES-256-CBC");
  EXPECT_EQ(Choose(caps, Policy(false, "Aes", "")).cipher, "AES-256-CBC");
  EXPECT_EQ(Choose(caps, Policy(false, "", "SHA224")).digest, "SHA224");
  EXPECT_EQ(Choose(caps, Policy(false, "", "sha256")).digest, "SHA256");
  EXPECT_EQ(Choose(caps, Policy(false, "", "sha384")).digest, "SHA384");
  EXPECT_EQ(Choose(caps, Policy(false, "", "sha512")).digest, "SHA512");
  // Forcing one leaves the other to the caps.
  EXPECT_EQ(Choose(caps, Policy(false, "3des", "")).digest, "SHA512");
  EXPECT_EQ(Choose(caps, Policy(false, "", "sha1")).cipher, "AES-256-CBC");
}

TEST(AlgorithmChoiceTest, LegacyForcedNeedsLegacy) {
  CaCaps caps = ParseCaCaps("AES\nSHA-256");
  for (const char* cipher : {"des", "blowfish", "DES"}) {
    auto r = ChooseAlgorithms(caps, Policy(false, cipher, ""));
    ASSERT_FALSE(r.ok()) << cipher;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("legacy ciphers must be enabled"), std::string::npos)
        << r.error().message;
  }
  auto md5 = ChooseAlgorithms(caps, Policy(false, "", "md5"));
  ASSERT_FALSE(md5.ok());
  EXPECT_EQ(md5.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(md5.error().message.find("legacy ciphers must be enabled"), std::string::npos);

  EXPECT_EQ(Choose(caps, Policy(true, "des", "MD5")),
            (Algorithms{"DES-CBC", "MD5"}));
  EXPECT_EQ(Choose(caps, Policy(true, "blowfish", "")).cipher, "BF-CBC");
}

TEST(AlgorithmChoiceTest, UnknownForcedNameIsNamed) {
  auto r = ChooseAlgorithms(CaCaps{}, Policy(false, "rc4", ""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("'rc4'"), std::string::npos) << r.error().message;

  auto d = ChooseAlgorithms(CaCaps{}, Policy(true, "", "sha3-256"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(d.error().message.find("'sha3-256'"), std::string::npos) << d.error().message;
  EXPECT_NE(d.error().message.find("digest"), std::string::npos) << d.error().message;
}

TEST(AlgorithmChoiceTest, ChosenNamesExistInOpenSsl) {
  // Every non-legacy name we can produce must be fetchable from the default
  // provider (the legacy ones need ossl::EnableLegacyAlgorithms()).
  for (const char* c : {"aes", "aes128", "aes192", "aes256", "3des"}) {
    auto r = ChooseAlgorithms(CaCaps{}, Policy(false, c, ""));
    ASSERT_TRUE(r.ok());
    ossl::Ptr<EVP_CIPHER> cipher(EVP_CIPHER_fetch(nullptr, r->cipher.c_str(), nullptr));
    EXPECT_TRUE(cipher) << r->cipher;
  }
  for (const char* d : {"sha1", "sha224", "sha256", "sha384", "sha512"}) {
    auto r = ChooseAlgorithms(CaCaps{}, Policy(false, "", d));
    ASSERT_TRUE(r.ok());
    ossl::Ptr<EVP_MD> md(EVP_MD_fetch(nullptr, r->digest.c_str(), nullptr));
    EXPECT_TRUE(md) << r->digest;
  }
}

}  // namespace
}  // namespace scepd::scep
