#pragma once
// What the running daemon tells readers that are not root (the web pages, a
// monitoring agent): run_dir with the per-certificate status files, public
// copies of each certificate and its CA chain, the daemon's own record
// (pid, start, last reload) and the optional Prometheus metrics file.
// run_dir is 0755, or 0750 owned by [scepd] status_group; everything in it
// is 0644 and public. Keys never leave data_dir.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/result.h"
#include "daemon/config.h"
#include "daemon/status_file.h"

namespace scepd {

// File names in run_dir.
inline constexpr char kDaemonStatusFile[] = "scepd.json";
inline constexpr char kPidFileName[] = "scepd.pid";

// run_dir/cert.pem (unnamed certificate) or run_dir/cert-NAME.pem: a copy of
// data_dir/latest.crt; ca.pem / ca-NAME.pem: ca.crt-0, ca.crt-1, ... joined.
std::string PublicCertPath(const std::string& run_dir, const std::string& name);
std::string PublicCaPath(const std::string& run_dir, const std::string& name);

// Creates run_dir if needed and gives it its mode whatever the umask: 0750
// and group status_group when set, else 0755. Fails with kIo naming run_dir
// (also when it is not a directory or the group cannot be set).
Status PrepareRunDir(const DaemonSettings& settings);

// The outcome of the last SIGHUP.
struct ReloadRecord {
  std::int64_t time = 0;
  bool accepted = false;
  std::string error;  // FILE:LINE messages when refused
};

// The daemon's own record, run_dir/scepd.json.
struct DaemonRecord {
  std::int64_t pid = 0;
  std::int64_t started = 0;
  std::string config_path;
  std::optional<ReloadRecord> last_reload;
};

// The JSON of run_dir/scepd.json: "pid", "started"(+_epoch), "config",
// "last_reload" (null, or "time", "result": "accepted"/"refused", "error").
std::string FormatDaemonRecord(const DaemonRecord& record);

// Writes the status of each certificate as it changes. One per settings
// generation (a reload makes a new one). Not thread-safe.
class StatusPublisher {
 public:
  explicit StatusPublisher(DaemonSettings settings) : settings_(std::move(settings)) {}

  // Completes `report` from the public files of `data_dir` (issuer, CA
  // expiry), copies those files to run_dir, writes the status files and
  // the metrics file (when set, and changed). Failures are logged: status
  // is never a reason to stop renewing.
  void Publish(StatusReport report, const std::string& data_dir);

  // Writes run_dir/scepd.json; failures logged.
  void PublishDaemon(const DaemonRecord& record);

 private:
  // What was copied last time, by a hash of the text rather than the text
  // (a certificate and its CA chain, 2 KiB or more per certificate section,
  // idle for days): a change of content is what matters; a collision would
  // only keep the previous issuer and CA expiry in the status.
  struct Copied {
    bool done = false;
    std::size_t cert_hash = 0, ca_hash = 0;
    std::string issuer;
    std::optional<std::int64_t> ca_not_after;
  };
  void CopyPublicFiles(const std::string& name, const std::string& data_dir, Copied* copied);
  void WriteMetrics();

  DaemonSettings settings_;
  std::map<std::string, StatusReport> reports_;  // by certificate name, for the metrics
  std::map<std::string, Copied> copied_;
  std::string metrics_written_;
};

}  // namespace scepd
