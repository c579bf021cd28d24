#include "core/key.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <string>

#include "core/bytes.h"
#include "core/ossl.h"

namespace scepd {

Result<ossl::Ptr<EVP_PKEY>> GenerateRsaKey(int bits) {
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "RSA key size " + std::to_string(bits) + " is outside " +
                         std::to_string(kMinRsaBits) + ".." + std::to_string(kMaxRsaBits));
  }
  ossl::Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "preparing RSA key generation");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    return OpenSslError(ErrorCode::kCrypto,
                        "generating " + std::to_string(bits) + "-bit RSA key");
  }
  return ossl::Ptr<EVP_PKEY>(raw);
}

Result<ossl::Ptr<EVP_PKEY>> GenerateEcKey(const std::string& curve) {
  std::string group;
  if (curve == "P-256" || curve == "prime256v1") group = "P-256";
  if (curve == "P-384" || curve == "secp384r1") group = "P-384";
  if (curve == "P-521" || curve == "secp521r1") group = "P-521";
  if (group.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "EC curve '" + curve + "' is not one of P-256, P-384, P-521");
  }
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group.c_str());
  if (raw == nullptr) return OpenSslError(ErrorCode::kCrypto, "generating " + group + " EC key");
  return ossl::Ptr<EVP_PKEY>(raw);
}

std::string KeySpecName(const KeySpec& spec) {
  if (spec.type == KeyType::kEc) return spec.ec_curve + " EC";
  return std::to_string(spec.rsa_bits) + "-bit RSA";
}

Result<ossl::Ptr<EVP_PKEY>> GenerateKey(const KeySpec& spec) {
  if (spec.type == KeyType::kRsa) return GenerateRsaKey(spec.rsa_bits);
  if (spec.ec_curve != "P-256" && spec.ec_curve != "P-384") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "EC curve " + spec.ec_curve + " is not P-256 or P-384");
  }
  return GenerateEcKey(spec.ec_curve);
}

bool KeyFitsSpec(const EVP_PKEY* key, const KeySpec& spec) noexcept {
  if (key == nullptr) return false;
  if (spec.type == KeyType::kRsa) {
    return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) == spec.rsa_bits;
  }
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1) {
    ClearOpenSslErrors();
    return false;
  }
  const std::string name(group, len);
  return (spec.ec_curve == "P-256" && name == "prime256v1") ||
         (spec.ec_curve == "P-384" && name == "secp384r1");
}

bool SamePublicKey(const EVP_PKEY* a, const EVP_PKEY* b) noexcept {
  if (a == nullptr || b == nullptr) return false;
  const bool same = EVP_PKEY_eq(a, b) == 1;
  ClearOpenSslErrors();  // a type mismatch leaves an error behind
  return same;
}

Result<std::string> PublicKeySha256Hex(const EVP_PKEY* key) {
  if (key == nullptr) return MakeError(ErrorCode::kInvalidArgument, "public key hash: no key");
  SCEPD_TRY(Bytes der, ossl::ToDer(key, i2d_PUBKEY, "public key"));
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  const int ok = EVP_Digest(der.data(), der.size(), md.data(), &md_len, EVP_sha256(), nullptr);
  if (ok != 1) return OpenSslError(ErrorCode::kCrypto, "hashing public key");
  return HexEncode(std::span<const std::uint8_t>(md.data(), md_len));
}

}  // namespace scepd
