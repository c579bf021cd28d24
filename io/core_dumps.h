#pragma once
// Keys and challenge passwords live in scepd's and sscep's memory for a
// while; a core file would carry them to disk (or to a crash collector).

#include "core/result.h"

namespace scepd {

// Makes this process non-dumpable (prctl PR_SET_DUMPABLE 0: no core file
// under any core_pattern, and /proc/PID/mem, environ and ptrace attach only
// for root) and sets RLIMIT_CORE to 0 (soft and hard), for a core_pattern
// that ignores the dumpable flag. Children that exec become dumpable again
// (scripts are not affected). Fails with kIo naming the call.
Status DisableCoreDumps();

}  // namespace scepd
