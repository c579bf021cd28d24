#pragma once
// The script seam. The daemon runs the user's success_script and
// failure_script through a HookRunner; the real one (fork/exec, timeouts,
// process groups) is io/process_hook_runner.h, tests supply fakes. A script
// gets its inputs only through the environment and reports by exit code, so
// text from the CA can never become part of a command line.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace scepd {

// How a script run ended. A plain value; owns its strings.
struct HookResult {
  // The script's exit status, or 128 + signal number when a signal ended it
  // (as a shell reports it). -1 when unknown.
  int exit_code = -1;
  // True when the timeout expired and the script's process group was killed;
  // exit_code then says how it finally ended (usually 128 + SIGTERM).
  bool timed_out = false;
  // Standard output and standard error interleaved in the order written,
  // split into lines without their terminators. Each line holds at most
  // kHookMaxLineBytes bytes (longer lines are cut); at most kHookMaxLines
  // lines are kept, and when more were written a last entry
  // "... N more lines" says how many were dropped.
  std::vector<std::string> output;
};

// Output limits of HookResult::output, so a chatty script cannot grow the
// daemon's memory or flood the log.
inline constexpr std::size_t kHookMaxLineBytes = 1000;
inline constexpr std::size_t kHookMaxLines = 200;

// Runs hook scripts. Implementations may be used from one thread at a time.
class HookRunner {
 public:
  virtual ~HookRunner() = default;

  // Runs `script` with /bin/sh -c, waiting for it to finish or for
  // `timeout_seconds` (values below 1 count as 1) to pass. `env` is the
  // complete environment as (name, value) pairs: nothing is inherited from
  // the caller. A script that fails, is killed or times out is an outcome in
  // HookResult, not an error. Fails only when the script cannot be started:
  // kInvalidArgument for an unusable environment entry (empty name, '=' or
  // NUL in a name, NUL in a value or in the script), kIo when the process
  // cannot be created or /bin/sh cannot be executed.
  virtual Result<HookResult> Run(
      const std::string& script,
      const std::vector<std::pair<std::string, std::string>>& env,
      int timeout_seconds) = 0;
};

}  // namespace scepd
