#include "cli/est_client_options.h"

#include <charconv>
#include <map>

namespace scepd::cli {
namespace {

Result<long> Number(const std::string& option, const std::string& text,  // NOLINT(runtime/int)
                    long low, long high) {                                // NOLINT(runtime/int)
  long value = 0;  // NOLINT(runtime/int)
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    return MakeError(ErrorCode::kInvalidArgument,
                     option + ": expected a number from " + std::to_string(low) + " to " +
                         std::to_string(high));
  }
  return value;
}

}  // namespace

Result<EstClientOptions> ParseEstClientArgs(const std::vector<std::string>& args) {
  EstClientOptions o;
  std::map<std::string, std::string*> text = {
      {"--url", &o.url},         {"--label", &o.label},
      {"--cacert", &o.cacert},   {"--pin-sha256", &o.pin_sha256},
      {"--user", &o.user},       {"--password-file", &o.password_file},
      {"--cert", &o.cert},       {"--key", &o.key},
      {"--csr", &o.csr},         {"--subject", &o.subject},
      {"--alt-names", &o.alt_names}, {"--challenge-file", &o.challenge_file},
      {"--key-type", &o.key_type}, {"--curve", &o.curve},
      {"--newkey", &o.newkey},   {"--out", &o.out},
      {"--chain", &o.chain},
  };
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") return MakeError(ErrorCode::kInvalidArgument, "help");
    if (a == "-V" || a == "--version") return MakeError(ErrorCode::kInvalidArgument, "version");
    if (a == "-v" || a == "--verbose") {
      ++o.verbosity;
      continue;
    }
    if (a == "--use-csrattrs") {
      o.use_csrattrs = true;
      continue;
    }
    if (a == "--encrypted-key") {
      o.encrypted_key = true;
      continue;
    }
    if (a == "--password" || a == "--challenge") {
      return MakeError(ErrorCode::kInvalidArgument,
                       a + ": secrets are not taken on the command line (use " +
                           (a == "--password" ? "--password-file" : "--challenge-file") + ")");
    }
    if (a.rfind("--", 0) == 0) {
      std::string name = a;
      std::string value;
      const std::size_t eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return MakeError(ErrorCode::kInvalidArgument, a + ": missing value");
      }
      if (auto it = text.find(name); it != text.end()) {
        *it->second = value;
      } else if (name == "--key-size") {
        SCEPD_TRY(o.key_size, Number(name, value, 1024, 16384));
      } else if (name == "--wait") {
        SCEPD_TRY(o.wait_s, Number(name, value, 0, 86400));
      } else if (name == "--timeout") {
        SCEPD_TRY(o.timeout_s, Number(name, value, 1, 3600));
      } else {
        return MakeError(ErrorCode::kInvalidArgument, "unknown option " + name);
      }
      continue;
    }
    if (!o.command.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "unexpected argument '" + a + "'");
    }
    o.command = a;
  }
  static const char* const kCommands[] = {"cacerts", "csrattrs", "enroll", "reenroll",
                                          "serverkeygen"};
  bool known = false;
  for (const char* c : kCommands) known = known || o.command == c;
  if (!known) {
    return MakeError(ErrorCode::kInvalidArgument,
                     o.command.empty() ? "no command given" : "unknown command " + o.command);
  }
  if (o.url.empty()) return MakeError(ErrorCode::kInvalidArgument, "--url is required");
  if (o.cacert.empty() && o.pin_sha256.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a trust anchor is required: --cacert FILE, or --pin-sha256 for cacerts "
                     "(the server is never trusted blindly)");
  }
  if (!o.pin_sha256.empty() && o.command != "cacerts") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--pin-sha256 bootstraps cacerts only; then use --cacert with its result");
  }
  if (!o.pin_sha256.empty() && !o.cacert.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "give --cacert or --pin-sha256, not both");
  }
  if (!o.cert.empty() && o.key.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--cert needs its --key");
  }
  if (!o.key.empty() && o.cert.empty() && o.command != "enroll") {
    return MakeError(ErrorCode::kInvalidArgument, "--key goes with --cert (a TLS client pair)");
  }
  if (!o.password_file.empty() && o.user.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--password-file needs --user");
  }
  if (!o.key_type.empty() && o.key_type != "rsa" && o.key_type != "ec") {
    return MakeError(ErrorCode::kInvalidArgument, "--key-type: rsa or ec");
  }
  if (o.command == "reenroll" && o.cert.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "reenroll needs the current pair: --cert FILE --key FILE");
  }
  if ((o.command == "enroll" || o.command == "reenroll" || o.command == "serverkeygen" ||
       o.command == "cacerts") &&
      o.out.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, o.command + " needs --out FILE");
  }
  if (o.command == "enroll" && o.key.empty() && o.csr.empty() && o.newkey.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "enroll needs --key FILE (an existing key) or --newkey FILE (for a new one)");
  }
  if (o.command == "enroll" && !o.csr.empty() && o.key.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--csr needs --key (the request's key)");
  }
  if (o.command == "enroll" && o.csr.empty() && o.subject.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "enroll needs --subject or --csr");
  }
  if (o.command == "serverkeygen" && (o.newkey.empty() || o.subject.empty())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "serverkeygen needs --subject and --newkey FILE (the key the server makes)");
  }
  if (o.encrypted_key && o.command != "serverkeygen") {
    return MakeError(ErrorCode::kInvalidArgument, "--encrypted-key goes with serverkeygen");
  }
  if (o.encrypted_key && o.cert.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--encrypted-key needs the pair whose key decrypts it: --cert FILE --key FILE");
  }
  return o;
}

std::string EstClientUsage(const std::string& program) {
  return "usage: " + program +
         " COMMAND --url https://HOST[:PORT] [options]\n"
         "commands:\n"
         "  cacerts       fetch the CA certificates (--out FILE)\n"
         "  csrattrs      show what the CA wants in a request\n"
         "  enroll        first enrollment (--subject, --key or --newkey, --out)\n"
         "  reenroll      renewal with the current pair (--cert, --key, --out)\n"
         "  serverkeygen  the server makes the key (--subject, --newkey, --out)\n"
         "options:\n"
         "  --url URL             server, optionally ending in /.well-known/est\n"
         "  --label NAME          CA label (/.well-known/est/NAME/...)\n"
         "  --cacert FILE         trust anchors for the server's TLS certificate\n"
         "  --pin-sha256 HEX      cacerts only: bootstrap trust by the CA's fingerprint\n"
         "  --user NAME           HTTP Basic user\n"
         "  --password-file FILE  its password (first line; - reads standard input)\n"
         "  --cert FILE --key FILE  TLS client certificate and key\n"
         "  --csr FILE            send this request as it is\n"
         "  --subject /CN=..      --alt-names DNS:..,IP:..  --challenge-file FILE\n"
         "  --key-type rsa|ec     --key-size BITS  --curve P-256|P-384|P-521\n"
         "  --newkey FILE         where a new key is written (0600)\n"
         "  --out FILE            certificate(s), PEM    --chain FILE  the rest, PEM\n"
         "  --use-csrattrs        follow /csrattrs (key type, curve, size, digest)\n"
         "  --encrypted-key       serverkeygen: the key CMS-encrypted to the --cert pair\n"
         "  --wait SECONDS        keep polling a pending (202) request this long\n"
         "  --timeout SECONDS     per request (default 60)\n"
         "  -v                    more detail\n"
         "  -V, --version         the version and the licence\n"
         "exit codes: 0 done, 1 usage or bad input, 2 rejected, 3 pending, 4 authentication\n"
         "failed, 89 timeout, 93 file error, 95 network/TLS/HTTP error, 97 bad EST answer\n";
}

}  // namespace scepd::cli
