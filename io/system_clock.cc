#include "io/system_clock.h"

#include <sys/random.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>

namespace scepd {
namespace {

std::uint64_t ClockNanos(clockid_t id) noexcept {
  timespec ts{};
  if (clock_gettime(id, &ts) != 0) return 0;
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(ts.tv_sec)) * 1000000000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// SplitMix64 (Steele, Lea, Flood 2014): a full-period 64-bit sequence whose
// outputs are well mixed even from similar seeds.
std::uint64_t SplitMix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15u);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

}  // namespace

std::int64_t SystemClock::Now() const {
  timespec ts{};
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return 0;  // cannot fail for CLOCK_REALTIME
  return static_cast<std::int64_t>(ts.tv_sec);
}

SystemRandom::SystemRandom() noexcept
    : fallback_state_(ClockNanos(CLOCK_MONOTONIC) ^ (ClockNanos(CLOCK_REALTIME) << 1) ^
                      (static_cast<std::uint64_t>(getpid()) << 48)) {}

std::uint64_t SystemRandom::Next() {
  std::uint64_t value = 0;
  if (getrandom(&value, sizeof value, GRND_NONBLOCK) == static_cast<ssize_t>(sizeof value)) {
    return value;
  }
  // No entropy yet (early boot) or no getrandom: the fallback still differs
  // between routers through their boot timing and between calls.
  fallback_state_ ^= ClockNanos(CLOCK_MONOTONIC);
  return SplitMix64(fallback_state_);
}

}  // namespace scepd
