#pragma once
// The scep-client commands. Each prints what it received (the texts of the
// Tectia client: "Received CA/RA certificate", "fingerprint ...", "Received
// user certificate NAME:") and returns the process exit code
// (cli/exit_code.h).

#include "cli/scep_client_options.h"

namespace scepd::cli {

int RunScepClient(const ScepClientOptions& options);

}  // namespace scepd::cli
