#include "io/process_hook_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace scepd {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kWaitpidTick{50};

// Owns one descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Error SysError(const std::string& what, int err) {
  return MakeError(ErrorCode::kIo, "cannot run hook: " + what + ": " + std::strerror(err));
}

// The child's descriptors 0..3 are filled by dup2 from these, so none of them
// may itself be 0..3 (which happens when the daemon runs with a closed stdin).
Status MoveAboveLowFds(UniqueFd& fd) {
  if (fd.get() > 3) return {};
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 4);
  if (moved < 0) return SysError("fcntl", errno);
  fd = UniqueFd(moved);
  return {};
}

// Collects interleaved output into bounded lines.
class OutputCollector {
 public:
  void Append(const char* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      const char c = data[i];
      if (c == '\n') {
        EndLine();
        continue;
      }
      in_line_ = true;
      if (lines_.size() < kHookMaxLines && current_.size() < kHookMaxLineBytes) {
        current_.push_back(c);
      }
    }
  }

  std::vector<std::string> Finish() {
    if (in_line_) EndLine();
    if (dropped_ > 0) {
      lines_.push_back("... " + std::to_string(dropped_) + " more line" +
                       (dropped_ == 1 ? "" : "s"));
    }
    return std::move(lines_);
  }

 private:
  void EndLine() {
    if (lines_.size() < kHookMaxLines) {
      if (!current_.empty() && current_.back() == '\r') current_.pop_back();
      lines_.push_back(std::move(current_));
    } else {
      ++dropped_;
    }
    current_.clear();
    in_line_ = false;
  }

  std::vector<std::string> lines_;
  std::string current_;
  bool in_line_ = false;
  std::size_t dropped_ = 0;
};

Status CheckEnvironment(const std::string& script,
                        const std::vector<std::pair<std::string, std::string>>& env) {
  if (script.find('\0') != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "hook script contains a NUL byte");
  }
  for (const auto& [name, value] : env) {
    if (name.empty() || name.find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "hook environment: invalid variable name '" + name + "'");
    }
    if (value.find('\0') != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "hook environment: the value of " + name + " contains a NUL byte");
    }
  }
  return {};
}

// Everything the child needs, prepared before fork so that the child only
// makes async-signal-safe calls.
struct ChildSetup {
  int stdin_fd;
  int output_fd;
  int exec_error_fd;
  int max_fd;  // close-loop bound when close_range is unavailable
  char* const* argv;
  char* const* envp;
  const sigset_t* empty_mask;
};

[[noreturn]] void RunChild(const ChildSetup& s) noexcept {
  // Own process group, so a timeout can signal the script and its children.
  ::setpgid(0, 0);
  // Defaults first: handlers of the daemon must not run here, ignored
  // signals (SIGPIPE) must not stay ignored in the script.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    ::sigaction(sig, &sa, nullptr);
  }
  int err = 0;
  int report_fd = s.exec_error_fd;
  if (::dup2(s.stdin_fd, 0) < 0 || ::dup2(s.output_fd, 1) < 0 || ::dup2(s.output_fd, 2) < 0 ||
      ::dup2(s.exec_error_fd, 3) < 0 || ::fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
    err = errno;
  }
  // The daemon's working directory is an accident of how it was started.
  if (err == 0 && ::chdir("/") != 0) err = errno;
  if (err == 0) {
    bool closed = false;
#ifdef SYS_close_range
    closed = ::syscall(SYS_close_range, 4u, ~0u, 0u) == 0;
#endif
    if (!closed) {
      for (int fd = 4; fd < s.max_fd; ++fd) ::close(fd);
    }
    ::sigprocmask(SIG_SETMASK, s.empty_mask, nullptr);
    ::execve("/bin/sh", s.argv, s.envp);
    err = errno;
    report_fd = 3;  // the original descriptor is closed by now
  }
  // Tell the parent why execve did not happen.
  ssize_t ignored = ::write(report_fd, &err, sizeof(err));
  (void)ignored;
  ::_exit(127);
}

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

int MillisUntil(Clock::time_point t, Clock::time_point now) {
  if (t <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, 1 << 30));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> HookEnvironment(
    const std::map<std::string, std::string>& scep_vars, const std::string& extra_path_dir) {
  std::string path = "/usr/sbin:/usr/bin:/sbin:/bin";
  if (!extra_path_dir.empty() && extra_path_dir.find('\0') == std::string::npos) {
    path = extra_path_dir + ":" + path;
  }
  std::vector<std::pair<std::string, std::string>> env = {
      {"PATH", path}, {"HOME", "/"}, {"LANG", "C"}};
  for (const auto& [name, value] : scep_vars) {
    const bool name_ok =
        name.size() > 5 && name.compare(0, 5, "SCEP_") == 0 &&
        std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        });
    if (!name_ok || value.find('\0') != std::string::npos) continue;
    env.emplace_back(name, value);
  }
  return env;
}

Result<HookResult> ProcessHookRunner::Run(
    const std::string& script, const std::vector<std::pair<std::string, std::string>>& env,
    int timeout_seconds) {
  SCEPD_TRY_STATUS(CheckEnvironment(script, env));

  // argv and envp, built before fork.
  std::string arg0 = "sh", arg1 = "-c", arg2 = script;
  std::vector<char*> argv = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  UniqueFd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null.valid()) return SysError("open /dev/null", errno);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return SysError("pipe", errno);
  UniqueFd out_read(fds[0]), out_write(fds[1]);
  if (::pipe2(fds, O_CLOEXEC) != 0) return SysError("pipe", errno);
  UniqueFd err_read(fds[0]), err_write(fds[1]);
  SCEPD_TRY_STATUS(MoveAboveLowFds(dev_null));
  SCEPD_TRY_STATUS(MoveAboveLowFds(out_write));
  SCEPD_TRY_STATUS(MoveAboveLowFds(err_write));
  // Only our end is non-blocking; the script's stdout stays blocking.
  const int flags = ::fcntl(out_read.get(), F_GETFL);
  if (flags < 0 || ::fcntl(out_read.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    return SysError("fcntl", errno);
  }

  rlimit nofile{};
  int max_fd = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    max_fd = static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, 1 << 20));
  }
  sigset_t empty_mask, all_signals, saved_mask;
  sigemptyset(&empty_mask);
  sigfillset(&all_signals);
  const ChildSetup setup{dev_null.get(), out_write.get(), err_write.get(), max_fd,
                         argv.data(),    envp.data(),     &empty_mask};

  // All signals blocked across fork: the child must not run the daemon's
  // handlers before it has reset them.
  ::pthread_sigmask(SIG_SETMASK, &all_signals, &saved_mask);
  const pid_t pid = ::fork();
  if (pid == 0) RunChild(setup);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
  if (pid < 0) return SysError("fork", fork_errno);
  // Also from the parent, so the group exists before we might signal it.
  ::setpgid(pid, pid);
  dev_null.reset();
  out_write.reset();
  err_write.reset();

  auto reap = [pid]() {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return -1;
    }
    return status;
  };

  // Did execve work? The pipe closes on exec (EOF) or carries errno.
  int exec_errno = 0;
  std::size_t got = 0;
  while (got < sizeof(exec_errno)) {
    const ssize_t n =
        ::read(err_read.get(), reinterpret_cast<char*>(&exec_errno) + got, sizeof(exec_errno) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  err_read.reset();
  if (got == sizeof(exec_errno)) {
    reap();
    return SysError("/bin/sh", exec_errno);
  }

  UniqueFd pid_fd;
#ifdef SYS_pidfd_open
  if (options_.use_pidfd) {
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
      pid_fd = UniqueFd(static_cast<int>(fd));
      ::fcntl(pid_fd.get(), F_SETFD, FD_CLOEXEC);
    }
  }
#endif

  const auto timeout = std::chrono::seconds(std::max(timeout_seconds, 1));
  const auto deadline = Clock::now() + timeout;
  OutputCollector collector;
  HookResult result;
  bool exited = false;
  Clock::time_point kill_at, drain_until;
  char buf[4096];

  while (true) {
    auto now = Clock::now();
    if (!result.timed_out && !exited && now >= deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGTERM);
      kill_at = now + options_.kill_grace;
    }
    if (result.timed_out) {
      if (now >= kill_at || (exited && !out_read.valid())) break;
    } else if (exited && (!out_read.valid() || now >= drain_until)) {
      break;
    }

    const Clock::time_point wake = result.timed_out ? kill_at : exited ? drain_until : deadline;
    int wait_ms = MillisUntil(wake, now);
    if (!exited && !pid_fd.valid()) {
      wait_ms = std::min<int>(wait_ms, static_cast<int>(kWaitpidTick.count()));
    }
    pollfd pfds[2];
    nfds_t count = 0;
    int out_index = -1;
    if (out_read.valid()) {
      out_index = static_cast<int>(count);
      pfds[count++] = pollfd{out_read.get(), POLLIN, 0};
    }
    if (!exited && pid_fd.valid()) pfds[count++] = pollfd{pid_fd.get(), POLLIN, 0};
    const int ready = ::poll(pfds, count, wait_ms);
    if (ready < 0 && errno != EINTR) {
      const int err = errno;
      ::kill(-pid, SIGKILL);
      reap();
      return SysError("poll", err);
    }

    if (out_index >= 0 && ready > 0 && pfds[out_index].revents != 0) {
      // A bounded number of reads per wake-up keeps the deadline honest
      // against a script that writes without pause.
      for (int i = 0; i < 64; ++i) {
        const ssize_t n = ::read(out_read.get(), buf, sizeof(buf));
        if (n > 0) {
          collector.Append(buf, static_cast<std::size_t>(n));
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) out_read.reset();
        break;
      }
    }

    if (!exited) {
      // Detect the exit without reaping: while the leader is an unreaped
      // zombie its pid, which names the process group, cannot be reused, so
      // kill(-pid) can only ever reach the script's own processes.
      siginfo_t info;
      std::memset(&info, 0, sizeof(info));
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid) {
        exited = true;
        drain_until = Clock::now() + options_.drain_after_exit;
      }
    }
  }

  // Whatever is left of a timed-out script's group goes now.
  if (result.timed_out) ::kill(-pid, SIGKILL);
  const int status = reap();
  result.exit_code = status < 0 ? -1 : ExitCode(status);
  result.output = collector.Finish();
  return result;
}

}  // namespace scepd
