#pragma once
// The real HookRunner: /bin/sh -c SCRIPT with exactly the given environment,
// started through RunChild (io/child_process.h). The script text travels
// only as argv[2] and every value only in the environment, so nothing from
// the CA is ever spliced into a command line. The script runs in a process
// group of its own with stdin from /dev/null, / as working directory, no
// inherited descriptors beyond 0/1/2, default signal dispositions and an
// empty signal mask; on timeout the whole group gets SIGTERM and, after a
// grace period, SIGKILL, so background children die too.

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/hook_runner.h"
#include "core/result.h"

namespace scepd {

// Builds a hook's complete environment: PATH (`extra_path_dir` first, where
// scep_replace_pem lives, then /usr/sbin:/usr/bin:/sbin:/bin; with an empty
// `extra_path_dir` only the system directories), HOME=/, LANG=C, then the
// entries of `scep_vars` in name order. The daemon passes SCEP_EVENT
// (enrolled, renewed or failed), SCEP_SERIAL, SCEP_CERT, SCEP_KEY, SCEP_CA,
// SCEP_NOT_AFTER, SCEP_SUBJECT, SCEP_DATA_DIR, SCEP_NAME, SCEP_ERROR and
// SCEP_FAIL_INFO (docs/daemon.md). Entries that could not be passed safely are left out
// rather than altered: a name that is not SCEP_ followed by [A-Z0-9_] (so
// PATH, LD_PRELOAD and friends cannot be overridden) and a value containing
// NUL (execve would cut it). Never fails.
std::vector<std::pair<std::string, std::string>> HookEnvironment(
    const std::map<std::string, std::string>& scep_vars, const std::string& extra_path_dir);

// Tunables of ProcessHookRunner; the defaults are what the daemon uses.
struct ProcessHookOptions {
  // Between SIGTERM and SIGKILL to a timed-out script's process group.
  std::chrono::milliseconds kill_grace{2000};
  // After the shell itself has exited, how long to keep collecting output
  // that is already on its way. A background process that inherited the
  // output pipe is not waited for (nor killed): a script may legitimately
  // restart a service that keeps running.
  std::chrono::milliseconds drain_after_exit{100};
  // Watch for the shell's exit with a pidfd (Linux 5.3+). When false, or
  // when the kernel has no pidfd_open, poll waitpid every 50 ms instead.
  bool use_pidfd = true;
};

// Runs hook scripts as child processes. Blocks the calling thread while
// the script runs: at most the timeout plus kill_grace (plus the moment
// SIGKILL takes), or drain_after_exit beyond the script's own exit. Holds no descriptors between runs; every descriptor
// it opens is close-on-exec, so concurrent forks elsewhere do not inherit
// them. Briefly blocks all signals in the calling thread around fork.
class ProcessHookRunner final : public HookRunner {
 public:
  ProcessHookRunner() = default;
  explicit ProcessHookRunner(ProcessHookOptions options) : options_(options) {}

  // See HookRunner::Run. The exit status of a script killed after a
  // timeout is 128 + the signal that ended it.
  Result<HookResult> Run(const std::string& script,
                         const std::vector<std::pair<std::string, std::string>>& env,
                         int timeout_seconds) override;

 private:
  ProcessHookOptions options_;
};

}  // namespace scepd
