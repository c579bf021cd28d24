#include "core/der.h"

namespace scepd::der {

std::optional<Element> Read(std::span<const std::uint8_t> in) {
  if (in.size() < 2 || (in[0] & 0x1f) == 0x1f) return std::nullopt;
  std::size_t pos = 2;
  std::size_t len = in[1];
  if (len & 0x80) {
    const std::size_t n = len & 0x7f;
    if (n == 0 || n > 4 || in.size() < 2 + n) return std::nullopt;
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | in[2 + i];
    pos += n;
  }
  if (len > in.size() - pos) return std::nullopt;
  return Element{in[0], in.first(pos + len), in.subspan(pos, len), in.subspan(pos + len)};
}

std::optional<Element> Expect(std::span<const std::uint8_t> in, int tag) {
  auto e = Read(in);
  if (!e || e->tag != tag) return std::nullopt;
  return e;
}

bool WellFormed(std::span<const std::uint8_t> in, int depth) {
  if (depth < 0) return false;
  while (!in.empty()) {
    auto e = Read(in);
    if (!e) return false;
    if ((e->tag & 0x20) && !WellFormed(e->content, depth - 1)) return false;
    in = e->rest;
  }
  return true;
}

void AppendLength(Bytes& out, std::size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<std::uint8_t>(len));
    return;
  }
  Bytes digits;
  for (std::size_t v = len; v != 0; v >>= 8) digits.insert(digits.begin(), v & 0xFF);
  out.push_back(static_cast<std::uint8_t>(0x80 | digits.size()));
  out.insert(out.end(), digits.begin(), digits.end());
}

}  // namespace scepd::der
