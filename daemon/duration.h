#pragma once
// Time spans in the settings file: "90" (seconds), "90s", "15m", "24h", "7d".

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace scepd {

// Parses a whole, non-negative number of seconds, optionally followed by one
// unit letter: s (seconds), m (minutes), h (hours) or d (days), lower case,
// no space between number and unit ("24h"). Surrounding whitespace is not
// accepted; callers trim. Fails with kInvalidArgument whose message quotes
// the text, for an empty text, a sign, a fraction, an unknown unit or
// trailing characters, and when the result does not fit in an int64.
Result<std::int64_t> ParseDuration(std::string_view text);

// Prints `seconds` in the largest unit that divides it exactly ("1d", "90m",
// "45s"; 0 prints as "0s"), so ParseDuration(FormatDuration(n)) == n for
// every n >= 0. Negative values print as plain signed seconds ("-5s"), which
// ParseDuration rejects. Never fails.
std::string FormatDuration(std::int64_t seconds);

}  // namespace scepd
