#pragma once
// Just enough DER (X.690) to find fields in a certificate or key without
// handing it to OpenSSL's decoders: one element at a time, definite
// lengths, single-byte tags. Anything else reads as "not here" (nullopt)
// and the caller takes the full OpenSSL path. And the one thing the
// encoders here need that OpenSSL's do not offer: a length.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "core/bytes.h"

namespace scepd::der {

constexpr int kInteger = 0x02;
constexpr int kBitString = 0x03;
constexpr int kOid = 0x06;
constexpr int kUtcTime = 0x17;
constexpr int kGeneralizedTime = 0x18;
constexpr int kSequence = 0x30;
constexpr int kExplicit0 = 0xa0;  // [0] EXPLICIT, constructed

// One element: its tag, the whole encoding (`tlv`), its contents, and
// what follows it in the input (`rest`).
struct Element {
  int tag = -1;
  std::span<const std::uint8_t> tlv;
  std::span<const std::uint8_t> content;
  std::span<const std::uint8_t> rest;
};

// The element at the start of `in`; nullopt when its header is not a
// single-byte tag with a definite length of at most 4 length bytes, or
// the element runs past `in`.
std::optional<Element> Read(std::span<const std::uint8_t> in);

// The element at the start of `in` when it has tag `tag`.
std::optional<Element> Expect(std::span<const std::uint8_t> in, int tag);

// True when `in` is a sequence of complete elements, and so is the
// contents of every constructed one among them, down to `depth` levels:
// no truncation, no trailing bytes, no indefinite length anywhere.
bool WellFormed(std::span<const std::uint8_t> in, int depth = 16);

// Appends the DER encoding of the length `len` (short or long form).
void AppendLength(Bytes& out, std::size_t len);

}  // namespace scepd::der
