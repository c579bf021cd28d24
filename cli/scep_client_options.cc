#include "cli/scep_client_options.h"

#include <array>
#include <charconv>
#include <cstring>
#include <string_view>

#include "cli/tectia/command_word.h"
#include "cli/tectia/key_url.h"
#include "cli/tectia/proxy_url.h"
#include "cli/tectia/subject_names.h"
#include "cli/tectia/usage_names.h"
#include "core/wipe.h"

namespace scepd::cli {
namespace {

constexpr std::array<std::string_view, 3> kCommands = {"GET-CA", "GET-CHAIN", "ENROLL"};

Error Usage(const std::string& message) { return MakeError(ErrorCode::kInvalidArgument, message); }

Result<long> ParsePositive(std::string_view option, std::string_view text) {  // NOLINT(runtime/int)
  long value = 0;  // NOLINT(runtime/int)
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1) {
    return Usage(std::string(option) + " '" + std::string(text) + "': expected a positive number");
  }
  return value;
}

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
  std::vector<std::string> words;
  bool have_socks = false;
  bool have_http = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help" || a == "-help") {
      args.info = ScepClientInfo::kHelp;
      return args;
    }
    if (a == "--version" || a == "-version") {
      args.info = ScepClientInfo::kVersion;
      return args;
    }
    if (a == "-v" || a == "--verbose") {
      ++o.verbosity;
      continue;
    }
    if (a.size() < 2 || a.front() != '-') {
      words.emplace_back(a);
      continue;
    }
    if (i + 1 >= argc) return Usage(std::string(a) + ": needs a value");
    std::string value = argv[++i];
    if (a == "-o") o.output_prefix = value;
    else if (a == "-S") {
      SCEPD_TRY(o.proxy, tectia::SocksProxy(value));
      have_socks = true;
    } else if (a == "-H") {
      SCEPD_TRY(o.proxy, tectia::HttpProxy(value));
      have_http = true;
    } else if (a == "-p") o.psk = value;
    else if (a == "-P") o.key_url = value;
    else if (a == "-C") o.ca_file = value;
    else if (a == "-E") o.ra_encryption_file = value;
    else if (a == "-V") o.ra_signing_file = value;
    else if (a == "-T") o.template_file = value;
    else if (a == "-s") o.subject = value;
    else if (a == "-u") {
      if (tectia::IsHelp(value)) {
        args.info = ScepClientInfo::kKeyUsageHelp;
        return args;
      }
      o.key_usage = value;
    } else if (a == "-U") {
      if (tectia::IsHelp(value)) {
        args.info = ScepClientInfo::kExtKeyUsageHelp;
        return args;
      }
      o.ext_key_usage = value;
    } else if (a == "--poll-interval") {
      SCEPD_TRY(o.poll_interval, ParsePositive(a, value));
    } else if (a == "--max-polls") {
      SCEPD_TRY(o.max_polls, ParsePositive(a, value));
    } else if (a == "--timeout") {
      SCEPD_TRY(o.timeout_seconds, ParsePositive(a, value));
    } else if (a == "--tls-ca-file") {
      o.tls_ca_file = value;
    } else {
      return Usage("unknown option " + std::string(a));
    }
  }
  if (have_socks && have_http) return Usage("-S and -H: give one proxy, not both");
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
  // Checked now, before any network traffic: the whole list, not just
  // whether it is "help".
  if (!o.key_url.empty()) {
    auto url = tectia::ParseKeyUrl(o.key_url);
    if (!url.ok()) return std::move(url).error();
    Wipe(url->passphrase);
    if (!url->ec_curve.empty()) return Usage("-P: SCEP keys are rsa (the CA encrypts to them)");
  }
  if (!o.subject.empty()) {
    if (auto names = tectia::ParseSubjectNames(o.subject); !names.ok()) return std::move(names).error();
  }
  if (!o.key_usage.empty()) {
    if (auto bits = tectia::ParseKeyUsages(o.key_usage); !bits.ok()) return std::move(bits).error();
  }
  if (!o.ext_key_usage.empty()) {
    if (auto ekus = tectia::ParseExtendedKeyUsages(o.ext_key_usage); !ekus.ok()) {
      return std::move(ekus).error();
    }
  }
  return args;
}

void HideScepClientSecrets(int argc, char** argv) noexcept {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "-p") == 0) {
      char* s = argv[i + 1];
      for (std::size_t k = 0; s[k] != '\0'; ++k) s[k] = '*';
      ++i;
    } else if (std::strcmp(argv[i], "-P") == 0) {
      char* s = argv[i + 1];
      tectia::Span span = tectia::PassphraseSpan(s);
      for (std::size_t k = 0; k < span.length; ++k) s[span.first + k] = '*';
      ++i;
    }
  }
}

}  // namespace scepd::cli
