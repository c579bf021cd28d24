#include "web/csrf.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace scepd::web {

std::optional<std::string> NewCsrfToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return std::nullopt;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

bool WellFormedCsrfToken(std::string_view token) {
  return token.size() == 64 && token.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool CsrfTokensMatch(std::string_view cookie, std::string_view field) {
  if (!WellFormedCsrfToken(cookie) || !WellFormedCsrfToken(field)) return false;
  return CRYPTO_memcmp(cookie.data(), field.data(), cookie.size()) == 0;
}

std::string CsrfCookieHeader(const std::string& token) {
  return std::string(kCsrfCookie) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict";
}

}  // namespace scepd::web
