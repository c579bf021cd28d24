#pragma once
// The router's serial number and the `SN` wildcard of the router's
// "Certificate Subject" and "Alternative Name" settings.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scepd {

struct DaemonSettings;

// Where FindSerialNumber looks when the settings name no serial. A seam:
// the defaults are the real device, tests point `files` and `shell` at fakes.
// Plain value; owns its strings.
struct SerialSources {
  // Tried in order; the first readable regular file (opened non-blocking, at
  // most 4096 bytes) whose content (trailing NULs and surrounding
  // whitespace removed) is a usable serial wins. Device tree
  // first (ARM/MIPS routers), then DMI (x86 boxes; product_serial is often
  // root-only, so board_serial follows).
  std::vector<std::string> files = {
      "/proc/device-tree/serial-number",
      "/sys/class/dmi/id/product_serial",
      "/sys/class/dmi/id/board_serial",
  };
  // Runs serial_number_command as `shell -c COMMAND`.
  std::string shell = "/bin/sh";
  // The command is killed (with its process group) after this long.
  int command_timeout_ms = 10000;
  // More output than this (stdout) is an error: a serial is a short token.
  std::size_t max_command_output = 4096;
};

// Finds the serial number that replaces `SN`: settings.serial_number when
// set; else the trimmed standard output of settings.serial_number_command;
// else the first usable entry of sources.files, skipping unreadable files,
// empty ones and BIOS placeholders ("To be filled by O.E.M.", "Default
// string", "None", "0", ...). A serial must be 1 to 64 characters of ASCII
// letters, digits, '-', '_', '.' and ':' so that it can stand in a subject
// and an alternative name unescaped. Fails with kInvalidArgument when the
// configured serial_number or the command's output is not such a token (the
// message quotes it), kIo when the command cannot be started, exits
// non-zero (the message has the exit status and the start of its standard
// error), is killed or times out, and kUnsupported when no source yields a
// serial (the message lists the files tried and says to set serial_number or
// serial_number_command in [scepd]). Blocks for at most
// sources.command_timeout_ms.
Result<std::string> FindSerialNumber(std::string_view serial_number,
                                     std::string_view serial_number_command,
                                     const SerialSources& sources);
// The same with [scepd]'s serial_number and serial_number_command (defined
// with the settings, daemon/config.cc).
Result<std::string> FindSerialNumber(const DaemonSettings& settings,
                                     const SerialSources& sources);

// True when `text` contains the wildcard `SN` as a token of its own (see
// SubstituteSerial), i.e. substituting would change it. Never fails.
bool UsesSerialWildcard(std::string_view text);

// Replaces every `SN` that is neither preceded nor followed by an ASCII
// letter or digit with `serial`: "/CN=router-SN" -> "/CN=router-A1B2", while
// "SNMP", "ASN" and "SN2" stay. "\SN" yields a literal "SN" (that backslash
// is consumed); any other backslash is kept together with the character
// after it, so "\\" and "\/" reach the subject parser unchanged and the SN
// in "\\SN" is still a wildcard. Never fails.
std::string SubstituteSerial(std::string_view text, std::string_view serial);

// The inverse used when printing settings: returns text in which every `SN`
// that SubstituteSerial would replace is written "\SN", so that
// SubstituteSerial(EscapeSerialWildcard(t), any) == t for every `t` that
// SubstituteSerial can produce. Never fails.
std::string EscapeSerialWildcard(std::string_view text);

}  // namespace scepd
