#include "core/ossl.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <string>
#include <vector>

#include "tests/support/test_pki.h"

namespace scepd::ossl {
namespace {

std::string Dotted(const ASN1_OBJECT* obj) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof(buf), obj, 1);
  return buf;
}

TEST(ObjectFromTextTest, TakesShortNamesLongNamesAndDottedOids) {
  const struct {
    const char* text;
    const char* oid;
  } cases[] = {
      {"CN", "2.5.4.3"},
      {"commonName", "2.5.4.3"},
      {"serverAuth", "1.3.6.1.5.5.7.3.1"},
      {"TLS Web Server Authentication", "1.3.6.1.5.5.7.3.1"},
      {"1.3.6.1.4.1.311.20.2.3", "1.3.6.1.4.1.311.20.2.3"},
      {"1.2.3", "1.2.3"},  // unregistered OIDs are fine
  };
  for (const auto& c : cases) {
    Ptr<ASN1_OBJECT> obj = ObjectFromText(c.text);
    ASSERT_TRUE(obj) << c.text;
    EXPECT_EQ(Dotted(obj.get()), c.oid) << c.text;
  }
}

TEST(ObjectFromTextTest, RefusesWhatHasNoOidAndLeavesNoErrorBehind) {
  const std::string with_nul("CN\0x", 4);
  const std::string cases[] = {"",           "fooAuth",      "not an oid",
                               "AES-128-OCB", "aes-128-ocb", "UNDEF",    "undefined",
                               with_nul};
  // AES-128-OCB is the case fuzzing found: OBJ_txt2obj returns an object
  // for it, but one with no OID to encode.
  ASSERT_NE(OBJ_sn2nid("AES-128-OCB"), NID_undef);
  for (const std::string& text : cases) {
    ERR_clear_error();
    EXPECT_FALSE(ObjectFromText(text)) << "'" << text << "'";
    EXPECT_EQ(ERR_peek_error(), 0UL) << "'" << text << "'";
  }
}

// PEM text written by OpenSSL's own encoders: `traditional` for the
// PKCS#1/SEC1 forms ("RSA PRIVATE KEY", "EC PRIVATE KEY"), `cipher` and a
// passphrase for an encrypted one.
std::string KeyPem(EVP_PKEY* key, bool traditional, const EVP_CIPHER* cipher = nullptr) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  static char pass[] = "secret";
  int ok = 0;
  if (traditional) {
    ok = PEM_write_bio_PrivateKey_traditional(bio.get(), key, cipher,
                                              reinterpret_cast<unsigned char*>(pass),
                                              cipher != nullptr ? 6 : 0, nullptr, nullptr);
  } else {
    ok = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, cipher, cipher != nullptr ? pass : nullptr,
                                       cipher != nullptr ? 6 : 0, nullptr, nullptr);
  }
  EXPECT_EQ(ok, 1);
  Bytes b = BioToBytes(bio.get());
  return std::string(b.begin(), b.end());
}

// Issue 22: the key type is given to OpenSSL's decoder (from the PEM label
// or the PKCS#8 algorithm) instead of letting every decoder try; every
// form and type must still read back as the same key.
TEST(PrivateKeyFromPemTest, ReadsEachUnencryptedFormOfEachKeyType) {
  struct Case {
    const char* name;
    Ptr<EVP_PKEY> key;
    bool has_traditional;
  };
  std::vector<Case> cases;
  cases.push_back({"RSA", testing::CachedKey(0, 1024), true});
  cases.push_back({"EC P-256", Ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")),
                   true});
  cases.push_back({"EC P-384", Ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384")),
                   true});
  cases.push_back({"Ed25519", Ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")),
                   false});
  {
    // RSA-PSS: no cached key; 512 bits keeps the generation short under qemu.
    Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr));
    EVP_PKEY* pss = nullptr;
    ASSERT_TRUE(ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
                EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 512) == 1 &&
                EVP_PKEY_generate(ctx.get(), &pss) == 1);
    cases.push_back({"RSA-PSS", Ptr<EVP_PKEY>(pss), false});
  }
  for (const Case& c : cases) {
    ASSERT_TRUE(c.key) << c.name;
    for (bool traditional : {false, true}) {
      if (traditional && !c.has_traditional) continue;
      const std::string pem = KeyPem(c.key.get(), traditional);
      ERR_clear_error();
      auto read = PrivateKeyFromPem(pem, "key.pem");
      ASSERT_TRUE(read.ok()) << c.name << " traditional=" << traditional << ": "
                             << read.error().message;
      EXPECT_EQ(EVP_PKEY_eq(read->get(), c.key.get()), 1) << c.name;
      EXPECT_EQ(EVP_PKEY_get_base_id(read->get()), EVP_PKEY_get_base_id(c.key.get())) << c.name;
      EXPECT_EQ(ERR_peek_error(), 0UL) << c.name << " traditional=" << traditional;
      // Text around the block (openssl pkcs12's "Bag Attributes") is skipped.
      auto framed = PrivateKeyFromPem("Bag Attributes\n    localKeyID: 01\n" + pem, "key.pem");
      ASSERT_TRUE(framed.ok()) << c.name;
      EXPECT_EQ(EVP_PKEY_eq(framed->get(), c.key.get()), 1) << c.name;
    }
  }
}

TEST(PrivateKeyFromPemTest, FindsTheKeyAfterACertificateInTheSameFile) {
  auto key = testing::CachedKey(1, 1024);
  auto ca = testing::MakeTestCa();
  auto cert = CertToPem(ca.cert.get());
  ASSERT_TRUE(cert.ok());
  auto read = PrivateKeyFromPem(*cert + KeyPem(key.get(), false), "both.pem");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(EVP_PKEY_eq(read->get(), key.get()), 1);
}

TEST(PrivateKeyFromPemTest, RefusesEncryptedAndDamagedKeysNamingTheFile) {
  auto key = testing::CachedKey(2, 1024);
  std::string pkcs8 = KeyPem(key.get(), false);
  // The base64 body cut short: a PKCS#8 structure that does not decode.
  std::string cut = pkcs8.substr(0, pkcs8.find('\n') + 1) + pkcs8.substr(pkcs8.size() / 2);
  const std::string cases[] = {
      KeyPem(key.get(), false, EVP_aes_128_cbc()),  // ENCRYPTED PRIVATE KEY
      KeyPem(key.get(), true, EVP_aes_128_cbc()),   // Proc-Type: 4,ENCRYPTED
      cut,
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      "-----BEGIN RSA PRIVATE KEY-----\n" + pkcs8.substr(28),
      "not a key at all\n",
  };
  for (const std::string& pem : cases) {
    auto read = PrivateKeyFromPem(pem, "/etc/scepd/router.key");
    EXPECT_FALSE(read.ok()) << pem;
    if (!read.ok()) {
      EXPECT_NE(read.error().message.find("/etc/scepd/router.key"), std::string::npos)
          << read.error().message;
    }
  }
}

}  // namespace
}  // namespace scepd::ossl
