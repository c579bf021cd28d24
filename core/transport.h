#pragma once
// The network seam. The core builds complete requests (URL with query, body)
// and interprets complete responses; a Transport only moves bytes. The real
// one is io/curl_transport.h; tests supply canned replies.

#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace scepd {

struct HttpRequest {
  enum class Method { kGet, kPost };
  Method method = Method::kGet;
  std::string url;           // absolute, query included
  std::string content_type;  // POST only
  Bytes body;                // POST only
  // One request per connection: sent with "Connection: close" and the
  // connection is not kept for the next request (CMP servers that tie a
  // transaction to its connection).
  bool close_connection = false;
};

struct HttpResponse {
  long status = 0;           // NOLINT(runtime/int): HTTP status as libcurl reports it
  std::string content_type;  // without parameters, lower case ("application/x-pki-message")
  Bytes body;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends the request and returns whatever the server answered, any status
  // (a 3xx is returned as it is, never followed). Fails only when there is no
  // complete answer: kNetwork (refused, unresolvable, reset, TLS failure),
  // kTimeout, or kHttp when the body exceeds the configured cap.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace scepd
