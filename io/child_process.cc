#include "io/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "io/unique_fd.h"

extern char** environ;

namespace scepd {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kWaitidTick{50};

Error SysError(const std::string& what, int err) {
  return MakeError(ErrorCode::kIo, what + ": " + std::strerror(err));
}

// The child's descriptors 0..3 are filled by dup2 from these, so none of them
// may itself be 0..3 (which happens when the caller runs with a closed stdin).
Status MoveAboveLowFds(UniqueFd& fd) {
  if (!fd.valid() || fd.get() > 3) return {};
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 4);
  if (moved < 0) return SysError("fcntl", errno);
  fd.reset(moved);
  return {};
}

Status OpenPipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return SysError("pipe", errno);
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  // Only our end is non-blocking; the child's stays blocking.
  const int flags = ::fcntl(read_end.get(), F_GETFL);
  if (flags < 0 || ::fcntl(read_end.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    return SysError("fcntl", errno);
  }
  return MoveAboveLowFds(write_end);
}

Status CheckNoNul(const ChildCommand& command) {
  auto has_nul = [](const std::string& s) { return s.find('\0') != std::string::npos; };
  if (has_nul(command.program) || std::any_of(command.argv.begin(), command.argv.end(), has_nul)) {
    return MakeError(ErrorCode::kInvalidArgument, "a program argument contains a NUL byte");
  }
  if (command.environment &&
      std::any_of(command.environment->begin(), command.environment->end(), has_nul)) {
    return MakeError(ErrorCode::kInvalidArgument, "an environment entry contains a NUL byte");
  }
  return {};
}

// Everything the child needs, prepared before fork so that the child only
// makes async-signal-safe calls.
struct ChildSetup {
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  int exec_error_fd;
  int max_fd;  // close-loop bound when close_range is unavailable
  bool chdir_root;
  const char* program;
  char* const* argv;
  char* const* envp;
  const sigset_t* empty_mask;
};

[[noreturn]] void RunInChild(const ChildSetup& s) noexcept {
  // Own process group, so a timeout can signal the program and its children.
  ::setpgid(0, 0);
  // Defaults first: the caller's handlers must not run here, ignored
  // signals (SIGPIPE) must not stay ignored in the program.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    ::sigaction(sig, &sa, nullptr);
  }
  int err = 0;
  int report_fd = s.exec_error_fd;
  if (::dup2(s.stdin_fd, 0) < 0 || ::dup2(s.stdout_fd, 1) < 0 || ::dup2(s.stderr_fd, 2) < 0 ||
      ::dup2(s.exec_error_fd, 3) < 0 || ::fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
    err = errno;
  }
  // The caller's working directory is an accident of how it was started.
  if (err == 0 && s.chdir_root && ::chdir("/") != 0) err = errno;
  if (err == 0) {
    bool closed = false;
#ifdef SYS_close_range
    closed = ::syscall(SYS_close_range, 4u, ~0u, 0u) == 0;
#endif
    if (!closed) {
      for (int fd = 4; fd < s.max_fd; ++fd) ::close(fd);
    }
    ::sigprocmask(SIG_SETMASK, s.empty_mask, nullptr);
    ::execve(s.program, s.argv, s.envp);
    err = errno;
    report_fd = 3;  // the original descriptor is closed by now
  }
  // Tell the parent why execve did not happen.
  ssize_t ignored = ::write(report_fd, &err, sizeof(err));
  (void)ignored;
  ::_exit(127);
}

int MillisUntil(Clock::time_point t, Clock::time_point now) {
  if (t <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, 1 << 30));
}

std::optional<int> Reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return std::nullopt;
  }
  return status;
}

// One output pipe of the child, read until EOF.
struct OutputPipe {
  UniqueFd fd;
  ChildStream stream;
};

// Reads what `pipe` has, a bounded number of times per wake-up so that the
// deadline stays honest against a child that writes without pause; closes
// the pipe at EOF or on a read error.
void Drain(OutputPipe& pipe, const ChildOutputSink& on_output) {
  std::array<char, 4096> buf;
  for (int i = 0; i < 64; ++i) {
    const ssize_t n = ::read(pipe.fd.get(), buf.data(), buf.size());
    if (n > 0) {
      on_output(pipe.stream, std::string_view(buf.data(), static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) pipe.fd.reset();
    break;
  }
}

}  // namespace

int ShellExitCode(int wait_status) noexcept {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

Result<ChildExit> RunChild(const ChildCommand& command, const ChildLimits& limits,
                           const ChildOutputSink& on_output) {
  SCEPD_TRY_STATUS(CheckNoNul(command));
  if (command.argv.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "no argv[0] for " + command.program);
  }

  // argv and envp, built before fork.
  std::vector<std::string> arg_strings = command.argv;
  std::vector<char*> argv;
  argv.reserve(arg_strings.size() + 1);
  for (auto& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  if (command.environment) {
    env_strings = *command.environment;
    envp.reserve(env_strings.size() + 1);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
  }

  UniqueFd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null.valid()) return SysError("open /dev/null", errno);
  SCEPD_TRY_STATUS(MoveAboveLowFds(dev_null));
  std::array<OutputPipe, 2> pipes = {OutputPipe{UniqueFd(), ChildStream::kStdout},
                                     OutputPipe{UniqueFd(), ChildStream::kStderr}};
  UniqueFd out_write, err_write, exec_read, exec_write;
  SCEPD_TRY_STATUS(OpenPipe(pipes[0].fd, out_write));
  if (!command.merge_stderr) SCEPD_TRY_STATUS(OpenPipe(pipes[1].fd, err_write));
  {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return SysError("pipe", errno);
    exec_read.reset(fds[0]);
    exec_write.reset(fds[1]);
    SCEPD_TRY_STATUS(MoveAboveLowFds(exec_write));
  }

  rlimit nofile{};
  int max_fd = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    max_fd = static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, 1 << 20));
  }
  sigset_t empty_mask, all_signals, saved_mask;
  sigemptyset(&empty_mask);
  sigfillset(&all_signals);
  const ChildSetup setup{dev_null.get(),
                         out_write.get(),
                         command.merge_stderr ? out_write.get() : err_write.get(),
                         exec_write.get(),
                         max_fd,
                         command.chdir_root,
                         command.program.c_str(),
                         argv.data(),
                         command.environment ? envp.data() : environ,
                         &empty_mask};

  // All signals blocked across fork: the child must not run the caller's
  // handlers before it has reset them.
  ::pthread_sigmask(SIG_SETMASK, &all_signals, &saved_mask);
  const pid_t pid = ::fork();
  if (pid == 0) RunInChild(setup);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
  if (pid < 0) return SysError("fork", fork_errno);
  // Also from the parent, so the group exists before we might signal it.
  ::setpgid(pid, pid);
  dev_null.reset();
  out_write.reset();
  err_write.reset();
  exec_write.reset();

  // Did execve work? The pipe closes on exec (EOF) or carries errno.
  int exec_errno = 0;
  std::size_t got = 0;
  while (got < sizeof(exec_errno)) {
    const ssize_t n = ::read(exec_read.get(), reinterpret_cast<char*>(&exec_errno) + got,
                             sizeof(exec_errno) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  exec_read.reset();
  if (got == sizeof(exec_errno)) {
    Reap(pid);
    return SysError(command.program, exec_errno);
  }

  UniqueFd pid_fd;
#ifdef SYS_pidfd_open
  if (limits.use_pidfd) {
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
      pid_fd.reset(static_cast<int>(fd));
      ::fcntl(pid_fd.get(), F_SETFD, FD_CLOEXEC);
    }
  }
#endif

  const auto deadline = Clock::now() + limits.timeout;
  ChildExit result;
  bool exited = false;
  Clock::time_point kill_at, drain_until;
  auto output_open = [&pipes] {
    return pipes[0].fd.valid() || pipes[1].fd.valid();
  };

  while (true) {
    const auto now = Clock::now();
    if (!result.timed_out && !exited && now >= deadline) {
      result.timed_out = true;
      ::kill(-pid, limits.kill_grace.count() > 0 ? SIGTERM : SIGKILL);
      kill_at = now + limits.kill_grace;
    }
    if (result.timed_out) {
      if (now >= kill_at || (exited && !output_open())) break;
    } else if (exited && !output_open()) {
      break;
    } else if (exited && now >= drain_until) {
      if (!limits.drain_after_exit) {
        // A descendant still holds the output open at the deadline: that
        // is a timeout too, and the group goes.
        result.timed_out = true;
      }
      break;
    }

    const Clock::time_point wake = result.timed_out ? kill_at : exited ? drain_until : deadline;
    int wait_ms = MillisUntil(wake, now);
    if (!exited && !pid_fd.valid()) {
      wait_ms = std::min<int>(wait_ms, static_cast<int>(kWaitidTick.count()));
    }
    std::array<pollfd, 3> pfds;
    nfds_t count = 0;
    std::array<int, 2> pipe_index = {-1, -1};
    for (std::size_t i = 0; i < pipes.size(); ++i) {
      if (!pipes[i].fd.valid()) continue;
      pipe_index[i] = static_cast<int>(count);
      pfds[count++] = pollfd{pipes[i].fd.get(), POLLIN, 0};
    }
    if (!exited && pid_fd.valid()) pfds[count++] = pollfd{pid_fd.get(), POLLIN, 0};
    const int ready = ::poll(pfds.data(), count, wait_ms);
    if (ready < 0 && errno != EINTR) {
      const int err = errno;
      ::kill(-pid, SIGKILL);
      Reap(pid);
      return SysError("poll", err);
    }

    for (std::size_t i = 0; i < pipes.size(); ++i) {
      if (ready > 0 && pipe_index[i] >= 0 && pfds[pipe_index[i]].revents != 0) {
        Drain(pipes[i], on_output);
      }
    }

    if (!exited) {
      // Detect the exit without reaping: while the leader is an unreaped
      // zombie its pid, which names the process group, cannot be reused, so
      // kill(-pid) can only ever reach the child's own processes.
      siginfo_t info;
      std::memset(&info, 0, sizeof(info));
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid) {
        exited = true;
        // Without a drain period the output must close by the deadline.
        drain_until =
            limits.drain_after_exit ? Clock::now() + *limits.drain_after_exit : deadline;
      }
    }
  }

  // Whatever is left of a timed-out child's group goes now.
  if (result.timed_out) ::kill(-pid, SIGKILL);
  result.wait_status = Reap(pid);
  return result;
}

}  // namespace scepd
