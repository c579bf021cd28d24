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

#include "core/result.h"

namespace scepd::cli {

enum class CmpClientCommand { kInitialize, kEnroll, kUpdate, kPoll, kRevoke, kTunnel, kRecover };

struct CmpClientOptions {
  CmpClientCommand command = CmpClientCommand::kInitialize;
  std::string access;          // the CA's URL
  std::string name;            // the CA's name in LDAP order ("C=FI, O=..., CN=...")
  std::string psk;             // -p refnum:key, or a file holding that (a secret)
  bool psk_inline = false;     // -p held the key itself (visible in the process list)
  std::string cert_file;       // -c
  std::string ra_cert_file;    // -R
  std::string auth_key_url;    // -k
  std::string key_url;         // -P (a secret when it holds a passphrase)
  std::string template_file;   // -T
  std::string subject;         // -s
  std::string key_usage;       // -u
  std::string ext_key_usage;   // -U
  std::string output_prefix;   // -o
  std::string output_file;     // -O
  std::string ca_file;         // -C
  std::string proxy;           // -S or -H, as TransportOptions::proxy takes it
  std::string entropy_file;    // -N
  bool pop_by_encryption = false;  // -E
  bool yes = false;                // -y
  bool unprotected_errors = false;  // --unprotected-errors
  long max_polls = 60;              // --max-polls  NOLINT(runtime/int)
  long timeout_seconds = 120;       // --timeout  NOLINT(runtime/int)
  std::string tls_ca_file;          // --tls-ca-file
  int verbosity = 0;                // --verbose
};

// What the arguments asked for besides a command.
enum class CmpClientInfo { kNone, kHelp, kVersion, kKeyUsageHelp, kExtKeyUsageHelp, kFlagHelp, kExamples };

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
