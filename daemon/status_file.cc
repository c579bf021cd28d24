#include "daemon/status_file.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "core/renewal_policy.h"
#include "io/files.h"

namespace scepd {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when the
// bytes there are not one (overlong, surrogate, beyond U+10FFFF, truncated).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (const std::size_t len = Utf8SequenceLength(s, i); len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out.push_back('"');
}

// Accumulates the members of one indented JSON object.
class JsonObject {
 public:
  void String(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(out_, value);
  }
  void Number(std::string_view key, std::optional<std::int64_t> value) {
    Key(key);
    out_ += value ? std::to_string(*value) : "null";
  }
  // "key": "ISO 8601", "key_epoch": seconds (both null when unknown).
  void Time(std::string_view key, std::optional<std::int64_t> value) {
    Key(key);
    if (value) {
      AppendJsonString(out_, FormatUtc(*value));
    } else {
      out_ += "null";
    }
    Number(std::string(key) + "_epoch", value);
  }
  std::string Finish() && {
    out_ += out_.empty() ? "{}\n" : "\n}\n";
    return std::move(out_);
  }

 private:
  void Key(std::string_view key) {
    out_ += out_.empty() ? "{\n  " : ",\n  ";
    AppendJsonString(out_, key);
    out_ += ": ";
  }
  std::string out_;
};

}  // namespace

const char* ModuleStateName(ModuleState state) noexcept {
  switch (state) {
    case ModuleState::kDisabled:
      return "disabled";
    case ModuleState::kRunning:
      return "running";
    case ModuleState::kNotRunning:
      return "not running";
  }
  return "not running";
}

const char* CertStateName(CertState state) noexcept {
  switch (state) {
    case CertState::kNotEnrolled:
      return "not enrolled";
    case CertState::kEnrollment:
      return "enrollment";
    case CertState::kReEnrollment:
      return "re-enrollment";
    case CertState::kEnrolled:
      return "enrolled";
  }
  return "not enrolled";
}

std::string FormatStatusLines(const StatusReport& report) {
  std::string out = "Module scepClient ";
  out += ModuleStateName(report.module);
  out += "\nCertificate ";
  out += CertStateName(report.cert);
  if (report.cert == CertState::kEnrolled && !report.serial.empty()) {
    out.push_back(' ');
    for (char c : report.serial) {
      const auto u = static_cast<unsigned char>(c);
      out.push_back(u < 0x20 || u == 0x7F ? '?' : c);
    }
  }
  out.push_back('\n');
  return out;
}

std::string FormatStatusJson(const StatusReport& report) {
  JsonObject json;
  json.String("name", report.name);
  json.String("module", ModuleStateName(report.module));
  json.String("certificate", CertStateName(report.cert));
  json.String("state", report.state);
  json.String("serial", report.serial);
  json.String("subject", report.subject);
  json.Time("not_before", report.not_before);
  json.Time("not_after", report.not_after);
  json.Number("days_left", report.days_left);
  json.Time("last_attempt", report.last_attempt);
  json.String("last_result", report.last_result);
  json.String("last_error", report.last_error);
  json.String("fail_info", report.fail_info);
  json.Time("next_check", report.next_check);
  json.String("ca_caps", report.ca_caps);
  json.String("cipher", report.cipher);
  json.String("digest", report.digest);
  json.String("transaction_id", report.transaction_id);
  return std::move(json).Finish();
}

std::string StatusFilePath(const std::string& run_dir, const std::string& name) {
  std::string path = run_dir;
  if (!path.empty() && path.back() != '/') path.push_back('/');
  path += "status";
  if (!name.empty()) path += "-" + name;
  return path;
}

Status WriteStatus(const std::string& run_dir, const StatusReport& report) {
  if (report.name.find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "certificate name '" + report.name + "' cannot name a status file");
  }
  const std::string path = StatusFilePath(run_dir, report.name);
  for (const auto& [file, text] : {std::pair{path, FormatStatusLines(report)},
                                   std::pair{path + ".json", FormatStatusJson(report)}}) {
    // Unchanged: no write at all. Changed: no fsync either, run_dir does not
    // outlive the running system (a tmpfs on routers).
    auto old = ReadFileText(file, text.size() + 1);
    if (old.ok() && *old == text) continue;
    Status written = WriteFileAtomic(file, text, 0644, /*durable=*/false);
    if (!written.ok()) {
      return MakeError(ErrorCode::kIo,
                       "cannot write status file " + file + ": " + written.error().message);
    }
  }
  return {};
}

Status RemoveStaleStatusTemps(const std::string& run_dir) {
  struct Closer {
    void operator()(DIR* d) const noexcept { ::closedir(d); }
  };
  std::unique_ptr<DIR, Closer> dir(::opendir(run_dir.c_str()));
  if (!dir) {
    if (errno == ENOENT) return {};
    return MakeError(ErrorCode::kIo,
                     "cannot list run_dir " + run_dir + ": " + std::strerror(errno));
  }
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(dir.get())) {
    std::string_view name = entry->d_name;
    // WriteFileAtomic's temporary names: ".<file>.tmp.<pid>".
    const std::size_t tmp = name.rfind(".tmp.");
    if (name.substr(0, 7) != ".status" || tmp == std::string_view::npos) continue;
    std::string_view digits = name.substr(tmp + 5);
    long pid = 0;  // NOLINT(runtime/int)
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) continue;
    if (pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) == 0) continue;  // still writing
    stale.emplace_back(name);
  }
  for (const std::string& name : stale) {
    const std::string path = run_dir + "/" + name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return MakeError(ErrorCode::kIo, "cannot remove " + path + ": " + std::strerror(errno));
    }
  }
  if (!stale.empty()) return SyncDirectory(run_dir);
  return {};
}

}  // namespace scepd
