#pragma once
// OpenSSL frees the buffers it encoded a request, a PKCS#7 envelope or a
// PEM file into without wiping them (only key material such as bignums is
// cleared): a private key's DER or a request holding the challenge password
// would stay in the heap until reused. scepd and sscep therefore give
// OpenSSL allocation functions that wipe every block before it is freed.

namespace scepd {

// Installs the wiping allocator (CRYPTO_set_mem_functions). Must be the
// first thing main() does: OpenSSL accepts it only before its first
// allocation. Returns false when it was too late (nothing changes then).
// The cost is one memset per freed block.
bool WipeOpenSslMemoryOnFree() noexcept;

}  // namespace scepd
