// scep-client: the SSH Tectia ssh-scepclient-g3 command line on the
// project's SCEP core. Entered from the multi-call main.

#include <signal.h>

#include <cstdio>

#include "cli/exit_code.h"
#include "cli/multicall.h"
#include "cli/scep_client_commands.h"
#include "cli/scep_client_options.h"
#include "cli/tectia/request_options.h"
#include "core/license.h"
#include "core/wipe.h"

namespace scepd::cli {

int ScepClientMain(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    std::fputs(ScepClientUsage("scep-client").c_str(), stdout);
    return kExitSuccess;
  }
  auto args = ParseScepClientArgs(argc, argv);
  HideScepClientSecrets(argc, argv);
  if (!args.ok()) {
    if (args.error().code == ErrorCode::kUnsupported) {  // not a usage error: no usage text
      std::fprintf(stderr, "scep-client: refused: %s\n", args.error().message.c_str());
    } else {
      std::fprintf(stderr, "scep-client: %s\n\n%s", args.error().message.c_str(),
                   ScepClientUsage("scep-client").c_str());
    }
    return kExitError;
  }
  if (args->options.help_list != tectia::HelpList::kNone) {
    std::fputs(tectia::HelpListText(args->options.help_list).c_str(), stdout);
    return kExitSuccess;
  }
  switch (args->info) {
    case ScepClientInfo::kHelp: std::fputs(ScepClientUsage("scep-client").c_str(), stdout); return kExitSuccess;
    case ScepClientInfo::kVersion: std::printf("scepd's scep-client %s\nLicense: %s\n", SCEPD_VERSION, kLicense); return kExitSuccess;
    case ScepClientInfo::kNone: break;
  }
  const int code = RunScepClient(args->options);
  Wipe(args->options.psk);
  Wipe(args->options.key_url);  // may hold a passphrase
  return code;
}

}  // namespace scepd::cli
