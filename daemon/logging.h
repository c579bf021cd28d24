#pragma once
// The daemon's log sinks: syslog (facility daemon, ident "scepd") and/or
// stderr (procd and systemd collect it), through spdlog's default logger.

#include "daemon/config.h"

namespace scepd {

// Replaces the default logger. Never fails: a sink that cannot be opened is
// left out.
void SetUpLogging(LogLevel level, LogTarget target);

}  // namespace scepd
