#pragma once
// The answer to /csrattrs (RFC 7030 section 4.5): a SEQUENCE of OIDs and
// attributes the CA wants in requests. Parsed into what this project can
// act on (challengePassword, key type and size or curve, signature digest,
// requested extensions) and a list of what it cannot, for the user to read.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/transport.h"

namespace scepd::est {

struct CsrAttrs {
  bool challenge_password = false;       // challengePassword (1.2.840.113549.1.9.7)
  std::optional<std::string> key_type;   // "rsa" or "ec"
  std::optional<int> rsa_bits;           // rsaEncryption attribute with an INTEGER
  std::optional<std::string> ec_curve;   // "P-256", "P-384", "P-521" (or the OID's name)
  std::optional<std::string> digest;     // "SHA256", "SHA384", "SHA512" from a signature OID
  // Extensions named by OID in an extensionRequest attribute (or full
  // Extension values, of which the OID is kept), as dotted OIDs with the
  // OpenSSL short name where there is one: "2.5.29.17 (subjectAltName)".
  std::vector<std::string> extensions;
  // Everything else, one line each: "1.3.6.1.1.1.1.22 (macAddress): OID
  // this client does not act on".
  std::vector<std::string> unknown;
};

// Parses the DER CsrAttrs. An empty sequence is valid (no attributes).
// Fails with kParse naming the element at fault.
Result<CsrAttrs> ParseCsrAttrs(std::span<const std::uint8_t> der);

// The answer to GET /csrattrs: 200 application/csrattrs with base64 DER;
// 204 or 404 mean "no attributes" (an empty CsrAttrs). Other statuses are
// kHttp, another content type kHttp, bad base64 or DER kParse.
Result<CsrAttrs> InterpretCsrAttrs(const HttpResponse& response);

// "OID (shortName)" for the DER contents of an OBJECT IDENTIFIER.
std::string DescribeOid(std::span<const std::uint8_t> oid_content);

}  // namespace scepd::est
