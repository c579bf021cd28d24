#include "cli/scep_client_options.h"

#include <array>
#include <cstring>
#include <string_view>

#include "cli/tectia/command_word.h"
#include "cli/tectia/request_options.h"

namespace scepd::cli {
namespace {

constexpr std::array<std::string_view, 3> kCommands = {"GET-CA", "GET-CHAIN", "ENROLL"};

Error Usage(const std::string& message) { return MakeError(ErrorCode::kInvalidArgument, message); }

}  // namespace

std::string ScepClientUsage(const char* program) {
  std::string p = program;
  return "Usage: " + p + " command [options] access [name]\n"
         "\n"
         "Commands (any case; unique abbreviations longer than three letters):\n"
         "  GET-CA [name]            get the CA/RA certificates, print their fingerprints\n"
         "  GET-CHAIN [name]         get the certificate chain up to the top-level CA\n"
         "  ENROLL psk keypair template\n"
         "                           enroll for a certificate\n"
         "\n"
         "Options:\n"
         "  -o prefix                save results as prefix-N.ca / prefix-N.crt\n"
         "  -S socks://[user@]server[:port]   reach the CA through a SOCKS server\n"
         "  -H http://server[:port]/          reach the CA through an HTTP proxy\n"
         "  psk      -p key          challenge password\n"
         "  keypair  -P url          key file, or generate://savetype[:passphrase]@rsa:bits/prefix\n"
         "                           (savetype pkcs1, pkcs8 or pkcs8s)\n"
         "  ca       -C file         CA certificate\n"
         "           -E file         RA encryption certificate\n"
         "           -V file         RA signing (validation) certificate\n"
         "  template -T file         certificate to take subject and extensions from\n"
         "           -s subject-ldap[;type=value]...   types ip, email, dn, dns, uri, rid\n"
         "           -u key-usage-name[;key-usage-name]...   (-u help lists them)\n"
         "           -U extended-key-usage-name[;...]        (-U help lists them)\n"
         "  access   URL of the CA (http://[IPv6-address]:port/path for IPv6)\n"
         "\n"
         "  --poll-interval seconds  wait between polls while PENDING (default 60)\n"
         "  --max-polls count        polls before giving up, exit 3 (default 60)\n"
         "  --timeout seconds        bound of each HTTP request (default 120)\n"
         "  --tls-ca-file file       CA certificates for an https:// access URL\n"
         "  -v                       verbose\n"
         "  -h, --help               this text;  --version  the version\n";
}

Result<ScepClientArgs> ParseScepClientArgs(int argc, char** argv) {
  ScepClientArgs args;
  ScepClientOptions& o = args.options;
  constexpr std::array<std::string_view, 7> kFlags = {"-h", "--help", "-help", "--version", "-version",
                                                      "-v", "--verbose"};
  auto own = [&](std::string_view a, std::string* value) -> Result<tectia::Own> {
    if (a == "-h" || a == "--help" || a == "-help") {
      args.info = ScepClientInfo::kHelp;
      return tectia::Own::kStop;
    }
    if (a == "--version" || a == "-version") {
      args.info = ScepClientInfo::kVersion;
      return tectia::Own::kStop;
    }
    if (value == nullptr) {  // -v, --verbose
      ++o.verbosity;
    } else if (a == "-p") {
      o.psk = std::move(*value);
    } else if (a == "-E") {
      o.ra_encryption_file = *value;
    } else if (a == "-V") {
      o.ra_signing_file = *value;
    } else if (a == "--poll-interval") {
      SCEPD_TRY(o.poll_interval, tectia::ParsePositiveNumber(a, *value));
    } else {
      return tectia::Own::kUnknown;
    }
    return tectia::Own::kTaken;
  };
  SCEPD_TRY(std::vector<std::string> words, tectia::ReadArguments(argc, argv, kFlags, o, own));
  if (args.info != ScepClientInfo::kNone || o.help_list != tectia::HelpList::kNone) return args;
  if (words.empty()) return Usage("no command given");
  SCEPD_TRY(std::size_t index, tectia::MatchCommand(words[0], kCommands));
  o.command = static_cast<ScepClientCommand>(index);
  if (words.size() < 2) return Usage(std::string(kCommands[index]) + ": no access URL given");
  o.access = words[1];
  if (words.size() > 3) return Usage("unexpected argument '" + words[3] + "'");
  if (words.size() == 3) {
    if (o.command == ScepClientCommand::kEnroll) {
      return Usage("ENROLL takes no CA name: unexpected argument '" + words[2] + "'");
    }
    o.name = words[2];
  }
  // Checked now, before any network traffic: the whole lists, not just
  // whether one is "help". SCEP encrypts the reply to the key: rsa only.
  SCEPD_TRY_STATUS(tectia::CheckRequestOptions(o, tectia::KeyTypes::kRsa));
  return args;
}

void HideScepClientSecrets(int argc, char** argv) noexcept {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "-p") == 0) {
      char* s = argv[i + 1];
      for (std::size_t k = 0; s[k] != '\0'; ++k) s[k] = '*';
      ++i;
    } else if (std::strcmp(argv[i], "-P") == 0) {
      tectia::MaskKeyUrlPassphrase(argv[i + 1]);
      ++i;
    }
  }
}

}  // namespace scepd::cli
