#include "web/cgi_request.h"

#include <unistd.h>

#include <cstdlib>

namespace scepd::web {

namespace {

constexpr std::size_t kMaxValue = 16 * 1024;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> Decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) {
        return MakeError(ErrorCode::kInvalidArgument, "a truncated %-escape");
      }
      const int hi = HexDigit(in[i + 1]), lo = HexDigit(in[i + 2]);
      if (hi < 0 || lo < 0) return MakeError(ErrorCode::kInvalidArgument, "a malformed %-escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

CgiRequest ReadCgiRequest() {
  CgiRequest r;
  r.method = Env("REQUEST_METHOD");
  r.query = Env("QUERY_STRING");
  r.cookie = Env("HTTP_COOKIE");
  r.content_type = Env("CONTENT_TYPE");
  const std::string length = Env("CONTENT_LENGTH");
  if (r.method != "POST" || length.empty()) return r;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(length.c_str(), &end, 10);  // NOLINT(runtime/int)
  if (end == length.c_str() || *end != '\0' || n > kMaxBody) {
    r.body_too_large = true;
    return r;
  }
  r.body.resize(static_cast<std::size_t>(n));
  std::size_t got = 0;
  while (got < r.body.size()) {
    ssize_t k = ::read(STDIN_FILENO, r.body.data() + got, r.body.size() - got);
    if (k <= 0) break;
    got += static_cast<std::size_t>(k);
  }
  r.body.resize(got);
  return r;
}

Result<std::map<std::string, std::string>> ParseForm(std::string_view encoded) {
  std::map<std::string, std::string> fields;
  while (!encoded.empty()) {
    const std::size_t amp = encoded.find('&');
    std::string_view pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view() : encoded.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    SCEPD_TRY(std::string name, Decode(pair.substr(0, eq)));
    SCEPD_TRY(std::string value,
              Decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1)));
    if (name.empty() || name.size() > 64 ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument, "a field name the pages do not use");
    }
    if (value.size() > kMaxValue) {
      return MakeError(ErrorCode::kInvalidArgument, "field " + name + " is too long");
    }
    std::string clean;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const auto c = static_cast<unsigned char>(value[i]);
      if (c == '\r' && i + 1 < value.size() && value[i + 1] == '\n') continue;
      if ((c < 0x20 && c != '\n') || c == 0x7F) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "field " + name + " contains a control character");
      }
      clean.push_back(value[i]);
    }
    if (!fields.emplace(name, std::move(clean)).second) {
      return MakeError(ErrorCode::kInvalidArgument, "field " + name + " appears twice");
    }
  }
  return fields;
}

std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const std::size_t eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) {
      return std::string(item.substr(eq + 1));
    }
  }
  return std::nullopt;
}

}  // namespace scepd::web
