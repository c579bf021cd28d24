#pragma once
// The answers to GetCACert and GetNextCACert (RFC 8894 sections 4.2.1 and
// 4.7.1): the CA certificate, or a certs-only chain (intermediate CA as leaf)
// or the CA plus RA certificates of older drafts, sorted into the roles a
// client needs: whom to trust, whom to encrypt requests to, who signs the
// replies.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd::scep {

// A CA's certificates and their roles. Owns the certificates; the accessors
// return pointers borrowed from `all`, valid while this object lives.
// Move-only (it owns OpenSSL references).
struct CaCertificates {
  std::vector<ossl::Ptr<X509>> all;  // in the order received
  std::size_t ca = 0;                // index of the CA certificate in `all`
  std::size_t encryption = 0;        // index of the certificate to encrypt requests to
  std::size_t signer = 0;            // index of the certificate expected to sign CertReps
  std::vector<std::size_t> ra;       // indexes of the RA certificates (none without an RA)

  // The CA certificate (issuer of our certificates). Null only when `all` is
  // empty, which SelectCaRoles never returns.
  X509* Ca() const noexcept;
  // The recipient of pkcsPKIEnvelope: an RA cert allowing keyEncipherment,
  // or the CA when there is no RA.
  X509* Encryption() const noexcept;
  // The certificate a CertRep is expected to be signed with: an RA cert
  // allowing digitalSignature, or the CA when there is no RA.
  X509* Signer() const noexcept;
  // The name of the CA that issues our certificates, which CertPoll's
  // IssuerAndSubject and GetCert's IssuerAndSerialNumber must carry
  // (RFC 8894 sections 3.3.3 and 3.3.4): with RA certificates, the RA's
  // issuer; without, the CA's subject; and when the one certificate we hold
  // is not a CA (an RA certificate supplied on its own, as sscep users do
  // with -c), its issuer. Borrowed from `all`; null only when `all` is empty.
  const X509_NAME* IssuingCaName() const noexcept;
  // Every certificate that may sign a CertRep: the CA, then the RA
  // certificates. Pass these as the trusted signers of ParsePkiMessage.
  std::vector<X509*> Trusted() const;
};

// Sorts certificates received from a CA into roles.
// One certificate is CA, encryption and signer alike (whatever its
// extensions say: that is what micromdm and most small CAs send).
// Several (a chain, or CA + RA): a CA certificate is one that
// OpenSSL's X509_check_ca accepts (basicConstraints CA:TRUE, or an old v1
// self-signed root). The CA is the CA certificate that issued (name match and
// a verifying signature) the most non-CA certificates of the set; when none
// issued any, the CA certificate lowest in the chain (one that issued no
// other CA certificate of the set, e.g. the sub-CA of [sub-CA, root]).
// RA certificates are the non-CA certificates the chosen CA issued; others
// are kept in `all` but given no role, so that a certificate appended by a
// third party to an answer whose CA fingerprint checks out is never trusted.
// Encryption = the first RA certificate whose keyUsage allows
// keyEncipherment (or that has no keyUsage); signer = the first allowing
// digitalSignature (or without keyUsage). When no RA certificate allows a
// role it falls to an RA certificate other than the one holding the other
// role if there is one, else to that same one (RFC 8894 section 3.5.2 notes a
// widely deployed CA setting only one of the two bits); without RA
// certificates the CA holds both roles.
// Fails with kParse when `certs` is empty or none of several is a CA.
Result<CaCertificates> SelectCaRoles(std::vector<ossl::Ptr<X509>> certs);

// The roles when the certificates a user names are RA certificates without
// their CA (sscep -c ca.crt-0 -e ca.crt-1 after getca against Microsoft
// NDES, when the CA's file is not at hand): the first certificate signs the
// replies and stands in for the CA, every one is an RA certificate, so that
// IssuingCaName() is the RAs' issuer and Trusted() holds them all; the
// encryption role goes to the first other one allowing keyEncipherment
// (else the first). Fails with kParse when `certs` is empty, holds a CA
// certificate (use SelectCaRoles) or certificates of different issuers.
Result<CaCertificates> RaRolesWithoutCa(std::vector<ossl::Ptr<X509>> certs);

// True when `issuer` issued `subject`: its subject name (and key identifier,
// when present) matches `subject`'s issuer and `subject`'s signature
// verifies with its key. False for the same certificate. Both borrowed.
bool IssuedBy(X509* issuer, X509* subject);

// Parses a GetCACert answer. `content_type` is the HTTP Content-Type
// (parameters and case ignored): application/x-x509-ca-cert is one DER
// certificate (PEM, even several PEM certificates, is accepted too);
// application/x-x509-ca-ra-cert is a degenerate certs-only PKCS#7. A body
// that is not what its type says, or an empty or unknown type, is sniffed:
// PEM, then a DER certificate, then PKCS#7. The caller still has to decide
// whether to trust the CA (fingerprint or a configured CA file): nothing here
// establishes trust.
// Fails with kParse: "GetCACert: body is empty", "GetCACert: neither a DER
// certificate nor a PKCS#7 certs-only message", or SelectCaRoles' errors.
Result<CaCertificates> ParseGetCaCert(std::string_view content_type,
                                      std::span<const std::uint8_t> body);

// Parses a GetNextCACert answer (application/x-x509-next-ca-cert): a CMS
// SignedData signed by the current CA or its RA, whose content is a
// certs-only PKCS#7 with the next CA (and RA) certificates. The signature is
// checked against current.Trusted() only (certificates carried in the
// message are ignored; no chain or key-usage check, since a CA certificate
// may lack digitalSignature), then the new certificates go through
// SelectCaRoles. `current` is borrowed.
// Fails with kParse (not DER CMS, not SignedData, no content, content not
// certs-only), kVerify (not signed, signer not among the current
// certificates, signature or content digest wrong) or kInvalidArgument
// (`current` holds no certificates).
Result<CaCertificates> ParseGetNextCaCert(std::span<const std::uint8_t> body,
                                          const CaCertificates& current);

}  // namespace scepd::scep
