#pragma once
// GetCACaps (RFC 8894 section 3.5.2): what a CA says it can do, and the
// cipher and digest we pick for our requests from that answer.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace scepd::scep {

// One capability keyword. The enumerator order is the order ToString()
// lists them in; the names are RFC 8894's spellings (see CapabilityName).
enum class Capability : std::uint8_t {
  kAES,
  kDES3,
  kGetNextCACert,
  kPOSTPKIOperation,
  kRenewal,
  kSHA1,
  kSHA224,
  kSHA256,
  kSHA384,
  kSHA512,
  kSCEPStandard,
  kUpdate,
};

// The keyword as RFC 8894 spells it ("SHA-256", "POSTPKIOperation"). Never
// fails; the pointer is to a static string.
const char* CapabilityName(Capability cap) noexcept;

// A set of capabilities as a bitmask (bit n = Capability with value n).
// A plain value; the default is the empty set.
struct CaCaps {
  std::uint32_t bits = 0;

  // True when `cap` is in the set.
  bool Has(Capability cap) const noexcept;
  // Adds `cap` to the set.
  void Set(Capability cap) noexcept;
  // The canonical keywords in enumerator order joined by single spaces, e.g.
  // "AES POSTPKIOperation Renewal SHA-256"; "" for the empty set.
  std::string ToString() const;

  friend bool operator==(const CaCaps&, const CaCaps&) = default;
};

// Parses a GetCACaps body: keywords separated by LF or CRLF (any ASCII
// whitespace separates, so blank lines and stray spaces are harmless),
// matched case-insensitively; unknown keywords are ignored and an empty body
// means no capabilities. Never fails: a CA that says nothing useful gets the
// RFC's conservative defaults from the callers.
// Because RFC 8894 section 3.5.2 says "SCEPStandard" means the CA supports
// at least AES, POSTPKIOperation and SHA-256, those bits are set with it.
CaCaps ParseCaCaps(std::string_view body);

// True when PKIOperation should be sent with HTTP POST: the CA advertises
// POSTPKIOperation or SCEPStandard.
bool UsePost(const CaCaps& caps) noexcept;

// How to pick algorithms. `force_cipher` / `force_digest` take sscep's -E /
// -S names, case-insensitive: ciphers des, 3des, blowfish, aes (= aes256),
// aes128, aes192, aes256; digests md5, sha1, sha224, sha256, sha384, sha512.
// Empty means "choose from the caps". `legacy` allows single DES, Blowfish
// and MD5, and makes them the fallback when the CA advertises nothing.
struct AlgorithmPolicy {
  bool legacy = false;
  std::string force_cipher;
  std::string force_digest;
};

// The chosen algorithms as OpenSSL names.
struct Algorithms {
  // "AES-256-CBC", "AES-192-CBC", "AES-128-CBC", "DES-EDE3-CBC", "DES-CBC"
  // or "BF-CBC".
  std::string cipher;
  // "SHA512", "SHA384", "SHA256", "SHA224", "SHA1" or "MD5".
  std::string digest;

  friend bool operator==(const Algorithms&, const Algorithms&) = default;
};

// Picks the envelope cipher and the signing digest. A forced choice wins
// over the caps. Otherwise the strongest advertised: cipher AES gives
// AES-256-CBC, else DES3 gives DES-EDE3-CBC, else (nothing advertised)
// DES-CBC with `legacy`, DES-EDE3-CBC without; digest SHA-512 > SHA-384 >
// SHA-256 > SHA-224 > SHA-1, else MD5 with `legacy`, SHA1 without.
// Why AES-256 for "AES": it is what sscep sends for -E aes, and micromdm
// scepserver 2.1.0 accepts it (checked by hand). Beware that
// RFC 8894's keyword table says "AES" means AES128-CBC and section 3.5.2
// recommends AES128-CBC for interoperability, so a strictly minimal CA could
// refuse AES-256; force "aes128" for such a CA.
// Fails with kInvalidArgument naming an unknown forced name, or saying that
// legacy algorithms must be enabled for a forced des, blowfish or md5.
Result<Algorithms> ChooseAlgorithms(const CaCaps& caps, const AlgorithmPolicy& policy);

}  // namespace scepd::scep
