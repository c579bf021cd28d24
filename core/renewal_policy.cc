#include "core/renewal_policy.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "core/backoff.h"

namespace scepd {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kUntrustedRetry = 3600;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b) noexcept {
  if (b > 0 && a > kMax - b) return kMax;
  if (b < 0 && a < kMin - b) return kMin;
  return a + b;
}

std::int64_t SaturatingSub(std::int64_t a, std::int64_t b) noexcept {
  if (b < 0 && a > kMax + b) return kMax;
  if (b > 0 && a < kMin + b) return kMin;
  return a - b;
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// "3 days", "1 day", "5 hours", "12 minutes", "40 seconds": the largest
// whole unit, rounded down, for reasons people read. `adjective` goes
// between number and unit ("120 more days").
std::string Span(std::int64_t seconds, const char* adjective = "") {
  struct Unit {
    std::int64_t size;
    const char* name;
  };
  constexpr Unit kUnits[] = {{kDay, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
  seconds = std::max<std::int64_t>(seconds, 0);
  for (const Unit& unit : kUnits) {
    const std::int64_t n = seconds / unit.size;
    if (n > 0 || unit.size == 1) {
      return std::to_string(n) + " " + adjective + (*adjective ? " " : "") + unit.name +
             (n == 1 ? "" : "s");
    }
  }
  return "0 seconds";  // not reached
}

// FNV-1a over `bytes`, continuing from `hash`.
std::uint64_t Fnv1a(std::uint64_t hash, const void* data, std::size_t size) noexcept {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// SplitMix64's finaliser: every input bit moves every output bit, so
// serials that differ in the last digit land far apart.
std::uint64_t Mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Decision Untrusted(std::int64_t now, const RenewalSettings& settings, std::string why) {
  const std::int64_t interval = std::max<std::int64_t>(1, settings.check_interval);
  return Decision{Verdict::kClockUntrusted,
                  SaturatingAdd(now, std::min(interval, kUntrustedRetry)),
                  "system clock " + FormatUtc(now) + " is before " + std::move(why) +
                      "; not judging expiry until the clock is set"};
}

}  // namespace

const char* VerdictName(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::kValid: return "valid";
    case Verdict::kMissing: return "missing";
    case Verdict::kRenewalDue: return "renewal_due";
    case Verdict::kExpired: return "expired";
    case Verdict::kClockUntrusted: return "clock_untrusted";
  }
  return "unknown";
}

Decision DecideRenewal(const std::optional<CertTimes>& cert, std::int64_t now,
                       const RenewalSettings& settings, RandomSource& random) {
  if (now < settings.build_time) {
    return Untrusted(now, settings,
                     "the build date " + FormatUtc(settings.build_time).substr(0, 10));
  }
  if (!cert) {
    return Decision{Verdict::kMissing, now, "no certificate installed; enrolling"};
  }
  if (now < cert->not_before) {
    return Untrusted(now, settings,
                     "the certificate's notBefore " + FormatUtc(cert->not_before));
  }
  if (now >= cert->not_after) {
    return Decision{Verdict::kExpired, now,
                    "certificate expired at " + FormatUtc(cert->not_after) + ", " +
                        Span(SaturatingSub(now, cert->not_after)) + " ago; enrolling again"};
  }

  // renew_days fits in int, so the product fits in int64 without saturation.
  const std::int64_t window = std::max(0, settings.renew_days) * kDay;
  const std::int64_t window_open = SaturatingSub(cert->not_after, window);
  const std::int64_t point = RenewalPoint(*cert, settings);  // >= window_open
  const std::int64_t left = SaturatingSub(cert->not_after, now);  // > 0 here
  if (now > point) {
    std::string why = "fewer than the " + std::to_string(settings.renew_days) +
                      " days of renew_days";
    if (point != window_open) why += ", past its renewal point " + FormatUtc(point);
    return Decision{Verdict::kRenewalDue, now,
                    "certificate expires " + FormatUtc(cert->not_after) + ", in " + Span(left) +
                        ", " + why + "; renewing"};
  }

  const std::int64_t interval = std::max<std::int64_t>(1, settings.check_interval);
  const std::int64_t earliest = SaturatingAdd(now, 1);
  std::int64_t next = SaturatingAdd(now, ApplyJitter(interval, settings.jitter, random));
  next = std::max(earliest, std::min(next, point));
  std::string reason = "certificate valid for " + Span(left, "more") + "; renewal window opens " +
                       FormatUtc(window_open);
  if (point != window_open) reason += ", this certificate renews at " + FormatUtc(point);
  return Decision{Verdict::kValid, next, std::move(reason)};
}

std::int64_t RenewalPoint(const CertTimes& cert, const RenewalSettings& settings) noexcept {
  const std::int64_t window = std::max(0, settings.renew_days) * kDay;
  const std::int64_t open = SaturatingSub(cert.not_after, window);
  const double spread = settings.spread > 0.0 ? std::min(settings.spread, 1.0) : 0.0;  // NaN: 0
  if (spread == 0.0 || window == 0 || open <= cert.not_before) return open;
  // window <= INT_MAX days: exact in a double, and so is the width.
  const double width = std::floor(spread * static_cast<double>(window));
  const double unit = static_cast<double>(cert.renewal_seed >> 11) * 0x1p-53;  // [0, 1)
  const auto offset = static_cast<std::int64_t>(std::floor(unit * width));   // [0, width)
  return SaturatingAdd(open, offset);
}

std::uint64_t RenewalSeed(const CertSummary& summary) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  h = Fnv1a(h, summary.serial.data(), summary.serial.size());
  h = Fnv1a(h, "/", 1);
  h = Fnv1a(h, summary.subject.data(), summary.subject.size());
  for (const auto& t : {summary.not_before, summary.not_after}) {
    const std::int64_t v = t.value_or(0);
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) {
      le[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(v) >> (8 * i));
    }
    h = Fnv1a(h, le, sizeof le);
  }
  h = Fnv1a(h, summary.rsa_public_key.data(), summary.rsa_public_key.size());
  return Mix64(h);
}

std::string FormatUtc(std::int64_t seconds) {
  const std::int64_t days = FloorDiv(seconds, kDay);
  // Not seconds - days * kDay: that product overflows for INT64_MIN.
  std::int64_t second_of_day = seconds % kDay;
  if (second_of_day < 0) second_of_day += kDay;  // [0, 86399]

  // Civil date from days since 1970-01-01 in the proleptic Gregorian
  // calendar, counted in 400-year eras starting on 0000-03-01; |days| is
  // below 1.1e14, so nothing here comes near int64 limits.
  const std::int64_t z = days + 719468;
  const std::int64_t era = FloorDiv(z, 146097);
  const std::int64_t day_of_era = z - era * 146097;  // [0, 146096]
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // from March 1
  const std::int64_t shifted_month = (5 * day_of_year + 2) / 153;             // March = 0
  const std::int64_t day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  const std::int64_t month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  const std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);

  // Components other than the year are small and non-negative: print as int.
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%s%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ",
                year < 0 ? "-" : "", year < 0 ? -year : year, static_cast<int>(month),
                static_cast<int>(day), static_cast<int>(second_of_day / 3600),
                static_cast<int>(second_of_day / 60 % 60), static_cast<int>(second_of_day % 60));
  return buffer;
}

}  // namespace scepd
