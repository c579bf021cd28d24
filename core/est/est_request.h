#pragma once
// The HTTP requests of RFC 7030: GET for /cacerts and /csrattrs, POST of a
// base64 PKCS#10 request for /simpleenroll, /simplereenroll and
// /serverkeygen. Authentication (Basic, TLS client certificate) is added by
// the caller on the returned request.

#include <string>

#include "core/ossl.h"
#include "core/result.h"
#include "core/transport.h"

namespace scepd::est {

// A GET of `url` (from OperationUrl).
HttpRequest GetRequest(const std::string& url);

// A POST of `csr` (borrowed) to `url`: Content-Type application/pkcs10,
// Content-Transfer-Encoding base64, the DER request base64-encoded on one
// line. Fails with kCrypto when the request cannot be encoded.
Result<HttpRequest> CsrPostRequest(const std::string& url, X509_REQ* csr);

// The request RFC 7030 section 4.2.2 asks for when renewing `current`
// (borrowed): the same subject and subjectAltName extension (copied as
// they are), the public key of `key` (borrowed; the current key or a new
// one), signed by `key` with `digest` ("SHA256"). The challenge password,
// when not empty, goes in as a PKCS#9 attribute (UTF8String). Returns a new
// request the caller owns; fails with kInvalidArgument for a null argument
// or an unknown digest, kCrypto when OpenSSL fails.
Result<ossl::Ptr<X509_REQ>> BuildReenrollCsr(X509* current, EVP_PKEY* key,
                                             const std::string& digest = "SHA256");

}  // namespace scepd::est
