#include "core/renewal_policy.h"

#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <climits>
#include <cstdint>
#include <ctime>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "tests/core/fake_clock.h"

namespace scepd {
namespace {

using testing::FakeClock;
using testing::FixedRandom;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kYear = 365 * kDay;
constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinInt64 = std::numeric_limits<std::int64_t>::min();
constexpr std::uint64_t kMid = 1ULL << 63;  // no spread

// Seconds since the epoch of a UTC date, computed independently of
// FormatUtc by counting days year by year, backwards before 1970.
std::int64_t Utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  std::int64_t days = 0;
  for (int y = 1970; y < year; ++y) days += leap(y) ? 366 : 365;
  for (int y = year; y < 1970; ++y) days -= leap(y) ? 366 : 365;
  const int month_days[] = {31, leap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int m = 1; m < month; ++m) days += month_days[m - 1];
  days += day - 1;
  return days * kDay + hour * 3600 + minute * 60 + second;
}

const std::int64_t kBuildTime = Utc(2026, 11, 22);

RenewalSettings Settings() {
  RenewalSettings settings;
  settings.build_time = kBuildTime;
  return settings;
}

// A one-year certificate issued on 2027-01-01.
CertTimes OneYearCert() { return CertTimes{Utc(2027, 1, 1), Utc(2028, 1, 1)}; }

std::vector<std::uint64_t> SpreadOfRandoms() {
  std::vector<std::uint64_t> values = {0, 1, 1ULL << 62, kMid - 1, kMid, kMid + 1, 3ULL << 62,
                                       UINT64_MAX - 1, UINT64_MAX};
  for (std::uint64_t i = 0; i <= 100; ++i) values.push_back(i * (UINT64_MAX / 100));
  return values;
}

TEST(FormatUtcTest, KnownValues) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(5), "1970-01-01T00:00:05Z");
  EXPECT_EQ(FormatUtc(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatUtc(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatUtc(2147483647), "2038-01-19T03:14:07Z");
  EXPECT_EQ(FormatUtc(2147483648), "2038-01-19T03:14:08Z");  // 2^31
  EXPECT_EQ(FormatUtc(2524608000), "2050-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(4102444800), "2100-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(4107542400), "2100-03-01T00:00:00Z");  // 2100 is not a leap year
  EXPECT_EQ(FormatUtc(4294967296), "2106-02-07T06:28:16Z");  // 2^32
  EXPECT_EQ(FormatUtc(Utc(2026, 11, 22, 12)), "2026-11-22T12:00:00Z");
  EXPECT_EQ(FormatUtc(253402300799), "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatUtc(253402300800), "10000-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(-62135596800), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(-62167219200), "0000-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(-62167219201), "-0001-12-31T23:59:59Z");
}

TEST(FormatUtcTest, Int64Extremes) {
  EXPECT_EQ(FormatUtc(kMaxInt64), "292277026596-12-04T15:30:07Z");
  EXPECT_EQ(FormatUtc(kMinInt64), "-292277022657-01-27T08:29:52Z");
}

// True when `v` is representable as T (a template, so that no "always true"
// comparison is compiled where T has 64 bits).
template <class T>
bool Fits(std::int64_t v) {
  if constexpr (sizeof(T) >= sizeof(std::int64_t)) {
    return true;
  } else {
    return v >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
           v <= static_cast<std::int64_t>(std::numeric_limits<T>::max());
  }
}

// Every day from 1900 to 2500 at an odd second of the day, on every target:
// against OpenSSL's calendar (day arithmetic from the epoch, no time_t), and
// against the C library's gmtime_r wherever the value fits this target's
// time_t (all of it where time_t has 64 bits; 1901-12-13 to 2038-01-19 on
// armhf and mipsel, whose time_t has 32).
TEST(FormatUtcTest, AgreesWithOpenSslAndGmtime) {
  auto format = [](const std::tm& tm) {
    char out[32];
    std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(out);
  };
  const std::int64_t first = Utc(1900, 1, 1) + 45296;
  int with_gmtime = 0;
  for (std::int64_t t = first; t < Utc(2500, 1, 1); t += kDay) {
    const std::int64_t days = (t - first) / kDay + (first - 45296) / kDay;  // whole days
    std::tm tm{};
    const std::time_t epoch = 0;
    ASSERT_NE(gmtime_r(&epoch, &tm), nullptr);
    ASSERT_EQ(OPENSSL_gmtime_adj(&tm, static_cast<int>(days), 45296), 1) << t;
    ASSERT_EQ(FormatUtc(t), format(tm)) << t;
    if (Fits<std::time_t>(t)) {
      const std::time_t tt = static_cast<std::time_t>(t);
      ASSERT_NE(gmtime_r(&tt, &tm), nullptr) << t;
      ASSERT_EQ(FormatUtc(t), format(tm)) << t;
      ++with_gmtime;
    }
  }
  // 1901-12-14 .. 2038-01-18 at least: about 49,700 days.
  EXPECT_GT(with_gmtime, 49000);
}

TEST(RenewalPolicyTest, MissingCertificateEnrollsNow) {
  const std::int64_t now = Utc(2027, 3, 1);
  FixedRandom random{kMid};
  const Decision decision = DecideRenewal(std::nullopt, now, Settings(), random);
  EXPECT_EQ(decision.verdict, Verdict::kMissing);
  EXPECT_EQ(decision.next_check, now);
  EXPECT_EQ(decision.reason, "no certificate installed; enrolling");
  EXPECT_EQ(random.calls(), 0u);
}

TEST(RenewalPolicyTest, ValidCertificateChecksAgainAfterTheJitteredInterval) {
  FakeClock clock(Utc(2027, 3, 1));
  FixedRandom mid{kMid};
  const Decision decision = DecideRenewal(OneYearCert(), clock.Now(), Settings(), mid);
  EXPECT_EQ(decision.verdict, Verdict::kValid);
  EXPECT_EQ(decision.next_check, clock.Now() + kDay);
  EXPECT_EQ(decision.reason,
            "certificate valid for 306 more days; renewal window opens 2027-12-02T00:00:00Z");
  EXPECT_EQ(mid.calls(), 1u);
}

TEST(RenewalPolicyTest, JitterStaysWithinTenPercentForEveryRandomValue) {
  const std::int64_t now = Utc(2027, 3, 1, 13, 7, 9);
  for (std::uint64_t value : SpreadOfRandoms()) {
    FixedRandom random{value};
    const Decision decision = DecideRenewal(OneYearCert(), now, Settings(), random);
    ASSERT_EQ(decision.verdict, Verdict::kValid);
    EXPECT_GE(decision.next_check, now + kDay - 8640) << value;
    EXPECT_LE(decision.next_check, now + kDay + 8640) << value;
  }
  FixedRandom low{0};
  FixedRandom high{UINT64_MAX};
  EXPECT_EQ(DecideRenewal(OneYearCert(), now, Settings(), low).next_check, now + kDay - 8640);
  EXPECT_EQ(DecideRenewal(OneYearCert(), now, Settings(), high).next_check, now + kDay + 8639);
}

TEST(RenewalPolicyTest, JitterSettingsAtTheirEdges) {
  const std::int64_t now = Utc(2027, 3, 1);
  RenewalSettings settings = Settings();
  FixedRandom low{0};

  settings.jitter = 0.0;
  EXPECT_EQ(DecideRenewal(OneYearCert(), now, settings, low).next_check, now + kDay);
  settings.jitter = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(DecideRenewal(OneYearCert(), now, settings, low).next_check, now + kDay);
  settings.jitter = -3.0;
  EXPECT_EQ(DecideRenewal(OneYearCert(), now, settings, low).next_check, now + kDay);
  // ±100 % (and anything beyond, clamped) may reach now, but never before now + 1.
  settings.jitter = 5.0;
  EXPECT_EQ(DecideRenewal(OneYearCert(), now, settings, low).next_check, now + 1);
  settings.jitter = 0.1;
  settings.check_interval = 0;
  EXPECT_EQ(DecideRenewal(OneYearCert(), now, settings, low).next_check, now + 1);
  settings.check_interval = -500;
  EXPECT_EQ(DecideRenewal(OneYearCert(), now, settings, low).next_check, now + 1);
}

TEST(RenewalPolicyTest, WindowOpeningBeforeTheNextIntervalIsTheNextCheck) {
  const CertTimes cert = OneYearCert();
  const std::int64_t window_open = cert.not_after - 30 * kDay;
  const std::int64_t now = window_open - 3600;  // an hour before the window opens
  for (std::uint64_t value : {std::uint64_t{0}, kMid, UINT64_MAX}) {
    FixedRandom random{value};
    const Decision decision = DecideRenewal(cert, now, Settings(), random);
    EXPECT_EQ(decision.verdict, Verdict::kValid);
    EXPECT_EQ(decision.next_check, window_open);
    EXPECT_EQ(decision.reason,
              "certificate valid for 30 more days; renewal window opens 2027-12-02T00:00:00Z");
  }
}

TEST(RenewalPolicyTest, RenewalFallsDueTheSecondTheWindowOpens) {
  const CertTimes cert = OneYearCert();
  const std::int64_t window_open = cert.not_after - 30 * kDay;
  FixedRandom random{kMid};

  // Exactly 30 days left is not "fewer than 30": look again a second later.
  Decision at_window = DecideRenewal(cert, window_open, Settings(), random);
  EXPECT_EQ(at_window.verdict, Verdict::kValid);
  EXPECT_EQ(at_window.next_check, window_open + 1);

  Decision after = DecideRenewal(cert, at_window.next_check, Settings(), random);
  EXPECT_EQ(after.verdict, Verdict::kRenewalDue);
  EXPECT_EQ(after.next_check, window_open + 1);
}

// renew_spread: the point lies in the first `spread` of the window, at the
// share the seed says; seed 0, spread 0 and a window as long as the
// lifetime all give the window's opening (the plain renew_days rule).
TEST(RenewalPolicyTest, RenewalPointSpreadsOverTheFirstPartOfTheWindow) {
  const CertTimes base = OneYearCert();
  const std::int64_t open = base.not_after - 30 * kDay;
  RenewalSettings settings = Settings();
  settings.spread = 0.5;
  for (std::uint64_t seed : SpreadOfRandoms()) {
    CertTimes cert = base;
    cert.renewal_seed = seed;
    const std::int64_t point = RenewalPoint(cert, settings);
    EXPECT_GE(point, open) << seed;
    EXPECT_LT(point, open + 15 * kDay) << seed;
  }
  CertTimes cert = base;
  cert.renewal_seed = kMid;  // the middle of the spread
  EXPECT_EQ(RenewalPoint(cert, settings), open + 15 * kDay / 2);
  cert.renewal_seed = UINT64_MAX;
  EXPECT_EQ(RenewalPoint(cert, settings), open + 15 * kDay - 1);
  cert.renewal_seed = 0;
  EXPECT_EQ(RenewalPoint(cert, settings), open);

  cert.renewal_seed = kMid;
  settings.spread = 0.0;
  EXPECT_EQ(RenewalPoint(cert, settings), open);
  settings.spread = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(RenewalPoint(cert, settings), open);
  settings.spread = 7.0;  // clamped to the whole window
  EXPECT_EQ(RenewalPoint(cert, settings), open + 15 * kDay);
  settings.spread = 0.5;
  settings.renew_days = 365;  // as long as the lifetime: due at once, as before
  EXPECT_EQ(RenewalPoint(cert, settings), base.not_before);
  settings.renew_days = INT_MAX;
  EXPECT_EQ(RenewalPoint(cert, settings), base.not_after - std::int64_t{INT_MAX} * kDay);
}

TEST(RenewalPolicyTest, ValidUntilTheRenewalPointThenDue) {
  CertTimes cert = OneYearCert();
  cert.renewal_seed = kMid;
  RenewalSettings settings = Settings();
  settings.spread = 0.5;
  const std::int64_t open = cert.not_after - 30 * kDay;
  const std::int64_t point = open + 15 * kDay / 2;
  FixedRandom random{kMid};
  // Inside the window, before the point: valid, and the point is the next check.
  const Decision inside = DecideRenewal(cert, open + kDay / 2 + 3 * kDay, settings, random);
  EXPECT_EQ(inside.verdict, Verdict::kValid);
  EXPECT_EQ(inside.next_check, open + kDay / 2 + 4 * kDay);
  const Decision near = DecideRenewal(cert, point - 3600, settings, random);
  EXPECT_EQ(near.verdict, Verdict::kValid);
  EXPECT_EQ(near.next_check, point);
  EXPECT_EQ(near.reason,
            "certificate valid for 22 more days; renewal window opens 2027-12-02T00:00:00Z, this "
            "certificate renews at " + FormatUtc(point));
  EXPECT_EQ(DecideRenewal(cert, point, settings, random).next_check, point + 1);
  const Decision due = DecideRenewal(cert, point + 1, settings, random);
  EXPECT_EQ(due.verdict, Verdict::kRenewalDue);
  EXPECT_NE(due.reason.find("past its renewal point " + FormatUtc(point)), std::string::npos)
      << due.reason;
}

TEST(RenewalPolicyTest, RenewalSeedIsStablePerCertificateAndDiffersBetweenThem) {
  CertSummary a;
  a.serial = "1001";
  a.subject = "CN=router-1";
  a.not_before = 1798761600;
  a.not_after = 1798761600 + kYear;
  CertSummary same = a;
  EXPECT_EQ(RenewalSeed(a), RenewalSeed(same));
  for (auto change : std::vector<void (*)(CertSummary*)>{
           [](CertSummary* s) { s->serial = "1002"; },
           [](CertSummary* s) { s->subject = "CN=router-2"; },
           [](CertSummary* s) { *s->not_after += 1; },
           [](CertSummary* s) { s->rsa_public_key = {0x30, 0x00}; }}) {
    CertSummary other = a;
    change(&other);
    EXPECT_NE(RenewalSeed(a), RenewalSeed(other));
  }
}

TEST(RenewalPolicyTest, RenewalDue) {
  const CertTimes cert = OneYearCert();
  const std::int64_t now = cert.not_after - 12 * kDay - 5;
  FixedRandom random{kMid};
  const Decision decision = DecideRenewal(cert, now, Settings(), random);
  EXPECT_EQ(decision.verdict, Verdict::kRenewalDue);
  EXPECT_EQ(decision.next_check, now);
  EXPECT_EQ(decision.reason,
            "certificate expires 2028-01-01T00:00:00Z, in 12 days, fewer than the 30 days of "
            "renew_days; renewing");
  EXPECT_EQ(random.calls(), 0u);

  const Decision hours = DecideRenewal(cert, cert.not_after - 5 * 3600 - 1, Settings(), random);
  EXPECT_EQ(hours.verdict, Verdict::kRenewalDue);
  EXPECT_NE(hours.reason.find("in 5 hours"), std::string::npos) << hours.reason;
}

TEST(RenewalPolicyTest, Expired) {
  const CertTimes cert = OneYearCert();
  FixedRandom random{kMid};

  const Decision at_end = DecideRenewal(cert, cert.not_after, Settings(), random);
  EXPECT_EQ(at_end.verdict, Verdict::kExpired);
  EXPECT_EQ(at_end.next_check, cert.not_after);

  const std::int64_t later = cert.not_after + 3 * kDay + 7;
  const Decision decision = DecideRenewal(cert, later, Settings(), random);
  EXPECT_EQ(decision.verdict, Verdict::kExpired);
  EXPECT_EQ(decision.next_check, later);
  EXPECT_EQ(decision.reason,
            "certificate expired at 2028-01-01T00:00:00Z, 3 days ago; enrolling again");
}

TEST(RenewalPolicyTest, RenewDaysBeyondTheLifetimeForcesRenewal) {
  const CertTimes week{Utc(2027, 1, 1), Utc(2027, 1, 8)};
  RenewalSettings settings = Settings();
  settings.renew_days = 8;
  FixedRandom random{kMid};
  // Even at the first second of the certificate's life.
  EXPECT_EQ(DecideRenewal(week, week.not_before, settings, random).verdict, Verdict::kRenewalDue);
  EXPECT_EQ(DecideRenewal(week, week.not_before + kDay, settings, random).verdict,
            Verdict::kRenewalDue);
  settings.renew_days = INT_MAX;
  EXPECT_EQ(DecideRenewal(OneYearCert(), Utc(2027, 3, 1), settings, random).verdict,
            Verdict::kRenewalDue);
  // renew_days = 7 equals the lifetime: valid at issue, due a second later.
  settings.renew_days = 7;
  EXPECT_EQ(DecideRenewal(week, week.not_before, settings, random).verdict, Verdict::kValid);
  EXPECT_EQ(DecideRenewal(week, week.not_before + 1, settings, random).verdict,
            Verdict::kRenewalDue);
  // Negative renew_days counts as 0: valid to the last second.
  settings.renew_days = -4;
  EXPECT_EQ(DecideRenewal(week, week.not_after - 1, settings, random).verdict, Verdict::kValid);
}

TEST(RenewalPolicyTest, RouterBootingIn1970DoesNotJudgeExpiryUntilTheClockIsSet) {
  FakeClock clock(5);
  FixedRandom random{kMid};
  const CertTimes cert = OneYearCert();

  const Decision decision = DecideRenewal(cert, clock.Now(), Settings(), random);
  EXPECT_EQ(decision.verdict, Verdict::kClockUntrusted);
  EXPECT_EQ(decision.next_check, 5 + 3600);
  EXPECT_EQ(decision.reason,
            "system clock 1970-01-01T00:00:05Z is before the build date 2026-11-22; not judging "
            "expiry until the clock is set");

  // Without a certificate too: enrolling with a 1970 clock would sign with a
  // 1970 signingTime.
  EXPECT_EQ(DecideRenewal(std::nullopt, clock.Now(), Settings(), random).verdict,
            Verdict::kClockUntrusted);

  // NTP sets the clock: a day and a half in, the certificate is valid...
  clock.Set(Utc(2027, 1, 2, 12));
  EXPECT_EQ(DecideRenewal(cert, clock.Now(), Settings(), random).verdict, Verdict::kValid);
  // ...and ten years on it has long expired.
  clock.Advance(10 * kYear);
  const Decision later = DecideRenewal(cert, clock.Now(), Settings(), random);
  EXPECT_EQ(later.verdict, Verdict::kExpired);
  EXPECT_EQ(later.next_check, clock.Now());
}

TEST(RenewalPolicyTest, ClockBeforeNotBeforeIsUntrusted) {
  RenewalSettings settings = Settings();
  settings.build_time = 0;  // no build date known: only the certificate speaks
  const CertTimes cert = OneYearCert();
  FakeClock clock(Utc(1970, 1, 1, 0, 0, 42));
  FixedRandom random{kMid};

  const Decision decision = DecideRenewal(cert, clock.Now(), settings, random);
  EXPECT_EQ(decision.verdict, Verdict::kClockUntrusted);
  EXPECT_EQ(decision.next_check, clock.Now() + 3600);
  EXPECT_EQ(decision.reason,
            "system clock 1970-01-01T00:00:42Z is before the certificate's notBefore "
            "2027-01-01T00:00:00Z; not judging expiry until the clock is set");

  // A second before notBefore is just as untrusted; a short check interval
  // is kept as the retry.
  settings.check_interval = 600;
  clock.Set(cert.not_before - 1);
  const Decision close = DecideRenewal(cert, clock.Now(), settings, random);
  EXPECT_EQ(close.verdict, Verdict::kClockUntrusted);
  EXPECT_EQ(close.next_check, clock.Now() + 600);

  // Ten years forward from 1970 is still before 2027; from 2027, expired.
  clock.Set(Utc(1970, 1, 1));
  clock.Advance(10 * kYear);
  EXPECT_EQ(DecideRenewal(cert, clock.Now(), settings, random).verdict, Verdict::kClockUntrusted);
  clock.Set(cert.not_before);
  clock.Advance(10 * kYear);
  EXPECT_EQ(DecideRenewal(cert, clock.Now(), settings, random).verdict, Verdict::kExpired);
}

TEST(RenewalPolicyTest, ClockJumpingBackwards) {
  const CertTimes cert = OneYearCert();
  FakeClock clock(Utc(2027, 6, 1));
  FixedRandom random{kMid};

  const Decision before = DecideRenewal(cert, clock.Now(), Settings(), random);
  EXPECT_EQ(before.verdict, Verdict::kValid);
  EXPECT_EQ(before.next_check, clock.Now() + kDay);

  // A step back of two days: still valid, next check relative to the new now.
  clock.Advance(-2 * kDay);
  const Decision after = DecideRenewal(cert, clock.Now(), Settings(), random);
  EXPECT_EQ(after.verdict, Verdict::kValid);
  EXPECT_EQ(after.next_check, clock.Now() + kDay);

  // An expired certificate is valid again when the clock steps back...
  clock.Set(cert.not_after + kDay);
  EXPECT_EQ(DecideRenewal(cert, clock.Now(), Settings(), random).verdict, Verdict::kExpired);
  clock.Advance(-2 * kDay);
  EXPECT_EQ(DecideRenewal(cert, clock.Now(), Settings(), random).verdict, Verdict::kRenewalDue);
  // ...and a step back past notBefore makes the clock untrusted.
  clock.Set(cert.not_before - 3600);
  EXPECT_EQ(DecideRenewal(cert, clock.Now(), Settings(), random).verdict,
            Verdict::kClockUntrusted);
  // Back past the build date, without a certificate.
  clock.Set(kBuildTime - 1);
  EXPECT_EQ(DecideRenewal(std::nullopt, clock.Now(), Settings(), random).verdict,
            Verdict::kClockUntrusted);
  clock.Set(kBuildTime);
  EXPECT_EQ(DecideRenewal(std::nullopt, clock.Now(), Settings(), random).verdict,
            Verdict::kMissing);
}

TEST(RenewalPolicyTest, CertificateValidUntil2050) {
  const CertTimes cert{Utc(2030, 1, 1), 2524608000};  // 2050-01-01T00:00:00Z
  FixedRandom random{kMid};
  const std::int64_t now = Utc(2040, 1, 1);
  const Decision decision = DecideRenewal(cert, now, Settings(), random);
  EXPECT_EQ(decision.verdict, Verdict::kValid);
  EXPECT_EQ(decision.next_check, now + kDay);
  EXPECT_EQ(decision.reason,
            "certificate valid for 3653 more days; renewal window opens 2049-12-02T00:00:00Z");
  EXPECT_EQ(DecideRenewal(cert, Utc(2049, 12, 15), Settings(), random).verdict,
            Verdict::kRenewalDue);
  EXPECT_EQ(DecideRenewal(cert, 2524608000, Settings(), random).verdict, Verdict::kExpired);
}

TEST(RenewalPolicyTest, CertificateValidUntil2106) {
  const std::int64_t end = 4294967296 + 3600;  // after 2^32: no unsigned 32-bit time either
  const CertTimes cert{Utc(2026, 12, 1), end};
  FixedRandom random{kMid};

  const std::int64_t now = Utc(2100, 1, 1);
  const Decision decision = DecideRenewal(cert, now, Settings(), random);
  EXPECT_EQ(decision.verdict, Verdict::kValid);
  EXPECT_EQ(decision.next_check, now + kDay);
  EXPECT_EQ(decision.reason,
            "certificate valid for 2228 more days; renewal window opens 2106-01-08T07:28:16Z");

  // Near the end, the window decides.
  const std::int64_t window_open = end - 30 * kDay;
  EXPECT_EQ(DecideRenewal(cert, window_open - 60, Settings(), random).next_check, window_open);
  EXPECT_EQ(DecideRenewal(cert, end - kDay, Settings(), random).verdict, Verdict::kRenewalDue);
  EXPECT_EQ(DecideRenewal(cert, end + 1, Settings(), random).verdict, Verdict::kExpired);
}

TEST(RenewalPolicyTest, ExtremeTimesSaturateInsteadOfOverflowing) {
  FixedRandom random{UINT64_MAX};
  RenewalSettings settings = Settings();
  settings.check_interval = kMaxInt64;
  settings.jitter = 1.0;

  // A certificate that never ends, checked at the end of time.
  const CertTimes forever{0, kMaxInt64};
  const Decision late = DecideRenewal(forever, kMaxInt64 - 10, settings, random);
  EXPECT_EQ(late.verdict, Verdict::kRenewalDue);  // 10 seconds left
  settings.renew_days = 0;
  const Decision last = DecideRenewal(forever, kMaxInt64 - 10, settings, random);
  EXPECT_EQ(last.verdict, Verdict::kValid);
  EXPECT_GT(last.next_check, kMaxInt64 - 10);
  EXPECT_LE(last.next_check, kMaxInt64);

  const Decision early = DecideRenewal(forever, 1, Settings(), random);
  EXPECT_EQ(early.verdict, Verdict::kClockUntrusted);
  settings.build_time = 0;
  const Decision valid = DecideRenewal(forever, 1, settings, random);
  EXPECT_EQ(valid.verdict, Verdict::kValid);
  EXPECT_GT(valid.next_check, 1);

  // The clock at the end of time, the build date unknown: untrusted retry saturates.
  const CertTimes far{kMaxInt64, kMaxInt64};
  settings.check_interval = 3600;
  const Decision untrusted = DecideRenewal(far, kMaxInt64 - 1, settings, random);
  EXPECT_EQ(untrusted.verdict, Verdict::kClockUntrusted);
  EXPECT_EQ(untrusted.next_check, kMaxInt64);

  // Negative times (before 1970) are just times.
  const CertTimes ancient{kMinInt64, kMinInt64 + 1};
  EXPECT_EQ(DecideRenewal(ancient, 0, settings, random).verdict, Verdict::kExpired);
  const std::string reason = DecideRenewal(ancient, kMaxInt64, settings, random).reason;
  EXPECT_EQ(reason.rfind("certificate expired at -292277022657-01-27T08:29:53Z, ", 0), 0u)
      << reason;
}

TEST(RenewalPolicyTest, VerdictNames) {
  EXPECT_STREQ(VerdictName(Verdict::kValid), "valid");
  EXPECT_STREQ(VerdictName(Verdict::kMissing), "missing");
  EXPECT_STREQ(VerdictName(Verdict::kRenewalDue), "renewal_due");
  EXPECT_STREQ(VerdictName(Verdict::kExpired), "expired");
  EXPECT_STREQ(VerdictName(Verdict::kClockUntrusted), "clock_untrusted");
}

}  // namespace
}  // namespace scepd
