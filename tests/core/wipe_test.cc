#include "core/wipe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace scepd {
namespace {

// The bytes a string's buffer holds, including those past size().
std::string Raw(const std::string& s, std::size_t n) { return std::string(s.data(), n); }

TEST(WipeTest, OverwritesTheBytesBeforeEmptying) {
  std::string secret;
  secret.reserve(64);
  secret = "-----BEGIN PRIVATE KEY-----MIIEvQ";
  const std::size_t n = secret.size();
  const char* where = secret.data();
  Wipe(secret);
  EXPECT_TRUE(secret.empty());
  ASSERT_EQ(secret.data(), where) << "the same buffer is kept (clear does not free)";
  const std::string raw = Raw(secret, n);
  EXPECT_TRUE(std::all_of(raw.begin(), raw.end(), [](char c) { return c == '\0'; })) << raw;
}

TEST(WipeTest, ShortStringsInsideTheObjectToo) {
  std::string pw = "s3cret";  // small: stored inside the string object
  const char* where = pw.data();
  Wipe(pw);
  EXPECT_EQ(pw.data(), where);
  EXPECT_EQ(Raw(pw, 6), std::string(6, '\0'));
}

TEST(WipeTest, ByteVectors) {
  std::vector<std::uint8_t> der = {0x30, 0x82, 0x04, 0xbd, 0x02, 0x01};
  const std::uint8_t* where = der.data();
  Wipe(der);
  EXPECT_TRUE(der.empty());
  EXPECT_EQ(der.data(), where);
  EXPECT_TRUE(std::all_of(where, where + 6, [](std::uint8_t b) { return b == 0; }));
}

TEST(WipeTest, WipeOnExitWipesOnEveryPath) {
  std::string key;
  key.reserve(32);
  auto early_return = [&key](bool fail) {
    WipeOnExit wipe(key);
    key = "private key material";
    if (fail) return false;
    return true;
  };
  for (bool fail : {true, false}) {
    EXPECT_EQ(early_return(fail), !fail);
    EXPECT_TRUE(key.empty());
    EXPECT_EQ(Raw(key, 20), std::string(20, '\0'));
  }
}

}  // namespace
}  // namespace scepd
