#pragma once
// Time and chance as seams. The core never reads the system clock or a random
// device itself: it is handed a Clock and a RandomSource, so that tests can
// set the time (boot in 1970, jump ten years, step backwards) and fix the
// jitter. The real ones are io/system_clock.h; tests use tests/core/fake_clock.h.

#include <cstdint>

namespace scepd {

// Wall-clock time. Implementations must be usable from one thread at a time;
// the core keeps only a reference it is given for the length of a call.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock seconds since 1970-01-01T00:00:00Z, 64-bit so that dates
  // after 2038 are right even where time_t has 32 bits. May go backwards (the
  // clock is set, NTP steps it) and may be plainly wrong (routers without a
  // real-time clock boot in 1970); callers judge that, not the Clock. Never
  // fails.
  virtual std::int64_t Now() const = 0;
};

// Randomness for spreading timers (jitter), not for keys or nonces: those
// come from OpenSSL. Every 64-bit value must be acceptable to callers,
// including 0 and UINT64_MAX.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Returns the next uniformly distributed 64-bit value. Never fails and
  // never blocks.
  virtual std::uint64_t Next() = 0;
};

}  // namespace scepd
