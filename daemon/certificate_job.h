#pragma once
// One certificate's life in the daemon: the enrollment state machine.
//
// Step() does whatever is due now and returns the absolute time (seconds
// since the epoch) at which it wants to run again; the event loop sleeps
// until then, a signal, or a clock change. States (docs/daemon.md):
//
//   idle       certificate valid; next check at the earlier of the
//              (jittered) check interval and the renewal window
//   enrolling  a request is being built and sent
//   polling    the CA answered "pending"; asked again every await_result s
//              (or when the back end says) until max_await_result min after
//              the first submission
//   backoff    the last attempt failed; retry after an exponential,
//              jittered, capped delay (SIGUSR1 retries at once)
//   clockwait  the system clock is before the build date or the
//              certificate's notBefore: expiry is not judged
//   staged     the CA issued a certificate whose notBefore is more than
//              kNotBeforeSkew ahead while the installed pair works: the new
//              one waits in the pending transaction and is installed at its
//              notBefore (the job wakes for it), or at once when the
//              installed pair stops working
//   handoff-failed
//              the new pair is installed but the success script failed
//              (exit status not 0, killed, or could not run): the failure
//              script has run, the success script is run again after an
//              exponential, jittered, capped delay until it succeeds (the
//              pending transaction is kept for that, so a restart runs it
//              again too)
//
// The job names no protocol: it drives an enroll::Enroller
// (core/enroll/enroller.h) that daemon/enroller_factory.h builds from the
// settings, and stores the back end's state as an opaque cookie.
//
// The only state kept across restarts is the pending transaction (key,
// request, the back end's cookie) in the certificate store: a restart
// during "enrolling" or "polling" resumes the same transaction; everything
// else is derived again from the files. The transaction is cleared only
// after the success script has run: a restart that finds its certificate
// already on disk installs it (if the crash came before the commit point),
// runs the success script again and clears it, without asking the CA again.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/enroll/enroller.h"
#include "core/hook_runner.h"
#include "core/renewal_policy.h"
#include "core/result.h"
#include "core/transport.h"
#include "daemon/cert_store.h"
#include "daemon/config.h"
#include "daemon/status_file.h"

namespace scepd {

enum class JobState { kIdle, kEnrolling, kPolling, kBackoff, kClockWait, kHandoffFailed, kStaged };

// A new certificate whose notBefore is at most this far ahead of the clock
// (seconds) counts as valid now: the CA's clock may run a little ahead.
inline constexpr std::int64_t kNotBeforeSkew = 300;
const char* JobStateName(JobState state) noexcept;

// How the last Step ended, for `scepd --once` and tests.
// kHandoffFailed: installed, but the success script failed.
// kStaged: a working pair is installed; a new one waits for its notBefore.
enum class JobOutcome { kNone, kValid, kEnrolled, kPending, kFailed, kHandoffFailed, kStaged };

struct JobDeps {
  const Clock* clock = nullptr;
  RandomSource* random = nullptr;
  HookRunner* hooks = nullptr;
  // Makes the transport for one attempt (libcurl in the daemon).
  std::function<Result<std::unique_ptr<Transport>>(const CertificateSettings&)> make_transport;
  // Makes the enrollment back end for one attempt. Empty (the daemon): the
  // one the settings' protocol names, over make_transport's transport
  // (daemon/enroller_factory.h). Tests script a fake here.
  std::function<Result<std::unique_ptr<enroll::Enroller>>(const CertificateSettings&)>
      make_enroller;
  // Publishes the status (run_dir files in the daemon).
  std::function<void(const StatusReport&)> publish_status;
  // Starts making the next key ahead of a renewal: writes
  // data_dir/.next.key (daemon/next_key.h) without blocking, at low priority
  // (a child process in the daemon). Empty: keys are made when needed.
  std::function<void(const std::string& data_dir, int bits)> prepare_key;
  std::string hook_path_dir;     // prepended to the scripts' PATH (scep_replace_pem)
  std::int64_t build_time = 0;   // a clock before this is wrong
  int hook_timeout_seconds = 300;
};

class CertificateJob {
 public:
  // Copies `settings` (secrets included) straight into the job: no
  // intermediate copy is left behind unwiped.
  CertificateJob(const CertificateSettings& settings, DaemonSettings daemon, JobDeps deps);
  // Wipes its copy of the secrets (WipeSecrets): in the daemon the only
  // one, as the Daemon wipes its own once the jobs are made.
  ~CertificateJob();

  // Runs what is due and returns when to be called next (absolute seconds).
  // Never throws; failures are logged, reported in the status and retried.
  std::int64_t Step();

  // Makes the next Step check at once, skipping a backoff wait (SIGUSR1).
  void CheckNow() noexcept { retry_at_ = 0; poll_at_ = 0; }
  // CheckNow, and renew even a certificate outside its renewal window
  // (SIGUSR2, the web page's Renew now). A pending transaction is resumed
  // rather than replaced.
  void RenewNow() noexcept {
    CheckNow();
    renew_now_ = true;
  }

  JobState state() const noexcept { return state_; }
  JobOutcome outcome() const noexcept { return outcome_; }
  const StatusReport& status() const noexcept { return status_; }
  const CertificateSettings& settings() const noexcept { return settings_; }

 private:
  struct Attempt;  // one connection to the CA: the back end, its CA certificates

  std::int64_t CheckCertificate(std::int64_t now);
  // Why a transaction found on disk does not belong to these settings (made
  // with another protocol, URL, key type or size, subject or names, or
  // started in the future); "" when it does.
  std::string StaleReason(const PendingTransaction& pending, std::int64_t now) const;
  std::int64_t StartEnrollment(std::int64_t now, bool renewal);
  // The saved request's key and request, decoded, with the back end's cookie.
  Result<std::unique_ptr<enroll::Transaction>> DecodePending(const PendingTransaction& pending) const;
  // `connected`: the connection StartEnrollment already made (its answers
  // are reused); `live`: the transaction it just saved, still decoded (else
  // it is decoded from `pending`: a resumed transaction). Null = from scratch.
  std::int64_t ContinuePending(PendingTransaction pending, std::int64_t now,
                               std::unique_ptr<Attempt> connected = nullptr,
                               std::unique_ptr<enroll::Transaction> live = nullptr);
  std::optional<std::int64_t> FinishFromDisk(const PendingTransaction& pending, std::int64_t now);
  std::int64_t Finish(const PendingTransaction& pending, X509* cert, std::size_t chain_size);
  std::int64_t AfterInstall(X509* cert);
  // A certificate not valid yet while the installed pair works: kept in the
  // pending transaction; returns when to install it. nullopt: install now.
  std::optional<std::int64_t> StageIfNotYetValid(PendingTransaction& pending, X509* cert,
                                                 std::int64_t now);
  // A staged certificate: waits, or installs it once it is valid.
  std::int64_t ContinueStaged(PendingTransaction pending, std::int64_t now);
  // The installed pair is valid now (kNotBeforeSkew allowed).
  bool ActiveWorks(std::int64_t now) const;
  void PrepareKeyIfNear(std::int64_t now, const std::optional<CertTimes>& times);
  // The key made ahead (.next.key); nullptr when there is none, or when it
  // is unusable or is `in_use` (the active pair's key, borrowed; one that a
  // power cut brought back), which is then removed.
  ossl::Ptr<EVP_PKEY> TakeNextKey(EVP_PKEY* in_use);
  // A key made for an attempt that failed before its request was built
  // (the CA could not be reached or its certificates were refused), kept
  // in memory for the next attempt if the settings still ask for that kind
  // of key: a router does not make an RSA key again at every retry. Never
  // written to disk: a failed attempt changes nothing there.
  ossl::Ptr<EVP_PKEY> spare_key_;
  std::int64_t Fail(std::int64_t now, const std::string& message, const std::string& fail_info);
  // Makes the back end, fetches the CA certificates and checks the CA
  // against the pin (daemon/ca_trust.h); keeps a successor CA when offered.
  Result<std::unique_ptr<Attempt>> Connect();
  // A ca.crt-N that does not load is rewritten from the CA's answer (logged,
  // best effort: a failure is retried at the next check).
  void RepairCaChain();
  // Runs `script` (nothing when empty); the error when it could not run,
  // was killed or exited non-zero ("" when it succeeded or there is none).
  std::string RunScript(const std::string& script, const std::string& event,
                        const std::vector<std::pair<std::string, std::string>>& vars);
  // The success script failed: report it, run the failure script, and
  // schedule the next run of the success script.
  std::int64_t HandoffFailed(const PendingTransaction& pending, X509* cert,
                             const std::string& why);
  void Publish(ModuleState module, CertState cert);
  void NoteActive(const CertSummary* active);

  CertificateSettings settings_;
  DaemonSettings daemon_;
  JobDeps deps_;
  CertStore store_;
  JobState state_ = JobState::kIdle;
  JobOutcome outcome_ = JobOutcome::kNone;
  StatusReport status_;
  int failures_ = 0;
  std::int64_t retry_at_ = 0;  // backoff: no attempt before this
  std::int64_t poll_at_ = 0;   // polling: next CertPoll not before this
  bool fallback_tried_ = false;
  int handoff_failures_ = 0;          // success script failures in a row
  std::int64_t handoff_retry_at_ = 0;  // handoff-failed: next run of the success script
  bool renew_now_ = false;  // RenewNow() asked; consumed by the next check
  std::string known_transaction_;  // the pending transaction this process started or resumed
};

}  // namespace scepd
