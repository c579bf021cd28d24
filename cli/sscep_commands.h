#pragma once
// The sscep operations. Each returns the process exit code (cli/exit_code.h)
// after printing what it did; errors go to stderr naming the file or field.

#include "cli/sscep_options.h"

namespace scepd::cli {

int RunSscep(const SscepOptions& options);

}  // namespace scepd::cli
