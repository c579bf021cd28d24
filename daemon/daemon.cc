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
#include "daemon/cert_store.h"
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
  // CAs may answer in single DES (micromdm does): the legacy provider, loaded
  // only once a CA is actually contacted, so that a check that finds the
  // certificate valid does not pay for it.
  (void)ossl::EnableLegacyAlgorithms();
  TransportOptions options;
  options.total_timeout_s = settings.http_timeout;
  options.connect_timeout_s = std::min(30, settings.http_timeout);
  options.ca_bundle = settings.tls_ca_file;
  SCEPD_TRY(auto t, CurlTransport::Create(options));
  return std::unique_ptr<Transport>(std::move(t));
}

Status MakeRunDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return MakeError(ErrorCode::kIo, "cannot create run_dir " + dir + ": " + std::strerror(errno));
  }
  return {};
}

int WorstExit(int a, int b) { return std::max(a, b); }

// The certificates to report on: those configured, else the unnamed one in
// the global data_dir (automation off, no [certificate] section yet).
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

// The status as far as the settings and the files tell, without a running
// job: disabled or not running, enrolled with the active serial or not.
StatusReport DerivedStatus(const Config& c, const CertificateSettings& cert) {
  StatusReport r;
  r.name = cert.name;
  r.module = c.daemon.enabled ? ModuleState::kNotRunning : ModuleState::kDisabled;
  r.state = c.daemon.enabled ? "stopped" : "disabled";
  CertStore store(cert.data_dir);
  auto active = store.LoadActive();
  if (active.ok() && active->has_value()) {
    r.cert = CertState::kEnrolled;
    r.serial = (*active)->serial;
  }
  return r;
}

}  // namespace

Daemon::Daemon(DaemonOptions options, const Clock& clock, RandomSource& random, HookRunner& hooks)
    : options_(std::move(options)), clock_(clock), random_(random), hooks_(hooks) {}

Daemon::~Daemon() { WipeSecrets(&config_); }

Status Daemon::Load() {
  SCEPD_TRY(Config c, LoadConfig(options_.config_path, SerialSources{}));
  WipeSecrets(&config_);
  config_ = std::move(c);
  MakeJobs();
  return {};
}

void Daemon::MakeJobs() {
  jobs_.clear();
  wake_.clear();
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
    const std::string run_dir = config_.daemon.run_dir;
    deps.publish_status = [run_dir](const StatusReport& report) {
      if (auto st = MakeRunDir(run_dir); !st.ok()) {
        spdlog::warn("{}", st.error().message);
        return;
      }
      if (auto st = WriteStatus(run_dir, report); !st.ok()) {
        spdlog::warn("status not written: {}", st.error().message);
      }
    };
    jobs_.push_back(std::make_unique<CertificateJob>(cert, config_.daemon, std::move(deps)));
    wake_.push_back(0);
  }
}

void Daemon::PublishDisabled() {
  if (auto st = MakeRunDir(config_.daemon.run_dir); !st.ok()) return;
  for (const auto& c : ReportedCertificates(config_)) {
    (void)WriteStatus(config_.daemon.run_dir, DerivedStatus(config_, c));
  }
}

void Daemon::RemoveStaleTemps() {
  if (auto st = RemoveStaleStatusTemps(config_.daemon.run_dir); !st.ok()) {
    spdlog::warn("{}", st.error().message);
  }
}

int Daemon::RunOnce() {
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
      if (o == JobOutcome::kValid || o == JobOutcome::kEnrolled) break;
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
  return exit_code;
}

Status Daemon::LockPidFile() {
  SCEPD_TRY_STATUS(MakeRunDir(config_.daemon.run_dir));
  const std::string path = config_.daemon.run_dir + "/scepd.pid";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return MakeError(ErrorCode::kIo, "cannot open pid file " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    std::string other = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
    other.erase(other.find_last_not_of("\n") + 1);
    return MakeError(ErrorCode::kUnsupported, "scepd is already running (pid " + other + ", " + path + ")");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    ::close(fd);
    return MakeError(ErrorCode::kIo, "cannot write pid file " + path + ": " + std::strerror(errno));
  }
  pid_fd_ = fd;
  return {};
}

int Daemon::Run(int ready_fd) {
  if (auto st = LockPidFile(); !st.ok()) {
    spdlog::error("{}", st.error().message);
    return kDaemonExitRunning;
  }
  RemoveStaleTemps();
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGHUP, SIGUSR1, SIGTERM, SIGINT}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC);
  int tfd = ::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
  if (sfd < 0 || tfd < 0) {
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

  const std::string pid_path = config_.daemon.run_dir + "/scepd.pid";
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
    pollfd fds[2] = {{sfd, POLLIN, 0}, {tfd, POLLIN, 0}};
    ReleasePages(clean);
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::critical("poll: {}", std::strerror(errno));
      exit_code = kDaemonExitFailed;
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
          case SIGTERM:
          case SIGINT:
            spdlog::info("stopping on signal {}", si.ssi_signo);
            Notify(notifier, "STOPPING=1");
            running = false;
            break;
          case SIGHUP: {
            spdlog::info("SIGHUP: reloading {}", options_.config_path);
            Notify(notifier, ReloadingState());
            auto reloaded = LoadConfig(options_.config_path, SerialSources{});
            if (!reloaded.ok()) {
              spdlog::error("settings not reloaded, keeping the old ones:\n{}",
                            reloaded.error().message);
            } else {
              WipeSecrets(&config_);
              config_ = std::move(*reloaded);
              MakeJobs();
              if (!config_.daemon.enabled) PublishDisabled();
            }
            Notify(notifier, "READY=1");
            break;
          }
          case SIGUSR1:
            spdlog::info("SIGUSR1: checking now");
            for (auto& job : jobs_) job->CheckNow();
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
  ::unlink(pid_path.c_str());
  ::close(pid_fd_);
  spdlog::info("scepd stopped");
  return exit_code;
}

int PrintStatus(const std::string& config_path, bool json) {
  auto config = LoadConfig(config_path, SerialSources{});
  Config c;
  if (config.ok()) {
    c = std::move(*config);
  } else {
    std::fprintf(stderr, "scepd: settings invalid, using defaults for status:\n%s\n",
                 config.error().message.c_str());
  }
  for (const auto& cert : ReportedCertificates(c)) {
    std::string base = c.daemon.run_dir + "/status" + (cert.name.empty() ? "" : "-" + cert.name);
    auto text = ReadFileText(json ? base + ".json" : base, 1 << 20);
    if (text.ok()) {
      std::fputs(text->c_str(), stdout);
      if (!text->empty() && text->back() != '\n') std::fputs("\n", stdout);
      continue;
    }
    // No status written yet: derive it from the settings and the files.
    StatusReport r = DerivedStatus(c, cert);
    std::fputs((json ? FormatStatusJson(r) + "\n" : FormatStatusLines(r)).c_str(), stdout);
  }
  WipeSecrets(&c);
  return kDaemonExitOk;
}

}  // namespace scepd
