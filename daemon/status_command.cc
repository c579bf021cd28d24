#include "daemon/status_command.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <set>

#include "core/renewal_policy.h"
#include "daemon/cert_store.h"
#include "daemon/json_writer.h"
#include "daemon/status_publisher.h"
#include "io/files.h"

namespace scepd {

namespace {

constexpr std::size_t kMaxStatusFile = 1 << 20;

// Severity order of the exit codes (higher = worse).
int Rank(int code) {
  switch (code) {
    case kStatusOk: return 0;
    case kStatusRenewing: return 1;
    case kStatusPending: return 2;
    case kStatusFailed: return 3;
    case kStatusNotEnrolled: return 4;
    case kStatusUnknown: return 5;
    case kStatusNotRunning: return 6;
    case kStatusDisabled: return 7;
    case kStatusSettingsInvalid: return 8;
    default: return 9;
  }
}

int Worst(int a, int b) { return Rank(a) >= Rank(b) ? a : b; }

}  // namespace

std::string StatusMember(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\": ";
  std::size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  std::size_t end = json.find('\n', at);
  std::string value = json.substr(at, end == std::string::npos ? std::string::npos : end - at);
  if (!value.empty() && value.back() == ',') value.pop_back();
  if (value == "null") return "";
  if (value.size() < 2 || value.front() != '"') return value;
  std::string out;
  for (std::size_t i = 1; i + 1 < value.size(); ++i) {
    if (value[i] != '\\' || i + 2 >= value.size()) {
      out.push_back(value[i]);
      continue;
    }
    const char e = value[++i];
    if (e == 'n') {
      out.push_back('\n');
    } else if (e == 't') {
      out.push_back('\t');
    } else if (e == 'u' && i + 4 < value.size()) {
      const unsigned long cp = std::strtoul(value.substr(i + 1, 4).c_str(), nullptr, 16);  // NOLINT
      i += 4;
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    } else {
      out.push_back(e);
    }
  }
  return out;
}

std::vector<CertificateSettings> ReportedCertificates(const Config& c) {
  std::vector<CertificateSettings> out;
  for (const CertificateSettings& cert : c.certificates) {
    out.push_back(cert);
    std::string& pw = out.back().challenge_password;  // a report does not need it
    OPENSSL_cleanse(pw.data(), pw.size());
    pw.clear();
  }
  if (!out.empty()) return out;
  CertificateSettings unnamed;
  unnamed.data_dir = c.daemon.data_dir;
  return {unnamed};
}

StatusReport StatusFromFiles(const Config& c, const CertificateSettings& cert) {
  StatusReport r;
  r.name = cert.name;
  r.module = c.daemon.enabled ? ModuleState::kNotRunning : ModuleState::kDisabled;
  r.state = c.daemon.enabled ? "stopped" : "disabled";
  // A reader without the right to look (data_dir is 0700) must not be told
  // "not enrolled".
  if (::access(cert.data_dir.c_str(), F_OK) == 0 && ::access(cert.data_dir.c_str(), R_OK | X_OK) != 0) {
    r.state = "unknown";
    r.last_error = "cannot read " + cert.data_dir + ": " + std::strerror(errno) +
                   " (and no status file from the daemon)";
    return r;
  }
  CertStore store(cert.data_dir);
  auto active = store.LoadActiveCertificate();
  if (!active.ok()) {
    r.state = "unknown";
    r.last_error = active.error().message;
  } else if (active->has_value()) {
    const CertSummary& s = **active;
    r.cert = CertState::kEnrolled;
    r.serial = s.serial;
    r.subject = s.subject;
    r.not_before = s.not_before;
    r.not_after = s.not_after;
    if (s.not_after) r.renewal_window = *s.not_after - std::int64_t{cert.renew_days} * 86400;
  }
  return r;
}

Config SettingsAsFarAsValid(const std::string& text, const std::string& path) {
  std::vector<std::string> lines;
  for (std::size_t at = 0; at <= text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  for (int round = 0; round < 8; ++round) {
    std::string joined;
    for (const std::string& l : lines) joined += l + "\n";
    auto parsed = ParseConfig(joined, path, SerialSources{});
    OPENSSL_cleanse(joined.data(), joined.size());
    if (parsed.ok()) return std::move(*parsed);
    // "PATH:LINE: ..." -> drop LINE.
    std::set<std::size_t> bad;
    const std::string& message = parsed.error().message;
    const std::string prefix = path + ":";
    for (std::size_t at = message.find(prefix); at != std::string::npos;
         at = message.find(prefix, at + 1)) {
      const char* digits = message.c_str() + at + prefix.size();
      char* end = nullptr;
      unsigned long line = std::strtoul(digits, &end, 10);  // NOLINT(runtime/int)
      if (end != digits && *end == ':' && line >= 1 && line <= lines.size()) bad.insert(line);
    }
    bool changed = false;
    for (std::size_t line : bad) {
      if (lines[line - 1].rfind(';', 0) == 0) continue;
      lines[line - 1] = ";";
      changed = true;
    }
    if (!changed) break;
  }
  for (std::string& l : lines) OPENSSL_cleanse(l.data(), l.size());
  return Config{};
}

int CertificateExit(const std::string& json, std::int64_t now) {
  const std::string state = StatusMember(json, "state");
  const std::string module = StatusMember(json, "module");
  if (module == "disabled" || state == "disabled") return kStatusDisabled;
  if (state == "unknown") return kStatusUnknown;
  if (state == "polling") return kStatusPending;
  const std::string serial = StatusMember(json, "serial");
  const std::string result = StatusMember(json, "last_result");
  if (state == "enrolling") return serial.empty() ? kStatusNotEnrolled : kStatusRenewing;
  if (serial.empty()) return kStatusNotEnrolled;
  if (result == "failure" || result == "error" || result == "handoff-failed") return kStatusFailed;
  if (state == "backoff") return kStatusFailed;
  const std::string window = StatusMember(json, "renewal_window_epoch");
  if (!window.empty() && now >= std::atoll(window.c_str())) return kStatusRenewing;
  return kStatusOk;
}

DaemonLiveness FindDaemon(const std::string& run_dir) {
  DaemonLiveness out;
  const std::string path = run_dir + "/" + kPidFileName;
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return out;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    out.running = true;
    char buf[32] = {0};
    if (::read(fd, buf, sizeof(buf) - 1) > 0) out.pid = std::atol(buf);
  }
  ::close(fd);
  return out;
}

Config SettingsForReport(const std::string& config_path, std::string* settings_error) {
  auto loaded = LoadConfig(config_path, SerialSources{});
  if (loaded.ok()) return std::move(*loaded);
  *settings_error = loaded.error().message;
  Config c;
  if (auto text = ReadFileText(config_path, 1 << 20); text.ok()) {
    c = SettingsAsFarAsValid(*text, config_path);
    OPENSSL_cleanse(text->data(), text->size());
  }
  return c;
}

int PrintStatus(const std::string& config_path, bool json) {
  std::string settings_error;
  Config c = SettingsForReport(config_path, &settings_error);
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  const DaemonLiveness daemon = FindDaemon(c.daemon.run_dir);
  int code = kStatusOk;
  std::string lines, certs_json;
  for (const auto& cert : ReportedCertificates(c)) {
    const std::string path = StatusFilePath(c.daemon.run_dir, cert.name);
    auto text = ReadFileText(path, kMaxStatusFile);
    auto doc = ReadFileText(path + ".json", kMaxStatusFile);
    std::string two_lines, cert_json;
    if (text.ok() && doc.ok()) {
      two_lines = *text;
      cert_json = *doc;
    } else {
      // No status written yet (or not readable): derive it from the files.
      StatusReport r = StatusFromFiles(c, cert);
      two_lines = FormatStatusLines(r);
      cert_json = FormatStatusJson(r);
    }
    if (!two_lines.empty() && two_lines.back() != '\n') two_lines.push_back('\n');
    lines += two_lines;
    code = Worst(code, CertificateExit(cert_json, now));
    while (!cert_json.empty() && cert_json.back() == '\n') cert_json.pop_back();
    certs_json += (certs_json.empty() ? "\n" : ",\n") + cert_json;
  }
  if (c.daemon.enabled && !daemon.running) code = Worst(code, kStatusNotRunning);
  if (!settings_error.empty()) code = kStatusSettingsInvalid;

  if (!json) {
    // Standard output keeps exactly the status lines (scripts read them);
    // what is wrong besides goes to standard error.
    if (!settings_error.empty()) {
      std::fprintf(stderr, "scepd: settings invalid (%s), the daemon keeps its last good ones:\n%s\n",
                   config_path.c_str(), settings_error.c_str());
    }
    std::fputs(lines.c_str(), stdout);
    if (c.daemon.enabled && !daemon.running) std::fputs("scepd: the daemon is not running\n", stderr);
    WipeSecrets(&c);
    return code;
  }
  JsonObject out;
  out.Number("schema", kStatusSchema);
  out.Time("generated", now);
  out.Number("exit_code", code);
  out.String("config", config_path);
  out.Bool("settings_valid", settings_error.empty());
  out.String("settings_error", settings_error);
  out.Bool("enabled", c.daemon.enabled);
  out.String("run_dir", c.daemon.run_dir);
  // "daemon": whether it runs, then the members of its own record (pid,
  // started, config, last_reload) while it runs.
  std::string daemon_json = "{\n    \"running\": " + std::string(daemon.running ? "true" : "false");
  auto record = ReadFileText(c.daemon.run_dir + "/" + kDaemonStatusFile, kMaxStatusFile);
  if (daemon.running && record.ok() && record->rfind("{\n", 0) == 0 &&
      record->size() > 5 && record->compare(record->size() - 3, 3, "\n}\n") == 0) {
    std::string members = record->substr(2, record->size() - 5);
    for (std::size_t at = 0; (at = members.find('\n', at)) != std::string::npos; at += 3) {
      members.insert(at + 1, "  ");
    }
    daemon_json += ",\n  " + members;
  } else {
    daemon_json += ",\n    \"pid\": " + (daemon.running ? std::to_string(daemon.pid) : "null") +
                   ",\n    \"last_reload\": null";
  }
  daemon_json += "\n  }";
  out.Raw("daemon", daemon_json);
  out.Raw("certificates", "[" + certs_json + "\n]");
  std::fputs(std::move(out).Finish().c_str(), stdout);
  WipeSecrets(&c);
  return code;
}

}  // namespace scepd
