#include "daemon/status_publisher.h"

#include <grp.h>
#include <openssl/pem.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <functional>

#include "core/cert_info.h"
#include "core/cert_summary.h"
#include "core/ossl.h"
#include "daemon/json_writer.h"
#include "daemon/metrics_file.h"
#include "io/files.h"

namespace scepd {

namespace {

constexpr std::size_t kMaxCertFile = 64 * 1024;
constexpr int kMaxChain = 16;

std::string Suffixed(const std::string& run_dir, const char* base, const std::string& name) {
  std::string path = run_dir;
  if (!path.empty() && path.back() != '/') path.push_back('/');
  path += base;
  if (!name.empty()) path += "-" + name;
  return path + ".pem";
}

// Writes `text` to `path` (0644, atomic, not durable) unless it already holds it.
Status WriteIfChanged(const std::string& path, const std::string& text) {
  auto old = ReadFileText(path, text.size() + 1);
  if (old.ok() && *old == text) return {};
  return WriteFileAtomic(path, text, 0644, FileSync::kNone);
}

std::string IssuerOfPem(const std::string& pem) {
  // The DER walk first (core/cert_summary.h): a full parse costs OpenSSL
  // 3.0 a public-key decode.
  if (auto summary = SummarizeCertificateFile(
          std::span(reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()))) {
    return summary->issuer;
  }
  ossl::Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return "";
  ossl::Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return "";
  return IssuerString(cert.get());
}

}  // namespace

std::string PublicCertPath(const std::string& run_dir, const std::string& name) {
  return Suffixed(run_dir, "cert", name);
}

std::string PublicCaPath(const std::string& run_dir, const std::string& name) {
  return Suffixed(run_dir, "ca", name);
}

Status PrepareRunDir(const DaemonSettings& settings) {
  const std::string& dir = settings.run_dir;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return MakeError(ErrorCode::kIo, "cannot create run_dir " + dir + ": " + std::strerror(errno));
  }
  // The pid file and the status files go here: not through a link, not into
  // another user's directory.
  SCEPD_TRY_STATUS(CheckOwnDirectory(dir, "run_dir"));
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return MakeError(ErrorCode::kIo, "run_dir " + dir + " is not a directory");
  }
  mode_t mode = 0755;
  if (!settings.status_group.empty()) {
    const group* g = ::getgrnam(settings.status_group.c_str());
    if (g == nullptr) {
      return MakeError(ErrorCode::kIo, "run_dir " + dir + ": no group '" +
                                           settings.status_group + "' (status_group)");
    }
    if (st.st_gid != g->gr_gid && ::chown(dir.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
      return MakeError(ErrorCode::kIo, "cannot give run_dir " + dir + " to group " +
                                           settings.status_group + ": " + std::strerror(errno));
    }
    mode = 0750;
  }
  if ((st.st_mode & 07777) != mode && ::chmod(dir.c_str(), mode) != 0) {
    return MakeError(ErrorCode::kIo, "cannot set the mode of run_dir " + dir + ": " +
                                         std::strerror(errno));
  }
  return {};
}

std::string FormatDaemonRecord(const DaemonRecord& record) {
  JsonObject json;
  json.Number("pid", record.pid);
  json.Time("started", record.started);
  json.String("config", record.config_path);
  if (record.last_reload) {
    JsonObject reload;
    reload.Time("time", record.last_reload->time);
    reload.String("result", record.last_reload->accepted ? "accepted" : "refused");
    reload.String("error", record.last_reload->error);
    json.Raw("last_reload", std::move(reload).Finish());
  } else {
    json.Raw("last_reload", "null");
  }
  return std::move(json).Finish();
}

void StatusPublisher::CopyPublicFiles(const std::string& name, const std::string& data_dir,
                                      Copied* copied) {
  std::string cert_pem;
  if (auto text = ReadFileText(data_dir + "/latest.crt", kMaxCertFile); text.ok()) {
    cert_pem = std::move(*text);
  }
  std::string ca_pem;
  for (int i = 0; i < kMaxChain; ++i) {
    auto text = ReadFileText(data_dir + "/ca.crt-" + std::to_string(i), kMaxCertFile);
    if (!text.ok()) break;
    ca_pem += *text;
    if (!ca_pem.empty() && ca_pem.back() != '\n') ca_pem.push_back('\n');
  }
  const std::size_t cert_hash = std::hash<std::string>{}(cert_pem);
  const std::size_t ca_hash = std::hash<std::string>{}(ca_pem);
  if (!copied->done || cert_hash != copied->cert_hash) {
    copied->issuer = IssuerOfPem(cert_pem);
  }
  if (!copied->done || ca_hash != copied->ca_hash) {
    copied->ca_not_after.reset();
    auto first = ReadFileBytes(data_dir + "/ca.crt-0", kMaxCertFile);
    if (first.ok()) {
      if (auto summary = SummarizeCertificateFile(*first)) copied->ca_not_after = summary->not_after;
    }
  }
  for (const auto& [path, text] : {std::pair{PublicCertPath(settings_.run_dir, name), cert_pem},
                                   std::pair{PublicCaPath(settings_.run_dir, name), ca_pem}}) {
    if (text.empty()) {
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        spdlog::warn("cannot remove {}: {}", path, std::strerror(errno));
      }
      continue;
    }
    if (auto st = WriteIfChanged(path, text); !st.ok()) {
      spdlog::warn("public copy not written: {}", st.error().message);
    }
  }
  copied->done = true;
  copied->cert_hash = cert_hash;
  copied->ca_hash = ca_hash;
}

void StatusPublisher::Publish(StatusReport report, const std::string& data_dir) {
  if (auto st = PrepareRunDir(settings_); !st.ok()) {
    spdlog::warn("{}", st.error().message);
    return;
  }
  Copied& copied = copied_[report.name];
  if (report.name.find('/') == std::string::npos) CopyPublicFiles(report.name, data_dir, &copied);
  report.issuer = report.serial.empty() ? "" : copied.issuer;
  report.ca_not_after = copied.ca_not_after;
  if (auto st = WriteStatus(settings_.run_dir, report); !st.ok()) {
    spdlog::warn("status not written: {}", st.error().message);
  }
  reports_[report.name] = std::move(report);
  WriteMetrics();
}

void StatusPublisher::WriteMetrics() {
  if (settings_.metrics_file.empty()) return;
  std::vector<StatusReport> all;
  for (const auto& [name, report] : reports_) all.push_back(report);
  std::string text = FormatMetrics(all);
  if (text == metrics_written_) return;
  if (auto st = WriteFileAtomic(settings_.metrics_file, text, 0644, FileSync::kNone); !st.ok()) {
    spdlog::warn("metrics not written: {}", st.error().message);
    return;
  }
  metrics_written_ = std::move(text);
}

void StatusPublisher::PublishDaemon(const DaemonRecord& record) {
  if (auto st = PrepareRunDir(settings_); !st.ok()) {
    spdlog::warn("{}", st.error().message);
    return;
  }
  const std::string path = settings_.run_dir + "/" + kDaemonStatusFile;
  if (auto st = WriteIfChanged(path, FormatDaemonRecord(record)); !st.ok()) {
    spdlog::warn("daemon status not written: {}", st.error().message);
  }
}

}  // namespace scepd
