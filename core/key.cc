#include "core/key.h"

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
