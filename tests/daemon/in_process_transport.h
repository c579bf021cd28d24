#pragma once
// A Transport that hands each request straight to the test responder
// (tests/responder/responder.h) in the same process: no sockets, no
// threads, so a CertificateJob can be driven entirely by a FakeClock.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/transport.h"
#include "tests/responder/responder.h"

namespace scepd::testing {

// Decodes "%XX" escapes and '+' (a space in a query). A '%' not followed by
// two hex digits is kept as it is, as lenient servers do.
inline std::string PercentDecode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 &&
               hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The parts of an absolute URL the responder looks at.
struct ParsedUrl {
  std::string path;                          // "/scep"; "/" when the URL has none
  std::map<std::string, std::string> query;  // percent-decoded; the first of repeated names wins
};

// Splits "scheme://host[:port]/path?a=1&b=2" into path and decoded query.
inline ParsedUrl ParseUrl(const std::string& url) {
  ParsedUrl out;
  std::size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  const std::size_t slash = url.find('/', start);
  const std::size_t qmark = url.find('?', start);
  if (slash == std::string::npos || (qmark != std::string::npos && qmark < slash)) {
    out.path = "/";
  } else {
    out.path = url.substr(slash, qmark == std::string::npos ? std::string::npos : qmark - slash);
  }
  if (qmark == std::string::npos) return out;
  std::string_view rest(url);
  rest.remove_prefix(qmark + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    std::string name = PercentDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    out.query.emplace(std::move(name), std::move(value));
  }
  return out;
}

// Every request a test transport passed on, in order (shared by all the
// transports one test makes: the job makes a new one per attempt).
struct SentRequest {
  std::string method;  // "GET" or "POST"
  ParsedUrl url;
  Bytes body;
};

// Borrows the responder and the (optional) request list; both must outlive
// the transport. Never fails: every request gets the responder's answer.
class InProcessTransport final : public Transport {
 public:
  explicit InProcessTransport(Responder& responder, std::vector<SentRequest>* sent = nullptr)
      : responder_(responder), sent_(sent) {}

  Result<HttpResponse> Send(const HttpRequest& request) override {
    SentRequest r;
    r.method = request.method == HttpRequest::Method::kPost ? "POST" : "GET";
    r.url = ParseUrl(request.url);
    r.body = request.body;
    HttpResponse response = responder_.Handle(r.method, r.url.path, r.url.query, r.body);
    if (sent_ != nullptr) sent_->push_back(std::move(r));
    return response;
  }

 private:
  Responder& responder_;
  std::vector<SentRequest>* sent_;
};

}  // namespace scepd::testing
