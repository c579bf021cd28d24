#include "core/bytes.h"

#include <gtest/gtest.h>

namespace scepd {
namespace {

TEST(HexTest, EncodesUpperCaseWithOptionalSeparator) {
  Bytes b{0x0A, 0xFF, 0x00};
  EXPECT_EQ(HexEncode(b), "0AFF00");
  EXPECT_EQ(HexEncode(b, ':'), "0A:FF:00");
  EXPECT_EQ(HexEncode(Bytes{}), "");
}

TEST(HexTest, DecodesMixedCaseAndColons) {
  auto r = HexDecode("0a:Ff:00");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (Bytes{0x0A, 0xFF, 0x00}));
}

TEST(HexTest, RejectsBadDigitNamingPosition) {
  auto r = HexDecode("0AZ1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'Z' at position 3"), std::string::npos) << r.error().message;
  EXPECT_FALSE(HexDecode("ABC").ok());
}

TEST(Base64Test, RoundTripsAllLengths) {
  for (std::size_t n = 0; n < 10; ++n) {
    Bytes b;
    for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(0xF0 + i));
    auto d = Base64Decode(Base64Encode(b));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, b) << "length " << n;
  }
  EXPECT_EQ(Base64Encode(ToBytes("foob")), "Zm9vYg==");
}

TEST(Base64Test, RejectsGarbage) {
  EXPECT_FALSE(Base64Decode("abc").ok());
  EXPECT_FALSE(Base64Decode("ab!d").ok());
}

TEST(PercentEncodeTest, EscapesBase64Specials) {
  EXPECT_EQ(PercentEncode("a+b/c=="), "a%2Bb%2Fc%3D%3D");
  EXPECT_EQ(PercentEncode("A-z_0.~"), "A-z_0.~");
}

}  // namespace
}  // namespace scepd
