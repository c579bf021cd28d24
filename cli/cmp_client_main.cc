// cmp-client: the SSH Tectia ssh-cmpclient-g3 command line on the
// project's CMP core (OpenSSL's OSSL_CMP_CTX). Entered from the multi-call
// main.

#include <signal.h>

#include <cstdio>

#include "cli/cmp_client_commands.h"
#include "cli/cmp_client_options.h"
#include "cli/multicall.h"
#include "cli/tectia/request_options.h"
#include "core/license.h"
#include "core/wipe.h"

namespace scepd::cli {

int CmpClientMain(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    std::fputs(CmpClientUsage("cmp-client").c_str(), stdout);
    return kCmpExitSuccess;
  }
  auto args = ParseCmpClientArgs(argc, argv);
  HideCmpClientSecrets(argc, argv);
  if (!args.ok()) {
    if (args.error().code == ErrorCode::kUnsupported) {
      std::fprintf(stderr, "cmp-client: refused: %s\n", args.error().message.c_str());
    } else {
      std::fprintf(stderr, "cmp-client: %s\n\n%s", args.error().message.c_str(),
                   CmpClientUsage("cmp-client").c_str());
    }
    return kCmpExitError;
  }
  if (args->options.help_list != tectia::HelpList::kNone) {
    std::fputs(tectia::HelpListText(args->options.help_list).c_str(), stdout);
    return kCmpExitSuccess;
  }
  switch (args->info) {
    case CmpClientInfo::kHelp: std::fputs(CmpClientUsage("cmp-client").c_str(), stdout); return kCmpExitSuccess;
    case CmpClientInfo::kVersion: std::printf("scepd's cmp-client %s\nLicense: %s\n", SCEPD_VERSION, kLicense); return kCmpExitSuccess;
    case CmpClientInfo::kFlagHelp: std::fputs(CmpClientFlagHelp().c_str(), stdout); return kCmpExitSuccess;
    case CmpClientInfo::kExamples: std::fputs(CmpClientExamples("cmp-client").c_str(), stdout); return kCmpExitSuccess;
    case CmpClientInfo::kNone: break;
  }
  const int code = RunCmpClient(args->options);
  Wipe(args->options.psk);
  Wipe(args->options.key_url);  // may hold a passphrase
  Wipe(args->options.auth_key_url);
  return code;
}

}  // namespace scepd::cli
