#pragma once
// SCEP pkiMessage (RFC 8894 section 3): a CMS SignedData whose signed
// attributes carry the SCEP fields and whose content is an EnvelopedData
// (pkcsPKIEnvelope) holding the operation's payload. Both directions are
// here: the client builds requests and opens CertReps; the test responder
// opens requests and builds CertReps with the same code.

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"
#include "core/scep/scep.h"

namespace scepd::scep {

// The SCEP signed attributes. recipient_nonce, pki_status, fail_info and
// fail_info_text appear in CertRep only.
struct PkiAttributes {
  MessageType message_type = MessageType::kPKCSReq;
  std::string transaction_id;
  Bytes sender_nonce;
  std::optional<Bytes> recipient_nonce;
  std::optional<PkiStatus> pki_status;
  std::optional<FailInfo> fail_info;
  std::optional<std::string> fail_info_text;
};

// Who signs: the certificate is included in the message's certificates.
// Borrowed pointers; nothing is freed.
struct SignerSpec {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  std::string digest = "SHA256";   // OpenSSL digest name
  std::vector<X509*> extra_certs;  // further certificates to include
};

// Who can open the envelope. Borrowed pointers.
struct EnvelopeSpec {
  std::vector<X509*> recipients;
  std::string cipher = "AES-256-CBC";  // OpenSSL cipher name
};

// Builds a DER pkiMessage. `content` is the envelope's plaintext (a DER CSR,
// IssuerAndSubject, IssuerAndSerialNumber or a certs-only SignedData); when
// absent (CertRep PENDING or FAILURE) the message has no envelope.
// Fails with kCrypto (cipher or digest unavailable, signing failed) or
// kInvalidArgument (missing signer, no recipients).
Result<Bytes> BuildPkiMessage(const PkiAttributes& attributes, const std::optional<Bytes>& content,
                              const EnvelopeSpec& envelope, const SignerSpec& signer);

// A parsed, signature-checked pkiMessage.
struct PkiMessage {
  PkiAttributes attributes;
  Bytes envelope;              // DER EnvelopedData ContentInfo; empty when absent
  ossl::Ptr<X509> signer;      // the certificate whose key verified the signature
  std::string digest;          // digest algorithm of the SignerInfo ("SHA1")
  std::vector<ossl::Ptr<X509>> certificates;  // all certificates carried
};

// Parses `der` and verifies its single SignerInfo. When `trusted_signers` is
// non-empty the signer is looked up among them by issuerAndSerialNumber (never
// by position) and must verify with its key; certificates inside the message
// are not trusted. When it is empty the signer certificate is taken from the
// message itself (a CA receiving a self-signed request). No chain or key
// usage check is made: a CA certificate with only keyCertSign still verifies.
// Fails with kParse (not DER, not SignedData, missing or malformed attribute,
// naming it) or kVerify (unknown signer, bad signature).
Result<PkiMessage> ParsePkiMessage(std::span<const std::uint8_t> der,
                                   std::span<X509* const> trusted_signers);

// Decrypts a pkcsPKIEnvelope with `key`; `cert` (may be null) selects the
// RecipientInfo by issuerAndSerialNumber. Single DES needs
// ossl::EnableLegacyAlgorithms(). Fails with kParse or kCrypto.
Result<Bytes> OpenEnvelope(std::span<const std::uint8_t> envelope, EVP_PKEY* key, X509* cert);

// 16 random bytes from the OpenSSL DRBG.
Result<Bytes> MakeNonce();

// CertPoll payload: SEQUENCE { issuer Name, subject Name }.
Result<Bytes> EncodeIssuerAndSubject(const X509_NAME* issuer, const X509_NAME* subject);
Result<std::pair<ossl::Ptr<X509_NAME>, ossl::Ptr<X509_NAME>>> DecodeIssuerAndSubject(
    std::span<const std::uint8_t> der);

// GetCert / GetCRL payload: IssuerAndSerialNumber (RFC 5652).
Result<Bytes> EncodeIssuerAndSerial(const X509_NAME* issuer, const ASN1_INTEGER* serial);
Result<std::pair<ossl::Ptr<X509_NAME>, ossl::Ptr<ASN1_INTEGER>>> DecodeIssuerAndSerial(
    std::span<const std::uint8_t> der);

}  // namespace scepd::scep
