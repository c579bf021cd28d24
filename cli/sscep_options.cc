#include "cli/sscep_options.h"

#include <getopt.h>

#include <charconv>
#include <utility>

#include "core/license.h"
#include "io/files.h"

namespace scepd::cli {

namespace {

Result<long> ParseCount(const std::string& text, const std::string& what) {  // NOLINT
  long v = 0;  // NOLINT(runtime/int)
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || v < 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     what + ": '" + text + "' is not a non-negative number");
  }
  return v;
}

Result<bool> ParseYesNo(const std::string& text, const std::string& what) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "yes" || t == "true" || t == "1" || t == "on") return true;
  if (t == "no" || t == "false" || t == "0" || t == "off") return false;
  return MakeError(ErrorCode::kInvalidArgument, what + ": '" + text + "' is not yes or no");
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    if (!item.empty()) out.push_back(item);
    pos = comma + 1;
  }
  return out;
}

enum LongOption : int {
  kOptLegacy = 1000,
  kOptTlsCaFile,
  kOptInsecure,
  kOptTimeout,
  kOptSubject,
  kOptAltNames,
  kOptTemplate,
  kOptChallenge,
  kOptChallengeFile,
  kOptKeySize,
  kOptKeyUsage,
  kOptEku,
  kOptHelp,
  kOptVersion,
};

// Applies one option (short letter or long id) to `o`.
Status ApplyOption(int opt, const std::string& arg, SscepOptions& o) {
  switch (opt) {
    case 'u': o.url = arg; break;
    case 'p': o.proxy = arg; break;
    case 'f': break;  // handled before the others
    case 'c': o.ca_cert_file = arg; break;
    case 'C': o.ca_chain_file = arg; break;
    case 'E': o.enc_algorithm = arg; break;
    case 'S': o.sig_algorithm = arg; break;
    case 'v': o.verbosity = std::max(o.verbosity, 1); break;
    case 'd': o.verbosity = 2; break;
    case 'g': o.engine = arg; break;
    case 'W': { SCEPD_TRY(o.wait_seconds, ParseCount(arg, "-W")); break; }
    case 'i': o.ca_identifier = arg; break;
    case 'F': o.fingerprint_alg = arg; break;
    case 'k': o.private_key_file = arg; break;
    case 'r': o.request_file = arg; break;
    case 'K': o.sign_key_file = arg; break;
    case 'O': o.sign_cert_file = arg; break;
    case 'l': o.local_cert_file = arg; break;
    case 'e': o.enc_cert_file = arg; break;
    case 'L': o.self_signed_file = arg; break;
    case 't': { SCEPD_TRY(o.poll_interval, ParseCount(arg, "-t")); break; }
    case 'T': { SCEPD_TRY(o.max_poll_time, ParseCount(arg, "-T")); break; }
    case 'n': { SCEPD_TRY(o.max_poll_count, ParseCount(arg, "-n")); break; }
    case 'R': o.resume = true; break;
    case 's': o.get_cert_serial = arg; break;
    case 'w': o.write_file = arg; break;
    case kOptLegacy: o.legacy = true; break;
    case kOptTlsCaFile: o.tls_ca_file = arg; break;
    case kOptInsecure: o.insecure = true; break;
    case kOptTimeout: { SCEPD_TRY(o.timeout_seconds, ParseCount(arg, "--timeout")); break; }
    case kOptSubject: o.subject = arg; break;
    case kOptAltNames: o.alt_names = arg; break;
    case kOptTemplate: o.template_name = arg; break;
    case kOptChallenge: o.challenge = arg; break;
    case kOptChallengeFile: o.challenge_file = arg; break;
    case kOptKeySize: {
      SCEPD_TRY(long bits, ParseCount(arg, "--key-size"));  // NOLINT(runtime/int)
      o.key_size = static_cast<int>(bits);
      break;
    }
    case kOptKeyUsage: o.key_usage = SplitComma(arg); break;
    case kOptEku: o.ext_key_usage = SplitComma(arg); break;
    default:
      return MakeError(ErrorCode::kInvalidArgument, "unknown option");
  }
  return {};
}

struct FileKey {
  const char* name;
  int opt;
  bool boolean;
};

constexpr FileKey kFileKeys[] = {
    {"URL", 'u', false},
    {"Proxy", 'p', false},
    {"CACertFile", 'c', false},
    {"CAIdentifier", 'i', false},
    {"CertReqFile", 'r', false},
    {"Debug", 'd', true},
    {"Verbose", 'v', true},
    {"EncAlgorithm", 'E', false},
    {"SigAlgorithm", 'S', false},
    {"EncCertFile", 'e', false},
    {"SignCertFile", 'O', false},
    {"SignKeyFile", 'K', false},
    {"FingerPrint", 'F', false},
    {"GetCertFile", 'w', false},
    {"GetCrlFile", 'w', false},
    {"GetCertSerial", 's', false},
    {"LocalCertFile", 'l', false},
    {"MaxPollCount", 'n', false},
    {"MaxPollTime", 'T', false},
    {"PollInterval", 't', false},
    {"PrivateKeyFile", 'k', false},
    {"SelfSignedFile", 'L', false},
    {"Resume", 'R', true},
    {"WaitForConnectivity", 'W', false},
    {"TlsCaFile", kOptTlsCaFile, false},
    {"Insecure", kOptInsecure, true},
    {"Timeout", kOptTimeout, false},
    {"LegacyCiphers", kOptLegacy, true},
};

constexpr char kShortOptions[] = "u:p:f:c:C:E:S:vdg:W:i:F:k:r:K:O:l:e:L:t:T:n:Rs:w:h";

const struct option kLongOptions[] = {
    {"legacy", no_argument, nullptr, kOptLegacy},
    {"tls-ca-file", required_argument, nullptr, kOptTlsCaFile},
    {"insecure", no_argument, nullptr, kOptInsecure},
    {"timeout", required_argument, nullptr, kOptTimeout},
    {"subject", required_argument, nullptr, kOptSubject},
    {"alt-names", required_argument, nullptr, kOptAltNames},
    {"template", required_argument, nullptr, kOptTemplate},
    {"challenge", required_argument, nullptr, kOptChallenge},
    {"challenge-file", required_argument, nullptr, kOptChallengeFile},
    {"key-size", required_argument, nullptr, kOptKeySize},
    {"key-usage", required_argument, nullptr, kOptKeyUsage},
    {"eku", required_argument, nullptr, kOptEku},
    {"help", no_argument, nullptr, kOptHelp},
    {"version", no_argument, nullptr, kOptVersion},
    {nullptr, 0, nullptr, 0},
};

}  // namespace

Status ApplySscepConfigFile(const std::string& path, SscepOptions& options) {
  SCEPD_TRY(std::string text, ReadFileText(path, 1u << 20));
  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const std::string where = path + ":" + std::to_string(line_no);
    auto key_end = line.find_first_of(" \t=", first);
    std::string key = line.substr(first, key_end == std::string::npos ? std::string::npos
                                                                      : key_end - first);
    if (key.size() >= 2 && key.front() == '"' && key.back() == '"') key = key.substr(1, key.size() - 2);
    std::string rest = key_end == std::string::npos ? "" : line.substr(key_end);
    auto vstart = rest.find_first_not_of(" \t=");
    rest = vstart == std::string::npos ? "" : rest.substr(vstart);
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.pop_back();
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      bool closed = false;
      for (std::size_t i = 1; i < rest.size(); ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) {
          value += rest[++i];
        } else if (rest[i] == '"') {
          closed = true;
          break;
        } else {
          value += rest[i];
        }
      }
      if (!closed) return MakeError(ErrorCode::kInvalidArgument, where + ": " + key + ": unterminated quote");
    } else {
      value = rest;
    }
    const FileKey* match = nullptr;
    for (const auto& k : kFileKeys) {
      if (key == k.name) match = &k;
    }
    if (match == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument, where + ": unknown key '" + key + "'");
    }
    if (match->boolean) {
      auto yes = ParseYesNo(value, where + ": " + key);
      if (!yes.ok()) return std::move(yes).error();
      if (!*yes) continue;
    } else if (value.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, where + ": " + key + ": value missing");
    }
    auto st = ApplyOption(match->opt, value, options);
    if (!st.ok()) {
      return MakeError(ErrorCode::kInvalidArgument, where + ": " + key + ": " + st.error().message);
    }
  }
  return {};
}

Result<SscepOptions> ParseSscepArgs(int argc, char** argv) {
  if (argc < 2) return MakeError(ErrorCode::kInvalidArgument, "missing operation");
  SscepOptions o;
  const std::string op = argv[1];
  if (op == "--version") return MakeError(ErrorCode::kInvalidArgument, "version");
  if (op == "getca") o.operation = Operation::kGetCa;
  else if (op == "getnextca") o.operation = Operation::kGetNextCa;
  else if (op == "getcaps") o.operation = Operation::kGetCaps;
  else if (op == "enroll") o.operation = Operation::kEnroll;
  else if (op == "getcert") o.operation = Operation::kGetCert;
  else if (op == "getcrl") o.operation = Operation::kGetCrl;
  else if (op == "mkrequest") o.operation = Operation::kMkRequest;
  else return MakeError(ErrorCode::kInvalidArgument, "unknown operation '" + op + "'");

  // Collect first so the configuration file can be applied before the
  // command line overrides it.
  std::vector<std::pair<int, std::string>> given;
  std::string config_file;
  optind = 2;
  opterr = 0;
  int opt;
  while ((opt = getopt_long(argc, argv, kShortOptions, kLongOptions, nullptr)) != -1) {
    if (opt == '?' || opt == ':') {
      std::string name = optopt > 0 && optopt < 256 ? std::string("-") + static_cast<char>(optopt)
                                                    : std::string(argv[optind - 1]);
      return MakeError(ErrorCode::kInvalidArgument,
                       "option " + name + (opt == ':' ? " needs a value" : " is unknown or needs a value"));
    }
    if (opt == 'h' || opt == kOptHelp) return MakeError(ErrorCode::kInvalidArgument, "help");
    if (opt == kOptVersion) return MakeError(ErrorCode::kInvalidArgument, "version");
    if (opt == 'f') config_file = optarg;
    given.emplace_back(opt, optarg != nullptr ? optarg : "");
  }
  if (optind < argc) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("unexpected argument '") + argv[optind] + "'");
  }
  if (!config_file.empty()) SCEPD_TRY_STATUS(ApplySscepConfigFile(config_file, o));
  for (const auto& [g, value] : given) SCEPD_TRY_STATUS(ApplyOption(g, value, o));
  return o;
}

std::string SscepVersion() {
  return std::string("scepd's sscep " SCEPD_VERSION "\nLicense: ") + kLicense + "\n";
}

std::string SscepUsage(const char* program) {
  std::string p = program;
  return SscepVersion() + "\n"
         "Usage: " + p + " OPERATION [OPTIONS]\n\n"
         "Available OPERATIONs are\n"
         "  getca             Get CA/RA certificate(s)\n"
         "  getnextca         Get next CA/RA certificate(s)\n"
         "  getcaps           Query SCEP capabilities\n"
         "  enroll            Enroll certificate\n"
         "  getcert           Query certificate\n"
         "  getcrl            Query CRL\n"
         "  mkrequest         Make a private key and certificate request\n\n"
         "General OPTIONS\n"
         "  -u <url>          SCEP server URL\n"
         "  -p <host:port>    Use proxy server at host:port (or http://host:port)\n"
         "  -g <engine>       Use the given cryptographic engine (not supported)\n"
         "  -f <file>         Use configuration file\n"
         "  -c <file>         CA certificate file or '-n' suffixed files (written by getca)\n"
         "  -E <name>         PKCS#7 encryption algorithm (des|3des|blowfish|aes[128]|aes192|aes256)\n"
         "  -S <name>         PKCS#7 signature algorithm (md5|sha1|sha224|sha256|sha384|sha512)\n"
         "  -W <secs>         Wait for connectivity, up to <secs> seconds\n"
         "  -v                Verbose output (for debugging the configuration)\n"
         "  -d                Debug output (more verbose, for debugging the implementation)\n"
         "  --legacy          Allow single DES, Blowfish and MD5\n"
         "  --tls-ca-file <f> CA bundle to verify an HTTPS server\n"
         "  --insecure        Do not verify the HTTPS server\n"
         "  --timeout <secs>  Total time allowed for one HTTP request (default 120)\n\n"
         "OPTIONS for OPERATION getca are\n"
         "  -i <string>       CA identifier string\n"
         "  -F <name>         Fingerprint algorithm (md5|sha1|sha224|sha256|sha384|sha512)\n\n"
         "OPTIONS for OPERATION getnextca are\n"
         "  -C <file>         Current CA certificate chain (PEM) to verify the answer\n"
         "  -c <file>         Write the next CA certificate(s) to file (or '-n' suffixed files)\n"
         "  -F <name>         Fingerprint algorithm\n"
         "  -w <file>         Write the signer certificate to file\n\n"
         "OPTIONS for OPERATION enroll are\n"
         "  -k <file>         Private key file\n"
         "  -r <file>         Certificate request file\n"
         "  -K <file>         Signature private key file, use with -O\n"
         "  -O <file>         Signature certificate (used instead of self-signed)\n"
         "  -l <file>         Write enrolled certificate in file\n"
         "  -e <file>         Use different CA cert for encryption\n"
         "  -L <file>         Write selfsigned certificate in file\n"
         "  -t <secs>         Polling interval in seconds (default 300)\n"
         "  -T <secs>         Max polling time in seconds (default 28800)\n"
         "  -n <count>        Max number of GetCertInitial requests (default 256)\n"
         "  -R                Resume interrupted enrollment\n\n"
         "OPTIONS for OPERATION getcert are\n"
         "  -k <file>         Private key file\n"
         "  -l <file>         Local certificate file\n"
         "  -s <number>       Certificate serial number (decimal, or hex with colons)\n"
         "  -w <file>         Write certificate in file\n\n"
         "OPTIONS for OPERATION getcrl are\n"
         "  -k <file>         Private key file\n"
         "  -l <file>         Local certificate file\n"
         "  -w <file>         Write CRL in file\n\n"
         "OPTIONS for OPERATION mkrequest are\n"
         "  -k <file>         Write the new private key (mode 0600)\n"
         "  -r <file>         Write the certificate request\n"
         "  --subject <dn>    Subject, /type0=value0/type1=value1/...\n"
         "  --alt-names <l>   DNS:..,IP:..,email:..,URI:..,RID:..,dirName:..,otherName:OID;UTF8:..\n"
         "  --template <name> Microsoft certificate template extension\n"
         "  --challenge <pw>  Challenge password (or --challenge-file <file>)\n"
         "  --key-size <bits> RSA key size (default 2048)\n"
         "  --key-usage <l>   digitalSignature,keyEncipherment\n"
         "  --eku <list>      serverAuth,clientAuth, other names or dotted OIDs\n\n"
         "Exit codes: 0 success, 1 error, 2 failure, 3 pending, 70-74 failInfo\n"
         "(badAlg, badMessageCheck, badRequest, badTime, badCertId), 89 timeout,\n"
         "91 self-signed error, 93 file error, 95 network error, 97 PKCS#7 error.\n";
}

void HideSecretArguments(int argc, char** argv, std::string_view secret) noexcept {
  if (secret.empty()) return;
  constexpr std::string_view kInline = "--challenge=";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::size_t from = 0;
    if (arg == secret) {
      from = 0;
    } else if (arg.size() == kInline.size() + secret.size() && arg.substr(0, kInline.size()) == kInline &&
               arg.substr(kInline.size()) == secret) {
      from = kInline.size();
    } else {
      continue;
    }
    for (std::size_t j = from; j < arg.size(); ++j) argv[i][j] = '*';
  }
}

}  // namespace scepd::cli
