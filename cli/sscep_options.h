#pragma once
// The sscep command line and configuration file, parsed into one struct.
// Option letters and file keys follow sscep; command-line options win over
// the file given with -f.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scepd::cli {

enum class Operation { kGetCa, kGetNextCa, kGetCaps, kEnroll, kGetCert, kGetCrl, kMkRequest };

struct SscepOptions {
  Operation operation = Operation::kGetCa;
  // General.
  std::string url;                 // -u, URL
  std::string proxy;               // -p, Proxy ("host:port" or "http://host:port")
  std::string ca_cert_file;        // -c, CACertFile (written by getca/getnextca)
  std::string enc_algorithm;       // -E, EncAlgorithm
  std::string sig_algorithm;       // -S, SigAlgorithm
  int verbosity = 0;               // -v 1, -d 2 (Verbose, Debug)
  std::string engine;              // -g (not supported)
  long wait_seconds = 0;           // -W: wait for connectivity  NOLINT(runtime/int)
  bool legacy = false;             // --legacy: allow single DES / MD5 / Blowfish
  // HTTPS and timeouts (beyond sscep).
  std::string tls_ca_file;         // --tls-ca-file, TlsCaFile
  bool insecure = false;           // --insecure: no HTTPS server verification
  long timeout_seconds = 120;      // --timeout, Timeout  NOLINT(runtime/int)
  // getca / getnextca.
  std::string ca_identifier;       // -i, CAIdentifier
  std::string fingerprint_alg;     // -F, FingerPrint (default sha256)
  std::string ca_chain_file;       // -C: current chain for getnextca
  // enroll.
  std::string private_key_file;    // -k, PrivateKeyFile
  std::string request_file;        // -r, CertReqFile
  std::string sign_key_file;       // -K, SignKeyFile
  std::string sign_cert_file;      // -O, SignCertFile
  std::string local_cert_file;     // -l, LocalCertFile
  std::string enc_cert_file;       // -e, EncCertFile
  std::string self_signed_file;    // -L, SelfSignedFile
  long poll_interval = 300;        // -t, PollInterval  NOLINT(runtime/int)
  long max_poll_time = 28800;      // -T, MaxPollTime  NOLINT(runtime/int)
  long max_poll_count = 256;       // -n, MaxPollCount  NOLINT(runtime/int)
  bool resume = false;             // -R
  // getcert / getcrl.
  std::string get_cert_serial;     // -s, GetCertSerial (decimal, or hex with colons)
  std::string write_file;          // -w, GetCertFile / GetCrlFile / getnextca signer
  // mkrequest (beyond sscep).
  std::string subject;             // --subject
  std::string alt_names;           // --alt-names
  std::string template_name;       // --template
  std::string challenge;           // --challenge (prefer --challenge-file)
  std::string challenge_file;      // --challenge-file
  int key_size = 2048;             // --key-size
  std::vector<std::string> key_usage;  // --key-usage digitalSignature,keyEncipherment
  std::vector<std::string> ext_key_usage;  // --eku serverAuth,clientAuth,OID
};

// Parses argv (argv[1] is the operation). Returns kInvalidArgument with a
// message naming the bad option or file line.
Result<SscepOptions> ParseSscepArgs(int argc, char** argv);

// Overwrites with '*', in the process's own argv, every argument that is
// `secret` or "--challenge=<secret>", so that ps and /proc/PID/cmdline stop
// showing the challenge once the options are parsed. Until then it was
// visible to every user: --challenge-file keeps it off the command line
// altogether. Does nothing for an empty secret; never fails.
void HideSecretArguments(int argc, char** argv, std::string_view secret) noexcept;

// Applies an sscep configuration file ("Key Value", quotes optional, '#'
// comments) to `options`. Unknown keys are errors naming the line.
Status ApplySscepConfigFile(const std::string& path, SscepOptions& options);

// The usage text printed without arguments or on a usage error.
std::string SscepUsage(const char* program);

// "scepd's sscep VERSION" and the licence line (--version, and the usage's
// first lines).
std::string SscepVersion();

}  // namespace scepd::cli
