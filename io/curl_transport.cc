#include "io/curl_transport.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string_view>
#include <thread>
#include <utility>

#include "io/curl_library.h"
#include "io/files.h"

namespace scepd {
namespace {

using Clock = std::chrono::steady_clock;

// libcurl's entry points (io/curl_library.h). Set by the first successful
// CurlTransport::Create; everything below runs only after one, because every
// use of libcurl goes through a transport.
std::atomic<const CurlApi*> g_curl{nullptr};

const CurlApi& Curl() noexcept { return *g_curl.load(std::memory_order_acquire); }

struct UrlDeleter {
  void operator()(CURLU* url) const noexcept { Curl().url_cleanup(url); }
};
using UrlPtr = std::unique_ptr<CURLU, UrlDeleter>;

struct CurlStringDeleter {
  void operator()(char* s) const noexcept { Curl().free(s); }
};
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { Curl().slist_free_all(list); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

// One part of a parsed URL; empty when absent.
std::string GetPart(CURLU* url, CURLUPart part, unsigned int flags = 0) {
  char* raw = nullptr;
  if (Curl().url_get(url, part, &raw, flags) != CURLUE_OK) return {};
  CurlString owned(raw);
  return owned ? std::string(owned.get()) : std::string();
}

Result<UrlPtr> ParseUrl(const std::string& text) {
  UrlPtr url(Curl().url());
  if (!url) return MakeError(ErrorCode::kInternal, "out of memory parsing a URL");
  const CURLUcode rc = Curl().url_set(url.get(), CURLUPART_URL, text.c_str(), 0);
  if (rc != CURLUE_OK) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("malformed URL: ") + Curl().url_strerror(rc));
  }
  return url;
}

// "host" or "host:port" as written in the URL ("[::1]:8080"), for messages:
// the full URL of a SCEP GET carries a whole PKI message in its query.
std::string HostForMessages(const std::string& url_text) {
  auto url = ParseUrl(url_text);
  if (!url.ok()) return "(malformed URL)";
  std::string host = GetPart(url->get(), CURLUPART_HOST);
  if (host.empty()) return "(URL without host)";
  const std::string port = GetPart(url->get(), CURLUPART_PORT);
  return port.empty() ? host : host + ":" + port;
}

// "Application/X-PKI-Message; charset=x" -> "application/x-pki-message".
std::string NormalizeContentType(std::string_view raw) {
  raw = raw.substr(0, raw.find(';'));
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!raw.empty() && is_space(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && is_space(raw.back())) raw.remove_suffix(1);
  std::string out(raw);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Collects the body; refuses (and so aborts the transfer) at the cap.
struct BodySink {
  std::size_t cap = 0;
  Bytes body;
  bool overflow = false;
};

std::size_t WriteBody(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto* sink = static_cast<BodySink*>(user);
  const std::size_t n = size * count;
  if (n > sink->cap - sink->body.size()) {
    sink->overflow = true;
    return CURL_WRITEFUNC_ERROR;
  }
  sink->body.insert(sink->body.end(), data, data + n);
  return n;
}

// Applies `value` unless an earlier option already failed; the first
// failure is kept so one check after all options suffices.
class OptionSetter {
 public:
  explicit OptionSetter(CURL* handle) : handle_(handle) {}

  template <class T>
  void Set(CURLoption option, T value) {
    if (rc_ != CURLE_OK) return;
    rc_ = Curl().easy_setopt(handle_, option, value);
    if (rc_ != CURLE_OK) failed_option_ = option;
  }

  Status Done() const {
    if (rc_ == CURLE_OK) return {};
    return MakeError(rc_ == CURLE_UNKNOWN_OPTION || rc_ == CURLE_NOT_BUILT_IN
                         ? ErrorCode::kUnsupported
                         : ErrorCode::kInternal,
                     "libcurl refused option " + std::to_string(failed_option_) + ": " +
                         Curl().easy_strerror(rc_));
  }

 private:
  CURL* handle_;
  CURLcode rc_ = CURLE_OK;
  int failed_option_ = 0;
};

// The options every request shares (also used by the connectivity probe,
// which overrides what it needs afterwards).
Status ApplyCommonOptions(CURL* handle, const TransportOptions& o, char* error_buffer) {
  OptionSetter s(handle);
  s.Set(CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  s.Set(CURLOPT_ERRORBUFFER, error_buffer);
  s.Set(CURLOPT_PROTOCOLS_STR, "http,https");
  s.Set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  s.Set(CURLOPT_FOLLOWLOCATION, 0L);
  s.Set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));  // NOLINT
  s.Set(CURLOPT_CONNECTTIMEOUT, o.connect_timeout_s);
  s.Set(CURLOPT_TIMEOUT, o.total_timeout_s);
  // A server trickling under a byte a second for a connect timeout's worth
  // of time is as good as gone.
  s.Set(CURLOPT_LOW_SPEED_LIMIT, 1L);
  s.Set(CURLOPT_LOW_SPEED_TIME, o.connect_timeout_s);
  s.Set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_response_bytes));
  s.Set(CURLOPT_USERAGENT, o.user_agent.c_str());
  s.Set(CURLOPT_SSL_VERIFYPEER, o.verify_tls ? 1L : 0L);
  s.Set(CURLOPT_SSL_VERIFYHOST, o.verify_tls ? 2L : 0L);
  if (!o.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(o.ca_pem.data()), o.ca_pem.size(), CURL_BLOB_COPY};
    s.Set(CURLOPT_CAINFO_BLOB, &blob);
  } else if (!o.ca_bundle.empty()) {
    s.Set(CURLOPT_CAINFO, o.ca_bundle.c_str());
  }
  if (!o.proxy.empty()) {
    s.Set(CURLOPT_PROXY, o.proxy.c_str());
    if (!o.proxy_credentials.empty()) s.Set(CURLOPT_PROXYUSERPWD, o.proxy_credentials.c_str());
  } else if (!o.proxy_from_env) {
    s.Set(CURLOPT_PROXY, "");  // "" = no proxy, environment ignored
  }
  // An empty list overrides the no_proxy environment variable, so a
  // configured proxy is used for every host, loopback included.
  if (!o.proxy_from_env) s.Set(CURLOPT_NOPROXY, "");
  return s.Done();
}

// The response headers an EST client needs. A new status line (after a
// 100 Continue, say) starts over.
struct HeaderSink {
  std::string http_version;
  std::string retry_after;
  std::string www_authenticate;
};

bool HeaderNameIs(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = line[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != name[i]) return false;
  }
  return true;
}

std::string HeaderValue(std::string_view line, std::size_t name_size) {
  std::string_view v = line.substr(name_size + 1);
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  return std::string(v);
}

std::size_t WriteHeader(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto* sink = static_cast<HeaderSink*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    *sink = HeaderSink();
    sink->http_version = std::string(line.substr(0, line.find(' ')));
  } else if (HeaderNameIs(line, "retry-after")) {
    sink->retry_after = HeaderValue(line, 11);
  } else if (HeaderNameIs(line, "www-authenticate")) {
    sink->www_authenticate = HeaderValue(line, 16);
  }
  return n;
}

double Seconds(curl_off_t microseconds) { return static_cast<double>(microseconds) / 1e6; }

}  // namespace

std::string DefaultUserAgent() { return "scepd/" SCEPD_VERSION; }

void CurlTransport::EasyDeleter::operator()(CURL* handle) const noexcept {
  Curl().easy_cleanup(handle);
}

Result<std::unique_ptr<CurlTransport>> CurlTransport::Create(TransportOptions options) {
  if (options.connect_timeout_s <= 0 || options.total_timeout_s <= 0) {
    return MakeError(ErrorCode::kInvalidArgument, "transport timeouts must be positive");
  }
  if (options.max_response_bytes == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "response size cap must be positive");
  }
  if (!options.ca_bundle.empty()) {
    if (Status st = CheckRegularFile(options.ca_bundle); !st.ok()) {
      return MakeError(ErrorCode::kIo, "cannot read CA bundle " + options.ca_bundle + ": " +
                                           st.error().message);
    }
  }
  auto api = LoadCurl();
  if (!api.ok()) return api.error();
  g_curl.store(*api, std::memory_order_release);
  EasyPtr easy(Curl().easy_init());
  if (!easy) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  auto transport =
      std::make_unique<CurlTransport>(Key(), std::move(options), std::move(easy));
  // Fails here, not on the first request, when this libcurl lacks something.
  SCEPD_TRY_STATUS(ApplyCommonOptions(transport->easy_.get(), transport->options_,
                                      transport->error_buffer_));
  return transport;
}

CurlTransport::CurlTransport(Key, TransportOptions options, EasyPtr easy)
    : options_(std::move(options)), easy_(std::move(easy)) {}

CurlTransport::~CurlTransport() {
  OPENSSL_cleanse(options_.proxy_credentials.data(), options_.proxy_credentials.size());
}

Result<HttpResponse> CurlTransport::Send(const HttpRequest& request) {
  CURL* handle = easy_.get();
  // Only host and port of the proxy: its URL may carry credentials.
  const std::string host =
      HostForMessages(request.url) +
      (options_.proxy.empty()
           ? std::string()
           : " via proxy " + HostForMessages(options_.proxy.find("://") == std::string::npos
                                                 ? "http://" + options_.proxy
                                                 : options_.proxy));
  const bool post = request.method == HttpRequest::Method::kPost;
  if (post && request.content_type.find_first_of("\r\n") != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "content type contains a line break");
  }

  // Reset forgets the previous request's pointers (headers, body) but keeps
  // open connections, so keep-alive still works.
  Curl().easy_reset(handle);
  SCEPD_TRY_STATUS(ApplyCommonOptions(handle, options_, error_buffer_));
  error_buffer_[0] = '\0';

  SlistPtr headers;
  const auto add_header = [&headers](const std::string& line) {
    curl_slist* grown = Curl().slist_append(headers.get(), line.c_str());
    if (grown == nullptr) return false;
    static_cast<void>(headers.release());  // now owned through `grown`
    headers.reset(grown);
    return true;
  };
  // No "Expect: 100-continue" round trip: SCEP servers need not support it.
  bool headers_ok = add_header("Expect:");
  if (request.close_connection) headers_ok = headers_ok && add_header("Connection: close");
  if (post) {
    headers_ok = headers_ok &&
                 add_header("Content-Type: " + (request.content_type.empty()
                                                    ? std::string("application/octet-stream")
                                                    : request.content_type));
  }
  for (const auto& [name, value] : request.headers) {
    if ((name + value).find_first_of("\r\n") != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument, "header " + name + " contains a line break");
    }
    headers_ok = headers_ok && add_header(name + ": " + value);
  }
  if (!headers_ok) return MakeError(ErrorCode::kInternal, "out of memory building headers");

  BodySink sink;
  sink.cap = options_.max_response_bytes;
  HeaderSink header_sink;
  static const char kEmpty[] = "";
  OptionSetter s(handle);
  s.Set(CURLOPT_URL, request.url.c_str());
  s.Set(CURLOPT_HTTPHEADER, headers.get());
  if (post) {
    s.Set(CURLOPT_POST, 1L);
    s.Set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    // Never a null pointer: with one, libcurl would read the body from stdin.
    s.Set(CURLOPT_POSTFIELDS, request.body.empty()
                                  ? static_cast<const void*>(kEmpty)
                                  : static_cast<const void*>(request.body.data()));
  } else {
    s.Set(CURLOPT_HTTPGET, 1L);
  }
  s.Set(CURLOPT_WRITEFUNCTION, &WriteBody);
  s.Set(CURLOPT_WRITEDATA, static_cast<void*>(&sink));
  s.Set(CURLOPT_HEADERFUNCTION, &WriteHeader);
  s.Set(CURLOPT_HEADERDATA, static_cast<void*>(&header_sink));
  if (!request.basic_user.empty()) {
    // libcurl keeps its own copies until the next reset (below, or at the
    // next request); ours are the request owner's to wipe.
    s.Set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));  // NOLINT(runtime/int)
    s.Set(CURLOPT_USERNAME, request.basic_user.c_str());
    s.Set(CURLOPT_PASSWORD, request.basic_password.c_str());
  }
  // NOCOPY: libcurl reads the PEM where it is, so the only copy of the key
  // is the caller's, which it wipes.
  curl_blob cert_blob{const_cast<char*>(request.client_cert_pem.data()),
                      request.client_cert_pem.size(), CURL_BLOB_NOCOPY};
  curl_blob key_blob{const_cast<char*>(request.client_key_pem.data()),
                     request.client_key_pem.size(), CURL_BLOB_NOCOPY};
  const bool client_cert = !request.client_cert_pem.empty() && !request.client_key_pem.empty();
  if (client_cert) {
    s.Set(CURLOPT_SSLCERT_BLOB, &cert_blob);
    s.Set(CURLOPT_SSLCERTTYPE, "PEM");
    s.Set(CURLOPT_SSLKEY_BLOB, &key_blob);
    s.Set(CURLOPT_SSLKEYTYPE, "PEM");
    // A connection made with another identity (or none) is not reused, and
    // this one is closed after the answer, so no later request rides on it.
    s.Set(CURLOPT_FRESH_CONNECT, 1L);
    s.Set(CURLOPT_FORBID_REUSE, 1L);
  }
  if (request.close_connection) s.Set(CURLOPT_FORBID_REUSE, 1L);
  SCEPD_TRY_STATUS(s.Done());

  const CURLcode rc = Curl().easy_perform(handle);
  // Forget the credentials as soon as the answer is read: libcurl frees its
  // copies on reset (which also clears what easy_getinfo reports).
  struct ResetAfter {
    CURL* handle;
    bool active;
    ~ResetAfter() {
      if (active) Curl().easy_reset(handle);
    }
  } reset_after{handle, client_cert || !request.basic_user.empty()};
  if (rc == CURLE_OK) {
    HttpResponse response;
    Curl().easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
    char* content_type = nullptr;
    if (Curl().easy_getinfo(handle, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK &&
        content_type != nullptr) {
      response.content_type = NormalizeContentType(content_type);
      response.content_type_header = content_type;
    }
    response.http_version = std::move(header_sink.http_version);
    response.retry_after = std::move(header_sink.retry_after);
    response.www_authenticate = std::move(header_sink.www_authenticate);
    response.body = std::move(sink.body);
    return response;
  }

  const std::string detail = error_buffer_[0] != '\0' ? error_buffer_ : Curl().easy_strerror(rc);
  if (sink.overflow || rc == CURLE_FILESIZE_EXCEEDED) {
    return MakeError(ErrorCode::kHttp, "response larger than " +
                                           std::to_string(options_.max_response_bytes) +
                                           " bytes from " + host);
  }
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected_us = 0;
      curl_off_t total_us = 0;
      curl_off_t received = 0;
      long request_bytes = 0;  // NOLINT(runtime/int): libcurl's type
      long header_bytes = 0;   // NOLINT(runtime/int)
      Curl().easy_getinfo(handle, CURLINFO_CONNECT_TIME_T, &connected_us);
      Curl().easy_getinfo(handle, CURLINFO_TOTAL_TIME_T, &total_us);
      Curl().easy_getinfo(handle, CURLINFO_SIZE_DOWNLOAD_T, &received);
      Curl().easy_getinfo(handle, CURLINFO_REQUEST_SIZE, &request_bytes);
      Curl().easy_getinfo(handle, CURLINFO_HEADER_SIZE, &header_bytes);
      // A reused (kept-alive) connection reports no connect time: the
      // request having gone out tells that one was there.
      if (connected_us == 0 && request_bytes == 0) {
        const long limit = std::min(options_.connect_timeout_s,  // NOLINT(runtime/int)
                                    options_.total_timeout_s);
        return MakeError(ErrorCode::kTimeout, "no connection to " + host + " within " +
                                                  std::to_string(limit) + " s (" + detail + ")");
      }
      if (Seconds(total_us) + 0.5 < static_cast<double>(options_.total_timeout_s)) {
        return MakeError(ErrorCode::kTimeout,
                         host + " stalled: under 1 byte/s for " +
                             std::to_string(options_.connect_timeout_s) + " s (" + detail + ")");
      }
      if (header_bytes > 0) {
        // A server trickling its answer (a byte a second) ends here.
        return MakeError(ErrorCode::kTimeout,
                         "incomplete answer from " + host + " within " +
                             std::to_string(options_.total_timeout_s) + " s (" +
                             std::to_string(static_cast<long long>(received)) +  // NOLINT
                             " body bytes received; " + detail + ")");
      }
      return MakeError(ErrorCode::kTimeout, "no answer from " + host + " within " +
                                                std::to_string(options_.total_timeout_s) +
                                                " s (" + detail + ")");
    }
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return MakeError(ErrorCode::kInvalidArgument, "cannot use URL for " + host + ": " + detail);
    case CURLE_WEIRD_SERVER_REPLY:
      return MakeError(ErrorCode::kHttp, "malformed HTTP reply from " + host + ": " + detail);
    case CURLE_PEER_FAILED_VERIFICATION:
      return MakeError(ErrorCode::kNetwork,
                       "TLS: the certificate of " + host + " is not trusted: " + detail);
    case CURLE_SSL_CACERT_BADFILE:
      return MakeError(ErrorCode::kIo, "cannot load CA bundle " + options_.ca_bundle + ": " + detail);
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return MakeError(ErrorCode::kInternal, "request to " + host + ": " + detail);
    default:
      return MakeError(ErrorCode::kNetwork, "request to " + host + " failed: " + detail);
  }
}

Status CurlTransport::WaitForConnectivity(const std::string& url,
                                          long seconds) {  // NOLINT(runtime/int)
  // The probe goes to the proxy when there is one: that is the only
  // connection this transport would open.
  const bool via_proxy = !options_.proxy.empty();
  std::string target_text = via_proxy ? options_.proxy : url;
  if (via_proxy && target_text.find("://") == std::string::npos) {
    target_text = "http://" + target_text;
  }
  auto parsed = ParseUrl(target_text);
  if (!parsed.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(via_proxy ? "proxy " : "URL ") + parsed.error().message);
  }
  CURLU* target = parsed->get();
  const std::string host = GetPart(target, CURLUPART_HOST);
  if (host.empty()) return MakeError(ErrorCode::kInvalidArgument, "no host in " + target_text);
  std::string port = GetPart(target, CURLUPART_PORT, via_proxy ? 0 : CURLU_DEFAULT_PORT);
  if (port.empty()) port = "1080";  // libcurl's default proxy port
  const std::string where = host + ":" + port;
  // A plain http URL to the same host and port: CONNECT_ONLY then stops
  // after the TCP handshake, even where the real URL is https.
  if (Curl().url_set(target, CURLUPART_SCHEME, "http", 0) != CURLUE_OK ||
      Curl().url_set(target, CURLUPART_PORT, port.c_str(), 0) != CURLUE_OK ||
      Curl().url_set(target, CURLUPART_PATH, "/", 0) != CURLUE_OK ||
      Curl().url_set(target, CURLUPART_QUERY, nullptr, 0) != CURLUE_OK ||
      Curl().url_set(target, CURLUPART_USER, nullptr, 0) != CURLUE_OK ||
      Curl().url_set(target, CURLUPART_PASSWORD, nullptr, 0) != CURLUE_OK) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot probe " + where);
  }
  const std::string probe_url = GetPart(target, CURLUPART_URL);

  EasyPtr probe(Curl().easy_init());
  if (!probe) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  char error_buffer[CURL_ERROR_SIZE] = {};
  TransportOptions probe_options = options_;
  probe_options.proxy.clear();
  probe_options.proxy_from_env = false;
  SCEPD_TRY_STATUS(ApplyCommonOptions(probe.get(), probe_options, error_buffer));

  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(std::max(seconds, 0L));
  CURLcode rc = CURLE_OK;
  // Bounded: each pass either returns, or sleeps until the next second,
  // and the loop ends at the deadline.
  for (;;) {
    const auto attempt_start = Clock::now();
    long timeout_ms = options_.connect_timeout_s * 1000;  // NOLINT(runtime/int)
    if (seconds >= 1) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - attempt_start);
      timeout_ms = std::clamp<long>(static_cast<long>(left.count()), 1L,  // NOLINT
                                    timeout_ms);
    }
    error_buffer[0] = '\0';
    OptionSetter s(probe.get());
    s.Set(CURLOPT_URL, probe_url.c_str());
    s.Set(CURLOPT_CONNECT_ONLY, 1L);
    s.Set(CURLOPT_FRESH_CONNECT, 1L);
    s.Set(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    s.Set(CURLOPT_TIMEOUT_MS, timeout_ms);
    SCEPD_TRY_STATUS(s.Done());
    rc = Curl().easy_perform(probe.get());
    if (rc == CURLE_OK) return {};
    if (seconds < 1) break;
    const auto next = std::min(attempt_start + std::chrono::seconds(1), deadline);
    std::this_thread::sleep_until(next);
    if (Clock::now() >= deadline) break;
  }
  const std::string detail = error_buffer[0] != '\0' ? error_buffer : Curl().easy_strerror(rc);
  const std::string within =
      seconds < 1 ? std::string() : " within " + std::to_string(seconds) + " s";
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return MakeError(ErrorCode::kTimeout, "no connection to " + where + within + " (" + detail + ")");
  }
  if (rc == CURLE_OUT_OF_MEMORY || rc == CURLE_BAD_FUNCTION_ARGUMENT) {
    return MakeError(ErrorCode::kInternal, "probing " + where + ": " + detail);
  }
  return MakeError(ErrorCode::kNetwork, "cannot connect to " + where + within + ": " + detail);
}

}  // namespace scepd
