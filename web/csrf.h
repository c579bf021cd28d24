#pragma once
// Cross-site request forgery protection for the pages' POSTs: a random
// token per browser session, kept in an HttpOnly, SameSite=Strict cookie and
// repeated in a hidden field of every form. A POST whose field does not
// equal its cookie changes nothing (another site can make a browser send
// the cookie, but cannot read it to fill in the field).

#include <optional>
#include <string>
#include <string_view>

namespace scepd::web {

inline constexpr char kCsrfCookie[] = "scepd_csrf";
inline constexpr char kCsrfField[] = "csrf";

// A new token: 32 random bytes from OpenSSL's generator as 64 lowercase
// hex digits; nullopt if the generator fails.
std::optional<std::string> NewCsrfToken();

// True when `token` has the form NewCsrfToken makes.
bool WellFormedCsrfToken(std::string_view token);

// True when both are well formed and equal (compared in constant time).
bool CsrfTokensMatch(std::string_view cookie, std::string_view field);

// The Set-Cookie header value for `token`.
std::string CsrfCookieHeader(const std::string& token);

}  // namespace scepd::web
