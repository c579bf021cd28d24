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
#include "daemon/json_writer.h"
#include "io/files.h"

namespace scepd {

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
  json.String("protocol", report.protocol);
  json.String("issuer", report.issuer);
  json.Time("renewal_window", report.renewal_window);
  json.Time("ca_not_after", report.ca_not_after);
  json.Time("last_success", report.last_success);
  json.Number("failures", report.failures);
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
    Status written = WriteFileAtomic(file, text, 0644, FileSync::kNone);
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
    // Ours: the status files, the public copies and the daemon's record
    // (status_publisher.h).
    const bool ours = name.starts_with(".status") || name.starts_with(".cert") ||
                      name.starts_with(".ca.pem") || name.starts_with(".ca-") ||
                      name.starts_with(".scepd.json");
    if (!ours || tmp == std::string_view::npos) continue;
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
