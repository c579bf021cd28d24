#include "daemon/serial_number.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>


extern char** environ;

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

// Reads at most `limit` bytes into *out; false when the file cannot be read.
bool ReadSmallFile(const std::string& path, std::size_t limit, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(limit, '\0');
  in.read(out->data(), static_cast<std::streamsize>(limit));
  if (in.bad()) return false;
  out->resize(static_cast<std::size_t>(in.gcount()));
  return true;
}

// A pipe whose ends close themselves.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  bool Open() { return ::pipe2(fd, O_CLOEXEC) == 0; }
  void CloseRead() {
    if (fd[0] >= 0) ::close(fd[0]);
    fd[0] = -1;
  }
  void CloseWrite() {
    if (fd[1] >= 0) ::close(fd[1]);
    fd[1] = -1;
  }
};

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
  Pipe out_pipe, err_pipe;
  if (!out_pipe.Open() || !err_pipe.Open()) {
    return MakeError(ErrorCode::kIo, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe.fd[1], 2);
  // Own process group, so a timeout kills the whole pipeline; default
  // signal dispositions and mask, whatever the daemon has set.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETSIGMASK);
  std::string arg0 = shell, arg1 = "-c", arg2 = command;
  std::array<char*, 4> argv = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, shell.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return MakeError(ErrorCode::kIo, "cannot run " + shell + ": " + std::strerror(rc));
  }
  out_pipe.CloseWrite();
  err_pipe.CloseWrite();

  CommandOutput result;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  std::array<char, 1024> buf;
  while (out_pipe.fd[0] >= 0 || err_pipe.fd[0] >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    std::array<pollfd, 2> fds = {pollfd{out_pipe.fd[0], POLLIN, 0},
                                 pollfd{err_pipe.fd[0], POLLIN, 0}};
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf.data(), buf.size());
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        i == 0 ? out_pipe.CloseRead() : err_pipe.CloseRead();
        continue;
      }
      const auto size = static_cast<std::size_t>(got);
      if (i == 0) {
        if (result.out.size() + size > max_out) {
          result.out_overflow = true;
        } else {
          result.out.append(buf.data(), size);
        }
      } else if (result.err.size() < kStderrExcerpt) {
        result.err.append(buf.data(), std::min(size, kStderrExcerpt - result.err.size()));
      }
    }
  }
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return MakeError(ErrorCode::kTimeout, "timed out after " +
                                               std::to_string(timeout_ms) + " ms");
  }
  result.wait_status = status;
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
    std::string content;
    if (!ReadSmallFile(path, kMaxSerialFileSize, &content)) continue;
    const std::string_view serial = Trim(content);
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
