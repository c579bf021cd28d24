#pragma once
// A CGI request as the web server hands it over (RFC 3875: environment
// variables and the body on stdin), and the form fields of a POST, checked
// strictly: a request that is not exactly what the pages send is refused
// whole, so a bad request never changes anything.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace scepd::web {

// Largest POST body accepted; the configuration form with two long scripts
// stays far below it.
inline constexpr std::size_t kMaxBody = 64 * 1024;

struct CgiRequest {
  std::string method;        // REQUEST_METHOD
  std::string query;         // QUERY_STRING
  std::string cookie;        // HTTP_COOKIE
  std::string content_type;  // CONTENT_TYPE
  std::string body;          // the POST body (CONTENT_LENGTH bytes of stdin)
  bool body_too_large = false;
};

// Reads the request from the environment and stdin. A CONTENT_LENGTH above
// kMaxBody sets body_too_large and reads nothing. Never fails otherwise (a
// short body is taken as it is: the form check will refuse it).
CgiRequest ReadCgiRequest();

// The fields of an application/x-www-form-urlencoded body or query string:
// '+' is a space, %XX a byte. Fails with kInvalidArgument (the message is
// for people) on a malformed escape, an empty or repeated name, a name
// outside [a-z0-9_], a control character other than newline in a value
// (CRLF becomes LF first), or a value longer than 16 KiB.
Result<std::map<std::string, std::string>> ParseForm(std::string_view encoded);

// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string> CookieValue(std::string_view header, std::string_view name);

}  // namespace scepd::web
