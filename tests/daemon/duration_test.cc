#include "daemon/duration.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace scepd {
namespace {

TEST(ParseDurationTest, PlainNumberIsSeconds) {
  auto d = ParseDuration("90");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, 90);
  EXPECT_EQ(*ParseDuration("0"), 0);
}

TEST(ParseDurationTest, Units) {
  EXPECT_EQ(*ParseDuration("45s"), 45);
  EXPECT_EQ(*ParseDuration("15m"), 15 * 60);
  EXPECT_EQ(*ParseDuration("24h"), 24 * 3600);
  EXPECT_EQ(*ParseDuration("7d"), 7 * 86400);
  EXPECT_EQ(*ParseDuration("007d"), 7 * 86400);
}

TEST(ParseDurationTest, RejectsMalformedWithExactMessage) {
  auto d = ParseDuration("10x");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(d.error().message,
            "'10x' is not a duration (unknown unit 'x'; expected a whole number of seconds, "
            "or one with the unit s, m, h or d, e.g. 90, 15m, 24h, 7d)");
  for (const char* bad : {"", "h", "-5", "+5", "1.5h", "5 m", " 5", "5m ", "5mm", "5H", "1h30m"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << "'" << bad << "'";
  }
  EXPECT_NE(ParseDuration("").error().message.find("(empty;"), std::string::npos);
  EXPECT_NE(ParseDuration("5mm").error().message.find("(text after the unit;"),
            std::string::npos);
}

TEST(ParseDurationTest, OverflowIsAnError) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(*ParseDuration("9223372036854775807"), kMax);
  auto too_big = ParseDuration("9223372036854775808");
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().message, "'9223372036854775808' is too large a duration");
  EXPECT_FALSE(ParseDuration("99999999999999999999999999s").ok());
  // Fits as a number, overflows when multiplied by the unit.
  EXPECT_FALSE(ParseDuration("106751991167301d").ok());
  EXPECT_EQ(*ParseDuration("106751991167300d"), 106751991167300LL * 86400);
  EXPECT_FALSE(ParseDuration("153722867280912931m").ok());
}

TEST(FormatDurationTest, LargestExactUnitAndRoundTrip) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(45), "45s");
  EXPECT_EQ(FormatDuration(90), "90s");
  EXPECT_EQ(FormatDuration(5400), "90m");
  EXPECT_EQ(FormatDuration(7200), "2h");
  EXPECT_EQ(FormatDuration(86400), "1d");
  EXPECT_EQ(FormatDuration(90000), "25h");
  for (std::int64_t n : {0LL, 1LL, 59LL, 60LL, 61LL, 3600LL, 86399LL, 86400LL, 31536000LL}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(n)), n) << n;
  }
}

}  // namespace
}  // namespace scepd
