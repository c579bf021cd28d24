#pragma once
// The certificate authority's OpenSSL work for the test responder: keys,
// CA/RA/leaf certificates, CRLs, serial numbers and signed (non-SCEP) CMS.
// Internal to tests/responder; every function returns new objects the
// caller owns and borrows its pointer arguments.

#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace scepd::testing::rsp {

// A new RSA key (e = 65537). Fails with kCrypto.
Result<ossl::Ptr<EVP_PKEY>> GenerateRsa(int bits);

// /O=<org>/CN=<cn>. Fails with kInvalidArgument for values OpenSSL refuses.
Result<ossl::Ptr<X509_NAME>> MakeName(const std::string& org, const std::string& cn);

struct CertParams {
  const X509_NAME* subject = nullptr;
  EVP_PKEY* public_key = nullptr;     // its public half goes in the certificate
  const ASN1_INTEGER* serial = nullptr;
  std::int64_t not_before = 0;        // seconds since the epoch
  std::int64_t not_after = 0;
  bool is_ca = false;
  std::string key_usage;              // OpenSSL config text, e.g. "digitalSignature"; "" = none
  std::string extended_key_usage;     // e.g. "clientAuth"; "" = none
  std::vector<X509_EXTENSION*> extra_extensions;  // copied in (subjectAltName)
  X509* issuer = nullptr;             // null: self-signed
  EVP_PKEY* issuer_key = nullptr;     // the signing key (the subject's own when self-signed)
  std::string digest = "SHA256";
};

// Builds and signs an X.509 v3 certificate with basicConstraints (critical),
// keyUsage (critical), extendedKeyUsage, subject and authority key
// identifiers. Fails with kCrypto.
Result<ossl::Ptr<X509>> MakeCertificate(const CertParams& params);

// A v2 CRL from `ca` listing `revoked` serials (revoked at `now`), valid for
// a day, signed with SHA-256. Fails with kCrypto.
Result<ossl::Ptr<X509_CRL>> MakeCrl(X509* ca, EVP_PKEY* ca_key,
                                    const std::vector<const ASN1_INTEGER*>& revoked,
                                    std::int64_t now);

// A CMS SignedData over `content` (eContentType id-data, content attached)
// signed by `cert`/`key` with `digest`; the signer certificate is included.
// Fails with kUnsupported (digest) or kCrypto.
Result<Bytes> SignContent(X509* cert, EVP_PKEY* key, const std::string& digest,
                          const Bytes& content);

// Serial numbers as upper-case hex of whole bytes ("02", "0A", "0100").
std::string SerialHex(const ASN1_INTEGER* serial);
// Inverse of SerialHex; accepts any case and an odd number of digits.
// Fails with kInvalidArgument.
Result<ossl::Ptr<ASN1_INTEGER>> SerialFromHex(const std::string& hex);
Result<ossl::Ptr<ASN1_INTEGER>> SerialFromInt(std::uint64_t value);
// 8 random bytes, made positive and non-zero.
Result<ossl::Ptr<ASN1_INTEGER>> RandomSerial();

// Random bytes from the OpenSSL DRBG (empty on failure, which does not happen
// with a working provider).
Bytes RandomBytes(std::size_t n);

}  // namespace scepd::testing::rsp
