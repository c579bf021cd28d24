// KeyPreparer: the child process that makes the next key at low priority.

#include "daemon/key_preparer.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "daemon/next_key.h"
#include "io/files.h"
#include "tests/support/process.h"

namespace scepd::testing {
namespace {

TEST(KeyPreparerTest, ChildWritesA0600KeyOfTheAskedSize) {
  TempDir dir("scepd-next-key-");
  KeyPreparer preparer;
  // Normal priority: SCHED_IDLE would make the test as slow as the machine
  // is busy (the low-priority child is what the next test stops).
  preparer.set_low_priority(false);
  ASSERT_TRUE(preparer.Start(dir.path(), 2048));
  preparer.Wait();
  EXPECT_EQ(preparer.Reap(), 0u);
  struct stat st;
  ASSERT_EQ(::stat(NextKeyPath(dir.path()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto key = LoadNextKey(dir.path(), 2048);
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_NE(*key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_bits(key->get()), 2048);
  // Asked for another size, the same file is refused.
  auto other = LoadNextKey(dir.path(), 3072);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find(NextKeyPath(dir.path())), std::string::npos);
}

TEST(KeyPreparerTest, StopEndsAChildThatIsStillWorkingAndLeavesNoKey) {
  TempDir dir("scepd-next-key-");
  KeyPreparer preparer;
  ASSERT_TRUE(preparer.Start(dir.path(), 16384));  // minutes of work
  EXPECT_FALSE(preparer.Start(dir.path(), 16384)) << "one child per data_dir";
  preparer.Stop();
  EXPECT_EQ(preparer.Reap(), 0u);
  EXPECT_FALSE(PathExists(NextKeyPath(dir.path())));
}

TEST(NextKeyTest, MissingIsNoKeyAndRemoveIsIdempotent) {
  TempDir dir("scepd-next-key-");
  auto key = LoadNextKey(dir.path(), 2048);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, nullptr);
  EXPECT_TRUE(RemoveNextKey(dir.path()).ok());
}

}  // namespace
}  // namespace scepd::testing
