#include "cli/cmp_client_options.h"

#include <array>
#include <cstring>
#include <string_view>
#include <vector>

#include "cli/tectia/command_word.h"
#include "cli/tectia/key_url.h"
#include "cli/tectia/request_options.h"
#include "cli/tectia/subject_names.h"
#include "cli/tectia/usage_names.h"
#include "core/wipe.h"
#include "io/files.h"

namespace scepd::cli {
namespace {

constexpr std::array<std::string_view, 7> kCommands = {"INITIALIZE", "ENROLL", "UPDATE", "POLL",
                                                       "REVOKE",     "TUNNEL", "RECOVER"};
// OpenSSL 3.0 sends PBM with this iteration count and has no option for another.
constexpr long kPbmIterations = 500;  // NOLINT(runtime/int)

Error Usage(const std::string& message) { return MakeError(ErrorCode::kInvalidArgument, message); }
Error Unsupported(const std::string& message) { return MakeError(ErrorCode::kUnsupported, message); }

// Whether the words the command needs were given: psk, certs or racerts.
Status CheckAuth(const CmpClientOptions& o, bool psk_allowed, bool certs_allowed) {
  const std::string cmd(kCommands[static_cast<std::size_t>(o.command)]);
  const bool psk = !o.psk.empty();
  const bool certs = !o.cert_file.empty();
  const bool ra = !o.ra_cert_file.empty();
  if (certs && ra) return Usage(cmd + ": give -c (certs) or -R (racerts), not both");
  if ((certs || ra) && o.auth_key_url.empty()) return Usage(cmd + ": -c and -R need the key (-k url)");
  if (!o.auth_key_url.empty() && !certs && !ra) return Usage(cmd + ": -k needs -c or -R");
  if (psk && (certs || ra)) return Usage(cmd + ": give -p or a certificate (-c/-R), not both");
  if (psk && !psk_allowed) return Usage(cmd + " takes no -p: it is authenticated with a certificate");
  if (certs && !certs_allowed) return Usage(cmd + " takes no -c: use -R (an RA certificate)");
  if (!psk && !certs && !ra) {
    std::string want = psk_allowed ? "-p refnum:key" : "";
    if (certs_allowed) want += std::string(want.empty() ? "" : ", ") + "-c file -k url";
    return Usage(cmd + ": no authentication given (" + want + (want.empty() ? "" : " or ") +
                 "-R file -k url)");
  }
  return {};
}

// cmp-client's options without a value (ReadArguments' flags).
Result<tectia::Own> OwnFlag(std::string_view a, CmpClientArgs& args) {
  if (a == "-h" || a == "--help" || a == "-help") {
    args.info = CmpClientInfo::kHelp;
  } else if (a == "--version") {
    args.info = CmpClientInfo::kVersion;
  } else if (a == "-F") {
    args.info = CmpClientInfo::kFlagHelp;
  } else if (a == "-e") {
    args.info = CmpClientInfo::kExamples;
  } else if (a == "-B") {
    return Unsupported("-B (key backup) is not possible: OpenSSL has no API for the archive "
                       "options (PKIArchiveOptions) a backup request carries");
  } else if (a == "-E") {
    args.options.pop_by_encryption = true;
  } else if (a == "-y") {
    args.options.yes = true;
  } else if (a == "--verbose") {
    ++args.options.verbosity;
  } else {  // --unprotected-errors
    args.options.unprotected_errors = true;
  }
  return args.info == CmpClientInfo::kNone ? tectia::Own::kTaken : tectia::Own::kStop;
}

}  // namespace

std::string CmpClientUsage(const char* program) {
  std::string p = program;
  return "Usage: " + p + " command [options] access [name]\n"
         "\n"
         "Commands (any case; unique abbreviations longer than three letters):\n"
         "  INITIALIZE psk|racerts keypair template   initial certificate (ir)\n"
         "  ENROLL certs|racerts keypair template     another certificate (cr)\n"
         "  UPDATE certs [keypair]                    renew a certificate (kur)\n"
         "  REVOKE psk|certs|racerts template         revoke a certificate (rr)\n"
         "  TUNNEL racerts template                   RA: send an end entity's request (cr, raVerified)\n"
         "  POLL, RECOVER                             refused (see below)\n"
         "\n"
         "  psk      -p refnum:key | -p file   reference number and secret (the file form keeps\n"
         "                                     the secret out of the process list)\n"
         "           -i 500                    PBM iteration count (OpenSSL sends 500, only)\n"
         "  certs    -c file -k url            current certificate and its key\n"
         "  racerts  -R file -k url            RA certificate and its key\n"
         "  keypair  -P url                    key file, or generate://savetype[:passphrase]@rsa:bits/prefix\n"
         "                                     or ...@ec:P-256/prefix (savetype pkcs1, pkcs8, pkcs8s)\n"
         "  template -T file                   certificate (TUNNEL: PKCS#10 request) to start from\n"
         "           -s subject-ldap[;type=value]...   types ip, email, dn, dns, uri, rid\n"
         "           -u key-usage-name[;...]   -U extended-key-usage-name[;...]   (help lists them)\n"
         "  access   http://host:port/path (IPv6 in brackets);  name  the CA's name, if no -C\n"
         "\n"
         "  -o prefix      save the certificate as prefix-0.crt, the CA certificates as prefix-N.ca\n"
         "  -O filename    save the certificate there (the CA certificates are not saved)\n"
         "  -C file        CA certificate (verifies answers and the issued certificate)\n"
         "  -S socks://[user@]server[:port]   -H http://server[:port]/   proxy to the CA\n"
         "  -E             proof of possession by encryption (needs -C)\n"
         "  -v 2           CMP version (2 only)\n"
         "  -y             accept the certificate without asking\n"
         "  -N file        stir a file into the random pool\n"
         "  -h  this text;  -F  key usages and key types;  -e  examples;  --version\n"
         "  --unprotected-errors   accept (and show) error answers without protection\n"
         "  --max-polls count      polls while the CA says waiting (default 60)\n"
         "  --timeout seconds      bound of each HTTP request (default 120)\n"
         "  --tls-ca-file file     CA certificates for an https:// access URL\n"
         "  --verbose              say what is done\n"
         "\n"
         "Refused before anything is sent (OpenSSL 3.0 cannot): RECOVER (key recovery), -B (key\n"
         "backup), -v 1 (CMPv1), -i other than 500, savetypes ssh1/ssh2/ssh/x509, tcp:// access,\n"
         "POLL (a waiting request is polled by the run that sent it).\n"
         "\n"
         "Exit status: 0 done; 1 usage, bad input or refused; 2 rejected by the CA; 3 still\n"
         "waiting after --max-polls; 4 certificate declined at the prompt; 89 network timeout;\n"
         "93 file error; 95 network or HTTP error; 97 the answer is malformed or fails its\n"
         "checks (wrong secret, CA not matching -C, unprotected error).\n";
}

std::string CmpClientFlagHelp() {
  return tectia::KeyUsageHelp() + "\n" + tectia::ExtendedKeyUsageHelp() +
         "\nKey types (-P generate://savetype[:passphrase]@type/prefix):\n"
         "  rsa:BITS     RSA, 1024 to 16384 bits\n"
         "  ec:CURVE     EC on P-256, P-384 or P-521\n"
         "Savetypes: pkcs1 (PKCS#1 / SEC 1 PEM), pkcs8 (plain PKCS#8 PEM), pkcs8s (PKCS#8\n"
         "encrypted with the passphrase).\n";
}

std::string CmpClientExamples(const char* program) {
  std::string p = program;
  return "Initial certificate with a reference number and secret (the secret in a file):\n"
         "  " + p + " INITIALIZE -P generate://pkcs8@rsa:2048/initial -o initial \\\n"
         "     -p refnum.txt -s 'C=FI,O=SSH,CN=Example/initial;ip=192.0.2.1' -u digitalsignature \\\n"
         "     http://ca.example:8080/pkix/ 'C=FI, O=SSH, CN=Test CA 1'\n"
         "Another certificate, authenticated with the first:\n"
         "  " + p + " ENROLL -P generate://pkcs8@ec:P-256/encryption -o encryption \\\n"
         "     -c initial-0.crt -k initial.prv -s 'C=FI,O=SSH,CN=Example/encryption' \\\n"
         "     -u keyencipherment -C ca.crt http://ca.example:8080/pkix/\n"
         "Key update:\n"
         "  " + p + " UPDATE -c initial-0.crt -k initial.prv -P generate://pkcs8@rsa:2048/updated \\\n"
         "     -o updated -C ca.crt http://ca.example:8080/pkix/\n"
         "Revocation:\n"
         "  " + p + " REVOKE -c initial-0.crt -k initial.prv -T initial-0.crt -C ca.crt \\\n"
         "     http://ca.example:8080/pkix/\n"
         "RA tunnel (an end entity's PKCS#10 request, approved by the RA):\n"
         "  " + p + " TUNNEL -R ra.crt -k ra.prv -T ee.req -o ee -C ca.crt http://ca.example:8080/pkix/\n";
}

Result<CmpClientArgs> ParseCmpClientArgs(int argc, char** argv) {
  CmpClientArgs args;
  CmpClientOptions& o = args.options;
  std::string poll_id;
  constexpr std::array<std::string_view, 10> kFlags = {"-h", "--help", "-help", "--version", "-F",
                                                       "-e", "-B",     "-E",    "-y",        "--unprotected-errors"};
  auto own = [&](std::string_view a, std::string* value) -> Result<tectia::Own> {
    if (value == nullptr) return OwnFlag(a, args);
    if (a == "-p") {
      o.psk = std::move(*value);
    } else if (a == "-i") {
      SCEPD_TRY(long count, tectia::ParsePositiveNumber(a, *value));  // NOLINT(runtime/int)
      if (count != kPbmIterations) {
        return Unsupported("-i " + *value + ": OpenSSL 3.0 protects requests with a PBM iteration "
                           "count of 500 and has no option for another; give -i 500 or leave it out");
      }
    } else if (a == "-c") {
      o.cert_file = *value;
    } else if (a == "-R") {
      o.ra_cert_file = *value;
    } else if (a == "-k") {
      o.auth_key_url = std::move(*value);
    } else if (a == "-I") {
      poll_id = *value;
    } else if (a == "-O") {
      o.output_file = *value;
    } else if (a == "-v") {
      if (*value == "1") {
        return Unsupported("-v 1: CMP version 1 (RFC 2510) is not possible: OpenSSL speaks CMPv2 "
                           "only; leave -v out or give -v 2");
      }
      if (*value != "2") return Usage("-v '" + *value + "': the CMP version is 1 or 2");
    } else if (a == "-N") {
      o.entropy_file = *value;
    } else {
      return tectia::Own::kUnknown;
    }
    return tectia::Own::kTaken;
  };
  SCEPD_TRY(std::vector<std::string> words, tectia::ReadArguments(argc, argv, kFlags, o, own));
  if (args.info != CmpClientInfo::kNone || o.help_list != tectia::HelpList::kNone) return args;
  if (words.empty()) return Usage("no command given");
  SCEPD_TRY(std::size_t index, tectia::MatchCommand(words[0], kCommands));
  o.command = static_cast<CmpClientCommand>(index);
  const std::string cmd(kCommands[index]);
  if (o.command == CmpClientCommand::kRecover) {
    return Unsupported("RECOVER (key recovery) is not possible: no OpenSSL version implements the "
                       "key recovery messages (krr/krp)");
  }
  if (o.command == CmpClientCommand::kPoll) {
    return Unsupported("POLL of a transaction an earlier run started is not possible: OpenSSL keeps "
                       "a waiting request's state only in the process that sent it. cmp-client "
                       "polls within that run (--max-polls); send the request again instead");
  }
  if (!poll_id.empty()) return Usage("-I: a polling ID is only for POLL");
  if (words.size() < 2) return Usage(cmd + ": no access URL given");
  o.access = words[1];
  if (o.access.size() >= 6 && (o.access.compare(0, 6, "tcp://") == 0 || o.access.compare(0, 6, "TCP://") == 0)) {
    return Unsupported("access '" + o.access + "': plain TCP transport (tcp://) is not possible: "
                       "OpenSSL's CMP works over HTTP only; use http://host:port/path");
  }
  if (o.access.rfind("http://", 0) != 0 && o.access.rfind("https://", 0) != 0) {
    return Usage("access '" + o.access + "': expected http://host:port/path");
  }
  if (words.size() > 3) return Usage("unexpected argument '" + words[3] + "'");
  if (words.size() == 3) o.name = words[2];

  // What each command needs, checked before anything else happens.
  switch (o.command) {
    case CmpClientCommand::kInitialize:
      SCEPD_TRY_STATUS(CheckAuth(o, true, false));
      break;
    case CmpClientCommand::kEnroll:
      SCEPD_TRY_STATUS(CheckAuth(o, false, true));
      break;
    case CmpClientCommand::kUpdate:
      SCEPD_TRY_STATUS(CheckAuth(o, false, true));
      if (!o.ra_cert_file.empty()) return Usage("UPDATE: authenticated with the certificate it renews (-c, not -R)");
      break;
    case CmpClientCommand::kRevoke:
      SCEPD_TRY_STATUS(CheckAuth(o, true, true));
      break;
    case CmpClientCommand::kTunnel:
      SCEPD_TRY_STATUS(CheckAuth(o, false, false));
      if (o.template_file.empty()) return Usage("TUNNEL: the end entity's request is needed (-T file)");
      break;
    case CmpClientCommand::kPoll:
    case CmpClientCommand::kRecover: break;
  }
  const bool new_cert = o.command == CmpClientCommand::kInitialize ||
                        o.command == CmpClientCommand::kEnroll ||
                        o.command == CmpClientCommand::kUpdate;
  if (!new_cert && !o.key_url.empty()) return Usage(cmd + " takes no key pair (-P)");
  if ((o.command == CmpClientCommand::kInitialize || o.command == CmpClientCommand::kEnroll) &&
      o.key_url.empty()) {
    return Usage(cmd + ": the key pair is needed (-P keyfile or -P generate://pkcs8@rsa:2048/prefix)");
  }
  if (o.command == CmpClientCommand::kRevoke && o.template_file.empty() && o.cert_file.empty()) {
    return Usage("REVOKE: the certificate to revoke is needed (-T file)");
  }
  if (o.pop_by_encryption && o.ca_file.empty()) return Usage("-E: the CA certificate is needed (-C file)");
  if (o.pop_by_encryption && !new_cert) return Usage("-E is for INITIALIZE, ENROLL and UPDATE");
  if (!o.output_prefix.empty() && !o.output_file.empty()) return Usage("-o and -O: give one");
  // Checked now, before any network traffic: the whole lists, and the
  // authentication key (-k) as well as the new one (-P).
  SCEPD_TRY_STATUS(tectia::CheckRequestOptions(o, tectia::KeyTypes::kRsaOrEc));
  if (!o.auth_key_url.empty()) {
    auto parsed = tectia::ParseKeyUrl(o.auth_key_url);
    if (!parsed.ok()) return std::move(parsed).error();
    Wipe(parsed->passphrase);
    if (parsed->generate) return Usage("-k: the existing key is needed, not generate://");
  }
  if (!o.name.empty()) {
    if (auto dn = tectia::LdapDnToSubject(o.name); !dn.ok()) return Usage("name: " + dn.error().message);
  }
  // -p: "refnum:key" itself, unless it names an existing file.
  if (!o.psk.empty()) o.psk_inline = o.psk.find(':') != std::string::npos && !PathExists(o.psk);
  return args;
}

void HideCmpClientSecrets(int argc, char** argv) noexcept {
  for (int i = 1; i + 1 < argc; ++i) {
    char* s = argv[i + 1];
    if (std::strcmp(argv[i], "-p") == 0) {
      // Keep the reference number (or the file name) visible; hide the key.
      const char* colon = std::strchr(s, ':');
      if (colon != nullptr) {
        for (char* k = s + (colon - s) + 1; *k != '\0'; ++k) *k = '*';
      }
      ++i;
    } else if (std::strcmp(argv[i], "-P") == 0 || std::strcmp(argv[i], "-k") == 0) {
      tectia::MaskKeyUrlPassphrase(s);
      ++i;
    }
  }
}

}  // namespace scepd::cli
