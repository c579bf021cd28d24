#include "core/backoff.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace scepd {
namespace {

// Maps a 64-bit value to [-1, 1) with 53 bits of resolution (all a double
// holds), so every input, 0 and UINT64_MAX included, lands inside.
double SignedUnit(std::uint64_t value) noexcept {
  const double unit = static_cast<double>(value >> 11) * 0x1p-53;  // [0, 1)
  return 2.0 * unit - 1.0;
}

}  // namespace

std::int64_t ApplyJitter(std::int64_t base, double fraction, RandomSource& random) noexcept {
  if (base <= 0) return base;
  if (!(fraction > 0.0)) return base;  // also NaN
  fraction = std::min(fraction, 1.0);
  // |offset| <= fraction * base <= base, truncated towards zero, so base +
  // offset stays within [0, 2*base]; the double may round base up to 2^63,
  // hence the clamp before converting back.
  double offset = std::trunc(SignedUnit(random.Next()) * fraction * static_cast<double>(base));
  offset = std::clamp(offset, -static_cast<double>(base), static_cast<double>(base));
  constexpr double kLimit = 0x1p62;  // exactly representable, well inside int64
  offset = std::clamp(offset, -kLimit, kLimit);
  const auto delta = static_cast<std::int64_t>(offset);
  if (delta > 0 && base > std::numeric_limits<std::int64_t>::max() - delta) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return std::max<std::int64_t>(0, base + delta);
}

std::int64_t RetryDelay(int failures, const BackoffSettings& settings,
                        RandomSource& random) noexcept {
  const std::int64_t cap = std::max<std::int64_t>(1, settings.cap);
  const std::int64_t initial = std::clamp<std::int64_t>(settings.initial, 1, cap);
  const std::int64_t floor = std::max<std::int64_t>(1, initial / 2);

  // initial * 2^(failures-1), saturating at cap without ever shifting past it.
  const std::int64_t doublings = std::max(failures, 1) - 1;
  std::int64_t base = cap;
  if (doublings < 62 && initial <= (cap >> doublings)) {
    base = std::min(cap, initial << doublings);
  }

  std::int64_t delay = ApplyJitter(base, settings.jitter, random);
  if (delay > cap) delay = cap - (delay - cap);  // reflect: no pile-up at the cap
  return std::clamp(delay, floor, cap);
}

}  // namespace scepd
