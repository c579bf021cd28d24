#pragma once
// The proxy URLs of the Tectia command lines (-S and -H), turned into the
// proxy string the HTTP transport takes (TransportOptions::proxy).

#include <string>
#include <string_view>

#include "core/result.h"

namespace scepd::tectia {

inline constexpr int kDefaultSocksPort = 1080;
inline constexpr int kDefaultHttpProxyPort = 8080;

// -S socks://[user@]server[:port][/network/bits[,network/bits]]. The server
// may be an IPv6 address in brackets. Returns "socks5h://[user@]server:port"
// (SOCKS 5, the proxy resolving the CA's name; port 1080 by default). The
// network/bits list (which destinations go direct) is refused with its
// reason: every request of these commands goes to one CA, so give -S only
// when that CA is behind the SOCKS server. Fails with kInvalidArgument
// naming the URL part at fault: other scheme, empty server, a password
// (user:password@: SOCKS 5 user names only here), bad port.
Result<std::string> SocksProxy(std::string_view url);

// -H http://server[:port][/]. Returns "http://server:port" (8080 by
// default). Fails with kInvalidArgument: other scheme (https proxies are not
// supported), empty server, bad port, a path other than "/".
Result<std::string> HttpProxy(std::string_view url);

}  // namespace scepd::tectia
