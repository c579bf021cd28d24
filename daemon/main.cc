// scepd: keeps a router's certificates valid over SCEP, unattended.
//
//   scepd [-c FILE] [--once] [--check-config] [-d]
//   scepd [-c FILE] status [--json]

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/license.h"
#include "core/scep/client.h"
#include "daemon/daemon.h"
#include "daemon/logging.h"
#include "daemon/status_command.h"
#include "io/core_dumps.h"
#include "io/openssl_memory.h"
#include "io/process_hook_runner.h"
#include "io/system_clock.h"

namespace {

constexpr char kUsage[] =
    "Usage: scepd [-c FILE] [--once] [--check-config] [-d]\n"
    "       scepd [-c FILE] status [--json]\n\n"
    "  -c, --config FILE  settings (default /etc/scepd.conf)\n"
    "      --once         check once (enroll if needed), exit 0 valid, 1 failed,\n"
    "                     2 installed but success_script failed\n"
    "      --check-config validate the settings and print them, secrets masked\n"
    "  -d, --daemon       detach after start-up and write the pid file\n"
    "  status [--json]    print the status lines (or JSON) and exit\n"
    "  -V, --version      print the version and the licence\n\n"
    "Signals: SIGHUP re-reads the settings, SIGUSR1 checks now, SIGUSR2 renews now,\n"
    "SIGTERM stops.\n"
    "Exit codes: 0 ok, 1 failed, 64 usage, 75 already running, 78 bad settings.\n"
    "Exit codes of status (the worst certificate decides):\n"
    "  0 every certificate valid and outside its renewal window\n"
    "  1 renewing (inside the renewal window or re-enrolling)\n"
    "  2 pending (the CA has not approved yet)   3 last attempt failed\n"
    "  4 not enrolled   5 daemon not running   6 automation disabled\n"
    "  7 status unreadable   78 settings invalid (the message names FILE:LINE)\n";

// Seconds since the epoch of the build date (__DATE__ "Nov 22 2026").
std::int64_t BuildTime() {
  static const char* kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const char* d = __DATE__;
  int month = static_cast<int>((std::strstr(kMonths, std::string(d, 3).c_str()) - kMonths) / 3) + 1;
  int day = std::atoi(d + 4);
  int year = std::atoi(d + 7);
  // Days from civil date (proleptic Gregorian).
  year -= month <= 2;
  const int era = (year >= 0 ? year : year - 399) / 400;
  const int yoe = year - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (static_cast<std::int64_t>(era) * 146097 + doe - 719468) * 86400;
}

// The directory of our own binary: scep_replace_pem is installed beside it.
std::string SelfDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<std::size_t>(n));
  return path.substr(0, path.rfind('/'));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace scepd;  // NOLINT(build/namespaces)
  // Before OpenSSL allocates anything (io/openssl_memory.h).
  const bool openssl_wipes = WipeOpenSslMemoryOnFree();
  std::string config_path(kDefaultConfigPath);
  bool once = false, check = false, detach = false;
  static const option kLong[] = {
      {"config", required_argument, nullptr, 'c'}, {"once", no_argument, nullptr, 'o'},
      {"check-config", no_argument, nullptr, 'k'}, {"daemon", no_argument, nullptr, 'd'},
      {"version", no_argument, nullptr, 'V'},      {"help", no_argument, nullptr, 'h'},
      {"json", no_argument, nullptr, 'j'},         {nullptr, 0, nullptr, 0}};
  bool json = false;
  int opt;
  while ((opt = getopt_long(argc, argv, "c:dVh", kLong, nullptr)) != -1) {
    switch (opt) {
      case 'c': config_path = optarg; break;
      case 'o': once = true; break;
      case 'k': check = true; break;
      case 'd': detach = true; break;
      case 'j': json = true; break;
      case 'V':
        std::printf("scepd %s\nLicense: %s\n", SCEPD_VERSION, kLicense);
        return kDaemonExitOk;
      case 'h': std::fputs(kUsage, stdout); return kDaemonExitOk;
      default: std::fputs(kUsage, stderr); return kDaemonExitUsage;
    }
  }
  if (optind < argc) {
    if (std::string(argv[optind]) == "status" && optind + 1 == argc) {
      return PrintStatus(config_path, json);
    }
    std::fprintf(stderr, "scepd: unexpected argument '%s'\n%s", argv[optind], kUsage);
    return kDaemonExitUsage;
  }

  // A closed log pipe or a reset TLS socket must not kill the daemon.
  ::signal(SIGPIPE, SIG_IGN);
  // Before the settings (the challenge) are read: no core file will hold a
  // key or the challenge (docs/daemon.md, "Trusting nothing").
  if (auto st = DisableCoreDumps(); !st.ok()) {
    std::fprintf(stderr, "scepd: warning: %s\n", st.error().message.c_str());
  }
  if (!openssl_wipes) std::fputs("scepd: warning: OpenSSL memory is not wiped on free\n", stderr);
  // -d changes to /: keep the settings path valid for SIGHUP reloads.
  if (char* real = ::realpath(config_path.c_str(), nullptr)) {
    config_path = real;
    std::free(real);
  }
  if (check) {
    // The settings as read, masked: the Daemon keeps none of the secrets,
    // so it could not say which ones are given inline.
    auto loaded = LoadConfig(config_path, SerialSources{});
    if (!loaded.ok()) {
      std::fprintf(stderr, "scepd: invalid settings:\n%s\n", loaded.error().message.c_str());
      return kDaemonExitConfig;
    }
    std::fputs(FormatEffectiveConfig(*loaded).c_str(), stdout);
    WipeSecrets(&*loaded);
    return kDaemonExitOk;
  }
  SystemClock clock;
  SystemRandom random;
  ProcessHookRunner hooks;
  DaemonOptions options;
  options.config_path = config_path;
  options.hook_path_dir = SelfDir();
  options.build_time = BuildTime();
  Daemon daemon(options, clock, random, hooks);
  if (auto st = daemon.Load(); !st.ok()) {
    std::fprintf(stderr, "scepd: invalid settings:\n%s\n", st.error().message.c_str());
    return kDaemonExitConfig;
  }
  ::umask(077);
  // --once reports on stderr; a detached daemon has no stderr: syslog.
  LogTarget target = daemon.config().daemon.log_target;
  if (once) target = LogTarget::kStderr;
  if (detach) target = LogTarget::kSyslog;
  SetUpLogging(daemon.config().daemon.log_level, target);
  if (once) return daemon.RunOnce();

  int ready_fd = -1;
  if (detach) {
    int fds[2];
    if (::pipe(fds) != 0) return kDaemonExitFailed;
    pid_t pid = ::fork();
    if (pid < 0) return kDaemonExitFailed;
    if (pid > 0) {
      // The parent returns once the child is ready, with its verdict.
      ::close(fds[1]);
      char ok = 0;
      ssize_t n = ::read(fds[0], &ok, 1);
      return n == 1 && ok == 1 ? kDaemonExitOk : kDaemonExitFailed;
    }
    ::close(fds[0]);
    ::setsid();
    if (::chdir("/") != 0) return kDaemonExitFailed;
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDIN_FILENO);
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
      if (null_fd > STDERR_FILENO) ::close(null_fd);
    }
    ready_fd = fds[1];
  }
  return daemon.Run(ready_fd);
}
