#pragma once
// The real Clock and RandomSource for the daemon and the CLI.

#include <cstdint>

#include "core/clock.h"

namespace scepd {

// The system's wall clock (CLOCK_REALTIME), as set by NTP or the user.
// Where time_t has 32 bits the kernel cannot report dates after 2038 and
// this clock wraps with it; build with 64-bit time_t (musl >= 1.2, glibc
// with _TIME_BITS=64) for those. Never fails; stateless and thread-safe.
class SystemClock final : public Clock {
 public:
  std::int64_t Now() const override;
};

// Jitter randomness that never blocks, even at early boot before the kernel's
// entropy pool is ready: getrandom(GRND_NONBLOCK) when it answers, otherwise
// a SplitMix64 sequence seeded from the monotonic and real-time clocks, the
// process id and a counter. Good enough to spread timers; never use it for
// keys. Not thread-safe: one per thread.
class SystemRandom final : public RandomSource {
 public:
  SystemRandom() noexcept;
  std::uint64_t Next() override;

 private:
  std::uint64_t fallback_state_;
};

}  // namespace scepd
