#pragma once
// PKCS#10 certificate requests built from the router's settings, and the
// temporary self-signed certificate that signs a first SCEP enrollment.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd {

// What to ask the CA for; the fields mirror the router's settings.
struct CsrSpec {
  std::string subject;            // router form "/CN=x/O=y" (see subject.h), required
  std::string alt_names;          // router form "DNS:a,IP:b" (see alt_name.h), may be empty
  std::string template_name;      // Microsoft template extension 1.3.6.1.4.1.311.20.2
                                  // (a BMPString), may be empty
  bool digital_signature = false; // keyUsage bits; the extension only if either is set
  bool key_encipherment = false;
  unsigned key_usage_bits = 0;    // further keyUsage bits: (1u << n) for RFC 5280 bit n
                                  // (digitalSignature 0 ... decipherOnly 8), OR'ed with the two above
  bool server_auth = false;       // extendedKeyUsage; the extension only if any
  bool client_auth = false;       // of these or extra_ekus is set
  std::vector<std::string> extra_ekus;  // further EKUs: OpenSSL short/long names or dotted OIDs
  std::string challenge_password; // PKCS#9 challengePassword attribute; empty = none
};

// Builds and signs a request for `key` (borrowed; its public half goes in
// the request) with the message digest named `digest` ("SHA256", "sha512").
// Requested extensions (subjectAltName, the template name, keyUsage marked
// critical, extendedKeyUsage) go in one PKCS#9 extensionRequest attribute.
// The challenge password becomes a PrintableString when every character
// allows it, else a UTF8String; the copy inside the returned request is the
// caller's to protect. Returns a new request the caller owns. Fails with
// kInvalidArgument whose message starts with the field at fault ("subject:
// ...", "alt_name: alternative name 2 (...)...", "template_name: ...",
// "extended key usage 'fooAuth': unknown name or OID", "challenge_password:
// ...", "digest 'x': ..."), or for a null key; kCrypto if signing fails.
// The requested extensions of `spec` alone (subjectAltName, the template
// name, keyUsage, extendedKeyUsage; possibly none), as BuildCsr puts them in
// its extensionRequest: for protocols whose request carries extensions
// itself (a CMP certificate template). Fails as BuildCsr does for them.
Result<ossl::X509ExtensionStack> BuildRequestExtensions(const CsrSpec& spec);

Result<ossl::Ptr<X509_REQ>> BuildCsr(const CsrSpec& spec, EVP_PKEY* key,
                                     const std::string& digest = "SHA256");

// The checks BuildCsr makes on these two fields, for settings validation
// before any request is built. CheckChallengePassword: valid UTF-8, no NUL,
// at most 255 characters (PKCS#9 ub-challengePassword); the message never
// quotes the password. CheckTemplateName: empty, or UTF-8 that fits a
// BMPString. Both fail with kInvalidArgument, the message starting with the
// field name as BuildCsr's does; neither copies its input.
Status CheckChallengePassword(std::string_view password);
Status CheckTemplateName(std::string_view name);

// The RFC 8894 section 2.3 self-signed certificate a client signs its first
// PKCSReq with: subject and issuer are the request's subject, the public key
// is the request's, the serial is 8 random bytes made positive, validity is
// now - 1 hour to now + 1 day (`now` in seconds since the epoch; dates are
// computed without passing through time_t, so 32-bit time_t is safe), signed
// with `key` using `digest`. `req` and `key` are borrowed; the certificate
// is the caller's. Fails with kInvalidArgument when `key` does not match the
// request's public key or `digest` is unknown, kCrypto if signing fails.
Result<ossl::Ptr<X509>> MakeSelfSignedCert(X509_REQ* req, EVP_PKEY* key,
                                           const std::string& digest, std::int64_t now);

}  // namespace scepd
