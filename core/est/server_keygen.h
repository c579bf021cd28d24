#pragma once
// The answer to /serverkeygen (RFC 7030 section 4.4.2): multipart/mixed
// with the private key the server made (application/pkcs8, base64 DER
// PrivateKeyInfo, or CMS-encrypted: encrypted_key.h) and the certificate
// for it (application/pkcs7-mime certs-only). The key is a secret: every intermediate copy made here is
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

// The pair whose key decrypts a CMS-encrypted key part (encrypted_key.h):
// the one the request named with RequestEncryptedKey. Borrowed.
struct KeyDecryption {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
};

// The answer to /serverkeygen. 200 must be multipart/mixed with exactly one
// key part and one certificate part: → ServerKeyIssued (kVerify when the
// certificate is not for the key; kParse / kHttp for broken parts). The key
// part is application/pkcs8 when `decrypt` is null, and the CMS-encrypted
// form (application/pkcs7-mime; smime-type=server-generated-key, opened with
// OpenServerGeneratedKey) when it is given: the other form is refused
// (kUnsupported for an encrypted key not asked for, kProtocol for a plain
// key when the encrypted form was asked for). Other statuses as
// InterpretEnroll.
Result<ServerKeygenOutcome> InterpretServerKeygen(const HttpResponse& response, std::int64_t now,
                                                  const KeyDecryption* decrypt = nullptr);

}  // namespace scepd::est
