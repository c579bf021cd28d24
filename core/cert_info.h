#pragma once
// Facts about a certificate that the daemon and the CLI print or compare:
// serial, validity, names, key usage, fingerprints. All take the certificate
// borrowed and keep no reference to it.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd {

// The serial number as `openssl x509 -serial -noout` prints it, without
// "serial=": upper-case hex, two digits per byte, no leading zero byte
// (2 -> "02", 0xABC -> "0ABC"), a leading '-' for a negative serial, "00"
// for an empty one. Never fails; a null certificate gives "".
std::string SerialHex(const X509* cert);
// The same for a serial number already decoded; "" for null.
std::string SerialHexOf(const ASN1_INTEGER* serial);

// The start and end of the validity period in seconds since the epoch
// (UTC), computed in 64 bits so that dates past 2038 are right even where
// time_t has 32 bits. Fail with kParse when the time is missing or malformed.
Result<std::int64_t> NotBefore(const X509* cert);
Result<std::int64_t> NotAfter(const X509* cert);
// The same for one time value; `what` names it in the error.
Result<std::int64_t> EpochSeconds(const ASN1_TIME* t, const char* what);

// Subject and issuer in the "/A=b/C=d+E=f" form of FormatSubject.
std::string SubjectString(const X509* cert);
std::string IssuerString(const X509* cert);

// The key usage bits in words, joined with ", " in RFC 5280 order, e.g.
// "Digital Signature, Key Encipherment"; "(none)" when the extension is
// absent or sets no bit, "(invalid)" when it cannot be decoded.
std::string KeyUsageString(const X509* cert);

// Colon-separated upper-case hex digest of the DER certificate
// ("AB:CD:..."). `digest` is one of md5, sha1, sha224, sha256, sha384,
// sha512 in any case (the sscep -F names). Fails with kInvalidArgument for
// any other name or a null certificate, kCrypto if hashing fails.
Result<std::string> Fingerprint(const X509* cert, std::string_view digest);

// Checks a certificate the CA returned for `request` before it is used:
// it must carry the request's identity (every commonName of the request; a
// request without one: the same attributes in any order; CAs reorder and
// rewrite the rest of a name) and not be expired at `now`. Fails
// with kVerify: "the CA issued a certificate for SUBJECT, not the requested
// SUBJECT" or "the CA issued a certificate that expired at TIME" (kParse
// when its notAfter is unreadable). Both arguments are borrowed.
Status CheckIssuedCertificate(const X509* issued, const X509_REQ* request, std::int64_t now);

// Verifies the issued certificate's signature and chain against the CA
// certificates held (`held`, borrowed: the CA's answer to GetCACert, each
// one a trust anchor, so an intermediate CA is enough). No purpose is
// checked, and the time is the certificate's own notBefore, not the clock:
// a wrong clock never refuses a good certificate (where time_t cannot hold
// notBefore, no time is checked). Fails with kVerify: "the issued
// certificate does not verify against the CA certificates held: WHY".
Status VerifyIssuedCertificate(X509* issued, const std::vector<X509*>& held);

// True when `key` (private or public) is the key pair of `cert`'s public key.
bool KeyMatchesCert(const X509* cert, const EVP_PKEY* key) noexcept;

// The same question for an RSA private key still in its PEM file ("PRIVATE
// KEY", PKCS#8), answered from the DER alone: the modulus and public
// exponent in the key must be those of the certificate's RSA key. OpenSSL
// 3.0 decodes a private key through its provider decoders, which costs as
// much as the rest of a routine certificate check together; this does not
// decode the key at all. nullopt when it cannot tell (not PEM PKCS#8, not
// RSA, malformed): the caller then decodes the key and uses KeyMatchesCert.
std::optional<bool> RsaKeyPemMatchesCert(const X509* cert, std::string_view key_pem) noexcept;
// The certificate's RSAPublicKey DER, from its subjectPublicKey bit string
// as it was signed (borrowed from `cert`); empty for other key types.
std::span<const std::uint8_t> RsaPublicKeyDer(const X509* cert) noexcept;
// The same against an RSAPublicKey (RFC 8017 A.1.1) in DER, as a
// certificate's subjectPublicKey bit string carries it.
std::optional<bool> RsaKeyPemMatches(std::span<const std::uint8_t> rsa_public_key,
                                     std::string_view key_pem) noexcept;

}  // namespace scepd
