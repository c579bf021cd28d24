#pragma once
// The answer to /serverkeygen (RFC 7030 section 4.4.2): multipart/mixed
// with the private key the server made (application/pkcs8, base64 DER
// PrivateKeyInfo) and the certificate for it (application/pkcs7-mime
// certs-only). The key is a secret: every intermediate copy made here is
// wiped.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/est/est_outcome.h"
#include "core/ossl.h"
#include "core/result.h"
#include "core/transport.h"

namespace scepd::est {

struct ServerKeyIssued {
  ossl::Ptr<EVP_PKEY> key;
  Issued issued;  // issued.cert carries `key`
};

using ServerKeygenOutcome = std::variant<ServerKeyIssued, Pending, Rejected>;

// One body part of a multipart message: its headers (names lower-cased,
// values trimmed) and its content.
struct MimePart {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The value of header `name` (lower case), or empty.
  std::string Header(std::string_view name) const;
};

// Splits a multipart body (RFC 2046) at `boundary`. The preamble and
// epilogue are ignored; lines may end in CRLF or LF. Fails with kParse when
// no closing delimiter is found, a part has no header/body separator, or
// there are more than 16 parts.
Result<std::vector<MimePart>> ParseMultipart(std::string_view body, std::string_view boundary);

// The boundary parameter of a Content-Type header value (quoted or not),
// or empty.
std::string BoundaryParameter(std::string_view content_type_header);

// The answer to /serverkeygen. 200 must be multipart/mixed with exactly one
// key part and one certificate part: → ServerKeyIssued (kVerify when the
// certificate is not for the key; kUnsupported for an encrypted key part,
// application/pkcs7-mime; smime-type=server-generated-key, which this
// client does not request; kParse / kHttp for broken parts). Other
// statuses as InterpretEnroll.
Result<ServerKeygenOutcome> InterpretServerKeygen(const HttpResponse& response, std::int64_t now);

}  // namespace scepd::est
