#include "core/scep/ca_certs.h"

#include <cctype>
#include <optional>
#include <string>
#include <utility>

#include "core/scep/certs_only.h"

namespace scepd::scep {

namespace {

constexpr std::string_view kCaCertType = "application/x-x509-ca-cert";
constexpr std::string_view kCaRaCertType = "application/x-x509-ca-ra-cert";

bool IsCa(X509* cert) { return X509_check_ca(cert) != 0; }

bool AllowsUsage(X509* cert, std::uint32_t bit) {
  // X509_get_key_usage reports every bit set when the extension is absent.
  return (X509_get_key_usage(cert) & bit) != 0;
}

std::size_t ChooseCa(const std::vector<ossl::Ptr<X509>>& all, const std::vector<bool>& is_ca) {
  const std::size_t n = all.size();
  std::optional<std::size_t> best;
  std::size_t best_count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_ca[i]) continue;
    std::size_t count = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (!is_ca[j] && IssuedBy(all[i].get(), all[j].get())) ++count;
    }
    if (count > best_count) {
      best = i;
      best_count = count;
    }
  }
  if (best) return *best;
  // No CA certificate issued a non-CA one: take the lowest CA of the chain.
  std::optional<std::size_t> first_ca;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_ca[i]) continue;
    if (!first_ca) first_ca = i;
    bool issued_another_ca = false;
    for (std::size_t j = 0; j < n && !issued_another_ca; ++j) {
      issued_another_ca = is_ca[j] && IssuedBy(all[i].get(), all[j].get());
    }
    if (!issued_another_ca) return i;
  }
  return *first_ca;  // every CA issued another (cross-certified): the first one
}

// The first of `ra` allowing `bit`, if any.
std::optional<std::size_t> FirstAllowing(const std::vector<ossl::Ptr<X509>>& all,
                                         const std::vector<std::size_t>& ra, std::uint32_t bit) {
  for (std::size_t i : ra) {
    if (AllowsUsage(all[i].get(), bit)) return i;
  }
  return std::nullopt;
}

// An RA certificate other than `other` if there is one, else `fallback`.
std::size_t OtherRa(const std::vector<std::size_t>& ra, std::optional<std::size_t> other,
                    std::size_t fallback) {
  for (std::size_t i : ra) {
    if (!other || i != *other) return i;
  }
  return fallback;
}

// SelectCaRoles with `what` ("GetCACert") in front of its error messages.
Result<CaCertificates> SelectRolesFor(std::string_view what, std::vector<ossl::Ptr<X509>> certs) {
  auto roles = SelectCaRoles(std::move(certs));
  if (!roles.ok()) {
    Error e = std::move(roles).error();
    e.message = std::string(what) + ": " + e.message;
    return e;
  }
  return roles;
}

std::string NormalizeContentType(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) {
    type.remove_prefix(1);
  }
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) {
    type.remove_suffix(1);
  }
  std::string out(type);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool LooksLikePem(std::span<const std::uint8_t> body) {
  std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  return text.find("-----BEGIN") != std::string_view::npos;
}

std::optional<std::vector<ossl::Ptr<X509>>> TryPem(std::span<const std::uint8_t> body) {
  if (!LooksLikePem(body)) return std::nullopt;
  std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  auto certs = ossl::CertsFromPem(text, "GetCACert");
  if (!certs.ok()) return std::nullopt;
  return std::move(certs).value();
}

std::optional<std::vector<ossl::Ptr<X509>>> TryDerCert(std::span<const std::uint8_t> body) {
  auto cert = ossl::CertFromDer(body, "GetCACert");
  if (!cert.ok()) return std::nullopt;
  std::vector<ossl::Ptr<X509>> out;
  out.push_back(std::move(cert).value());
  return out;
}

std::optional<std::vector<ossl::Ptr<X509>>> TryCertsOnly(std::span<const std::uint8_t> body) {
  auto p7 = ParseCertsOnly(body);
  if (!p7.ok()) return std::nullopt;
  return std::move(p7->certs);
}

}  // namespace

bool IssuedBy(X509* issuer, X509* subject) {
  if (issuer == nullptr || subject == nullptr || issuer == subject) return false;
  bool ok = X509_check_issued(issuer, subject) == X509_V_OK;
  if (ok) {
    EVP_PKEY* key = X509_get0_pubkey(issuer);
    ok = key != nullptr && X509_verify(subject, key) == 1;
  }
  ClearOpenSslErrors();
  return ok;
}

X509* CaCertificates::Ca() const noexcept { return ca < all.size() ? all[ca].get() : nullptr; }

X509* CaCertificates::Encryption() const noexcept {
  return encryption < all.size() ? all[encryption].get() : nullptr;
}

X509* CaCertificates::Signer() const noexcept {
  return signer < all.size() ? all[signer].get() : nullptr;
}

const X509_NAME* CaCertificates::IssuingCaName() const noexcept {
  X509* ca_cert = Ca();
  if (ca_cert == nullptr) return nullptr;
  if (!ra.empty() && ra.front() < all.size()) return X509_get_issuer_name(all[ra.front()].get());
  if (!IsCa(ca_cert)) return X509_get_issuer_name(ca_cert);
  return X509_get_subject_name(ca_cert);
}

std::vector<X509*> CaCertificates::Trusted() const {
  std::vector<X509*> out;
  if (X509* c = Ca()) out.push_back(c);
  for (std::size_t i : ra) {
    if (i < all.size() && i != ca) out.push_back(all[i].get());
  }
  return out;
}

Result<CaCertificates> SelectCaRoles(std::vector<ossl::Ptr<X509>> certs) {
  CaCertificates out;
  out.all = std::move(certs);
  const std::size_t n = out.all.size();
  if (n == 0) return MakeError(ErrorCode::kParse, "CA certificates: none received");
  for (const auto& c : out.all) {
    if (!c) return MakeError(ErrorCode::kInternal, "CA certificates: null certificate");
  }
  if (n == 1) return out;

  std::vector<bool> is_ca(n);
  bool any_ca = false;
  for (std::size_t i = 0; i < n; ++i) {
    is_ca[i] = IsCa(out.all[i].get());
    any_ca = any_ca || is_ca[i];
  }
  if (!any_ca) {
    return MakeError(ErrorCode::kParse, "CA certificates: none of the " + std::to_string(n) +
                                            " certificates is a CA (basicConstraints CA:TRUE)");
  }
  out.ca = ChooseCa(out.all, is_ca);
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_ca[i] && IssuedBy(out.all[out.ca].get(), out.all[i].get())) out.ra.push_back(i);
  }
  if (out.ra.empty()) {
    out.encryption = out.signer = out.ca;
    return out;
  }
  std::optional<std::size_t> enc = FirstAllowing(out.all, out.ra, KU_KEY_ENCIPHERMENT);
  std::optional<std::size_t> sig = FirstAllowing(out.all, out.ra, KU_DIGITAL_SIGNATURE);
  if (!enc) enc = OtherRa(out.ra, sig, sig ? *sig : out.ra.front());
  if (!sig) sig = OtherRa(out.ra, enc, *enc);
  out.encryption = *enc;
  out.signer = *sig;
  return out;
}

Result<CaCertificates> RaRolesWithoutCa(std::vector<ossl::Ptr<X509>> certs) {
  CaCertificates out;
  out.all = std::move(certs);
  if (out.all.empty()) return MakeError(ErrorCode::kParse, "RA certificates: none given");
  for (const auto& c : out.all) {
    if (!c) return MakeError(ErrorCode::kInternal, "RA certificates: null certificate");
    if (IsCa(c.get())) {
      return MakeError(ErrorCode::kParse, "RA certificates: a CA certificate is among them");
    }
    if (X509_NAME_cmp(X509_get_issuer_name(c.get()), X509_get_issuer_name(out.all[0].get())) !=
        0) {
      return MakeError(ErrorCode::kParse, "RA certificates: they have different issuers");
    }
  }
  for (std::size_t i = 0; i < out.all.size(); ++i) out.ra.push_back(i);
  out.ca = out.signer = out.encryption = 0;
  for (std::size_t i = 1; i < out.all.size(); ++i) {
    if (AllowsUsage(out.all[i].get(), KU_KEY_ENCIPHERMENT)) {
      out.encryption = i;
      break;
    }
  }
  return out;
}

Result<CaCertificates> ParseGetCaCert(std::string_view content_type,
                                      std::span<const std::uint8_t> body) {
  if (body.empty()) return MakeError(ErrorCode::kParse, "GetCACert: body is empty");
  const std::string type = NormalizeContentType(content_type);

  std::optional<std::vector<ossl::Ptr<X509>>> certs;
  if (type == kCaRaCertType) {
    certs = TryCertsOnly(body);
    if (!certs) certs = TryPem(body);
    if (!certs) certs = TryDerCert(body);
  } else {
    // application/x-x509-ca-cert, or a type we do not know: sniff.
    certs = TryPem(body);
    if (!certs) certs = TryDerCert(body);
    if (!certs) certs = TryCertsOnly(body);
  }
  ClearOpenSslErrors();
  if (!certs) {
    std::string message = "GetCACert: neither a DER certificate nor a PKCS#7 certs-only message";
    if (!type.empty()) message += " (Content-Type " + type + ")";
    return MakeError(ErrorCode::kParse, std::move(message));
  }
  if (certs->empty()) {
    return MakeError(ErrorCode::kParse, "GetCACert: the PKCS#7 certs-only message holds no certificate");
  }
  return SelectRolesFor("GetCACert", std::move(*certs));
}

Result<CaCertificates> ParseGetNextCaCert(std::span<const std::uint8_t> body,
                                          const CaCertificates& current) {
  std::vector<X509*> trusted = current.Trusted();
  if (trusted.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "GetNextCACert: no current CA certificate to verify the answer with");
  }
  if (body.empty()) return MakeError(ErrorCode::kParse, "GetNextCACert: body is empty");

  const unsigned char* p = body.data();
  ossl::Ptr<CMS_ContentInfo> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(body.size())));  // NOLINT(runtime/int)
  if (!cms) return OpenSslError(ErrorCode::kParse, "GetNextCACert: not a DER CMS message");
  if (p != body.data() + body.size()) {
    return MakeError(ErrorCode::kParse, "GetNextCACert: trailing bytes after the CMS message");
  }
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    return MakeError(ErrorCode::kParse, "GetNextCACert: not a CMS SignedData");
  }
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
  if (signers == nullptr || sk_CMS_SignerInfo_num(signers) == 0) {
    return MakeError(ErrorCode::kVerify, "GetNextCACert: the answer is not signed");
  }
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  if (content == nullptr || *content == nullptr) {
    return MakeError(ErrorCode::kParse, "GetNextCACert: the SignedData has no content");
  }

  ossl::X509StackView certs = ossl::MakeX509StackView(trusted);
  ossl::Ptr<BIO> out(BIO_new(BIO_s_mem()));
  if (!certs || !out) return OpenSslError(ErrorCode::kCrypto, "GetNextCACert: out of memory");
  // CMS_NOINTERN: only the current CA/RA certificates may have signed.
  // CMS_NO_SIGNER_CERT_VERIFY: no chain or purpose check (a CA certificate
  // with only keyCertSign must still verify). CMS_BINARY: no MIME munging.
  const unsigned int flags = CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY;
  if (CMS_verify(cms.get(), certs.get(), nullptr, nullptr, out.get(), flags) != 1) {
    return OpenSslError(ErrorCode::kVerify,
                        "GetNextCACert: signature does not verify with the current CA/RA "
                        "certificates");
  }

  Bytes inner = ossl::BioToBytes(out.get());
  auto next = ParseCertsOnly(inner);
  if (!next.ok()) {
    return MakeError(ErrorCode::kParse, "GetNextCACert: content: " + next.error().message);
  }
  if (next->certs.empty()) {
    return MakeError(ErrorCode::kParse, "GetNextCACert: the content holds no certificate");
  }
  return SelectRolesFor("GetNextCACert", std::move(next->certs));
}

}  // namespace scepd::scep
