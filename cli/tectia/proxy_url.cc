#include "cli/tectia/proxy_url.h"

#include <charconv>

namespace scepd::tectia {
namespace {

Error Invalid(std::string_view option, std::string_view url, const std::string& why) {
  return MakeError(ErrorCode::kInvalidArgument,
                   std::string(option) + " '" + std::string(url) + "': " + why);
}

struct HostPort {
  std::string host;  // brackets kept for IPv6
  int port = 0;
};

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// "host[:port]" or "[v6][:port]".
Result<HostPort> ParseHostPort(std::string_view option, std::string_view url, std::string_view text,
                               int default_port) {
  HostPort hp;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close == 1) {
      return Invalid(option, url, "IPv6 address without its closing ']'");
    }
    hp.host = std::string(text.substr(0, close + 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Invalid(option, url, "unexpected text after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) return Invalid(option, url, "empty port");
    }
  } else {
    auto colon = text.find(':');
    hp.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      if (port_text.empty()) return Invalid(option, url, "empty port");
    }
  }
  if (hp.host.empty()) return Invalid(option, url, "no server");
  for (char c : hp.host) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == '@' || c == '/') {
      return Invalid(option, url, "bad server name '" + hp.host + "'");
    }
  }
  hp.port = default_port;
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
      return Invalid(option, url, "port '" + std::string(port_text) + "' is not 1-65535");
    }
    hp.port = port;
  }
  return hp;
}

}  // namespace

Result<std::string> SocksProxy(std::string_view url) {
  constexpr std::string_view kScheme = "socks://";
  if (!StartsWithNoCase(url, kScheme)) return Invalid("-S", url, "not a socks:// URL");
  std::string_view rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    std::string_view networks = rest.substr(slash + 1);
    if (!networks.empty()) {
      return Invalid("-S", url,
                     "network/bits lists are not supported: every request goes to the one CA, "
                     "so give -S only when that CA is reached through the SOCKS server");
    }
    rest = rest.substr(0, slash);
  }
  std::string user;
  auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    user = std::string(rest.substr(0, at));
    rest = rest.substr(at + 1);
    if (user.empty()) return Invalid("-S", url, "empty user name before '@'");
    if (user.find(':') != std::string::npos) {
      return Invalid("-S", url, "a password in the URL is not supported (user name only)");
    }
  }
  SCEPD_TRY(HostPort hp, ParseHostPort("-S", url, rest, kDefaultSocksPort));
  return "socks5h://" + (user.empty() ? "" : user + "@") + hp.host + ":" + std::to_string(hp.port);
}

Result<std::string> HttpProxy(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!StartsWithNoCase(url, kScheme)) return Invalid("-H", url, "not an http:// URL");
  std::string_view rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") return Invalid("-H", url, "a proxy URL has no path");
    rest = rest.substr(0, slash);
  }
  if (rest.find('@') != std::string_view::npos) {
    return Invalid("-H", url, "credentials in the proxy URL are not supported");
  }
  SCEPD_TRY(HostPort hp, ParseHostPort("-H", url, rest, kDefaultHttpProxyPort));
  return "http://" + hp.host + ":" + std::to_string(hp.port);
}

}  // namespace scepd::tectia
