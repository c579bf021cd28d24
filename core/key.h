#pragma once
// The RSA key pairs scepd enrolls, and the facts about a public key that the
// protocol needs (SCEP transaction IDs) or the daemon checks (does this key
// belong to that certificate or request?).

#include <string>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd {

inline constexpr int kMinRsaBits = 1024;
inline constexpr int kMaxRsaBits = 16384;

// The kind of key a certificate gets (key_type, key_size, ec_curve).
enum class KeyType { kRsa, kEc };
struct KeySpec {
  KeyType type = KeyType::kRsa;
  int rsa_bits = 2048;             // kRsa
  std::string ec_curve = "P-256";  // kEc: "P-256" or "P-384" (NIST names)

  bool operator==(const KeySpec&) const = default;
};

// "2048-bit RSA" / "P-256 EC", for logs. Never fails.
std::string KeySpecName(const KeySpec& spec);

// Generates a new key pair of `spec` that the caller owns. Fails with
// kInvalidArgument for a size or curve outside the supported ones, kCrypto
// when OpenSSL cannot generate it.
Result<ossl::Ptr<EVP_PKEY>> GenerateKey(const KeySpec& spec);

// Whether `key` (borrowed; may be null: false) is of `spec`'s type and size
// or curve.
bool KeyFitsSpec(const EVP_PKEY* key, const KeySpec& spec) noexcept;

// Generates a new RSA key pair (public exponent 65537) the caller owns.
// Fails with kInvalidArgument when `bits` is outside [kMinRsaBits,
// kMaxRsaBits], and with kCrypto when OpenSSL cannot generate the key.
Result<ossl::Ptr<EVP_PKEY>> GenerateRsaKey(int bits);

// Generates a new EC key pair on the named curve ("P-256", "P-384" or
// "P-521"; OpenSSL's names prime256v1/secp384r1/secp521r1 too) the caller
// owns. Fails with kInvalidArgument for another curve, kCrypto when OpenSSL
// cannot generate the key.
Result<ossl::Ptr<EVP_PKEY>> GenerateEcKey(const std::string& curve);

// True when both keys (borrowed) have the same public part; a private key
// matches its own public half. False when either is null or they differ in
// type.
bool SamePublicKey(const EVP_PKEY* a, const EVP_PKEY* b) noexcept;

// Upper-case hex SHA-256 of the DER SubjectPublicKeyInfo of `key`
// (borrowed): 64 characters, stable for a key, which is what SCEP clients
// commonly use as the transactionID. Fails with kInvalidArgument for a null
// key and kCrypto when the key cannot be encoded.
Result<std::string> PublicKeySha256Hex(const EVP_PKEY* key);

}  // namespace scepd
