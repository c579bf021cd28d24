#pragma once
// The private-key URL of the Tectia command lines (-P): either an existing
// key file, or generate://savetype[:passphrase]@keytype:bits/prefix, which
// asks for a new key pair saved as prefix.prv in the format `savetype`.

#include <string>
#include <string_view>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd::tectia {

enum class KeySaveType { kPkcs1, kPkcs8, kPkcs8Shrouded };

struct KeyUrl {
  bool generate = false;
  // generate:// only.
  KeySaveType save_type = KeySaveType::kPkcs8;
  std::string passphrase;  // pkcs8s only; a secret: wipe it (core/wipe.h)
  bool passphrase_ignored = false;  // pkcs1/pkcs8 given one: they are saved unencrypted
  int bits = 0;            // RSA modulus size
  std::string ec_curve;    // "P-256", "P-384" or "P-521" for @ec:curve; empty for rsa
  std::string prefix;      // the key is saved as prefix + ".prv"
  // Otherwise: the key file (a plain path or file:///path).
  std::string path;

  // Where a generated key is saved: prefix + ".prv".
  std::string SavePath() const { return prefix + ".prv"; }
};

// Parses -P. Savetypes pkcs1 (PKCS#1 RSAPrivateKey PEM), pkcs8 (plain
// PKCS#8 PEM) and pkcs8s (PKCS#8 encrypted with the passphrase, required);
// a passphrase given to pkcs1 or pkcs8 (as the vendor's manual does) is
// dropped and passphrase_ignored set, for the caller to warn;
// ssh2, ssh1, ssh and x509 are formats of the vendor's own libraries and
// are refused saying so (kUnsupported). The key type must be rsa, bits within
// [kMinRsaBits, kMaxRsaBits] (core/key.h), or ec with a curve P-256, P-384,
// P-521 (OpenSSL's names too; callers whose protocol needs RSA refuse it),
// the prefix non-empty. Fails with
// kInvalidArgument naming the part at fault; the message never quotes the
// passphrase.
Result<KeyUrl> ParseKeyUrl(std::string_view text);

// The PEM text of `key` (borrowed) in the savetype of `url`. The returned
// string holds the private key: wipe it after writing.
Result<std::string> EncodeKey(EVP_PKEY* key, const KeyUrl& url);

// Where in `text` (a -P argument) the passphrase sits, so that it can be
// hidden from ps: [first, first + length). length 0 when there is none.
struct Span {
  std::size_t first = 0;
  std::size_t length = 0;
};
Span PassphraseSpan(std::string_view text);

}  // namespace scepd::tectia
