#pragma once
// The network seam. The core builds complete requests (URL with query, body)
// and interprets complete responses; a Transport only moves bytes. The real
// one is io/curl_transport.h; tests supply canned replies.

#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace scepd {

struct HttpRequest {
  enum class Method { kGet, kPost };
  Method method = Method::kGet;
  std::string url;           // absolute, query included
  std::string content_type;  // POST only
  Bytes body;                // POST only
  // Further request headers ("Content-Transfer-Encoding", "base64"); names
  // and values must not contain line breaks.
  // (Members added after the first ones have "{}" so that aggregate
  // initialisation of the older ones stays warning-free.)
  std::vector<std::pair<std::string, std::string>> headers{};
  // HTTP Basic credentials, sent when basic_user is non-empty. The owner of
  // the request wipes the password after Send (core/wipe.h); transports
  // never log either.
  std::string basic_user{};
  std::string basic_password{};
  // A TLS client certificate (PEM, leaf first, then any intermediates) and
  // its private key (PEM), used when both are non-empty. The owner wipes the
  // key after Send; transports pass it on from memory, never via a file.
  std::string client_cert_pem{};
  std::string client_key_pem{};
  // One request per connection: sent with "Connection: close" and the
  // connection is not kept for the next request (CMP servers that tie a
  // transaction to its connection).
  bool close_connection{false};
};

struct HttpResponse {
  long status = 0;           // NOLINT(runtime/int): HTTP status as libcurl reports it
  std::string content_type;  // without parameters, lower case ("application/x-pki-message")
  Bytes body;
  // The Content-Type header as sent, parameters included; empty if absent.
  std::string content_type_header{};
  // "HTTP/1.0" or "HTTP/1.1" as in the status line (empty if unknown).
  std::string http_version{};
  // Retry-After and WWW-Authenticate as sent (the last of each), trimmed;
  // empty when absent.
  std::string retry_after{};
  std::string www_authenticate{};
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
