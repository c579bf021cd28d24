#pragma once
// The metrics file: scepd's state in the Prometheus text exposition format,
// for node_exporter's textfile collector (or any scraper reading a file).
// Only values that change when something happens are written (times as
// timestamps, not "seconds from now"), so the file changes only when the
// daemon's view changes. Metric names and an alert rule: docs/daemon.md.

#include <string>
#include <vector>

#include "daemon/status_file.h"

namespace scepd {

// Every certificate's metrics, one sample per line, each family preceded by
// its # HELP and # TYPE lines; label values are escaped as the format asks
// ('\\', '"', newline). Every StatusReport gets the "name" label ("" for the
// unnamed certificate); unknown times leave their sample out. Never fails.
std::string FormatMetrics(const std::vector<StatusReport>& reports);

// The job states the state metric enumerates (one sample per state, 1 for
// the current one, 0 for the others).
const std::vector<std::string>& MetricStates();

}  // namespace scepd
