#pragma once
// Text a server chose (a CertRep's failInfoText, a transactionID, an HTTP
// error body) on its way to a log line, a status file or a script's
// environment: one line of printable ASCII, bounded, so that a hostile CA
// cannot forge log lines, move a terminal's cursor or flood a status file.

#include <cstddef>
#include <string>
#include <string_view>

namespace scepd {

// The longest cleaned text, escapes included, before "..." is appended.
inline constexpr std::size_t kServerTextMax = 160;

// `text` with every byte outside printable ASCII (C0 controls such as
// newline and ESC, DEL, and every byte >= 0x80, which covers the C1
// controls) written as \xNN and a backslash as "\\", cut after `max`
// characters with "..." appended. Never fails.
std::string CleanServerText(std::string_view text, std::size_t max = kServerTextMax);

}  // namespace scepd
