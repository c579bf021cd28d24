#include "cli/tectia/key_url.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <charconv>

#include "core/key.h"
#include "core/wipe.h"

namespace scepd::tectia {
namespace {

constexpr std::string_view kGenerate = "generate://";

Error Invalid(const std::string& why) {
  return MakeError(ErrorCode::kInvalidArgument, "-P: " + why);
}

// A format of the vendor's own libraries: refused as unsupported, not as a
// typing error.
Error Proprietary(const std::string& what, const char* verb, const char* instead) {
  return MakeError(ErrorCode::kUnsupported, "-P: " + what + " is a proprietary format of the SSH Tectia "
                                            "libraries, which this client does not " + verb + "; " + instead);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsGenerate(std::string_view text) {
  return text.size() >= kGenerate.size() && Lower(text.substr(0, kGenerate.size())) == kGenerate;
}

}  // namespace

Span PassphraseSpan(std::string_view text) {
  if (!IsGenerate(text)) return {};
  std::string_view rest = text.substr(kGenerate.size());
  auto at = rest.rfind('@');
  auto colon = rest.find(':');
  if (at == std::string_view::npos || colon == std::string_view::npos || colon > at) return {};
  return {kGenerate.size() + colon + 1, at - colon - 1};
}

Result<KeyUrl> ParseKeyUrl(std::string_view text) {
  KeyUrl url;
  if (text.empty()) return Invalid("empty key URL");
  if (!IsGenerate(text)) {
    constexpr std::string_view kFile = "file://";
    std::string_view path = text;
    if (path.size() > kFile.size() && Lower(path.substr(0, kFile.size())) == kFile) {
      path = path.substr(kFile.size());
    } else if (path.find("://") != std::string_view::npos) {
      return Invalid("'" + std::string(text) +
                     "': only key files and generate://savetype[:passphrase]@rsa:bits/prefix are supported");
    }
    // Tectia's external key URLs name the format before the path
    // ("file://pkcs8@/initial.prv"); PEM says it again, so it is dropped.
    if (auto at = path.find('@'); at != std::string_view::npos && path.find('/') == at + 1) {
      const std::string type = Lower(path.substr(0, at));
      if (type == "ssh2" || type == "ssh1" || type == "ssh" || type == "x509") {
        return Proprietary("key format '" + type + "'", "read", "use a PEM key file");
      }
      if (type == "pkcs1" || type == "pkcs8" || type == "pkcs8s") path = path.substr(at + 1);
    }
    if (path.empty()) return Invalid("empty key file name");
    url.path = std::string(path);
    return url;
  }
  url.generate = true;
  std::string_view rest = text.substr(kGenerate.size());
  // savetype[:passphrase]@keytype:bits/prefix; the passphrase may hold ':'
  // but not '@' followed by the rest, so split at the last '@'.
  auto at = rest.rfind('@');
  if (at == std::string_view::npos) {
    return Invalid("generate:// URL without '@keytype:bits/prefix'");
  }
  std::string_view save = rest.substr(0, at);
  std::string_view spec = rest.substr(at + 1);
  auto colon = save.find(':');
  std::string type = Lower(save.substr(0, colon));
  bool has_passphrase = colon != std::string_view::npos;
  if (has_passphrase) url.passphrase = std::string(save.substr(colon + 1));
  if (type == "pkcs1") {
    url.save_type = KeySaveType::kPkcs1;
  } else if (type == "pkcs8") {
    url.save_type = KeySaveType::kPkcs8;
  } else if (type == "pkcs8s") {
    url.save_type = KeySaveType::kPkcs8Shrouded;
  } else if (type == "ssh2" || type == "ssh1" || type == "ssh" || type == "x509") {
    return Proprietary("savetype '" + type + "'", "write", "use pkcs1, pkcs8 or pkcs8s");
  } else {
    return Invalid("unknown savetype '" + type + "' (pkcs1, pkcs8 or pkcs8s)");
  }
  if (url.save_type == KeySaveType::kPkcs8Shrouded && url.passphrase.empty()) {
    return Invalid("savetype pkcs8s needs a passphrase (generate://pkcs8s:PASSPHRASE@rsa:BITS/PREFIX)");
  }
  if (url.save_type != KeySaveType::kPkcs8Shrouded && has_passphrase) {
    // The vendor's own example gives pkcs8 a passphrase: accepted, unused.
    Wipe(url.passphrase);
    url.passphrase_ignored = true;
  }
  auto spec_colon = spec.find(':');
  auto slash = spec.find('/');
  if (spec_colon == std::string_view::npos || slash == std::string_view::npos || slash < spec_colon) {
    return Invalid("expected '@keytype:bits/prefix' after the savetype, got '@" + std::string(spec) + "'");
  }
  std::string key_type = Lower(spec.substr(0, spec_colon));
  std::string_view bits = spec.substr(spec_colon + 1, slash - spec_colon - 1);
  if (key_type == "ec") {
    const std::string curve = Lower(bits);
    if (curve == "p-256" || curve == "prime256v1") url.ec_curve = "P-256";
    if (curve == "p-384" || curve == "secp384r1") url.ec_curve = "P-384";
    if (curve == "p-521" || curve == "secp521r1") url.ec_curve = "P-521";
    if (url.ec_curve.empty()) {
      return Invalid("EC curve '" + std::string(bits) + "' is not P-256, P-384 or P-521");
    }
    url.prefix = std::string(spec.substr(slash + 1));
    if (url.prefix.empty()) return Invalid("generate:// URL without a file prefix after the curve");
    return url;
  }
  if (key_type != "rsa") {
    return Invalid("key type '" + key_type + "': rsa:bits (or ec:curve where the protocol allows it)");
  }
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), url.bits);
  if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || url.bits < kMinRsaBits ||
      url.bits > kMaxRsaBits) {
    return Invalid("key size '" + std::string(bits) + "' is not " + std::to_string(kMinRsaBits) + "-" +
                   std::to_string(kMaxRsaBits) + " bits");
  }
  url.prefix = std::string(spec.substr(slash + 1));
  if (url.prefix.empty()) return Invalid("generate:// URL without a file prefix after the bits");
  return url;
}

Result<std::string> EncodeKey(EVP_PKEY* key, const KeyUrl& url) {
  if (key == nullptr) return MakeError(ErrorCode::kInvalidArgument, "no key to save");
  if (url.save_type == KeySaveType::kPkcs8) return ossl::PrivateKeyToPem(key);
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio) bio.reset(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslError(ErrorCode::kInternal, "saving the key");
  if (url.save_type == KeySaveType::kPkcs1) {
    // The "traditional" PEM of an RSA key is RSAPrivateKey (PKCS#1); of an
    // EC key, SEC 1 ECPrivateKey.
    if (PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                             nullptr) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "encoding the key as PKCS#1");
    }
  } else {
    if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(), url.passphrase.data(),
                                      static_cast<int>(url.passphrase.size()), nullptr,
                                      nullptr) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "encoding the key as encrypted PKCS#8");
    }
  }
  Bytes der = ossl::BioToBytes(bio.get());
  std::string pem(der.begin(), der.end());
  OPENSSL_cleanse(der.data(), der.size());
  return pem;
}

}  // namespace scepd::tectia
