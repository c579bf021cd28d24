#pragma once
// Wiping secrets (private keys, challenge passwords, buffers that held
// them) from memory once they are no longer needed, so that a core dump, a
// swap page or a later heap allocation does not carry them.

#include <openssl/crypto.h>

namespace scepd {

// Overwrites every byte of `buffer` (std::string, std::vector<uint8_t>, any
// contiguous container) with OPENSSL_cleanse, which the compiler cannot
// drop, then empties it. Only the current contents: bytes a container left
// behind in memory it has already freed (growth, moves) are out of reach, so
// secrets should be built in buffers reserved up front. Never fails.
template <class Buffer>
void Wipe(Buffer& buffer) noexcept {
  if (!buffer.empty()) OPENSSL_cleanse(buffer.data(), buffer.size() * sizeof(buffer[0]));
  buffer.clear();
}

// Wipes `buffer` (borrowed; it must outlive this) when the scope ends, on
// every path: early returns, errors.
template <class Buffer>
class WipeOnExit {
 public:
  explicit WipeOnExit(Buffer& buffer) noexcept : buffer_(buffer) {}
  ~WipeOnExit() { Wipe(buffer_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  Buffer& buffer_;
};

}  // namespace scepd
