#pragma once
// The one place scepd starts another program and waits for it: the hook
// runner (io/process_hook_runner.h) and serial_number_command
// (daemon/serial_number.h) both go through RunChild.
//
// The child runs in a process group of its own with stdin from /dev/null,
// default signal dispositions, an empty signal mask and no inherited
// descriptors beyond 0/1/2; its output reaches the caller through pipes. On
// timeout the whole group is signalled (SIGTERM, then SIGKILL after a grace
// period), so background children die too.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scepd {

// What to run. Plain value; owns its strings.
struct ChildCommand {
  // Path of the program exec'd (not looked up in PATH).
  std::string program;
  // Complete argv, argv[0] included.
  std::vector<std::string> argv;
  // Exactly these NAME=VALUE entries; nullopt passes the caller's own
  // environment on.
  std::optional<std::vector<std::string>> environment;
  // Start in / rather than in the caller's working directory.
  bool chdir_root = false;
  // Standard error into the same pipe as standard output (one interleaved
  // stream, reported as kStdout); otherwise a pipe of its own.
  bool merge_stderr = true;
};

// How long to wait. Plain value.
struct ChildLimits {
  // From the start until the group is sent SIGTERM (or SIGKILL when
  // kill_grace is zero).
  std::chrono::milliseconds timeout{10000};
  // Between SIGTERM and SIGKILL to a timed-out child's process group.
  std::chrono::milliseconds kill_grace{0};
  // After the program itself has exited, how long to keep collecting output
  // that is already on its way; a background process that inherited the
  // pipe is then neither waited for nor killed. nullopt: the output must be
  // closed before `timeout` too, and a descendant still holding it then
  // counts as a timeout (the group is killed).
  std::optional<std::chrono::milliseconds> drain_after_exit;
  // Watch for the exit with a pidfd (Linux 5.3+). When false, or when the
  // kernel has no pidfd_open, check with waitid every 50 ms instead.
  bool use_pidfd = true;
};

enum class ChildStream { kStdout, kStderr };

// Receives output as it arrives, in chunks of arbitrary size.
using ChildOutputSink = std::function<void(ChildStream, std::string_view)>;

// How the child ended.
struct ChildExit {
  // waitpid's status; nullopt when the child could not be collected.
  std::optional<int> wait_status;
  // The timeout (or, without drain_after_exit, open output) ended the run.
  bool timed_out = false;
};

// Runs `command` to its end and returns how it ended; a non-zero exit is
// not an error. Blocks for at most timeout + kill_grace (plus the moment
// SIGKILL takes), or drain_after_exit beyond the program's own exit. Fails
// with kInvalidArgument when an argument or environment entry contains NUL,
// and with kIo "WHAT: REASON" when a pipe, fork or poll fails or the program
// cannot be exec'd (WHAT is then the program's path). Every descriptor it
// opens is close-on-exec and closed again before it returns; briefly blocks
// all signals in the calling thread around fork.
Result<ChildExit> RunChild(const ChildCommand& command, const ChildLimits& limits,
                           const ChildOutputSink& on_output);

// An exit code in the shell's convention: the exit status, or 128 + the
// signal that ended the process; -1 for any other status. Never fails.
int ShellExitCode(int wait_status) noexcept;

}  // namespace scepd
