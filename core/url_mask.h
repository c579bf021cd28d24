#pragma once
// URLs shown to people (--check-config, logs) without the credentials an
// operator may have put in them ("http://user:pass@host/...").

#include <string>
#include <string_view>

namespace scepd {

// `url` with the user-info part of its authority (everything before the
// last '@' between "scheme://" and the first '/', '?' or '#') replaced by
// "***": "http://***@host/scep". A URL without user-info comes back as it
// is; a text without "://" is taken as starting with the authority (sscep
// accepts "host:port" for -p). Never fails.
std::string MaskUrlUserInfo(std::string_view url);

}  // namespace scepd
