#pragma once
// The scepd process: settings, one CertificateJob per certificate section,
// and the event loop that sleeps until the earliest job wants to run, a
// signal (SIGHUP reload, SIGUSR1 check now, SIGTERM/SIGINT stop) or a change
// of the system clock. Nothing wakes it otherwise.

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/hook_runner.h"
#include "daemon/certificate_job.h"
#include "daemon/config.h"
#include "daemon/key_preparer.h"
#include "daemon/status_publisher.h"

namespace scepd {

// Exit codes of `scepd` (docs/daemon.md).
inline constexpr int kDaemonExitOk = 0;         // certificate valid / enrolled / stopped
inline constexpr int kDaemonExitFailed = 1;     // an enrollment failed (--once), fatal error
inline constexpr int kDaemonExitHandoff = 2;    // --once: installed, but the success script failed
inline constexpr int kDaemonExitUsage = 64;     // bad command line
inline constexpr int kDaemonExitRunning = 75;   // another scepd holds the pid file
inline constexpr int kDaemonExitConfig = 78;    // settings invalid

struct DaemonOptions {
  std::string config_path = "/etc/scepd.conf";
  std::string hook_path_dir;  // where scep_replace_pem lives (PATH of scripts)
  std::int64_t build_time = 0;
};

class Daemon {
 public:
  Daemon(DaemonOptions options, const Clock& clock, RandomSource& random, HookRunner& hooks);
  // Wipes what it holds of the secrets (nothing once Load succeeded).
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Reads and validates the settings. On failure the message lists every
  // problem as FILE:LINE: [section] key: what.
  Status Load();
  // The settings loaded, WITHOUT their secrets: the challenge password, CMP
  // secret, EST password and proxy credentials are wiped as soon as the
  // certificate jobs hold them (the jobs' copies are the only ones). So
  // FormatEffectiveConfig of this shows no masked inline secret; print the
  // result of LoadConfig instead (--check-config does).
  const Config& config() const noexcept { return config_; }

  // One check of every certificate (enrolling and waiting out PENDING as
  // needed); returns the exit code: 0 only when every certificate ends with
  // an installed pair that has not expired. Takes the daemon's lock (the
  // pid file, without writing its pid into it: that file names the daemon
  // check-cert.sh signals) and does nothing, exit 75, while a daemon or
  // another --once holds it: one writer per data_dir.
  int RunOnce();

  // The event loop. `ready_fd` (>= 0) gets one byte and is closed once the
  // pid file is written and signals are set up (for -d). Returns the exit
  // code when stopped.
  int Run(int ready_fd);

 private:
  int RunOnceLocked();
  // Replaces the settings (wiping the old ones' secrets), makes a job per
  // certificate from them, then wipes the secrets from config_.
  void Adopt(Config config);
  void MakeJobs();
  void PublishDisabled();
  // Takes the exclusive lock on run_dir/scepd.pid; the daemon writes its
  // pid into it, --once does not (`write_pid` false). kUnsupported when
  // another process holds it, kIo for a file that is not a regular file.
  Status LockPidFile(bool write_pid);
  // Releases the lock; removes the file when we wrote it or created it.
  void UnlockPidFile();
  // Temporary status files a crash left in run_dir (data_dir's are the
  // certificate store's business: CertStore::Prepare).
  void RemoveStaleTemps();

  DaemonOptions options_;
  const Clock& clock_;
  RandomSource& random_;
  HookRunner& hooks_;
  Config config_;
  std::vector<std::unique_ptr<CertificateJob>> jobs_;
  std::vector<std::int64_t> wake_;
  KeyPreparer key_preparer_;
  std::shared_ptr<StatusPublisher> publisher_;  // of the current settings
  DaemonRecord record_;  // next keys made ahead of renewals
  int pid_fd_ = -1;
  bool pid_file_ours_ = false;  // created or written by this process
};

}  // namespace scepd
