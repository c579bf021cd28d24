#pragma once
// The scep-client command line (the SSH Tectia ssh-scepclient-g3 syntax):
//   scep-client command [options] access [name]
// command is GET-CA, GET-CHAIN or ENROLL (any case, or a unique
// abbreviation longer than three letters); options may come before or after
// the command and the access URL.

#include <string>
#include <vector>

#include "cli/tectia/request_options.h"
#include "core/result.h"

namespace scepd::cli {

enum class ScepClientCommand { kGetCa, kGetChain, kEnroll };

// The shared Tectia request options (cli/tectia/request_options.h: -o, -S,
// -H, -C, -P, -T, -s, -u, -U, --max-polls, --timeout, --tls-ca-file), then
// scep-client's own.
struct ScepClientOptions : tectia::RequestOptions {
  ScepClientCommand command = ScepClientCommand::kGetCa;
  std::string access;              // the CA's URL
  std::string name;                // CA identifier (GetCACert message=)
  std::string psk;                 // -p (challenge password; a secret)
  std::string ra_encryption_file;  // -E
  std::string ra_signing_file;     // -V
  long poll_interval = 60;         // --poll-interval seconds  NOLINT(runtime/int)
  int verbosity = 0;               // -v
};

// What the arguments asked for besides a command: help or the version
// (the usage lists of -u help and -U help: options.help_list).
enum class ScepClientInfo { kNone, kHelp, kVersion };

struct ScepClientArgs {
  ScepClientInfo info = ScepClientInfo::kNone;
  ScepClientOptions options;
};

// Parses argv. Fails with kInvalidArgument naming the option or word.
Result<ScepClientArgs> ParseScepClientArgs(int argc, char** argv);

// The usage text (-h and usage errors).
std::string ScepClientUsage(const char* program);

// Overwrites the challenge (-p) and the passphrase inside a generate://
// key URL (-P) in the process's own argv with '*', so ps stops showing them.
void HideScepClientSecrets(int argc, char** argv) noexcept;

}  // namespace scepd::cli
