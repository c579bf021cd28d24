#include "io/resident_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace scepd {

namespace {

// One mapping of smaps: its header fields and the sizes looked at (kB).
struct Mapping {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  bool candidate = false;   // from the header: r?-p and a file path
  long rss = -1;            // NOLINT(runtime/int)
  long anonymous = -1;      // NOLINT(runtime/int)
  long locked = -1;         // NOLINT(runtime/int)
};

void Add(const Mapping& m, CleanFilePages* out) {
  // Both fields read, and they say "no page of the process's own in here".
  // (Private_Dirty is not one of them: for a file page it means the page
  // cache still has to write the file back, e.g. a binary just installed.)
  if (!m.candidate || m.rss <= 0 || m.anonymous != 0 || m.locked != 0) return;
  out->ranges.push_back({m.start, m.end - m.start});
  out->resident_bytes += static_cast<std::size_t>(m.rss) * 1024;
}

}  // namespace

CleanFilePages FindCleanFilePages() {
  CleanFilePages out;
#if defined(__linux__)
  std::FILE* f = std::fopen("/proc/self/smaps", "re");
  if (f == nullptr) return out;
  // This function's own code must be in an executable mapping of the list:
  // a file that does not describe this address space (an emulator's own
  // smaps, say) gives nothing to release.
  const auto here = reinterpret_cast<std::uintptr_t>(&FindCleanFilePages);
  bool found_here = false;
  char line[512];
  Mapping m;
  bool have = false;
  bool line_start = true;  // a long line comes in pieces: only its first counts
  while (std::fgets(line, sizeof line, f) != nullptr) {
    const bool first_piece = line_start;
    line_start = std::strchr(line, '\n') != nullptr;
    if (!first_piece) continue;
    unsigned long long start = 0, end = 0;  // NOLINT(runtime/int)
    char perms[5] = {};
    int path_at = 0;
    // Header: "start-end perms offset dev inode [path]".
    if (std::sscanf(line, "%llx-%llx %4s %*s %*s %*s %n", &start, &end, perms, &path_at) == 3 &&
        path_at > 0) {
      if (have) Add(m, &out);
      if (start > UINTPTR_MAX || end > UINTPTR_MAX || end < start) {
        std::fclose(f);
        return {};  // not addresses of this process
      }
      m = Mapping{static_cast<std::uintptr_t>(start), static_cast<std::uintptr_t>(end)};
      have = true;
      found_here = found_here || (perms[2] == 'x' && here >= m.start && here < m.end);
      m.candidate = perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' && line[path_at] == '/';
      continue;
    }
    long kb = 0;  // NOLINT(runtime/int)
    if (std::sscanf(line, "Rss: %ld kB", &kb) == 1) {
      m.rss = kb;
    } else if (std::sscanf(line, "Anonymous: %ld kB", &kb) == 1) {
      m.anonymous = kb;
    } else if (std::sscanf(line, "Locked: %ld kB", &kb) == 1) {
      m.locked = kb;
    }
  }
  if (have) Add(m, &out);
  std::fclose(f);
  if (!found_here) return {};
#endif
  return out;
}

std::size_t ReleasePages(const CleanFilePages& pages) noexcept {
  std::size_t advised = 0;
#if defined(__linux__) && defined(MADV_DONTNEED)
  for (const CleanFilePages::Range& r : pages.ranges) {
    if (::madvise(reinterpret_cast<void*>(r.start), r.length, MADV_DONTNEED) == 0) ++advised;
  }
#else
  (void)pages;
#endif
  return advised;
}

}  // namespace scepd
