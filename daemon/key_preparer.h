#pragma once
// Makes the next key (daemon/next_key.h) in a child process at the lowest
// priority (nice 19, SCHED_IDLE where the kernel has it), so that the daemon
// never blocks on key generation before a renewal. One child per data_dir
// at a time; children are reaped without a wake-up of their own (the next
// scheduled step calls Reap()).

#include <sys/types.h>

#include <map>
#include <string>

namespace scepd {

class KeyPreparer {
 public:
  KeyPreparer() = default;
  KeyPreparer(const KeyPreparer&) = delete;
  KeyPreparer& operator=(const KeyPreparer&) = delete;
  // Stops the children still running (they hold no lock; a half-written key
  // is only a temporary file the next start removes).
  ~KeyPreparer() { Stop(); }

  // Starts a child that writes a new `bits`-bit RSA key to
  // data_dir/.next.key. False (and nothing started) when one is already
  // running for `data_dir` or fork fails (logged).
  bool Start(const std::string& data_dir, int bits);

  // Collects the children that have ended (no blocking); a failed one is
  // logged. Returns how many are still running.
  std::size_t Reap();

  // Waits for every child to end (for `scepd --once`).
  void Wait();

  // Whether children run at the lowest priority (the default, for the
  // daemon). `scepd --once` waits for its child before exiting, so it makes
  // the key at normal priority: SCHED_IDLE on a busy machine can starve it.
  void set_low_priority(bool low) noexcept { low_priority_ = low; }

  // Ends every child (SIGTERM) and collects it.
  void Stop();

 private:
  void Collected(pid_t pid, int status);
  std::map<pid_t, std::string> running_;  // pid -> data_dir
  bool low_priority_ = true;
};

}  // namespace scepd
