#include "daemon/key_preparer.h"

#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/key.h"
#include "daemon/next_key.h"

namespace scepd {

namespace {

// In the child: lowest priority, default signals, no inherited descriptors
// (the pid file lock, the signalfd), then the key. Never returns.
[[noreturn]] void MakeKeyAndExit(const std::string& data_dir, int bits, bool low_priority) {
  sigset_t all;
  sigfillset(&all);
  for (int sig : {SIGTERM, SIGINT, SIGALRM}) ::signal(sig, SIG_DFL);  // the daemon's handlers
  ::alarm(0);
  sigprocmask(SIG_UNBLOCK, &all, nullptr);
  for (int fd = 3; fd < 1024; ++fd) ::close(fd);
  if (low_priority) {
    (void)::setpriority(PRIO_PROCESS, 0, 19);
#ifdef SCHED_IDLE
    sched_param param{};
    (void)::sched_setscheduler(0, SCHED_IDLE, &param);
#endif
  }
  auto key = GenerateRsaKey(bits);
  if (!key.ok()) ::_exit(2);
  ::_exit(SaveNextKey(data_dir, key->get()).ok() ? 0 : 3);
}

}  // namespace

bool KeyPreparer::Start(const std::string& data_dir, int bits) {
  Reap();
  for (const auto& [pid, dir] : running_) {
    if (dir == data_dir) return false;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    spdlog::warn("cannot start making the next key for {}: fork: {}", data_dir, std::strerror(errno));
    return false;
  }
  if (pid == 0) MakeKeyAndExit(data_dir, bits, low_priority_);
  spdlog::info("making the next {}-bit key for {} ahead of the renewal{} (pid {})", bits, data_dir,
               low_priority_ ? ", at low priority" : "", pid);
  running_[pid] = data_dir;
  return true;
}

void KeyPreparer::Collected(pid_t pid, int status) {
  auto it = running_.find(pid);
  if (it == running_.end()) return;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    spdlog::info("next key ready: {}", NextKeyPath(it->second));
  } else if (WIFSIGNALED(status)) {
    spdlog::warn("making the next key for {} stopped by signal {}", it->second, WTERMSIG(status));
  } else {
    spdlog::warn("making the next key for {} failed (exit {}); the renewal makes its own",
                 it->second, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  running_.erase(it);
}

std::size_t KeyPreparer::Reap() {
  for (auto it = running_.begin(); it != running_.end();) {
    const pid_t pid = it->first;
    ++it;  // Collected() erases the entry
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      Collected(pid, status);
    } else if (r < 0 && errno == ECHILD) {
      running_.erase(pid);
    }
  }
  return running_.size();
}

void KeyPreparer::Wait() {
  while (!running_.empty()) {
    const pid_t pid = running_.begin()->first;
    int status = 0;
    pid_t r = ::waitpid(pid, &status, 0);
    if (r == pid) {
      Collected(pid, status);
    } else if (r < 0 && errno != EINTR) {
      running_.erase(pid);
    }
  }
}

void KeyPreparer::Stop() {
  for (const auto& [pid, dir] : running_) ::kill(pid, SIGTERM);
  Wait();
}

}  // namespace scepd
