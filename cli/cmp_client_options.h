#pragma once
// The cmp-client command line (the SSH Tectia ssh-cmpclient-g3 syntax):
//   cmp-client command [options] access [name]
// command is INITIALIZE, ENROLL, UPDATE, POLL, REVOKE, TUNNEL or RECOVER
// (any case, or a unique abbreviation longer than three letters); options
// may come before or after the command and the access URL.
//
// What OpenSSL 3.0's CMP cannot do (RECOVER, -B, -v 1, -i other than 500,
// tcp://, POLL in a new process) is refused here, before anything is sent,
// with the reason.

#include <string>

#include "cli/tectia/request_options.h"
#include "core/result.h"

namespace scepd::cli {

enum class CmpClientCommand { kInitialize, kEnroll, kUpdate, kPoll, kRevoke, kTunnel, kRecover };

// The shared Tectia request options (cli/tectia/request_options.h: -o, -S,
// -H, -C, -P, -T, -s, -u, -U, --max-polls, --timeout, --tls-ca-file), then
// cmp-client's own.
struct CmpClientOptions : tectia::RequestOptions {
  CmpClientCommand command = CmpClientCommand::kInitialize;
  std::string access;          // the CA's URL
  std::string name;            // the CA's name in LDAP order ("C=FI, O=..., CN=...")
  std::string psk;             // -p refnum:key, or a file holding that (a secret)
  bool psk_inline = false;     // -p held the key itself (visible in the process list)
  std::string cert_file;       // -c
  std::string ra_cert_file;    // -R
  std::string auth_key_url;    // -k
  std::string output_file;     // -O
  std::string entropy_file;    // -N
  bool pop_by_encryption = false;  // -E
  bool yes = false;                // -y
  bool unprotected_errors = false;  // --unprotected-errors
  int verbosity = 0;                // --verbose
};

// What the arguments asked for besides a command.
// (the usage lists of -u help and -U help: options.help_list).
enum class CmpClientInfo { kNone, kHelp, kVersion, kFlagHelp, kExamples };

struct CmpClientArgs {
  CmpClientInfo info = CmpClientInfo::kNone;
  CmpClientOptions options;
};

// Parses argv. Fails with kInvalidArgument naming the option or word, or
// kUnsupported (with the reason) for what OpenSSL 3.0 cannot do.
Result<CmpClientArgs> ParseCmpClientArgs(int argc, char** argv);

// The usage text (-h, --help and usage errors), with the exit codes.
std::string CmpClientUsage(const char* program);
// -F: key usage names and key types; -e: command-line examples.
std::string CmpClientFlagHelp();
std::string CmpClientExamples(const char* program);

// Overwrites the key of `-p refnum:key` and the passphrase inside a
// generate:// key URL (-P) in the process's own argv with '*'.
void HideCmpClientSecrets(int argc, char** argv) noexcept;

}  // namespace scepd::cli
