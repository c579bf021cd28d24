#pragma once
// The real Transport: HTTP and HTTPS over libcurl, one connection reused
// between requests. Redirects are never followed (a 3xx comes back as an
// ordinary response so the core can report it), bodies are capped, and every
// request is bounded by a connect timeout, a total timeout and stall
// detection, so a silent or trickling server cannot hold the daemon. It
// speaks HTTP/1.1 only (no HTTP/2 negotiation), keeps no cookies and asks for
// no compression: SCEP servers are simple and replies are small.

#include <curl/curl.h>

#include <cstddef>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/transport.h"

namespace scepd {

// "scepd/<version>": the default User-Agent.
std::string DefaultUserAgent();

struct TransportOptions {
  // HTTP proxy as "host:port" (sscep -p; IPv6 hosts in brackets) or as a URL
  // ("http://host:port"). Empty means no proxy at all: the http_proxy,
  // https_proxy, all_proxy and no_proxy environment variables are ignored
  // unless proxy_from_env is set, because a daemon's environment is
  // accidental while its configuration is deliberate. A configured proxy
  // carries every request, loopback included (no_proxy is not consulted).
  std::string proxy;
  // With an empty `proxy`, let libcurl take the proxy (and no_proxy) from
  // the environment, like the curl command does.
  bool proxy_from_env = false;
  // "user:password" for the proxy (CURLOPT_PROXYUSERPWD), so that they need
  // not be written into `proxy` (and so into sscep's argv). Secret: the
  // transport keeps its own copy and wipes it when destroyed.
  std::string proxy_credentials;
  // PEM file of CA certificates trusted for HTTPS servers; empty = the
  // system's default bundle.
  std::string ca_bundle;
  // PEM text of CA certificates trusted for HTTPS servers, used instead of
  // ca_bundle when non-empty (an anchor pinned by fingerprint and kept in
  // memory).
  std::string ca_pem;
  // HTTPS peer and host name verification; off only for testing and for the
  // provisional first contact of an EST bootstrap (RFC 7030 section
  // 4.1.1), whose answer is only trusted after a fingerprint check and a
  // second, verified request.
  bool verify_tls = true;
  // Seconds to resolve and connect (TCP, and TLS for https). Also the stall
  // window: a transfer moving under 1 byte/s for this long is abandoned.
  long connect_timeout_s = 30;  // NOLINT(runtime/int): libcurl's type
  // The whole request: connect, send, wait, receive.
  long total_timeout_s = 120;  // NOLINT(runtime/int)
  // A larger body is an error; the transfer stops as soon as it is exceeded.
  std::size_t max_response_bytes = std::size_t{4} << 20;
  // Sent as User-Agent on every request.
  std::string user_agent = DefaultUserAgent();
};

// Sends HttpRequests with libcurl. Not thread-safe: one transport serves one
// thread at a time (use one per thread); distinct transports are independent.
class CurlTransport final : public Transport {
  struct Key {
    explicit Key() = default;
  };
  struct EasyDeleter {
    void operator()(CURL* handle) const noexcept;
  };
  using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;

 public:
  // Checks the options and sets up a libcurl handle (initialising libcurl
  // once per process). Fails with kInvalidArgument for non-positive timeouts
  // or cap, kIo when ca_bundle cannot be read, kInternal when libcurl cannot
  // be initialised. The caller owns the returned transport.
  static Result<std::unique_ptr<CurlTransport>> Create(TransportOptions options);

  // For Create only (the Key is private); takes ownership of `easy`.
  CurlTransport(Key, TransportOptions options, EasyPtr easy);
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;
  ~CurlTransport() override;

  // See Transport::Send. Any HTTP status, 3xx included, is a response (the
  // core turns an unexpected 3xx into its error, not the transport); the
  // content type is lower-cased without parameters. A POST without a
  // content_type is sent as application/octet-stream. Errors: kNetwork
  // (refused, unresolvable, reset, TLS failure; the message names the host
  // and carries libcurl's explanation), kTimeout (no connection or no
  // complete answer in time, or the transfer stalled), kHttp (body over
  // max_response_bytes, or a reply that is not HTTP), kInvalidArgument (a
  // URL libcurl cannot use or a scheme other than http/https).
  Result<HttpResponse> Send(const HttpRequest& request) override;

  // For sscep -W: tries a plain TCP connect to the URL's host and port (or
  // to the proxy, when one is configured) about once a second until one
  // succeeds or `seconds` have passed; seconds < 1 means a single try. No
  // request is sent and no TLS handshake made. Fails with kInvalidArgument
  // for a URL without a host, kTimeout when the last try timed out, kNetwork
  // otherwise (refused, unresolvable), naming host and port.
  Status WaitForConnectivity(const std::string& url, long seconds);  // NOLINT(runtime/int)

  // The options this transport was created with.
  const TransportOptions& options() const noexcept { return options_; }

 private:
  TransportOptions options_;
  EasyPtr easy_;  // kept between requests for its connection cache
  // libcurl writes its explanation of a failure here (CURLOPT_ERRORBUFFER),
  // which is why a transport never moves.
  char error_buffer_[CURL_ERROR_SIZE] = {};
};

}  // namespace scepd
