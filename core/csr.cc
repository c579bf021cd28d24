#include "core/csr.h"

#include <openssl/objects.h>
#include <openssl/rand.h>

#include <array>
#include <optional>
#include <utility>

#include "core/alt_name.h"
#include "core/key.h"
#include "core/subject.h"

namespace scepd {
namespace {

// Microsoft "Certificate Template Name" (szOID_ENROLL_CERTTYPE_EXTENSION).
constexpr const char* kTemplateNameOid = "1.3.6.1.4.1.311.20.2";
// PKCS#9: ub-challengePassword.
constexpr std::size_t kMaxChallengePasswordChars = 255;
// 9999-12-31T23:59:59Z, the last instant a GeneralizedTime can hold.
constexpr std::int64_t kLastX509Second = 253402300799;

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

Result<ossl::Ptr<EVP_MD>> FetchDigest(const std::string& digest) {
  ossl::Ptr<EVP_MD> md;
  if (!digest.empty() && digest.find('\0') == std::string::npos) {
    md.reset(EVP_MD_fetch(nullptr, digest.c_str(), nullptr));
  }
  if (!md) {
    ClearOpenSslErrors();
    return Invalid("digest '" + digest + "': unknown or unavailable");
  }
  return md;
}

// Appends an extension we own to `exts`.
Status Push(STACK_OF(X509_EXTENSION) * exts, ossl::Ptr<X509_EXTENSION> ext, const char* what) {
  if (!ext) return OpenSslError(ErrorCode::kInternal, std::string("encoding ") + what);
  if (sk_X509_EXTENSION_push(exts, ext.get()) <= 0) {
    return OpenSslError(ErrorCode::kInternal, std::string("adding ") + what);
  }
  ext.release();
  return {};
}

Status AddAltNames(STACK_OF(X509_EXTENSION) * exts, const std::string& text) {
  auto names = ParseAltNames(text);
  if (!names.ok()) {
    Error error = std::move(names).error();
    error.message = "alt_name: " + error.message;
    return error;
  }
  if (sk_GENERAL_NAME_num(names->get()) == 0) return {};
  return Push(exts, ossl::Ptr<X509_EXTENSION>(X509V3_EXT_i2d(NID_subject_alt_name, 0, names->get())),
              "subjectAltName");
}

Result<ossl::Ptr<ASN1_STRING>> TemplateNameBmp(std::string_view name) {
  ASN1_STRING* raw = nullptr;
  if (name.size() > 4096 ||
      ASN1_mbstring_copy(&raw, reinterpret_cast<const unsigned char*>(name.data()),
                         static_cast<int>(name.size()), MBSTRING_UTF8, B_ASN1_BMPSTRING) < 0) {
    ClearOpenSslErrors();
    return Invalid("template_name: '" + std::string(name) +
                   "' is not UTF-8 that fits a BMPString (no characters beyond U+FFFF)");
  }
  return ossl::Ptr<ASN1_STRING>(raw);
}

Status AddTemplateName(STACK_OF(X509_EXTENSION) * exts, const std::string& name) {
  if (name.empty()) return {};
  SCEPD_TRY(ossl::Ptr<ASN1_STRING> bmp, TemplateNameBmp(name));
  unsigned char* der = nullptr;
  const int der_len = i2d_ASN1_BMPSTRING(bmp.get(), &der);
  if (der_len <= 0) return OpenSslError(ErrorCode::kInternal, "template_name: encoding");
  ossl::Ptr<ASN1_STRING> octets(ASN1_OCTET_STRING_new());
  const bool set = octets && ASN1_OCTET_STRING_set(octets.get(), der, der_len) == 1;
  OPENSSL_free(der);
  if (!set) return OpenSslError(ErrorCode::kInternal, "template_name: encoding");
  ossl::Ptr<ASN1_OBJECT> oid(OBJ_txt2obj(kTemplateNameOid, 1));
  if (!oid) return OpenSslError(ErrorCode::kInternal, "template_name: OID");
  return Push(exts,
              ossl::Ptr<X509_EXTENSION>(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0,
                                                                     octets.get())),
              "certificate template extension");
}

Status AddKeyUsage(STACK_OF(X509_EXTENSION) * exts, const CsrSpec& spec) {
  unsigned bits = spec.key_usage_bits & 0x1FFu;
  if (spec.digital_signature) bits |= 1u << 0;
  if (spec.key_encipherment) bits |= 1u << 2;
  if (bits == 0) return {};
  ossl::Ptr<ASN1_STRING> bit_string(ASN1_BIT_STRING_new());
  if (!bit_string) return OpenSslError(ErrorCode::kInternal, "keyUsage");
  // Bit numbers from RFC 5280 section 4.2.1.3.
  for (int n = 0; n < 9; ++n) {
    if ((bits & (1u << n)) != 0 && ASN1_BIT_STRING_set_bit(bit_string.get(), n, 1) != 1) {
      return OpenSslError(ErrorCode::kInternal, "keyUsage");
    }
  }
  return Push(exts, ossl::Ptr<X509_EXTENSION>(X509V3_EXT_i2d(NID_key_usage, 1, bit_string.get())),
              "keyUsage");
}

// Adds `obj` (taken) to `eku` unless an equal OID is there already.
Status AddPurpose(EXTENDED_KEY_USAGE* eku, ossl::Ptr<ASN1_OBJECT> obj) {
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) {
    if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), obj.get()) == 0) return {};
  }
  if (sk_ASN1_OBJECT_push(eku, obj.get()) <= 0) {
    return OpenSslError(ErrorCode::kInternal, "extended key usage");
  }
  obj.release();
  return {};
}

Status AddExtendedKeyUsage(STACK_OF(X509_EXTENSION) * exts, const CsrSpec& spec) {
  ossl::Ptr<EXTENDED_KEY_USAGE> eku(sk_ASN1_OBJECT_new_null());
  if (!eku) return OpenSslError(ErrorCode::kInternal, "extended key usage");
  if (spec.server_auth) {
    SCEPD_TRY_STATUS(AddPurpose(eku.get(), ossl::Ptr<ASN1_OBJECT>(OBJ_nid2obj(NID_server_auth))));
  }
  if (spec.client_auth) {
    SCEPD_TRY_STATUS(AddPurpose(eku.get(), ossl::Ptr<ASN1_OBJECT>(OBJ_nid2obj(NID_client_auth))));
  }
  for (const std::string& name : spec.extra_ekus) {
    ossl::Ptr<ASN1_OBJECT> obj = ossl::ObjectFromText(name);
    if (!obj) {
      return Invalid("extended key usage '" + name + "': unknown name or OID");
    }
    SCEPD_TRY_STATUS(AddPurpose(eku.get(), std::move(obj)));
  }
  if (sk_ASN1_OBJECT_num(eku.get()) == 0) return {};
  return Push(exts,
              ossl::Ptr<X509_EXTENSION>(X509V3_EXT_i2d(NID_ext_key_usage, 0, eku.get())),
              "extendedKeyUsage");
}

// X.680 PrintableString: letters, digits, space and '()+,-./:=?.
bool IsPrintableString(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    std::string_view(" '()+,-./:=?").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Number of characters in `s`, or nothing if it is not valid UTF-8.
std::optional<std::size_t> Utf8Length(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t chars = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned long code_point = 0;  // NOLINT(runtime/int): OpenSSL's type
    const int n = UTF8_getc(p + i, static_cast<int>(s.size() - i), &code_point);
    if (n <= 0) return std::nullopt;
    i += static_cast<std::size_t>(n);
    ++chars;
  }
  return chars;
}

Status AddChallengePassword(X509_REQ* req, const std::string& password) {
  if (password.empty()) return {};
  // No copies of the secret here: OpenSSL copies straight from `password`.
  SCEPD_TRY_STATUS(CheckChallengePassword(password));
  const int type = IsPrintableString(password) ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
  if (X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, type,
                                reinterpret_cast<const unsigned char*>(password.data()),
                                static_cast<int>(password.size())) != 1) {
    return OpenSslError(ErrorCode::kInternal, "challenge_password: adding attribute");
  }
  return {};
}

}  // namespace

Status CheckChallengePassword(std::string_view password) {
  const std::optional<std::size_t> chars = Utf8Length(password);
  if (!chars) return Invalid("challenge_password: not valid UTF-8");
  if (password.find('\0') != std::string_view::npos) {
    return Invalid("challenge_password: contains a NUL character");
  }
  if (*chars > kMaxChallengePasswordChars) {
    return Invalid("challenge_password: longer than 255 characters");
  }
  return {};
}

Status CheckTemplateName(std::string_view name) {
  if (name.empty()) return {};
  SCEPD_TRY(ossl::Ptr<ASN1_STRING> bmp, TemplateNameBmp(name));
  return {};
}

Result<ossl::X509ExtensionStack> BuildRequestExtensions(const CsrSpec& spec) {
  ossl::X509ExtensionStack exts(sk_X509_EXTENSION_new_null());
  if (!exts) return OpenSslError(ErrorCode::kInternal, "building request");
  SCEPD_TRY_STATUS(AddAltNames(exts.get(), spec.alt_names));
  SCEPD_TRY_STATUS(AddKeyUsage(exts.get(), spec));
  SCEPD_TRY_STATUS(AddExtendedKeyUsage(exts.get(), spec));
  SCEPD_TRY_STATUS(AddTemplateName(exts.get(), spec.template_name));
  return exts;
}

Result<ossl::Ptr<X509_REQ>> BuildCsr(const CsrSpec& spec, EVP_PKEY* key,
                                     const std::string& digest) {
  if (key == nullptr) return Invalid("request: no key");
  SCEPD_TRY(ossl::Ptr<EVP_MD> md, FetchDigest(digest));
  SCEPD_TRY(ossl::Ptr<X509_NAME> subject, ParseSubject(spec.subject));

  ossl::Ptr<X509_REQ> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), subject.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), key) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "building request");
  }

  SCEPD_TRY(ossl::X509ExtensionStack exts, BuildRequestExtensions(spec));
  if (sk_X509_EXTENSION_num(exts.get()) > 0 &&
      X509_REQ_add_extensions(req.get(), exts.get()) != 1) {
    return OpenSslError(ErrorCode::kInternal, "adding extensionRequest");
  }
  SCEPD_TRY_STATUS(AddChallengePassword(req.get(), spec.challenge_password));

  if (X509_REQ_sign(req.get(), key, md.get()) <= 0) {
    return OpenSslError(ErrorCode::kCrypto, "signing request with " + digest);
  }
  return req;
}

namespace {

// Sets `t` to `seconds` since the epoch. ASN1_TIME_adj is given the epoch
// and a day/second offset, so no date beyond 2038 passes through time_t.
bool SetTime(ASN1_TIME* t, std::int64_t seconds) {
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  return ASN1_TIME_adj(t, 0, static_cast<int>(days), static_cast<long>(rest)) !=  // NOLINT
         nullptr;
}

}  // namespace

Result<ossl::Ptr<X509>> MakeSelfSignedCert(X509_REQ* req, EVP_PKEY* key,
                                           const std::string& digest, std::int64_t now) {
  if (req == nullptr || key == nullptr) return Invalid("self-signed certificate: no request or key");
  EVP_PKEY* public_key = X509_REQ_get0_pubkey(req);
  if (public_key == nullptr) {
    ClearOpenSslErrors();
    return Invalid("self-signed certificate: the request has no usable public key");
  }
  if (!SamePublicKey(public_key, key)) {
    return Invalid("self-signed certificate: the key does not match the request's public key");
  }
  SCEPD_TRY(ossl::Ptr<EVP_MD> md, FetchDigest(digest));
  if (now < 0 || now > kLastX509Second - 86400) {
    return Invalid("self-signed certificate: time " + std::to_string(now) + " out of range");
  }

  // A positive, non-zero 63-bit serial.
  std::array<unsigned char, 8> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "self-signed certificate: random serial");
  }
  std::int64_t serial = 0;
  for (unsigned char b : random) serial = (serial << 8) | b;
  serial &= INT64_MAX;
  if (serial == 0) serial = 1;

  ossl::Ptr<X509> cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set_int64(X509_get_serialNumber(cert.get()), serial) != 1 ||
      X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(req)) != 1 ||
      X509_set_issuer_name(cert.get(), X509_REQ_get_subject_name(req)) != 1 ||
      X509_set_pubkey(cert.get(), public_key) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "building self-signed certificate");
  }
  if (!SetTime(X509_getm_notBefore(cert.get()), now - 3600) ||
      !SetTime(X509_getm_notAfter(cert.get()), now + 86400)) {
    return OpenSslError(ErrorCode::kInvalidArgument,
                        "self-signed certificate: time " + std::to_string(now) + " out of range");
  }
  if (X509_sign(cert.get(), key, md.get()) <= 0) {
    return OpenSslError(ErrorCode::kCrypto, "signing self-signed certificate with " + digest);
  }
  return cert;
}

}  // namespace scepd
