#include "core/backoff.h"

#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "tests/core/fake_clock.h"

namespace scepd {
namespace {

using testing::FixedRandom;

constexpr std::uint64_t kLow = 0;                 // the most negative spread
constexpr std::uint64_t kMid = 1ULL << 63;        // no spread at all
constexpr std::uint64_t kHigh = UINT64_MAX;       // the most positive spread
constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();

// Values across the whole 64-bit range, ends and midpoints included.
std::vector<std::uint64_t> SpreadOfRandoms() {
  std::vector<std::uint64_t> values = {0, 1, 1ULL << 11, 1ULL << 62, kMid - 1, kMid, kMid + 1,
                                       3ULL << 62, UINT64_MAX - 1, UINT64_MAX};
  for (std::uint64_t i = 0; i <= 64; ++i) values.push_back(i * (UINT64_MAX / 64));
  return values;
}

TEST(BackoffTest, DoublesFromInitialUpToTheCap) {
  FixedRandom random{kMid};
  const BackoffSettings settings;  // 60 s, 6 h cap, ±20 %
  const std::vector<std::int64_t> expected = {60,   120,  240,   480,   960,  1920,
                                              3840, 7680, 15360, 21600, 21600};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(RetryDelay(static_cast<int>(i) + 1, settings, random), expected[i])
        << "failures=" << i + 1;
  }
  EXPECT_EQ(random.calls(), expected.size());
}

TEST(BackoffTest, JitterStaysWithinTwentyPercentAndUnderTheCap) {
  const BackoffSettings settings;
  for (int failures = 1; failures <= 40; ++failures) {
    const double base = std::min(21600.0, 60.0 * std::pow(2.0, failures - 1));
    for (std::uint64_t value : SpreadOfRandoms()) {
      FixedRandom random{value};
      const std::int64_t delay = RetryDelay(failures, settings, random);
      EXPECT_GE(static_cast<double>(delay), base * 0.8) << failures << " " << value;
      EXPECT_LE(static_cast<double>(delay), std::min(21600.0, base * 1.2))
          << failures << " " << value;
    }
  }
}

TEST(BackoffTest, JitterEndsAreReached) {
  const BackoffSettings settings;
  FixedRandom low{kLow};
  FixedRandom high{kHigh};
  EXPECT_EQ(RetryDelay(1, settings, low), 48);   // 60 - 12
  EXPECT_EQ(RetryDelay(1, settings, high), 71);  // 60 + 11.99..., rounded towards 60
  EXPECT_EQ(RetryDelay(3, settings, low), 192);  // 240 - 48
}

TEST(BackoffTest, SpreadAtTheCapIsReflectedBelowIt) {
  const BackoffSettings settings;
  FixedRandom high{kHigh};
  FixedRandom low{kLow};
  FixedRandom mid{kMid};
  // Upward spread at the cap would all land exactly on the cap; it is
  // mirrored instead, so a fleet stays spread out.
  const std::int64_t reflected = RetryDelay(20, settings, high);
  EXPECT_LT(reflected, 21600);
  EXPECT_GE(reflected, 21600 - 4320);
  EXPECT_EQ(RetryDelay(20, settings, low), 21600 - 4320);
  EXPECT_EQ(RetryDelay(20, settings, mid), 21600);
}

TEST(BackoffTest, HugeFailureCountsStayAtTheCapWithoutOverflow) {
  const BackoffSettings settings;
  for (int failures : {62, 63, 64, 65, 100, 1000, 1 << 20, INT_MAX}) {
    for (std::uint64_t value : SpreadOfRandoms()) {
      FixedRandom random{value};
      const std::int64_t delay = RetryDelay(failures, settings, random);
      EXPECT_GE(delay, 21600 - 4320) << failures;
      EXPECT_LE(delay, 21600) << failures;
    }
  }
  FixedRandom mid{kMid};
  EXPECT_EQ(RetryDelay(1000, settings, mid), 21600);
}

TEST(BackoffTest, NeverBelowHalfTheInitialDelay) {
  BackoffSettings settings;
  settings.jitter = 1.0;  // a full-width spread could reach 0
  FixedRandom low{kLow};
  EXPECT_EQ(RetryDelay(1, settings, low), 30);
  settings.jitter = 0.9;
  EXPECT_EQ(RetryDelay(1, settings, low), 30);
  settings.jitter = 0.4;
  EXPECT_EQ(RetryDelay(1, settings, low), 36);  // 60 - 24: above the floor
}

TEST(BackoffTest, FailureCountsBelowOneCountAsTheFirst) {
  const BackoffSettings settings;
  FixedRandom mid{kMid};
  EXPECT_EQ(RetryDelay(0, settings, mid), 60);
  EXPECT_EQ(RetryDelay(-5, settings, mid), 60);
  EXPECT_EQ(RetryDelay(INT_MIN, settings, mid), 60);
}

TEST(BackoffTest, OutOfRangeSettingsAreTamed) {
  FixedRandom low{kLow};
  FixedRandom mid{kMid};
  FixedRandom high{kHigh};

  BackoffSettings zero{0, 0, 0.2};
  EXPECT_EQ(RetryDelay(1, zero, low), 1);
  EXPECT_EQ(RetryDelay(50, zero, high), 1);

  BackoffSettings negative{-60, -1, -0.5};
  EXPECT_EQ(RetryDelay(3, negative, low), 1);

  BackoffSettings initial_above_cap{600, 100, 0.0};
  EXPECT_EQ(RetryDelay(1, initial_above_cap, mid), 100);

  BackoffSettings nan_jitter{60, 3600, std::nan("")};
  EXPECT_EQ(RetryDelay(2, nan_jitter, low), 120);

  BackoffSettings wide_jitter{60, 3600, 7.0};  // clamped to ±100 %
  EXPECT_EQ(RetryDelay(1, wide_jitter, low), 30);
  EXPECT_LE(RetryDelay(1, wide_jitter, high), 119);

  BackoffSettings enormous{kMaxInt64, kMaxInt64, 0.2};
  for (std::uint64_t value : SpreadOfRandoms()) {
    FixedRandom random{value};
    const std::int64_t delay = RetryDelay(1000, enormous, random);
    EXPECT_GE(delay, kMaxInt64 / 2);
    EXPECT_LE(delay, kMaxInt64);
  }
}

TEST(BackoffTest, ApplyJitterBounds) {
  for (std::int64_t base : {std::int64_t{1}, std::int64_t{7}, std::int64_t{61}, std::int64_t{86400},
                            std::int64_t{1} << 40, kMaxInt64 / 3, kMaxInt64}) {
    for (double fraction : {0.0, 0.1, 0.25, 1.0}) {
      const double spread = fraction * static_cast<double>(base);
      for (std::uint64_t value : SpreadOfRandoms()) {
        FixedRandom random{value};
        const std::int64_t jittered = ApplyJitter(base, fraction, random);
        EXPECT_GE(static_cast<double>(jittered), static_cast<double>(base) - spread) << base;
        EXPECT_LE(static_cast<double>(jittered), static_cast<double>(base) + spread) << base;
        EXPECT_GE(jittered, 0);
      }
    }
  }
}

TEST(BackoffTest, ApplyJitterLeavesNonPositiveBasesAlone) {
  FixedRandom random{kLow};
  EXPECT_EQ(ApplyJitter(0, 0.5, random), 0);
  EXPECT_EQ(ApplyJitter(-10, 0.5, random), -10);
  EXPECT_EQ(random.calls(), 0u);
  EXPECT_EQ(ApplyJitter(100, 0.5, random), 50);
  EXPECT_EQ(random.calls(), 1u);
}

}  // namespace
}  // namespace scepd
