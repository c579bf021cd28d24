#include "daemon/serial_number.h"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "io/child_process.h"
#include "io/files.h"

namespace scepd {
namespace {

constexpr std::size_t kMaxSerialLength = 64;
constexpr std::size_t kMaxSerialFileSize = 4096;
constexpr std::size_t kStderrExcerpt = 200;

bool IsAsciiAlnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool IsSerialChar(char c) noexcept {
  return IsAsciiAlnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
}

bool IsSpace(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (IsSpace(s.front()) || s.front() == '\0')) s.remove_prefix(1);
  while (!s.empty() && (IsSpace(s.back()) || s.back() == '\0')) s.remove_suffix(1);
  return s;
}

// Empty when `serial` is usable, else why not.
std::string SerialProblem(std::string_view serial) {
  if (serial.empty()) return "it is empty";
  if (serial.size() > kMaxSerialLength) {
    return "it is longer than " + std::to_string(kMaxSerialLength) + " characters";
  }
  for (char c : serial) {
    if (!IsSerialChar(c)) {
      return "it contains a character other than ASCII letters, digits, '-', '_', '.' "
             "and ':'";
    }
  }
  return "";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Values firmware writes when nobody set a serial.
bool IsPlaceholder(std::string_view serial) {
  static constexpr std::array<std::string_view, 16> kPlaceholders = {
      "To be filled by O.E.M.", "Default string", "None", "Not Specified",
      "Not Applicable", "N/A", "NA", "Unknown", "System Serial Number",
      "Chassis Serial Number", "Base Board Serial Number", "0123456789", "123456789",
      "Default", "OEM", "Empty",
  };
  for (std::string_view p : kPlaceholders) {
    if (EqualsIgnoreCase(serial, p)) return true;
  }
  return serial.find_first_not_of('0') == std::string_view::npos;  // "0", "0000"
}

struct CommandOutput {
  int wait_status = 0;
  std::string out;
  std::string err;
  bool out_overflow = false;
};

// Runs `shell -c command` with stdin from /dev/null, collecting stdout (up to
// `max_out` bytes, then flagging overflow) and the start of stderr, killing
// the process group after `timeout_ms`.
Result<CommandOutput> RunCommand(const std::string& shell, const std::string& command,
                                 int timeout_ms, std::size_t max_out) {
  ChildCommand child;
  child.program = shell;
  child.argv = {shell, "-c", command};
  child.merge_stderr = false;
  ChildLimits limits;
  limits.timeout = std::chrono::milliseconds(timeout_ms);

  CommandOutput result;
  auto run = RunChild(child, limits, [&](ChildStream stream, std::string_view data) {
    if (stream == ChildStream::kStdout) {
      if (result.out.size() + data.size() > max_out) {
        result.out_overflow = true;
      } else {
        result.out.append(data);
      }
    } else if (result.err.size() < kStderrExcerpt) {
      result.err.append(data.substr(0, kStderrExcerpt - result.err.size()));
    }
  });
  if (!run.ok()) return MakeError(run.error().code, "cannot run " + run.error().message);
  if (run->timed_out) {
    return MakeError(ErrorCode::kTimeout, "timed out after " +
                                               std::to_string(timeout_ms) + " ms");
  }
  if (!run->wait_status) {
    return MakeError(ErrorCode::kIo, "cannot collect the exit status of " + shell);
  }
  result.wait_status = *run->wait_status;
  return result;
}

Result<std::string> SerialFromCommand(const std::string& command,
                                      const SerialSources& sources) {
  const std::string what = "serial_number_command";
  auto run = RunCommand(sources.shell, command, sources.command_timeout_ms,
                        sources.max_command_output);
  if (!run.ok()) {
    return MakeError(run.error().code == ErrorCode::kTimeout ? ErrorCode::kTimeout
                                                             : ErrorCode::kIo,
                     what + ": " + run.error().message);
  }
  const CommandOutput& output = *run;
  const std::string err_excerpt(Trim(output.err));
  const std::string err_note = err_excerpt.empty() ? "" : ": " + err_excerpt;
  if (WIFSIGNALED(output.wait_status)) {
    return MakeError(ErrorCode::kIo, what + ": killed by signal " +
                                         std::to_string(WTERMSIG(output.wait_status)) +
                                         err_note);
  }
  if (!WIFEXITED(output.wait_status) || WEXITSTATUS(output.wait_status) != 0) {
    return MakeError(ErrorCode::kIo, what + ": exited with status " +
                                         std::to_string(WEXITSTATUS(output.wait_status)) +
                                         err_note);
  }
  if (output.out_overflow) {
    return MakeError(ErrorCode::kInvalidArgument,
                     what + ": printed more than " +
                         std::to_string(sources.max_command_output) + " bytes");
  }
  const std::string serial(Trim(output.out));
  if (std::string problem = SerialProblem(serial); !problem.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     what + " printed '" + serial + "', which is not a usable serial number: " +
                         problem);
  }
  return serial;
}

}  // namespace

Result<std::string> FindSerialNumber(std::string_view serial_number,
                                     std::string_view serial_number_command,
                                     const SerialSources& sources) {
  if (!serial_number.empty()) {
    if (std::string problem = SerialProblem(serial_number); !problem.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "serial_number '" +
                                                        std::string(serial_number) +
                                                        "' is not usable: " + problem);
    }
    return std::string(serial_number);
  }
  if (!serial_number_command.empty()) {
    return SerialFromCommand(std::string(serial_number_command), sources);
  }
  std::string tried;
  for (const std::string& path : sources.files) {
    if (!tried.empty()) tried += ", ";
    tried += path;
    // Non-blocking and regular files only: a FIFO or device put at one of
    // these paths must not hang start-up.
    auto content = ReadFileText(path, kMaxSerialFileSize);
    if (!content.ok()) continue;
    const std::string_view serial = Trim(*content);
    if (IsPlaceholder(serial) || !SerialProblem(serial).empty()) continue;
    return std::string(serial);
  }
  return MakeError(ErrorCode::kUnsupported,
                   "no serial number found: none of " + (tried.empty() ? "(no files)" : tried) +
                       " holds a usable one; set serial_number (the serial itself) or "
                       "serial_number_command (a command printing it) in [scepd]");
}

namespace {

// Walks `text` the way SubstituteSerial reads it, calling on_text for
// characters kept as they are, on_escaped_sn for "\SN" and on_token for a
// wildcard SN.
template <class Text, class Escaped, class Token>
void ScanSerialWildcards(std::string_view text, Text on_text, Escaped on_escaped_sn,
                         Token on_token) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\\') {
      if (text.substr(i + 1, 2) == "SN") {
        on_escaped_sn();
        i += 3;
      } else {
        on_text(text.substr(i, 2));  // the backslash and what it escapes
        i += 2;
      }
      continue;
    }
    if (c == 'S' && text.substr(i, 2) == "SN" && (i == 0 || !IsAsciiAlnum(text[i - 1])) &&
        (i + 2 == text.size() || !IsAsciiAlnum(text[i + 2]))) {
      on_token();
      i += 2;
      continue;
    }
    on_text(text.substr(i, 1));
    ++i;
  }
}

}  // namespace

bool UsesSerialWildcard(std::string_view text) {
  bool used = false;
  ScanSerialWildcards(text, [](std::string_view) {}, [] {}, [&] { used = true; });
  return used;
}

std::string SubstituteSerial(std::string_view text, std::string_view serial) {
  std::string out;
  out.reserve(text.size());
  ScanSerialWildcards(
      text, [&](std::string_view s) { out += s; }, [&] { out += "SN"; },
      [&] { out += serial; });
  return out;
}

std::string EscapeSerialWildcard(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  ScanSerialWildcards(
      text, [&](std::string_view s) { out += s; }, [&] { out += "\\SN"; },
      [&] { out += "\\SN"; });
  return out;
}

}  // namespace scepd
