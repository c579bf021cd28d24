#pragma once
// Where an EST operation lives (RFC 7030 section 3.2.2): a server's base
// URL, an optional CA label, and the operation's path segment.

#include <string>
#include <string_view>

#include "core/result.h"

namespace scepd::est {

enum class Operation { kCaCerts, kSimpleEnroll, kSimpleReenroll, kCsrAttrs, kServerKeygen };

// The path segment of an operation: "cacerts", "simpleenroll", ...
const char* OperationName(Operation op) noexcept;

// The URL of `op` on the server at `base_url`. `base_url` is
// "https://host[:port]" (the well-known prefix is added), or already ends in
// "/.well-known/est" (a trailing slash is ignored). `label` is empty or one
// path segment of unreserved characters and sub-delims (RFC 3986) and lands
// between the prefix and the operation: /.well-known/est/<label>/cacerts.
// Fails with kInvalidArgument for a base URL that is not https://, carries a
// query, a fragment or user information (credentials never go in a URL), or
// has another path, and for a label with a slash, a dot segment or other
// characters.
Result<std::string> OperationUrl(std::string_view base_url, std::string_view label, Operation op);

}  // namespace scepd::est
