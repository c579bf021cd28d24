#pragma once
// The "renew now?" decision: from the current certificate's validity, the
// time and the settings, what to do and when to look again. Pure: the caller
// reads the certificate and the Clock and acts on the Decision.

#include <cstdint>
#include <optional>
#include <string>

#include "core/cert_summary.h"
#include "core/clock.h"

namespace scepd {

// A certificate's validity period in seconds since the epoch (UTC), as
// NotBefore()/NotAfter() in core/cert_info.h return it, and where in the
// renewal window it renews.
struct CertTimes {
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  // Picks this certificate's renewal point inside the window (RenewalPoint):
  // RenewalSeed of the certificate, so the same at every check and after a
  // restart, and different from one router's certificate to the next. 0
  // puts the point at the window's opening.
  std::uint64_t renewal_seed = 0;
};

struct RenewalSettings {
  int renew_days = 30;                  // renew when fewer than this many days are left
  std::int64_t check_interval = 86400;  // seconds between checks of a valid certificate
  double jitter = 0.1;                  // spread checks by up to ±this fraction of the interval
  // Renewal points of different certificates spread evenly over the first
  // this fraction of the renewal window (by their renewal_seed); 0 renews
  // the moment the window opens. Clamped to [0, 1].
  double spread = 0.0;
  std::int64_t build_time = 0;          // the program's build date: a clock before it is wrong
};

enum class Verdict {
  kValid,           // nothing to do until next_check
  kMissing,         // no certificate: enroll now
  kRenewalDue,      // fewer than renew_days left: re-enroll now
  kExpired,         // past notAfter: enroll now (the old certificate cannot sign)
  kClockUntrusted,  // the clock is plainly wrong: judge nothing, look again soon
};

// Stable lower-case name of a verdict ("valid", "missing", "renewal_due",
// "expired", "clock_untrusted"), for logs and status.json. Never fails.
const char* VerdictName(Verdict verdict) noexcept;

struct Decision {
  Verdict verdict = Verdict::kMissing;
  // Absolute time (seconds since the epoch) of the next check. `now` for
  // kMissing, kRenewalDue and kExpired (act at once); later than `now` for
  // kValid and kClockUntrusted.
  std::int64_t next_check = 0;
  // One sentence for the log and the status file, with dates in UTC, e.g.
  // "certificate valid for 120 more days; renewal window opens
  // 2027-01-02T00:00:00Z".
  std::string reason;
};

// Decides what to do about `cert` (nullopt: none installed, or unreadable)
// at `now`, in this order:
// - now < build_time: kClockUntrusted (a router without a real-time clock
//   booted in 1970). This comes before kMissing on purpose: a request signed
//   with a 1970 clock carries a 1970 signingTime and a self-signed
//   certificate the CA may refuse (failInfo badTime).
// - no certificate: kMissing.
// - now < not_before: kClockUntrusted, expiry not judged.
// - now >= not_after: kExpired.
// - now > RenewalPoint(cert, settings): kRenewalDue. With spread 0 that is
//   "not_after - now < renew_days days" (so renew_days beyond the
//   certificate's lifetime forces a renewal).
// - otherwise kValid, next_check = the earlier of now + check_interval
//   spread by ±jitter (one value from `random`) and the renewal point (not
//   jittered: it is already this certificate's own), but never before
//   now + 1.
// kClockUntrusted looks again at now + min(check_interval, 1 hour): NTP may
// set the clock any moment. Only kValid consumes a random value. All
// arithmetic is 64-bit and saturates; out-of-range settings are tamed
// (check_interval at least 1, renew_days at least 0, jitter within [0, 1]).
// Never fails.
Decision DecideRenewal(const std::optional<CertTimes>& cert, std::int64_t now,
                       const RenewalSettings& settings, RandomSource& random);

// The moment after which `cert` is due for renewal: the renewal window opens
// at not_after - renew_days days, and the point lies that far plus
// renewal_seed's share of spread * (renew_days days), so that a fleet whose
// certificates were issued in the same minute renews evenly over that part
// of the window instead of all at its opening, and each certificate keeps
// its point however often it is checked. The window's opening itself when
// spread is 0 or the window is as long as the certificate's lifetime (then
// renewal is due at once, as before). Saturating 64-bit arithmetic. Never
// fails.
std::int64_t RenewalPoint(const CertTimes& cert, const RenewalSettings& settings) noexcept;

// A renewal_seed for the certificate `summary` describes: a 64-bit hash of
// its serial, subject, validity and RSA key, so that certificates of
// different routers (different serials and keys) land on unrelated points
// and the same certificate always on the same one. Never fails.
std::uint64_t RenewalSeed(const CertSummary& summary) noexcept;

// Formats seconds since the epoch as ISO 8601 UTC, "2026-11-22T12:00:00Z",
// for every int64 (no time_t or gmtime involved, so dates after 2038 are
// right on 32-bit systems). Years before 0 print with a '-' and years after
// 9999 with more digits. Never fails.
std::string FormatUtc(std::int64_t seconds);

}  // namespace scepd
