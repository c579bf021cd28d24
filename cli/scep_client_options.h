#pragma once
// The scep-client command line (the SSH Tectia ssh-scepclient-g3 syntax):
//   scep-client command [options] access [name]
// command is GET-CA, GET-CHAIN or ENROLL (any case, or a unique
// abbreviation longer than three letters); options may come before or after
// the command and the access URL.

#include <string>
#include <vector>

#include "core/result.h"

namespace scepd::cli {

enum class ScepClientCommand { kGetCa, kGetChain, kEnroll };

struct ScepClientOptions {
  ScepClientCommand command = ScepClientCommand::kGetCa;
  std::string access;              // the CA's URL
  std::string name;                // CA identifier (GetCACert message=)
  std::string output_prefix;       // -o
  std::string proxy;               // -S or -H, as TransportOptions::proxy takes it
  std::string psk;                 // -p (challenge password; a secret)
  std::string key_url;             // -P (a secret when it holds a passphrase)
  std::string ca_file;             // -C
  std::string ra_encryption_file;  // -E
  std::string ra_signing_file;     // -V
  std::string template_file;       // -T
  std::string subject;             // -s
  std::string key_usage;           // -u
  std::string ext_key_usage;       // -U
  long poll_interval = 60;         // --poll-interval seconds  NOLINT(runtime/int)
  long max_polls = 60;             // --max-polls  NOLINT(runtime/int)
  long timeout_seconds = 120;      // --timeout  NOLINT(runtime/int)
  std::string tls_ca_file;         // --tls-ca-file
  int verbosity = 0;               // -v
};

// What the arguments asked for besides a command: help or the version, or
// the usage/ key-usage/ EKU lists.
enum class ScepClientInfo { kNone, kHelp, kVersion, kKeyUsageHelp, kExtKeyUsageHelp };

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
