#pragma once
// Test doubles for the core's time seams: a clock the test sets by hand and
// a "random" source that plays back chosen values.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace scepd::testing {

// A Clock that stands still until told otherwise. It can jump anywhere,
// ten years ahead or backwards, as real clocks do when NTP or a user sets them.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t now = 0) noexcept : now_(now) {}
  std::int64_t Now() const override { return now_; }
  // Sets the time to `now` seconds since the epoch.
  void Set(std::int64_t now) noexcept { now_ = now; }
  // Moves the time by `seconds`, which may be negative.
  void Advance(std::int64_t seconds) noexcept { now_ += seconds; }

 private:
  std::int64_t now_;
};

// A RandomSource returning the given values in order, starting over after
// the last; 0 forever when given none. Counts the calls so tests can check
// who consumed randomness.
class FixedRandom final : public RandomSource {
 public:
  FixedRandom(std::initializer_list<std::uint64_t> values) : values_(values) {}
  explicit FixedRandom(std::vector<std::uint64_t> values) : values_(std::move(values)) {}
  std::uint64_t Next() override {
    ++calls_;
    if (values_.empty()) return 0;
    const std::uint64_t value = values_[next_];
    next_ = (next_ + 1) % values_.size();
    return value;
  }
  // How many times Next() was called.
  std::size_t calls() const noexcept { return calls_; }

 private:
  std::vector<std::uint64_t> values_;
  std::size_t next_ = 0;
  std::size_t calls_ = 0;
};

}  // namespace scepd::testing
