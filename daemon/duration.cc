#include "daemon/duration.h"

#include <limits>

namespace scepd {
namespace {

constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

Error BadDuration(std::string_view text, std::string_view why) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "'" + std::string(text) + "' is not a duration (" + std::string(why) +
                       "; expected a whole number of seconds, or one with the unit s, m, h "
                       "or d, e.g. 90, 15m, 24h, 7d)");
}

}  // namespace

Result<std::int64_t> ParseDuration(std::string_view text) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  if (text.empty()) return BadDuration(text, "empty");
  std::size_t i = 0;
  std::int64_t number = 0;
  bool overflow = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    const int digit = text[i] - '0';
    if (number > (kMax - digit) / 10) {
      overflow = true;
    } else {
      number = number * 10 + digit;
    }
    ++i;
  }
  if (i == 0) return BadDuration(text, "no number");
  std::int64_t unit = 1;
  if (i < text.size()) {
    switch (text[i]) {
      case 's': unit = 1; break;
      case 'm': unit = kMinute; break;
      case 'h': unit = kHour; break;
      case 'd': unit = kDay; break;
      default: return BadDuration(text, "unknown unit '" + std::string(1, text[i]) + "'");
    }
    ++i;
    if (i != text.size()) return BadDuration(text, "text after the unit");
  }
  if (overflow || number > kMax / unit) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'" + std::string(text) + "' is too large a duration");
  }
  return number * unit;
}

std::string FormatDuration(std::int64_t seconds) {
  if (seconds > 0) {
    if (seconds % kDay == 0) return std::to_string(seconds / kDay) + "d";
    if (seconds % kHour == 0) return std::to_string(seconds / kHour) + "h";
    if (seconds % kMinute == 0) return std::to_string(seconds / kMinute) + "m";
  }
  return std::to_string(seconds) + "s";
}

}  // namespace scepd
