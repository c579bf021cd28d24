#include "io/unique_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <utility>

namespace scepd {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

int OpenDevNull() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(UniqueFdTest, ClosesOnDestruction) {
  int raw = -1;
  {
    UniqueFd fd(OpenDevNull());
    raw = fd.get();
    ASSERT_TRUE(fd.valid());
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFdTest, MoveTransfersOwnership) {
  UniqueFd a(OpenDevNull());
  const int raw = a.get();
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(b.get(), raw);
  UniqueFd c(OpenDevNull());
  const int other = c.get();
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_FALSE(IsOpen(other));  // the descriptor c held before is closed
  EXPECT_TRUE(IsOpen(raw));
}

TEST(UniqueFdTest, ReleaseAndReset) {
  UniqueFd fd(OpenDevNull());
  const int raw = fd.release();
  EXPECT_FALSE(fd.valid());
  EXPECT_TRUE(IsOpen(raw));
  fd.reset(raw);
  EXPECT_EQ(fd.get(), raw);
  fd.reset(raw);  // taking the same descriptor again does not close it
  EXPECT_TRUE(IsOpen(raw));
  fd.reset();
  EXPECT_FALSE(IsOpen(raw));
  EXPECT_EQ(fd.get(), -1);
}

}  // namespace
}  // namespace scepd
