#include "io/resident_pages.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"

namespace scepd {
namespace {

constexpr std::size_t kPages = 32;

// The Rss (kB) smaps reports for the mapping that starts at `addr`; -1 if none.
long RssKb(const void* addr) {  // NOLINT(runtime/int)
  std::FILE* f = std::fopen("/proc/self/smaps", "r");
  if (f == nullptr) return -1;
  char line[512];
  bool ours = false;
  long rss = -1;  // NOLINT(runtime/int)
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned long start = 0, end = 0;  // NOLINT(runtime/int)
    if (std::sscanf(line, "%lx-%lx ", &start, &end) == 2 && std::strchr(line, ' ') != nullptr &&
        std::strstr(line, "-") < std::strchr(line, ' ')) {
      ours = start == reinterpret_cast<unsigned long>(addr);  // NOLINT(runtime/int)
      continue;
    }
    long kb = 0;  // NOLINT(runtime/int)
    if (ours && std::sscanf(line, "Rss: %ld kB", &kb) == 1) rss = kb;
  }
  std::fclose(f);
  return rss;
}

bool Listed(const CleanFilePages& pages, const void* addr) {
  for (const auto& r : pages.ranges) {
    if (r.start == reinterpret_cast<std::uintptr_t>(addr)) return true;
  }
  return false;
}

class ResidentPagesTest : public ::testing::Test {
 protected:
  ResidentPagesTest() {
    std::string content(kPages * page_, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 26);
    testing::WriteFile(path_, content);
    fd_ = ::open(path_.c_str(), O_RDONLY);
  }
  ~ResidentPagesTest() override {
    if (fd_ >= 0) ::close(fd_);
  }

  // Maps the file, touches every page, checks the content.
  char* Map(int prot, int flags) {
    void* p = ::mmap(nullptr, kPages * page_, prot, flags, fd_, 0);
    EXPECT_NE(p, MAP_FAILED);
    if (p == MAP_FAILED) return nullptr;
    maps_.push_back(p);
    ExpectContent(static_cast<char*>(p));
    return static_cast<char*>(p);
  }
  void ExpectContent(const char* p) {
    for (std::size_t i = 0; i < kPages * page_; i += 997) {
      ASSERT_EQ(p[i], static_cast<char>('a' + i % 26)) << i;
    }
  }
  void TearDown() override {
    for (void* p : maps_) ::munmap(p, kPages * page_);
  }

  const std::size_t page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  testing::TempDir dir_;
  const std::string path_ = dir_.File("pages.bin");
  int fd_ = -1;
  std::vector<void*> maps_;
};

// The file was just written: its pages are still dirty in the page cache
// (smaps: Private_Dirty), as a freshly installed binary's are.
TEST_F(ResidentPagesTest, AReadOnlyFileMappingIsReleasedAndReadsBackTheSame) {
  if (testing::RunningUnderEmulator()) {
    GTEST_SKIP() << "under qemu-user /proc/self/smaps is not the target's: nothing is released";
  }
  char* p = Map(PROT_READ, MAP_PRIVATE);
  ASSERT_NE(p, nullptr);
  ASSERT_GT(RssKb(p), 0);
  const CleanFilePages clean = FindCleanFilePages();
  ASSERT_TRUE(Listed(clean, p));
  EXPECT_GE(clean.resident_bytes, static_cast<std::size_t>(RssKb(p)) * 1024);
  EXPECT_GE(ReleasePages(clean), 1u);
  EXPECT_EQ(RssKb(p), 0);
  ExpectContent(p);  // read back from the page cache
  EXPECT_GT(RssKb(p), 0);
}

TEST_F(ResidentPagesTest, PagesTheProcessChangedAreNeverReleased) {
  // As RELRO leaves relocated data: written while writable, then read-only.
  char* relro = Map(PROT_READ | PROT_WRITE, MAP_PRIVATE);
  ASSERT_NE(relro, nullptr);
  relro[3 * page_] = '!';
  ASSERT_EQ(::mprotect(relro, kPages * page_, PROT_READ), 0);
  // Private and writable, unchanged: left alone too (it may be written later).
  char* data = Map(PROT_READ | PROT_WRITE, MAP_PRIVATE);
  // Shared: not ours to judge.
  char* shared = Map(PROT_READ, MAP_SHARED);
  ASSERT_NE(data, nullptr);
  ASSERT_NE(shared, nullptr);

  const CleanFilePages clean = FindCleanFilePages();
  EXPECT_FALSE(Listed(clean, relro));
  EXPECT_FALSE(Listed(clean, data));
  EXPECT_FALSE(Listed(clean, shared));
  ReleasePages(clean);
  EXPECT_EQ(relro[3 * page_], '!');
  ExpectContent(data);
  ExpectContent(shared);
  if (!testing::RunningUnderEmulator()) {  // (qemu-user: smaps lists the emulator's addresses)
    EXPECT_GT(RssKb(relro), 0);
    EXPECT_GT(RssKb(data), 0);
    EXPECT_GT(RssKb(shared), 0);
  }
}

TEST(ResidentPages, ReleasingTheProcessesOwnCodeKeepsItRunning) {
  // The test binary's own text and libraries are released and mapped
  // back as the test goes on.
  const CleanFilePages clean = FindCleanFilePages();
  // (Under qemu-user the list is the emulator's, and FindCleanFilePages
  // finds its own code missing from it: nothing to release.)
  if (!testing::RunningUnderEmulator()) {
    EXPECT_FALSE(clean.ranges.empty());
  }
  EXPECT_EQ(ReleasePages(clean), clean.ranges.size());
  std::string s = "still";
  s += " running";
  EXPECT_EQ(s, "still running");
  EXPECT_EQ(ReleasePages(CleanFilePages()), 0u);
}

}  // namespace
}  // namespace scepd
