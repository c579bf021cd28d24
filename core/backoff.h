#pragma once
// How long to wait before trying the CA again after a failure: exponential
// growth with jitter and a cap, so that a fleet of routers that failed
// together (the CA was down) neither hammers it nor comes back in step.

#include <cstdint>

#include "core/clock.h"

namespace scepd {

struct BackoffSettings {
  std::int64_t initial = 60;    // seconds after the first failure
  std::int64_t cap = 6 * 3600;  // longest wait, in seconds
  double jitter = 0.2;          // each wait spread by up to ±this fraction
};

// The wait in seconds before the next attempt after `failures` consecutive
// failures (1 = the first): min(cap, initial * 2^(failures-1)), spread by
// ±jitter using one value from `random`. The result is never below
// max(1, initial/2) and never above cap; a spread that would pass the cap is
// reflected below it, so waits at the cap stay spread out instead of piling
// up on it. Out-of-range settings are tamed rather than rejected: cap and
// initial count as at least 1, initial as at most cap, jitter is clamped to
// [0, 1], failures below 1 count as 1. Never overflows (failures may be
// INT_MAX). Never fails.
std::int64_t RetryDelay(int failures, const BackoffSettings& settings,
                        RandomSource& random) noexcept;

// Spreads `base` by up to ±`fraction` of itself using one value from
// `random`: the result lies in [base - fraction*base, base + fraction*base],
// rounded towards `base` so it never leaves that range. `fraction` is
// clamped to [0, 1] (NaN counts as 0); a `base` <= 0 is returned unchanged
// without consuming a random value. Never overflows. Never fails.
std::int64_t ApplyJitter(std::int64_t base, double fraction, RandomSource& random) noexcept;

}  // namespace scepd
