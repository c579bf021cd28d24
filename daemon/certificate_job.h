#pragma once
// One certificate's life in the daemon: the enrollment state machine.
//
// Step() does whatever is due now and returns the absolute time (seconds
// since the epoch) at which it wants to run again; the event loop sleeps
// until then, a signal, or a clock change. States (docs/daemon.md):
//
//   idle       certificate valid; next check at the earlier of the
//              (jittered) check interval and the renewal window
//   enrolling  a PKCSReq/RenewalReq is being built and sent
//   polling    the CA answered PENDING; CertPoll every await_result s
//              until max_await_result min after the first submission
//   backoff    the last attempt failed; retry after an exponential,
//              jittered, capped delay (SIGUSR1 retries at once)
//   clockwait  the system clock is before the build date or the
//              certificate's notBefore: expiry is not judged
//
// The only state kept across restarts is the pending transaction (key,
// request, signer, transaction ID) in the certificate store: a restart
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
#include "core/hook_runner.h"
#include "core/renewal_policy.h"
#include "core/result.h"
#include "core/transport.h"
#include "daemon/cert_store.h"
#include "daemon/config.h"
#include "daemon/status_file.h"

namespace scepd {

enum class JobState { kIdle, kEnrolling, kPolling, kBackoff, kClockWait };
const char* JobStateName(JobState state) noexcept;

// How the last Step ended, for `scepd --once` and tests.
enum class JobOutcome { kNone, kValid, kEnrolled, kPending, kFailed };

struct JobDeps {
  const Clock* clock = nullptr;
  RandomSource* random = nullptr;
  HookRunner* hooks = nullptr;
  // Makes the transport for one attempt (libcurl in the daemon).
  std::function<Result<std::unique_ptr<Transport>>(const CertificateSettings&)> make_transport;
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
  CertificateJob(CertificateSettings settings, DaemonSettings daemon, JobDeps deps);
  // Wipes its copy of the challenge password.
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
  struct Attempt;  // one connection to the CA: transport, client, CA certs

  std::int64_t CheckCertificate(std::int64_t now);
  std::int64_t StartEnrollment(std::int64_t now, bool renewal);
  // The request StartEnrollment just made and saved, still decoded.
  struct Request;
  // The saved request's key, CSR, signer and signer key (for a renewal the
  // current pair, which must still be the one that signed it).
  Result<std::unique_ptr<Request>> DecodePending(const PendingTransaction& pending,
                                                 const std::string& key_pem) const;
  // `connected`: the connection StartEnrollment already made (its GetCACaps
  // and GetCACert answers are reused); `made`: that request's key, CSR and
  // signer (else they are decoded from `pending`). Null = from scratch.
  std::int64_t ContinuePending(PendingTransaction pending, std::int64_t now,
                               std::unique_ptr<Attempt> connected = nullptr,
                               std::unique_ptr<Request> made = nullptr);
  std::optional<std::int64_t> FinishFromDisk(const PendingTransaction& pending, std::int64_t now);
  std::int64_t Finish(const PendingTransaction& pending, X509* cert, std::size_t chain_size);
  std::int64_t AfterInstall(X509* cert);
  void PrepareKeyIfNear(std::int64_t now, const std::optional<CertTimes>& times);
  ossl::Ptr<EVP_PKEY> TakeNextKey();
  std::int64_t Fail(std::int64_t now, const std::string& message, const std::string& fail_info);
  Result<std::unique_ptr<Attempt>> Connect();
  // A ca.crt-N that does not load is rewritten from GetCACert (logged,
  // best effort: a failure is retried at the next check).
  void RepairCaChain();
  // Trust: the CA of `a` must match the pin (ca_fingerprint, else the one
  // stored with the chain) or be the successor fetched with GetNextCACert;
  // with no pin yet it is trusted on first use. Fails with kVerify naming
  // both fingerprints.
  Status CheckCaTrust(Attempt& a);
  // Fetches and keeps (ca-next.crt) the CA's successor when the CA offers
  // GetNextCACert; failures are only logged.
  void FetchNextCa(Attempt& a);
  void RunScript(const std::string& script, const std::string& event,
                 const std::vector<std::pair<std::string, std::string>>& vars);
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
  bool renew_now_ = false;  // RenewNow() asked; consumed by the next check
  std::string known_transaction_;  // the pending transaction this process started or resumed
};

}  // namespace scepd
