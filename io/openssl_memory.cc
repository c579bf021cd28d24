#include "io/openssl_memory.h"

#include <malloc.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace scepd {

namespace {

void* WipingMalloc(size_t n, const char*, int) { return std::malloc(n); }

void WipingFree(void* p, const char*, int) {
  if (p == nullptr) return;
  OPENSSL_cleanse(p, malloc_usable_size(p));
  std::free(p);
}

// realloc may move the block and free the old one unwiped: do it by hand.
void* WipingRealloc(void* p, size_t n, const char* file, int line) {
  if (p == nullptr) return WipingMalloc(n, file, line);
  if (n == 0) {
    WipingFree(p, file, line);
    return nullptr;
  }
  const size_t old_size = malloc_usable_size(p);
  if (n <= old_size) return p;  // fits: nothing is freed
  void* bigger = std::malloc(n);
  if (bigger == nullptr) return nullptr;  // `p` stays valid, as realloc leaves it
  std::memcpy(bigger, p, old_size);
  WipingFree(p, file, line);
  return bigger;
}

}  // namespace

bool WipeOpenSslMemoryOnFree() noexcept {
  return CRYPTO_set_mem_functions(WipingMalloc, WipingRealloc, WipingFree) == 1;
}

}  // namespace scepd
