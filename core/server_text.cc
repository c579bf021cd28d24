#include "core/server_text.h"

#include <algorithm>

namespace scepd {

std::string CleanServerText(std::string_view text, std::size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max) + 4);
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    std::string piece;
    if (b == '\\') {
      piece = "\\\\";
    } else if (b < 0x20 || b >= 0x7f) {
      piece = {'\\', 'x', kHex[b >> 4], kHex[b & 0xf]};
    } else {
      piece = std::string(1, c);
    }
    if (out.size() + piece.size() > max) {
      out += "...";
      break;
    }
    out += piece;
  }
  return out;
}

}  // namespace scepd
