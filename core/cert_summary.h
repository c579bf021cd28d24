#pragma once
// What the routine "is the certificate still valid?" check needs from a
// certificate file, read without parsing the certificate as a whole.
//
// OpenSSL 3.0 decodes the public key of every certificate it parses
// through its provider decoders, and the first use of those loads
// openssl.cnf and sets up the providers: together most of an idle check's
// CPU time and of the daemon's start to its first decision. The check
// prints the serial, subject and validity and compares the key file with
// the certificate's RSA key; those few fields are found here by walking
// the DER (core/der.h) and decoding just them with OpenSSL's plain ASN.1
// routines. A file this does not read exactly (anything but one PEM
// "CERTIFICATE" block or bare DER, a malformed or unusual encoding) gives
// nullopt, and the caller takes the full parse, which also has the error
// messages.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/bytes.h"
#include "core/ossl.h"

namespace scepd {

struct CertSummary {
  std::string serial;   // as SerialHex
  std::string subject;  // as SubjectString
  std::string issuer;   // as IssuerString
  std::optional<std::int64_t> not_before;
  std::optional<std::int64_t> not_after;
  // RSAPublicKey DER of an rsaEncryption key; empty for other key types.
  Bytes rsa_public_key;

  bool operator==(const CertSummary&) const = default;
};

// From a DER certificate (exactly one, nothing after it).
std::optional<CertSummary> SummarizeCertificateDer(std::span<const std::uint8_t> der);
// From a certificate file's bytes: DER, or PEM text whose first PEM block
// is a "CERTIFICATE" without headers.
std::optional<CertSummary> SummarizeCertificateFile(std::span<const std::uint8_t> bytes);
// From a certificate OpenSSL has parsed (borrowed): the same fields; times
// it cannot read are nullopt.
CertSummary SummaryOf(const X509* cert);

}  // namespace scepd
