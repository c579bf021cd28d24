#pragma once
// Byte buffers and the small conversions every layer needs.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scepd {

using Bytes = std::vector<std::uint8_t>;

inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string ToString(std::span<const std::uint8_t> b) {
  return std::string(b.begin(), b.end());
}

// Upper-case hex, no separators ("0A1B"); with `sep`, pairs joined ("0A:1B").
std::string HexEncode(std::span<const std::uint8_t> data, char sep = '\0');
// Accepts upper or lower case, optional ':' or ' ' between pairs.
Result<Bytes> HexDecode(std::string_view hex);

// Standard base64 (RFC 4648 section 4, with padding, no line breaks).
std::string Base64Encode(std::span<const std::uint8_t> data);
Result<Bytes> Base64Decode(std::string_view text);

// Percent-encodes everything outside RFC 3986 "unreserved" (so + / = too).
std::string PercentEncode(std::string_view text);

}  // namespace scepd
