#include "core/cert_summary.h"

#include <openssl/x509.h>

#include <algorithm>
#include <string_view>

#include "core/cert_info.h"
#include "core/der.h"
#include "core/subject.h"

namespace scepd {

namespace {

// rsaEncryption, 1.2.840.113549.1.1.1 (RFC 8017 A.1), as OID contents.
constexpr std::uint8_t kRsaEncryption[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};

std::optional<std::int64_t> TimeOf(const der::Element& e, const char* what) {
  if (e.tag != der::kUtcTime && e.tag != der::kGeneralizedTime) return std::nullopt;
  const unsigned char* p = e.tlv.data();
  ossl::Ptr<ASN1_TIME> t(d2i_ASN1_TIME(nullptr, &p, static_cast<long>(e.tlv.size())));  // NOLINT
  if (!t) return std::nullopt;
  auto seconds = EpochSeconds(t.get(), what);
  if (!seconds.ok()) return std::nullopt;
  return *seconds;
}

// The body of the first PEM block when it is an unencrypted CERTIFICATE.
std::optional<Bytes> CertificatePemBody(std::string_view text) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  static constexpr std::string_view kCertBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kCertEnd = "-----END CERTIFICATE-----";
  const std::size_t begin = text.find(kBegin);
  if (begin == std::string_view::npos || text.compare(begin, kCertBegin.size(), kCertBegin) != 0) {
    return std::nullopt;
  }
  const std::size_t body = begin + kCertBegin.size();
  const std::size_t end = text.find(kCertEnd, body);
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view base64 = text.substr(body, end - body);
  if (base64.find_first_of(":-") != std::string_view::npos) return std::nullopt;  // headers
  auto decoded = Base64Decode(base64);
  if (!decoded.ok()) return std::nullopt;
  return std::move(*decoded);
}

}  // namespace

std::optional<CertSummary> SummarizeCertificateDer(std::span<const std::uint8_t> input) {
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
  auto cert = der::Expect(input, der::kSequence);
  if (!cert || !cert->rest.empty() || !der::WellFormed(cert->content)) return std::nullopt;
  auto tbs = der::Expect(cert->content, der::kSequence);
  auto sig_alg = tbs ? der::Expect(tbs->rest, der::kSequence) : std::nullopt;
  auto sig = sig_alg ? der::Expect(sig_alg->rest, der::kBitString) : std::nullopt;
  if (!sig || !sig->rest.empty()) return std::nullopt;

  // TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1,
  //   serialNumber, signature, issuer, validity, subject,
  //   subjectPublicKeyInfo, ... } (RFC 5280 4.1)
  auto field = der::Read(tbs->content);
  if (field && field->tag == der::kExplicit0) field = der::Read(field->rest);
  auto serial = field && field->tag == der::kInteger ? field : std::nullopt;
  auto signature = serial ? der::Expect(serial->rest, der::kSequence) : std::nullopt;
  auto issuer = signature ? der::Expect(signature->rest, der::kSequence) : std::nullopt;
  auto validity = issuer ? der::Expect(issuer->rest, der::kSequence) : std::nullopt;
  auto subject = validity ? der::Expect(validity->rest, der::kSequence) : std::nullopt;
  auto spki = subject ? der::Expect(subject->rest, der::kSequence) : std::nullopt;
  if (!spki) return std::nullopt;

  CertSummary out;
  const unsigned char* p = serial->tlv.data();
  ossl::Ptr<ASN1_INTEGER> number(
      d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(serial->tlv.size())));  // NOLINT
  if (!number) return std::nullopt;
  out.serial = SerialHexOf(number.get());

  p = subject->tlv.data();
  ossl::Ptr<X509_NAME> name(d2i_X509_NAME(nullptr, &p, static_cast<long>(subject->tlv.size())));  // NOLINT
  if (!name) return std::nullopt;
  out.subject = FormatSubject(name.get());
  p = issuer->tlv.data();
  name.reset(d2i_X509_NAME(nullptr, &p, static_cast<long>(issuer->tlv.size())));  // NOLINT
  if (!name) return std::nullopt;
  out.issuer = FormatSubject(name.get());

  auto not_before = der::Read(validity->content);
  auto not_after = not_before ? der::Read(not_before->rest) : std::nullopt;
  if (!not_after || !not_after->rest.empty()) return std::nullopt;
  out.not_before = TimeOf(*not_before, "notBefore");
  out.not_after = TimeOf(*not_after, "notAfter");
  if (!out.not_before || !out.not_after) return std::nullopt;

  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
  auto algorithm = der::Expect(spki->content, der::kSequence);
  auto key_bits = algorithm ? der::Expect(algorithm->rest, der::kBitString) : std::nullopt;
  auto oid = algorithm ? der::Expect(algorithm->content, der::kOid) : std::nullopt;
  if (!key_bits || !key_bits->rest.empty() || !oid) return std::nullopt;
  if (std::ranges::equal(oid->content, std::span<const std::uint8_t>(kRsaEncryption))) {
    // The bit string's first byte counts unused bits: 0 for a DER key.
    if (key_bits->content.empty() || key_bits->content[0] != 0) return std::nullopt;
    auto key = key_bits->content.subspan(1);
    out.rsa_public_key.assign(key.begin(), key.end());
  }
  return out;
}

std::optional<CertSummary> SummarizeCertificateFile(std::span<const std::uint8_t> bytes) {
  if (!bytes.empty() && bytes[0] == der::kSequence) return SummarizeCertificateDer(bytes);
  auto body = CertificatePemBody({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  if (!body) return std::nullopt;
  return SummarizeCertificateDer(*body);
}

CertSummary SummaryOf(const X509* cert) {
  CertSummary out;
  if (cert == nullptr) return out;
  out.serial = SerialHex(cert);
  out.subject = SubjectString(cert);
  out.issuer = IssuerString(cert);
  if (auto nb = NotBefore(cert); nb.ok()) out.not_before = *nb;
  if (auto na = NotAfter(cert); na.ok()) out.not_after = *na;
  const std::span<const std::uint8_t> pub = RsaPublicKeyDer(cert);
  out.rsa_public_key.assign(pub.begin(), pub.end());
  ClearOpenSslErrors();
  return out;
}

}  // namespace scepd
