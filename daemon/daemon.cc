#include "daemon/daemon.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "core/ossl.h"
#include "core/renewal_policy.h"
#include "core/wipe.h"
#include "daemon/cert_store.h"
#include "daemon/enroller_factory.h"
#include "daemon/status_command.h"
#include "daemon/status_file.h"
#include "io/curl_transport.h"
#include "io/files.h"
#include "io/resident_pages.h"
#include "io/service_notifier.h"

namespace scepd {

namespace {

// Tells systemd the state; a failure is logged, never fatal.
void Notify(const ServiceNotifier& notifier, std::string_view state) {
  if (auto st = notifier.Notify(state); !st.ok()) spdlog::warn("{}", st.error().message);
}

// Sleeps at least this long (seconds) start with ReleasePages: the
// pages come back as faults at the next wake-up, a cost worth paying once
// per check interval, not once per poll of a PENDING request.
constexpr std::int64_t kReleasePagesAfter = 60;

Result<std::unique_ptr<Transport>> MakeCurlTransport(const CertificateSettings& settings) {
  // The legacy provider (single DES), loaded only once a CA that may need
  // it is actually contacted, so that a check that finds the certificate
  // valid does not pay for it.
  if (NeedsLegacyAlgorithms(settings)) (void)ossl::EnableLegacyAlgorithms();
  TransportOptions options;
  options.total_timeout_s = settings.http_timeout;
  options.connect_timeout_s = std::min(30, settings.http_timeout);
  options.ca_bundle = settings.tls_ca_file;
  options.proxy = settings.proxy;  // every protocol's requests go through it
  options.proxy_credentials = settings.proxy_credentials;
  auto created = CurlTransport::Create(options);
  Wipe(options.proxy_credentials);
  SCEPD_TRY(auto t, std::move(created));
  return std::unique_ptr<Transport>(std::move(t));
}

int WorstExit(int a, int b) { return std::max(a, b); }

// SIGTERM and SIGINT are not left to the signalfd: while a step blocks (a
// hung script, a slow disk, a file that would block) a blocked signal waits
// for ever. Their handler wakes the loop through a pipe and arms an alarm;
// if the daemon has not stopped kStopGraceSeconds later, SIGALRM ends it.
// Every write it was in is crash-safe (docs/daemon.md).
constexpr unsigned kStopGraceSeconds = 10;
int g_stop_pipe[2] = {-1, -1};

extern "C" void OnStopSignal(int sig) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  (void)!::write(g_stop_pipe[1], &byte, 1);
  ::alarm(kStopGraceSeconds);
  errno = saved;
}

extern "C" void OnStopTimeout(int) {
  static const char kMessage[] = "scepd: still busy 10 s after the stop signal; exiting now\n";
  (void)!::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  ::_exit(kDaemonExitFailed);
}

bool InstallStopHandlers() {
  if (::pipe2(g_stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR
  struct sigaction alarm_sa {};
  alarm_sa.sa_handler = OnStopTimeout;
  sigemptyset(&alarm_sa.sa_mask);
  return ::sigaction(SIGTERM, &sa, nullptr) == 0 && ::sigaction(SIGINT, &sa, nullptr) == 0 &&
         ::sigaction(SIGALRM, &alarm_sa, nullptr) == 0;
}

}  // namespace

Daemon::Daemon(DaemonOptions options, const Clock& clock, RandomSource& random, HookRunner& hooks)
    : options_(std::move(options)), clock_(clock), random_(random), hooks_(hooks) {}

Daemon::~Daemon() { WipeSecrets(&config_); }

Status Daemon::Load() {
  SCEPD_TRY(Config c, LoadConfig(options_.config_path, SerialSources{}));
  Adopt(std::move(c));
  return {};
}

void Daemon::Adopt(Config config) {
  WipeSecrets(&config_);
  config_ = std::move(config);
  MakeJobs();
  // Each job now holds the secrets its enrollments need: one copy in the
  // process, not two (docs/daemon.md, "Trusting nothing").
  WipeSecrets(&config_);
}

void Daemon::MakeJobs() {
  jobs_.clear();
  wake_.clear();
  publisher_ = std::make_shared<StatusPublisher>(config_.daemon);
  for (const auto& cert : config_.certificates) {
    JobDeps deps;
    deps.clock = &clock_;
    deps.random = &random_;
    deps.hooks = &hooks_;
    deps.make_transport = MakeCurlTransport;
    deps.prepare_key = [this](const std::string& data_dir, int bits) {
      (void)key_preparer_.Start(data_dir, bits);
    };
    deps.hook_path_dir = options_.hook_path_dir;
    deps.build_time = options_.build_time;
    deps.publish_status = [publisher = publisher_, data_dir = cert.data_dir](
                              const StatusReport& report) { publisher->Publish(report, data_dir); };
    jobs_.push_back(std::make_unique<CertificateJob>(cert, config_.daemon, std::move(deps)));
    wake_.push_back(0);
  }
}

void Daemon::PublishDisabled() {
  for (const auto& c : ReportedCertificates(config_)) {
    publisher_->Publish(StatusFromFiles(config_, c), c.data_dir);
  }
}

void Daemon::RemoveStaleTemps() {
  if (auto st = RemoveStaleStatusTemps(config_.daemon.run_dir); !st.ok()) {
    spdlog::warn("{}", st.error().message);
  }
}

namespace {
// Whether `cert`'s data_dir ends a --once run with a certificate a script
// can use: an installed pair whose key matches and that has not expired
// (by the clock, or the build time when the clock is behind it). A clock
// that cannot be trusted decides nothing else here.
bool HasUsablePair(const CertificateSettings& cert, std::int64_t now, std::int64_t build_time,
                   std::string* why) {
  CertStore store(cert.data_dir);
  auto active = store.LoadActiveCertificate();
  if (!active.ok()) {
    *why = active.error().message;
    return false;
  }
  if (!active->has_value()) {
    *why = "no certificate is installed";
    return false;
  }
  const auto& summary = **active;
  const std::int64_t at = std::max(now, build_time);
  if (summary.not_after && *summary.not_after <= at) {
    *why = "the installed certificate has expired";
    return false;
  }
  if (summary.not_before && *summary.not_before > now + kNotBeforeSkew) {
    *why = "the installed certificate is not valid yet (from " + FormatUtc(*summary.not_before) +
           ")";
    return false;
  }
  return true;
}
}  // namespace

int Daemon::RunOnce() {
  // One writer per data_dir: the daemon's lock, or nothing at all.
  if (auto st = LockPidFile(false); !st.ok()) {
    if (st.error().code == ErrorCode::kUnsupported) {
      spdlog::error("{}; --once did nothing: the running scepd renews on its own (SIGUSR1 makes it "
                    "check now, as check-cert.sh does)",
                    st.error().message);
      return kDaemonExitRunning;
    }
    spdlog::error("{}", st.error().message);
    return kDaemonExitFailed;
  }
  spdlog::info("--once: holding the lock {}/scepd.pid (no daemon is running)",
               config_.daemon.run_dir);
  const int exit_code = RunOnceLocked();
  UnlockPidFile();
  return exit_code;
}

int Daemon::RunOnceLocked() {
  RemoveStaleTemps();
  if (!config_.daemon.enabled) {
    spdlog::info("automation disabled (enabled = no): nothing to do");
    PublishDisabled();
    return kDaemonExitOk;
  }
  int exit_code = kDaemonExitOk;
  // The process waits for a next key before exiting: no SCHED_IDLE for it.
  key_preparer_.set_low_priority(false);
  for (auto& job : jobs_) {
    // Bounded: a PENDING answer is polled until max_await_result, then the
    // job itself gives up.
    while (true) {
      std::int64_t next = job->Step();
      JobOutcome o = job->outcome();
      if (o == JobOutcome::kValid || o == JobOutcome::kEnrolled || o == JobOutcome::kStaged) break;
      if (o == JobOutcome::kHandoffFailed) {
        exit_code = WorstExit(exit_code, kDaemonExitHandoff);
        break;
      }
      if (o == JobOutcome::kFailed || o == JobOutcome::kNone) {
        exit_code = WorstExit(exit_code, kDaemonExitFailed);
        break;
      }
      std::int64_t wait = std::max<std::int64_t>(0, next - clock_.Now());
      std::this_thread::sleep_for(std::chrono::seconds(wait));
    }
  }
  // A next key being made ahead of time is finished, not abandoned; the
  // verdict above was already reported.
  key_preparer_.Wait();
  // Exit 0 says "a certificate is there": check that it is, whatever the
  // job concluded (a clock in 1970 ends a job without enrolling).
  for (const auto& cert : config_.certificates) {
    std::string why;
    if (exit_code == kDaemonExitOk &&
        !HasUsablePair(cert, clock_.Now(), options_.build_time, &why)) {
      spdlog::error("{}: --once ends without a usable certificate: {}",
                    cert.name.empty() ? "certificate" : cert.name, why);
      exit_code = kDaemonExitFailed;
    }
  }
  return exit_code;
}

Status Daemon::LockPidFile(bool write_pid) {
  SCEPD_TRY_STATUS(PrepareRunDir(config_.daemon));
  const std::string path = config_.daemon.run_dir + "/scepd.pid";
  // Never through a link (O_NOFOLLOW: the target would be truncated and
  // overwritten), never a FIFO or device (O_NONBLOCK, then fstat).
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd < 0) {
    if (errno == ELOOP) {
      return MakeError(ErrorCode::kIo, "pid file " + path + " is a symbolic link; refused");
    }
    return MakeError(ErrorCode::kIo, "cannot open pid file " + path + ": " + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return MakeError(ErrorCode::kIo, "pid file " + path + " is not a regular file; refused");
  }
  // Readable by the status readers whatever the umask (scepd runs with 077).
  (void)::fchmod(fd, 0644);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    std::string other = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
    other.erase(other.find_last_not_of("\n") + 1);
    return MakeError(ErrorCode::kUnsupported, "scepd is already running (pid " + other + ", " + path + ")");
  }
  pid_fd_ = fd;
  pid_file_ours_ = st.st_size == 0;  // created by us (or left empty by a --once that died)
  if (!write_pid) return {};
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    UnlockPidFile();
    return MakeError(ErrorCode::kIo, "cannot write pid file " + path + ": " + std::strerror(errno));
  }
  pid_file_ours_ = true;
  return {};
}

void Daemon::UnlockPidFile() {
  if (pid_fd_ < 0) return;
  // Removed while still locked: a process that opens it meanwhile waits for
  // nothing (LOCK_NB) and a new one creates a fresh file.
  if (pid_file_ours_) ::unlink((config_.daemon.run_dir + "/scepd.pid").c_str());
  ::close(pid_fd_);
  pid_fd_ = -1;
  pid_file_ours_ = false;
}

int Daemon::Run(int ready_fd) {
  if (auto st = LockPidFile(true); !st.ok()) {
    spdlog::error("{}", st.error().message);
    return st.error().code == ErrorCode::kUnsupported ? kDaemonExitRunning : kDaemonExitFailed;
  }
  RemoveStaleTemps();
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC);
  int tfd = ::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
  if (sfd < 0 || tfd < 0 || !InstallStopHandlers()) {
    spdlog::critical("cannot set up signals/timer: {}", std::strerror(errno));
    return kDaemonExitFailed;
  }
  if (ready_fd >= 0) {
    char ok = 1;
    (void)!::write(ready_fd, &ok, 1);
    ::close(ready_fd);
  }
  spdlog::info("scepd {} started ({} certificate(s), automation {})", SCEPD_VERSION, jobs_.size(),
               config_.daemon.enabled ? "on" : "off");
  const ServiceNotifier notifier = ServiceNotifier::FromEnvironment();  // systemd Type=notify
  Notify(notifier, "READY=1");
  if (!config_.daemon.enabled) PublishDisabled();
  record_.pid = ::getpid();
  record_.started = clock_.Now();
  record_.config_path = options_.config_path;
  publisher_->PublishDaemon(record_);

  int exit_code = kDaemonExitOk;
  bool running = true;
  while (running) {
    // Run every job that is due; then sleep until the earliest wake time.
    std::int64_t earliest = INT64_MAX;
    key_preparer_.Reap();  // a next key made meanwhile (no wake-up of its own)
    if (config_.daemon.enabled) {
      for (std::size_t i = 0; i < jobs_.size(); ++i) {
        if (clock_.Now() >= wake_[i]) wake_[i] = jobs_[i]->Step();
        earliest = std::min(earliest, wake_[i]);
      }
    }
    // Hand the pages freed by the last step (parsed certificates, an
    // exchange's buffers) back to the system before sleeping.
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
    // Before a long sleep, the code pages the step touched too
    // (io/resident_pages.h), released just before poll below.
    CleanFilePages clean;
    if (earliest - clock_.Now() >= kReleasePagesAfter) {
      clean = FindCleanFilePages();
      spdlog::debug("idle: releasing {} KiB of program and library pages ({} mappings)",
                    clean.resident_bytes / 1024, clean.ranges.size());
    }
    itimerspec its{};
    if (earliest != INT64_MAX) {
      its.it_value.tv_sec = static_cast<time_t>(std::min<std::int64_t>(
          std::max<std::int64_t>(earliest, 1), std::numeric_limits<time_t>::max()));
    }
    // CANCEL_ON_SET: a clock step (NTP after a boot in 1970) wakes us too.
    if (::timerfd_settime(tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, nullptr) != 0) {
      spdlog::warn("timerfd_settime: {}", std::strerror(errno));
    }
    pollfd fds[3] = {{sfd, POLLIN, 0}, {tfd, POLLIN, 0}, {g_stop_pipe[0], POLLIN, 0}};
    ReleasePages(clean);
    int n = ::poll(fds, 3, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::critical("poll: {}", std::strerror(errno));
      exit_code = kDaemonExitFailed;
      break;
    }
    if (fds[2].revents & POLLIN) {
      unsigned char sig = 0;
      (void)!::read(g_stop_pipe[0], &sig, 1);
      spdlog::info("stopping on signal {}", static_cast<int>(sig));
      Notify(notifier, "STOPPING=1");
      break;
    }
    if (fds[1].revents & POLLIN) {
      std::uint64_t expirations;
      if (::read(tfd, &expirations, sizeof(expirations)) < 0 && errno == ECANCELED) {
        spdlog::info("system clock changed: checking again");
        std::fill(wake_.begin(), wake_.end(), 0);
      }
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      while (::read(sfd, &si, sizeof(si)) == sizeof(si)) {
        switch (si.ssi_signo) {
          case SIGHUP: {
            spdlog::info("SIGHUP: reloading {}", options_.config_path);
            Notify(notifier, ReloadingState());
            auto reloaded = LoadConfig(options_.config_path, SerialSources{});
            ReloadRecord reload;
            reload.time = clock_.Now();
            reload.accepted = reloaded.ok();
            if (!reloaded.ok()) {
              spdlog::error("settings not reloaded, keeping the old ones:\n{}",
                            reloaded.error().message);
              reload.error = reloaded.error().message;
            } else {
              Adopt(std::move(*reloaded));
              if (!config_.daemon.enabled) PublishDisabled();
            }
            record_.last_reload = std::move(reload);
            publisher_->PublishDaemon(record_);
            Notify(notifier, "READY=1");
            break;
          }
          case SIGUSR1:
            spdlog::info("SIGUSR1: checking now");
            for (auto& job : jobs_) job->CheckNow();
            std::fill(wake_.begin(), wake_.end(), 0);
            break;
          case SIGUSR2:
            spdlog::info("SIGUSR2: renewing now");
            for (auto& job : jobs_) job->RenewNow();
            std::fill(wake_.begin(), wake_.end(), 0);
            break;
          default:
            break;
        }
        if (!running) break;
        // Non-blocking drain: stop when nothing more is queued.
        pollfd more{sfd, POLLIN, 0};
        if (::poll(&more, 1, 0) <= 0) break;
      }
    }
  }
  key_preparer_.Stop();
  ::close(sfd);
  ::close(tfd);
  UnlockPidFile();
  spdlog::info("scepd stopped");
  ::alarm(0);
  return exit_code;
}

}  // namespace scepd
