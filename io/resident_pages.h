#pragma once
// Giving back, before a long sleep, the program and library pages the
// daemon touched while it worked.
//
// A process's RSS counts every page of its program and libraries it has
// touched since it started: after one certificate check that is several
// MiB of libcrypto, libstdc++ and libc code (the kernel maps pages around
// each one touched), although the sleeping daemon needs almost none of it
// until the next check. Such a page is clean and file-backed: the kernel
// may drop it from the process at any time under memory pressure and read
// it back from the page cache or the file on the next use. Releasing does
// the same at once (madvise MADV_DONTNEED), for exactly those mappings:
// private, not writable, backed by a file, without a single page the
// process has changed (no anonymous page: relocated read-only data after
// RELRO keeps its changes), none locked. The pages stay in the page cache
// for other processes; the next check maps back what it uses.
//
// Finding and releasing are two calls so that the caller can log in
// between and release as the very last thing before it sleeps: whatever
// code runs after the release is mapped back at once.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace scepd {

struct CleanFilePages {
  struct Range {
    std::uintptr_t start = 0;
    std::size_t length = 0;
  };
  std::vector<Range> ranges;
  std::size_t resident_bytes = 0;  // of those ranges, from smaps
};

// Reads /proc/self/smaps. Empty when it cannot be read, when it does not
// describe this process (this function's own code is not in it), or off Linux.
CleanFilePages FindCleanFilePages();

// madvise(MADV_DONTNEED) on each range; returns how many were advised.
// Allocates nothing and logs nothing.
std::size_t ReleasePages(const CleanFilePages& pages) noexcept;

}  // namespace scepd
