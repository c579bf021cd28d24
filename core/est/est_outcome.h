#pragma once
// What an EST server's answer means (RFC 7030 sections 4.1 to 4.4), as
// values: the outcomes of an enrollment map one to one onto the daemon's
// protocol-neutral outcomes (issued certificate + chain, pending with a time
// to ask again, rejected with a reason, or an Error), and the other
// operations yield their data or an Error whose message says what was wrong
// with the answer. Nothing here touches the network.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/ossl.h"
#include "core/result.h"
#include "core/transport.h"

namespace scepd::est {

// The CA issued a certificate: `cert` carries the requested key, `chain`
// holds whatever else the answer carried, in the order received.
struct Issued {
  ossl::Ptr<X509> cert;
  std::vector<ossl::Ptr<X509>> chain;
};

// HTTP 202: the request is queued; ask again (the same request) at
// `retry_at` (seconds since the epoch), which is never before `now`.
struct Pending {
  std::int64_t retry_at = 0;
};

// Why the server said no, as a stable code for programs.
enum class RejectCode {
  kAuthentication,  // 401: credentials missing or refused
  kForbidden,       // 403
  kBadRequest,      // 400, 404, 405, 409, 413, 415, 422 and other 4xx
};
const char* RejectCodeName(RejectCode code) noexcept;

// A 4xx answer: the server refused the request. `reason` is printable text
// made from the status, WWW-Authenticate (401) and the start of the body
// (control characters replaced), safe for logs.
struct Rejected {
  RejectCode code = RejectCode::kBadRequest;
  long status = 0;  // NOLINT(runtime/int): HTTP status
  std::string reason;
};

using EnrollOutcome = std::variant<Issued, Pending, Rejected>;

// The value of a Retry-After header: delta-seconds or an HTTP-date (IMF
// fixdate, RFC 850 or asctime form), as an absolute time not before `now`.
// Fails with kProtocol for anything else, quoting the cleaned header.
Result<std::int64_t> ParseRetryAfter(std::string_view value, std::int64_t now);

// `text` with every byte outside printable ASCII replaced by '?', cut to
// `max` characters (with "..." when cut): server text made fit for a log.
std::string CleanServerText(std::string_view text, std::size_t max = 200);

// The body of an application/pkcs7-mime (any parameters) answer: base64 of
// a certs-only SignedData, with or without line breaks. Returns the
// certificates in order (at least one). Fails with kHttp for another
// content type (naming it; an HTML error page says so), kParse for broken
// base64 or DER, kProtocol for a SignedData without certificates.
Result<std::vector<ossl::Ptr<X509>>> ParseCertsOnlyBody(const HttpResponse& response,
                                                        std::string_view operation);

// The answer to /cacerts: 200 with the CA certificates (see
// ParseCertsOnlyBody). Any other status is kHttp naming it (401 with the
// authentication the server wants).
Result<std::vector<ossl::Ptr<X509>>> InterpretCaCerts(const HttpResponse& response);

// The answer to /simpleenroll or /simplereenroll for a request whose
// public key is `key` (borrowed): 200 → Issued (the certificate that carries
// `key`; kVerify when none does), 202 → Pending (kProtocol without a usable
// Retry-After), 4xx → Rejected, anything else (3xx, 5xx, other 2xx) kHttp.
// `now` is seconds since the epoch.
Result<EnrollOutcome> InterpretEnroll(const HttpResponse& response, EVP_PKEY* key,
                                      std::int64_t now);

// The first certificate of `certs` whose SHA-256 fingerprint (of the DER
// certificate) is `sha256_hex` (hex, any case, colons allowed), or null.
X509* FindByFingerprint(std::span<const ossl::Ptr<X509>> certs, std::string_view sha256_hex);

}  // namespace scepd::est
