#include "core/cert_info.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <limits>
#include <span>
#include <utility>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/der.h"
#include "core/key.h"
#include "core/renewal_policy.h"
#include "core/subject.h"

namespace scepd {

std::string SerialHex(const X509* cert) {
  return cert == nullptr ? "" : SerialHexOf(X509_get0_serialNumber(cert));
}

std::string SerialHexOf(const ASN1_INTEGER* serial) {
  if (serial == nullptr) return "";
  // i2a_ASN1_INTEGER: sign, then the magnitude's content bytes in hex.
  std::string out = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER ? "-" : "";
  const int len = ASN1_STRING_length(serial);
  if (len <= 0) return out + "00";
  return out + HexEncode(std::span<const std::uint8_t>(ASN1_STRING_get0_data(serial),
                                                       static_cast<std::size_t>(len)));
}

// OpenSSL's calendar arithmetic (days and seconds as separate ints), so
// nothing wider than 2038 meets time_t.
Result<std::int64_t> EpochSeconds(const ASN1_TIME* t, const char* what) {
  if (t == nullptr) return MakeError(ErrorCode::kParse, std::string("certificate ") + what + ": missing");
  ossl::Ptr<ASN1_STRING> epoch(ASN1_TIME_set(nullptr, 0));
  int days = 0;
  int seconds = 0;
  if (!epoch || ASN1_TIME_diff(&days, &seconds, epoch.get(), t) != 1) {
    return OpenSslError(ErrorCode::kParse, std::string("certificate ") + what + ": malformed time");
  }
  return static_cast<std::int64_t>(days) * 86400 + seconds;
}

Result<std::int64_t> NotBefore(const X509* cert) {
  if (cert == nullptr) return MakeError(ErrorCode::kParse, "certificate notBefore: no certificate");
  return EpochSeconds(X509_get0_notBefore(cert), "notBefore");
}

Result<std::int64_t> NotAfter(const X509* cert) {
  if (cert == nullptr) return MakeError(ErrorCode::kParse, "certificate notAfter: no certificate");
  return EpochSeconds(X509_get0_notAfter(cert), "notAfter");
}

std::string SubjectString(const X509* cert) {
  return cert == nullptr ? "" : FormatSubject(X509_get_subject_name(cert));
}

std::string IssuerString(const X509* cert) {
  return cert == nullptr ? "" : FormatSubject(X509_get_issuer_name(cert));
}

std::string KeyUsageString(const X509* cert) {
  if (cert == nullptr) return "(none)";
  int critical = 0;
  ossl::Ptr<ASN1_STRING> bits(
      static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(cert, NID_key_usage, &critical, nullptr)));
  if (!bits) {
    ClearOpenSslErrors();
    return critical == -1 ? "(none)" : "(invalid)";
  }
  // RFC 5280 section 4.2.1.3, bit 0 first; the words `openssl x509 -text` uses.
  static constexpr std::array<const char*, 9> kNames = {
      "Digital Signature", "Non Repudiation", "Key Encipherment",
      "Data Encipherment", "Key Agreement",   "Certificate Sign",
      "CRL Sign",          "Encipher Only",   "Decipher Only"};
  std::string out;
  for (std::size_t bit = 0; bit < kNames.size(); ++bit) {
    if (ASN1_BIT_STRING_get_bit(bits.get(), static_cast<int>(bit)) != 1) continue;
    if (!out.empty()) out += ", ";
    out += kNames[bit];
  }
  return out.empty() ? "(none)" : out;
}

Result<std::string> Fingerprint(const X509* cert, std::string_view digest) {
  static constexpr std::array<std::string_view, 6> kAllowed = {"md5",    "sha1",   "sha224",
                                                               "sha256", "sha384", "sha512"};
  std::string name(digest);
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  bool allowed = false;
  for (std::string_view a : kAllowed) allowed = allowed || a == name;
  if (!allowed) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "fingerprint digest '" + std::string(digest) +
                         "' is not one of md5, sha1, sha224, sha256, sha384, sha512");
  }
  if (cert == nullptr) return MakeError(ErrorCode::kInvalidArgument, "fingerprint: no certificate");
  ossl::Ptr<EVP_MD> md(EVP_MD_fetch(nullptr, name.c_str(), nullptr));
  if (!md) return OpenSslError(ErrorCode::kCrypto, "fingerprint: " + name + " unavailable");
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> buf{};
  unsigned int len = 0;
  if (X509_digest(cert, md.get(), buf.data(), &len) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "fingerprint: hashing certificate");
  }
  return HexEncode(std::span<const std::uint8_t>(buf.data(), len), ':');
}

namespace {

// Modulus and public exponent from the start of an RSAPublicKey or (after
// the version) an RSAPrivateKey sequence body.
std::optional<std::pair<std::span<const std::uint8_t>, std::span<const std::uint8_t>>>
ModulusAndExponent(std::span<const std::uint8_t> body) {
  auto n = der::Read(body);
  if (!n || n->tag != der::kInteger) return std::nullopt;
  auto e = der::Read(n->rest);
  if (!e || e->tag != der::kInteger) return std::nullopt;
  return std::make_pair(n->content, e->content);
}

bool SameBytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

std::span<const std::uint8_t> RsaPublicKeyDer(const X509* cert) noexcept {
  if (cert == nullptr) return {};
  X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  ASN1_OBJECT* spki_alg = nullptr;
  const unsigned char* pub = nullptr;
  int pub_len = 0;
  if (spki == nullptr ||
      X509_PUBKEY_get0_param(&spki_alg, &pub, &pub_len, nullptr, spki) != 1 ||
      OBJ_obj2nid(spki_alg) != NID_rsaEncryption || pub == nullptr || pub_len <= 0) {
    ClearOpenSslErrors();
    return {};
  }
  return {pub, static_cast<std::size_t>(pub_len)};
}

std::optional<bool> RsaKeyPemMatchesCert(const X509* cert, std::string_view key_pem) noexcept {
  const std::span<const std::uint8_t> pub = RsaPublicKeyDer(cert);
  if (pub.empty()) return std::nullopt;
  return RsaKeyPemMatches(pub, key_pem);
}

std::optional<bool> RsaKeyPemMatches(std::span<const std::uint8_t> rsa_public_key,
                                     std::string_view key_pem) noexcept {
  auto pub_seq = der::Expect(rsa_public_key, der::kSequence);
  if (!pub_seq) return std::nullopt;
  auto cert_ne = ModulusAndExponent(pub_seq->content);
  if (!cert_ne) return std::nullopt;

  // The key file: base64 to DER (no decoders involved), then PKCS#8.
  ossl::Ptr<BIO> bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  if (!bio) return std::nullopt;
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* der = nullptr;
  long der_len = 0;  // NOLINT(runtime/int): OpenSSL's type
  if (PEM_read_bio(bio.get(), &name, &header, &der, &der_len) != 1) {
    ClearOpenSslErrors();
    return std::nullopt;
  }
  const bool pkcs8 = std::string_view(name) == "PRIVATE KEY" && header[0] == '\0';
  OPENSSL_free(name);
  OPENSSL_free(header);
  std::optional<bool> verdict;
  if (pkcs8) {
    const unsigned char* p = der;
    PKCS8_PRIV_KEY_INFO* info = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, der_len);
    const ASN1_OBJECT* key_alg = nullptr;
    const unsigned char* pk = nullptr;
    int pk_len = 0;
    if (info != nullptr && PKCS8_pkey_get0(&key_alg, &pk, &pk_len, nullptr, info) == 1 &&
        OBJ_obj2nid(key_alg) == NID_rsaEncryption && pk != nullptr && pk_len > 0) {
      // RSAPrivateKey ::= SEQUENCE { version, modulus, publicExponent, ... }
      auto seq = der::Read({pk, static_cast<std::size_t>(pk_len)});
      auto version = seq && seq->tag == der::kSequence ? der::Read(seq->content) : std::nullopt;
      auto key_ne = version && version->tag == der::kInteger ? ModulusAndExponent(version->rest)
                                                           : std::nullopt;
      if (key_ne) {
        verdict = SameBytes(key_ne->first, cert_ne->first) &&
                  SameBytes(key_ne->second, cert_ne->second);
      }
    }
    PKCS8_PRIV_KEY_INFO_free(info);
  }
  OPENSSL_clear_free(der, static_cast<std::size_t>(der_len));
  ClearOpenSslErrors();
  return verdict;
}

bool KeyMatchesCert(const X509* cert, const EVP_PKEY* key) noexcept {
  if (cert == nullptr || key == nullptr) return false;
  const EVP_PKEY* cert_key = X509_get0_pubkey(cert);
  if (cert_key == nullptr) {
    ClearOpenSslErrors();
    return false;
  }
  return SamePublicKey(cert_key, key);
}

namespace {

// The values of one attribute type in a name, as UTF-8, in order; with
// nid == NID_undef every entry as "OID=value".
std::vector<std::string> NameValues(const X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
    if (nid != NID_undef && OBJ_obj2nid(obj) != nid) continue;
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    std::string value = n >= 0 ? std::string(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n)) : "";
    OPENSSL_free(utf8);
    if (nid == NID_undef) {
      char oid[80];
      OBJ_obj2txt(oid, sizeof(oid), obj, 1);
      value = std::string(oid) + "=" + value;
    }
    out.push_back(std::move(value));
  }
  ClearOpenSslErrors();
  return out;
}

// Is `issued` the subject we asked for? CAs reorder attributes (micromdm
// puts O before CN) and profiles rewrite the rest of the name, so the
// request's common names must all be there; a request without a CN must
// come back with the same attributes in any order.
bool SameIdentity(const X509_NAME* issued, const X509_NAME* wanted) {
  std::vector<std::string> want = NameValues(wanted, NID_commonName);
  std::vector<std::string> have = NameValues(issued, NID_commonName);
  if (want.empty()) {
    want = NameValues(wanted, NID_undef);
    have = NameValues(issued, NID_undef);
    std::sort(want.begin(), want.end());
    std::sort(have.begin(), have.end());
    return want == have;
  }
  return std::all_of(want.begin(), want.end(), [&](const std::string& cn) {
    return std::find(have.begin(), have.end(), cn) != have.end();
  });
}

}  // namespace

Status CheckIssuedCertificate(const X509* issued, const X509_REQ* request, std::int64_t now) {
  if (issued == nullptr || request == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "no certificate or request to check");
  }
  const X509_NAME* wanted = X509_REQ_get_subject_name(request);
  if (!SameIdentity(X509_get_subject_name(issued), wanted)) {
    return MakeError(ErrorCode::kVerify, "the CA issued a certificate for " +
                                             SubjectString(issued) + ", not the requested " +
                                             FormatSubject(wanted));
  }
  auto not_after = NotAfter(issued);
  if (!not_after.ok()) {
    return MakeError(ErrorCode::kParse, "the CA issued a certificate that has no readable notAfter");
  }
  if (*not_after <= now) {
    return MakeError(ErrorCode::kVerify,
                     "the CA issued a certificate that expired at " + FormatUtc(*not_after));
  }
  return {};
}

Status VerifyIssuedCertificate(X509* issued, const std::vector<X509*>& held) {
  if (issued == nullptr) return MakeError(ErrorCode::kInvalidArgument, "no certificate to verify");
  auto refused = [](const std::string& why) {
    return MakeError(ErrorCode::kVerify,
                     "the issued certificate does not verify against the CA certificates held: " +
                         why);
  };
  if (held.empty()) return refused("no CA certificate is held");
  ossl::Ptr<X509_STORE> store(X509_STORE_new());
  if (!store) return MakeError(ErrorCode::kCrypto, "out of memory for a certificate store");
  for (X509* ca : held) {
    if (ca != nullptr && X509_STORE_add_cert(store.get(), ca) != 1) {
      ClearOpenSslErrors();
      return MakeError(ErrorCode::kCrypto, "cannot add a CA certificate to the store");
    }
  }
  ossl::Ptr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), issued, nullptr) != 1) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kCrypto, "cannot set up the certificate verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  auto not_before = NotBefore(issued);
  auto not_after = NotAfter(issued);
  if (!not_before.ok() || !not_after.ok()) return refused("its validity does not read");
  // The certificate's notBefore, or later when a CA certificate starts later
  // (a CA may backdate what it issues), as long as the certificate is valid.
  std::int64_t at = *not_before;
  for (X509* ca : held) {
    auto ca_from = ca != nullptr ? NotBefore(ca) : Result<std::int64_t>(std::int64_t{0});
    if (ca_from.ok() && *ca_from > at && *ca_from < *not_after) at = *ca_from;
  }
  ClearOpenSslErrors();
  if (at >= 0 && static_cast<std::uint64_t>(at) <=
                     static_cast<std::uint64_t>(std::numeric_limits<std::time_t>::max())) {
    X509_VERIFY_PARAM_set_time(param, static_cast<std::time_t>(at));
  } else {
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
  }
  if (X509_verify_cert(ctx.get()) == 1) return {};
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ClearOpenSslErrors();
  return refused(X509_verify_cert_error_string(err));
}

}  // namespace scepd
