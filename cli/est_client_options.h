#pragma once
// est-client's command line: one command (cacerts, csrattrs, enroll,
// reenroll, serverkeygen) and long options. Secrets never come from argv:
// the Basic password is read from a file or standard input, the challenge
// password from a file.

#include <string>
#include <vector>

#include "core/result.h"

namespace scepd::cli {

struct EstClientOptions {
  std::string command;        // cacerts | csrattrs | enroll | reenroll | serverkeygen
  std::string url;            // https://host[:port][/.well-known/est]
  std::string label;          // CA label, may be empty
  std::string cacert;         // PEM trust anchors for the server's TLS certificate
  std::string pin_sha256;     // cacerts bootstrap: SHA-256 fingerprint of the CA certificate
  std::string user;           // HTTP Basic user; the password comes from password_file
  std::string password_file;  // "-" = standard input
  std::string cert;           // TLS client certificate (PEM) ...
  std::string key;            // ... and its key; enroll: the key to request a certificate for
  std::string csr;            // enroll/reenroll/serverkeygen: send this request as it is
  std::string subject;        // "/CN=x/O=y" for a generated request
  std::string alt_names;      // "DNS:a,IP:b"
  std::string challenge_file; // challengePassword for the request
  std::string key_type;       // rsa | ec (empty: rsa, or what csrattrs asks for)
  int key_size = 0;           // RSA bits (0: 2048, or what csrattrs asks for)
  std::string curve;          // EC curve (empty: P-256, or what csrattrs asks for)
  std::string newkey;         // where a generated or server-made key is written (0600)
  std::string out;            // certificate(s) written here (PEM)
  std::string chain;          // the rest of an enrollment answer (PEM)
  bool use_csrattrs = false;  // ask /csrattrs first and follow it
  bool encrypted_key = false; // serverkeygen: the key CMS-encrypted to the --cert pair
  int wait_s = 0;             // enroll/reenroll: keep polling a 202 this long
  long timeout_s = 60;        // NOLINT(runtime/int): per request
  int verbosity = 0;
};

// Parses argv. Fails with kInvalidArgument naming the option at fault, or
// with the message "help" for --help and "version" for -V/--version.
Result<EstClientOptions> ParseEstClientArgs(const std::vector<std::string>& args);

// The usage text.
std::string EstClientUsage(const std::string& program);

}  // namespace scepd::cli
