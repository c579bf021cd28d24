#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>
#include <utility>

#include "io/unique_fd.h"
#include "tests/support/built_binary.h"

extern char** environ;

namespace scepd::testing {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
}

bool MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  *read_end = UniqueFd(fds[0]);
  *write_end = UniqueFd(fds[1]);
  return true;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Strings kept alive for execve: "NAME=value" environment and argv, plus the
// resolved program path. Built before fork so the child only makes
// async-signal-safe calls.
struct ExecPlan {
  std::string path;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

std::string EnvName(const std::string& entry) { return entry.substr(0, entry.find('=')); }

// Resolves argv[0] the way execvp would, using PATH from the child's
// environment. Returns "" when nothing executable is found.
std::string ResolveProgram(const std::string& program, const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return program;
  std::string path_var = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) path_var = entry.substr(5);
  }
  std::size_t pos = 0;
  while (pos <= path_var.size()) {
    std::size_t end = path_var.find(':', pos);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(pos, end - pos);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    pos = end + 1;
  }
  return "";
}

bool PrepareExec(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                 ExecPlan* plan, std::string* error) {
  if (argv.empty()) {
    *error = "empty argv";
    return false;
  }
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    bool overridden = std::any_of(extra_env.begin(), extra_env.end(), [&](const std::string& x) {
      return EnvName(x) == EnvName(entry);
    });
    if (!overridden) plan->env_storage.push_back(std::move(entry));
  }
  for (const std::string& x : extra_env) plan->env_storage.push_back(x);
  plan->path = ResolveProgram(argv[0], plan->env_storage);
  if (plan->path.empty()) {
    *error = "program not found in PATH: " + argv[0];
    return false;
  }
  for (const std::string& a : argv) plan->argv.push_back(const_cast<char*>(a.c_str()));
  plan->argv.push_back(nullptr);
  for (std::string& e : plan->env_storage) plan->envp.push_back(e.data());
  plan->envp.push_back(nullptr);
  return true;
}

void WriteAll(int fd, const char* data, std::size_t size) noexcept {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Moves `from` onto descriptor `to` in the child, keeping it open across exec.
void MoveFd(int from, int to) noexcept {
  if (from == to) {
    int flags = ::fcntl(from, F_GETFD);
    if (flags >= 0) ::fcntl(from, F_SETFD, flags & ~FD_CLOEXEC);
  } else {
    ::dup2(from, to);
  }
}

// Runs in the forked child: only async-signal-safe calls. On failure writes
// errno to `status_fd` (close-on-exec, so the parent sees EOF on success).
[[noreturn]] void ExecChild(const ExecPlan& plan, int in_fd, int out_fd, int err_fd,
                            int status_fd, const char* cwd, pid_t parent) noexcept {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) {
    ::sigaction(sig, &dfl, nullptr);
  }
  MoveFd(in_fd, STDIN_FILENO);
  MoveFd(out_fd, STDOUT_FILENO);
  MoveFd(err_fd, STDERR_FILENO);
  if (cwd != nullptr && *cwd != '\0' && ::chdir(cwd) != 0) {
    int e = errno;
    WriteAll(status_fd, reinterpret_cast<const char*>(&e), sizeof e);
    ::_exit(127);
  }
  ::execve(plan.path.c_str(), plan.argv.data(), plan.envp.data());
  int e = errno;
  WriteAll(status_fd, reinterpret_cast<const char*>(&e), sizeof e);
  ::_exit(127);
}

// Reads the exec status pipe: 0 if the child exec'd, else the child's errno.
int ReadExecStatus(int status_fd) {
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(status_fd, &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof child_errno) ? child_errno : 0;
}

// write() with SIGPIPE blocked for this thread, consuming a SIGPIPE the
// write raised, so a child that closes its stdin does not kill the test.
ssize_t WriteNoSigpipe(int fd, const char* data, std::size_t size) {
  sigset_t pipe_set;
  sigset_t old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n = ::write(fd, data, size);
  int saved = errno;
  if (n < 0 && saved == EPIPE) {
    struct timespec zero {};
    while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved;
  return n;
}

// Waits up to timeout_ms for `pid`; true and *status if it was reaped.
bool WaitPidFor(pid_t pid, int timeout_ms, int* status) {
  Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return false;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

int ScaledTimeout(int timeout_ms) {
  constexpr int kEmulatorScale = 4;
  if (!RunningUnderEmulator() || timeout_ms > std::numeric_limits<int>::max() / kEmulatorScale) {
    return timeout_ms;
  }
  return timeout_ms * kEmulatorScale;
}

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env, int timeout_ms,
                         const std::string& stdin_data, const std::string& cwd) {
  ProcessResult result;
  ExecPlan plan;
  std::string error;
  if (!PrepareExec(argv, extra_env, &plan, &error)) {
    result.exit_code = 127;
    result.err = error;
    return result;
  }
  UniqueFd in_r, in_w, out_r, out_w, err_r, err_w, status_r, status_w;
  if (!MakePipe(&in_r, &in_w) || !MakePipe(&out_r, &out_w) || !MakePipe(&err_r, &err_w) ||
      !MakePipe(&status_r, &status_w)) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return result;
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return result;
  }
  if (pid == 0) {
    ExecChild(plan, in_r.get(), out_w.get(), err_w.get(), status_w.get(), cwd.c_str(), parent);
  }
  ::setpgid(pid, pid);  // also done by the child; whichever runs first wins
  in_r.reset();
  out_w.reset();
  err_w.reset();
  status_w.reset();
  if (int child_errno = ReadExecStatus(status_r.get()); child_errno != 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = 127;
    result.err = "cannot execute " + plan.path + ": " + std::strerror(child_errno);
    return result;
  }
  for (UniqueFd* fd : {&in_w, &out_r, &err_r}) {
    ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
  }
  if (stdin_data.empty()) in_w.reset();

  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(ScaledTimeout(timeout_ms));
  std::optional<Clock::time_point> drain_deadline;  // set once the child is reaped
  std::size_t written = 0;
  int status = 0;
  bool reaped = false;
  for (;;) {
    if (!reaped) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        reaped = true;
        // Grandchildren may hold the pipes; read what is there, then leave.
        drain_deadline = Clock::now() + std::chrono::milliseconds(500);
      }
    }
    if (reaped && !out_r.valid() && !err_r.valid()) break;
    if (reaped && Clock::now() >= *drain_deadline) break;
    if (!reaped && Clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      reaped = true;
      result.timed_out = true;
      break;
    }
    pollfd fds[3];
    UniqueFd* owners[3];
    nfds_t n = 0;
    if (in_w.valid()) {
      fds[n] = pollfd{in_w.get(), POLLOUT, 0};
      owners[n++] = &in_w;
    }
    if (out_r.valid()) {
      fds[n] = pollfd{out_r.get(), POLLIN, 0};
      owners[n++] = &out_r;
    }
    if (err_r.valid()) {
      fds[n] = pollfd{err_r.get(), POLLIN, 0};
      owners[n++] = &err_r;
    }
    int wait_ms = std::min(20, MillisLeft(reaped ? *drain_deadline : deadline));
    if (n == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::max(1, wait_ms)));
      continue;
    }
    int ready = ::poll(fds, n, wait_ms);
    if (ready < 0 && errno != EINTR) {
      ADD_FAILURE() << "poll: " << std::strerror(errno);
      break;
    }
    for (nfds_t i = 0; ready > 0 && i < n; ++i) {
      if (fds[i].revents == 0) continue;
      UniqueFd* owner = owners[i];
      if (owner == &in_w) {
        ssize_t w = WriteNoSigpipe(in_w.get(), stdin_data.data() + written,
                                   stdin_data.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) {
          in_w.reset();
        }
        continue;
      }
      std::string& sink = owner == &out_r ? result.out : result.err;
      char buf[16384];
      ssize_t r = ::read(owner->get(), buf, sizeof buf);
      if (r > 0) {
        sink.append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        owner->reset();
      }
    }
  }
  if (!reaped) ::waitpid(pid, &status, 0);
  result.exit_code = DecodeStatus(status);
  return result;
}

BackgroundProcess::~BackgroundProcess() { Stop(); }

BackgroundProcess::BackgroundProcess(BackgroundProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      exit_code_(std::exchange(other.exit_code_, std::nullopt)),
      log_path_(std::move(other.log_path_)) {}

BackgroundProcess& BackgroundProcess::operator=(BackgroundProcess&& other) noexcept {
  if (this != &other) {
    Stop();
    pid_ = std::exchange(other.pid_, -1);
    exit_code_ = std::exchange(other.exit_code_, std::nullopt);
    log_path_ = std::move(other.log_path_);
  }
  return *this;
}

bool BackgroundProcess::Start(const std::vector<std::string>& argv, const std::string& log_path,
                              const std::vector<std::string>& extra_env, const std::string& cwd,
                              std::string* error) {
  std::string ignored;
  std::string& err = error != nullptr ? *error : ignored;
  if (pid_ > 0) {
    err = "a child is already running";
    return false;
  }
  ExecPlan plan;
  if (!PrepareExec(argv, extra_env, &plan, &err)) return false;
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  if (!log.valid()) {
    err = "cannot open log " + log_path + ": " + std::strerror(errno);
    return false;
  }
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd status_r, status_w;
  if (!null_in.valid() || !MakePipe(&status_r, &status_w)) {
    err = std::string("open/pipe: ") + std::strerror(errno);
    return false;
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    err = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    ExecChild(plan, null_in.get(), log.get(), log.get(), status_w.get(), cwd.c_str(), parent);
  }
  ::setpgid(pid, pid);
  status_w.reset();
  if (int child_errno = ReadExecStatus(status_r.get()); child_errno != 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    err = "cannot execute " + plan.path + ": " + std::strerror(child_errno);
    return false;
  }
  pid_ = pid;
  exit_code_.reset();
  log_path_ = log_path;
  return true;
}

bool BackgroundProcess::Running() { return pid_ > 0 && !Wait(0).has_value(); }

bool BackgroundProcess::Signal(int sig) {
  if (pid_ <= 0 || exit_code_.has_value()) return false;
  return ::kill(pid_, sig) == 0;
}

std::optional<int> BackgroundProcess::Wait(int timeout_ms) {
  if (exit_code_.has_value()) return exit_code_;
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  if (!WaitPidFor(pid_, ScaledTimeout(timeout_ms), &status)) return std::nullopt;
  exit_code_ = DecodeStatus(status);
  pid_ = -1;
  return exit_code_;
}

std::optional<int> BackgroundProcess::Stop() {
  if (exit_code_.has_value()) return exit_code_;
  if (pid_ <= 0) return std::nullopt;
  const pid_t pid = pid_;
  if (::kill(pid, SIGINT) == 0) {
    if (auto code = Wait(5000)) return code;
  }
  if (::kill(pid, SIGTERM) == 0) {
    if (auto code = Wait(3000)) return code;
  }
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  if (auto code = Wait(5000)) return code;
  ADD_FAILURE() << "process " << pid << " did not die after SIGKILL";
  pid_ = -1;
  return std::nullopt;
}

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  std::string templ = base + "/" + prefix + "XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << templ << ": " << std::strerror(errno);
    return "";
  }
  return templ;
}

namespace {
int RemoveEntry(const char* path, const struct stat* /*st*/, int type, struct FTW* /*ftw*/) {
  int rc = (type == FTW_DP) ? ::rmdir(path) : ::unlink(path);
  if (rc != 0 && errno != ENOENT) ADD_FAILURE() << "remove " << path << ": " << std::strerror(errno);
  return 0;  // keep going
}
}  // namespace

void RemoveTree(const std::string& path) {
  if (path.empty() || path == "/") return;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    ::unlink(path.c_str());
    return;
  }
  ::nftw(path.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

TempDir::TempDir(const std::string& prefix) : path_(MakeTempDir(prefix)) {}

TempDir::~TempDir() {
  const char* keep = std::getenv("SCEPD_KEEP_TEST_DIRS");
  if (keep != nullptr && *keep != '\0') return;
  RemoveTree(path_);
}

std::optional<std::string> TryReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string content;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
  }
  return content;
}

std::string ReadFile(const std::string& path) {
  std::optional<std::string> content = TryReadFile(path);
  if (!content) {
    ADD_FAILURE() << "cannot read " << path << ": " << std::strerror(errno);
    return "";
  }
  return *std::move(content);
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

void WriteFile(const std::string& path, const std::string& content, unsigned mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
               static_cast<mode_t>(mode)));
  if (!fd.valid()) {
    ADD_FAILURE() << "cannot create " << path << ": " << std::strerror(errno);
    return;
  }
  if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) {
    ADD_FAILURE() << "chmod " << path << ": " << std::strerror(errno);
  }
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ADD_FAILURE() << "write " << path << ": " << std::strerror(errno);
      return;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

int FreeLoopbackPort() {
  UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) {
    ADD_FAILURE() << "socket: " << std::strerror(errno);
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "bind 127.0.0.1:0: " << std::strerror(errno);
    return -1;
  }
  return ntohs(addr.sin_port);
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string LinkTarget(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

unsigned Mode(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

}  // namespace scepd::testing
