// est-client: the EST (RFC 7030) command line client, for scripts and for
// doing by hand what the daemon does: cacerts, csrattrs, enroll, reenroll,
// serverkeygen. Nothing is written unless the server's answer checked out;
// secrets never come from argv and are wiped after use.

#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/est_client_exit_code.h"
#include "cli/est_client_options.h"
#include "core/csr.h"
#include "core/license.h"
#include "core/est/csr_attrs.h"
#include "core/est/est_outcome.h"
#include "core/est/est_request.h"
#include "core/est/est_url.h"
#include "core/est/encrypted_key.h"
#include "core/est/server_keygen.h"
#include "core/key.h"
#include "core/ossl.h"
#include "core/renewal_policy.h"
#include "core/wipe.h"
#include "io/curl_transport.h"
#include "io/files.h"

namespace scepd::cli {
namespace {

int g_verbosity = 0;

void Say(const std::string& text) { std::fprintf(stderr, "est-client: %s\n", text.c_str()); }
void Detail(const std::string& text) {
  if (g_verbosity > 0) Say(text);
}

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2094-11-06 08:49:37 UTC" from FormatUtc, which needs no time_t: a
// server's date past 2038 prints right on 32-bit routers too.
std::string UtcText(std::int64_t t) {
  std::string iso = FormatUtc(t);  // "2094-11-06T08:49:37Z"
  if (iso.size() >= 2 && iso.back() == 'Z') {
    iso.pop_back();
    if (auto sep = iso.find('T'); sep != std::string::npos) iso[sep] = ' ';
    iso += " UTC";
  }
  return iso;
}

// Reads a file given by the user after checking it is a regular file (a
// FIFO or device would block or never end).
Result<std::string> ReadUserFile(const std::string& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return MakeError(ErrorCode::kIo, std::string(what) + " " + path + ": cannot be read");
  }
  if (!S_ISREG(st.st_mode)) {
    return MakeError(ErrorCode::kIo, std::string(what) + " " + path + ": not a regular file");
  }
  auto text = ReadFileText(path, 1u << 20);
  if (!text.ok()) return MakeError(ErrorCode::kIo, std::string(what) + ": " + text.error().message);
  return text;
}

// The first line of `text`, without its line ending; wipes the rest.
std::string FirstLine(std::string& text) {
  std::string line = text.substr(0, text.find_first_of("\r\n"));
  Wipe(text);
  return line;
}

// The Basic password: from the file, or one line of standard input (with a
// prompt and echo off when it is a terminal).
Result<std::string> ReadPassword(const EstClientOptions& o) {
  if (!o.password_file.empty() && o.password_file != "-") {
    SCEPD_TRY(std::string text, ReadUserFile(o.password_file, "password file"));
    return FirstLine(text);
  }
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty) {
    std::fprintf(stderr, "EST password for %s: ", o.user.c_str());
    if (::tcgetattr(STDIN_FILENO, &saved) == 0) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fputc('\n', stderr);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string CertsPem(const std::vector<ossl::Ptr<X509>>& certs, std::size_t from = 0) {
  std::string pem;
  for (std::size_t i = from; i < certs.size(); ++i) {
    auto one = ossl::CertToPem(certs[i].get());
    if (one.ok()) pem += *one;
  }
  return pem;
}

class Session {
 public:
  explicit Session(EstClientOptions o) : o_(std::move(o)) {}
  ~Session() {
    Wipe(password_);
    Wipe(client_key_pem_);
  }

  Status Start() {
    if (!o_.user.empty()) {
      SCEPD_TRY(password_, ReadPassword(o_));
    }
    if (!o_.cert.empty() && !o_.key.empty()) {
      SCEPD_TRY(client_cert_pem_, ReadUserFile(o_.cert, "certificate"));
      SCEPD_TRY(client_key_pem_, ReadUserFile(o_.key, "key"));
      SCEPD_TRY(client_cert_, ossl::CertFromPem(client_cert_pem_, "certificate " + o_.cert));
      SCEPD_TRY(client_key_, ossl::PrivateKeyFromPem(client_key_pem_, "key " + o_.key));
      if (!SamePublicKey(client_key_.get(), X509_get0_pubkey(client_cert_.get()))) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "key " + o_.key + " does not belong to certificate " + o_.cert);
      }
    }
    TransportOptions t;
    if (!o_.cacert.empty()) {
      // Read here (a regular file, PEM certificates) and handed to libcurl
      // from memory, so a wrong path is a clear error before any request.
      SCEPD_TRY(t.ca_pem, ReadUserFile(o_.cacert, "--cacert file"));
      SCEPD_TRY_STATUS(ossl::CertsFromPem(t.ca_pem, "--cacert file " + o_.cacert));
    }
    t.connect_timeout_s = std::min(o_.timeout_s, 30L);
    t.total_timeout_s = o_.timeout_s;
    SCEPD_TRY(transport_, CurlTransport::Create(t));
    return {};
  }

  Result<std::string> Url(est::Operation op) const { return est::OperationUrl(o_.url, o_.label, op); }

  // Sends with the credentials this session has; wipes nothing of the
  // caller's (the session wipes its own at the end).
  Result<HttpResponse> Send(HttpRequest request, CurlTransport& transport) {
    if (!o_.user.empty()) {
      request.basic_user = o_.user;
      request.basic_password = password_;
    }
    request.client_cert_pem = client_cert_pem_;
    request.client_key_pem = client_key_pem_;
    Detail((request.method == HttpRequest::Method::kGet ? "GET " : "POST ") + request.url);
    auto response = transport.Send(request);
    Wipe(request.basic_password);
    Wipe(request.client_key_pem);
    if (response.ok()) {
      Detail(response->http_version + " " + std::to_string(response->status) + " " +
             est::CleanServerText(response->content_type_header, 80));
    }
    return response;
  }
  Result<HttpResponse> Send(HttpRequest request) { return Send(std::move(request), *transport_); }

  const EstClientOptions& o() const { return o_; }
  X509* client_cert() const { return client_cert_.get(); }
  EVP_PKEY* client_key() const { return client_key_.get(); }

 private:
  EstClientOptions o_;
  std::string password_;
  std::string client_cert_pem_;
  std::string client_key_pem_;
  ossl::Ptr<X509> client_cert_;
  ossl::Ptr<EVP_PKEY> client_key_;
  std::unique_ptr<CurlTransport> transport_;
};

// --- cacerts ------------------------------------------------------------------

Result<int> CaCerts(Session& s) {
  const EstClientOptions& o = s.o();
  SCEPD_TRY(const std::string url, s.Url(est::Operation::kCaCerts));
  std::vector<ossl::Ptr<X509>> certs;
  if (o.pin_sha256.empty()) {
    SCEPD_TRY(HttpResponse r, s.Send(est::GetRequest(url)));
    SCEPD_TRY(certs, est::InterpretCaCerts(r));
  } else {
    // RFC 7030 section 4.1.1 bootstrap: a provisional, unverified first
    // answer is only used to find the pinned certificate; the answer kept
    // comes from a second request whose TLS is verified against it.
    TransportOptions provisional;
    provisional.verify_tls = false;
    provisional.total_timeout_s = o.timeout_s;
    SCEPD_TRY(auto first_transport, CurlTransport::Create(provisional));
    SCEPD_TRY(HttpResponse first, s.Send(est::GetRequest(url), *first_transport));
    SCEPD_TRY(auto offered, est::InterpretCaCerts(first));
    X509* pinned = est::FindByFingerprint(offered, o.pin_sha256);
    if (pinned == nullptr) {
      return MakeError(ErrorCode::kVerify,
                       "cacerts: no certificate in the answer has the SHA-256 fingerprint "
                       "given with --pin-sha256; nothing written");
    }
    TransportOptions verified;
    SCEPD_TRY(verified.ca_pem, ossl::CertToPem(pinned));
    verified.total_timeout_s = o.timeout_s;
    SCEPD_TRY(auto second_transport, CurlTransport::Create(verified));
    SCEPD_TRY(HttpResponse second, s.Send(est::GetRequest(url), *second_transport));
    SCEPD_TRY(certs, est::InterpretCaCerts(second));
    if (est::FindByFingerprint(certs, o.pin_sha256) == nullptr) {
      return MakeError(ErrorCode::kVerify, "cacerts: the verified answer lacks the pinned CA");
    }
  }
  SCEPD_TRY_STATUS(WriteFileAtomic(o.out, CertsPem(certs), 0644));
  Say("wrote " + std::to_string(certs.size()) + " CA certificate(s) to " + o.out);
  return kEstExitSuccess;
}

// --- csrattrs -----------------------------------------------------------------

Result<est::CsrAttrs> FetchCsrAttrs(Session& s) {
  SCEPD_TRY(const std::string url, s.Url(est::Operation::kCsrAttrs));
  SCEPD_TRY(HttpResponse r, s.Send(est::GetRequest(url)));
  return est::InterpretCsrAttrs(r);
}

std::string Describe(const est::CsrAttrs& a) {
  std::string out;
  if (a.challenge_password) out += "challengePassword: requested\n";
  if (a.key_type) out += "key type: " + *a.key_type + "\n";
  if (a.rsa_bits) out += "RSA key size: " + std::to_string(*a.rsa_bits) + "\n";
  if (a.ec_curve) out += "EC curve: " + *a.ec_curve + "\n";
  if (a.digest) out += "signature digest: " + *a.digest + "\n";
  for (const auto& e : a.extensions) out += "extension requested: " + e + "\n";
  for (const auto& u : a.unknown) out += "not acted on: " + u + "\n";
  if (out.empty()) out = "no attributes requested\n";
  return out;
}

Result<int> CsrAttrsCommand(Session& s) {
  SCEPD_TRY(est::CsrAttrs attrs, FetchCsrAttrs(s));
  const std::string text = Describe(attrs);
  std::fputs(text.c_str(), stdout);
  if (!s.o().out.empty()) SCEPD_TRY_STATUS(WriteFileAtomic(s.o().out, text, 0644));
  return kEstExitSuccess;
}

// --- enroll, reenroll, serverkeygen -------------------------------------------

struct RequestChoice {
  std::string key_type = "rsa";
  int rsa_bits = 2048;
  std::string curve = "P-256";
  std::string digest = "SHA256";
};

// The key and digest choices: the options, else what /csrattrs asked for.
Result<RequestChoice> Choose(Session& s, std::string& challenge) {
  const EstClientOptions& o = s.o();
  RequestChoice c;
  if (o.use_csrattrs) {
    SCEPD_TRY(est::CsrAttrs a, FetchCsrAttrs(s));
    if (a.key_type) c.key_type = *a.key_type;
    if (a.rsa_bits) c.rsa_bits = *a.rsa_bits;
    if (a.ec_curve) c.curve = *a.ec_curve;
    if (a.digest) c.digest = *a.digest;
    if (a.challenge_password && challenge.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the CA asks for a challengePassword (csrattrs): give --challenge-file");
    }
    for (const auto& e : a.extensions) {
      const bool san = e.find("subjectAltName") != std::string::npos;
      if (!(san && !o.alt_names.empty())) Say("csrattrs: extension not added: " + e);
    }
    for (const auto& u : a.unknown) Say("csrattrs: not acted on: " + u);
  }
  if (!o.key_type.empty()) c.key_type = o.key_type;
  if (o.key_size != 0) c.rsa_bits = o.key_size;
  if (!o.curve.empty()) c.curve = o.curve;
  return c;
}

Result<ossl::Ptr<EVP_PKEY>> NewKey(const RequestChoice& c) {
  Detail("generating a " + (c.key_type == "ec" ? c.curve + " EC" : std::to_string(c.rsa_bits) + "-bit RSA") + " key");
  return c.key_type == "ec" ? GenerateEcKey(c.curve) : GenerateRsaKey(c.rsa_bits);
}

Status WriteKey(const std::string& path, EVP_PKEY* key) {
  SCEPD_TRY(std::string pem, ossl::PrivateKeyToPem(key));
  WipeOnExit wipe(pem);
  return WriteFileAtomic(path, pem, 0600);
}

Status WriteIssued(const EstClientOptions& o, est::Issued& issued) {
  SCEPD_TRY(std::string pem, ossl::CertToPem(issued.cert.get()));
  SCEPD_TRY_STATUS(WriteFileAtomic(o.out, pem, 0644));
  Say("wrote the certificate to " + o.out);
  if (!o.chain.empty()) {
    SCEPD_TRY_STATUS(WriteFileAtomic(o.chain, CertsPem(issued.chain), 0644));
    Say("wrote " + std::to_string(issued.chain.size()) + " more certificate(s) to " + o.chain);
  }
  return {};
}

Result<int> Rejected(const est::Rejected& r) {
  Say(std::string("rejected (") + est::RejectCodeName(r.code) + "): " + r.reason);
  return r.code == est::RejectCode::kAuthentication ? kEstExitAuthentication : kEstExitRejected;
}

Result<int> Enroll(Session& s, bool reenroll) {
  const EstClientOptions& o = s.o();
  std::string challenge;
  WipeOnExit wipe_challenge(challenge);
  if (!o.challenge_file.empty()) {
    SCEPD_TRY(std::string text, ReadUserFile(o.challenge_file, "challenge file"));
    challenge = FirstLine(text);
  }
  SCEPD_TRY(RequestChoice choice, Choose(s, challenge));

  // The key the certificate is for.
  ossl::Ptr<EVP_PKEY> key;
  bool new_key = false;
  if (!o.newkey.empty()) {
    SCEPD_TRY(key, NewKey(choice));
    new_key = true;
  } else if (reenroll || !o.cert.empty()) {
    key = ossl::UpRef(s.client_key());
  } else {
    SCEPD_TRY(std::string pem, ReadUserFile(o.key, "key"));
    WipeOnExit wipe(pem);
    SCEPD_TRY(key, ossl::PrivateKeyFromPem(pem, "key " + o.key));
  }

  ossl::Ptr<X509_REQ> csr;
  if (!o.csr.empty()) {
    SCEPD_TRY(std::string text, ReadUserFile(o.csr, "request"));
    SCEPD_TRY(csr, ossl::CsrFromPemOrDer(ToBytes(text), "request " + o.csr));
    if (!SamePublicKey(X509_REQ_get0_pubkey(csr.get()), key.get())) {
      return MakeError(ErrorCode::kInvalidArgument, "request " + o.csr + " is not for the key");
    }
  } else if (reenroll) {
    SCEPD_TRY(csr, est::BuildReenrollCsr(s.client_cert(), key.get(), choice.digest));
  } else {
    CsrSpec spec;
    spec.subject = o.subject;
    spec.alt_names = o.alt_names;
    spec.challenge_password = challenge;
    auto built = BuildCsr(spec, key.get(), choice.digest);
    Wipe(spec.challenge_password);
    SCEPD_TRY(csr, std::move(built));
  }

  SCEPD_TRY(const std::string url, s.Url(reenroll ? est::Operation::kSimpleReenroll
                                                  : est::Operation::kSimpleEnroll));
  const std::int64_t give_up = Now() + o.wait_s;
  for (int round = 0; round < 10000; ++round) {
    SCEPD_TRY(HttpRequest request, est::CsrPostRequest(url, csr.get()));
    SCEPD_TRY(HttpResponse response, s.Send(std::move(request)));
    SCEPD_TRY(est::EnrollOutcome outcome, est::InterpretEnroll(response, key.get(), Now()));
    if (auto* issued = std::get_if<est::Issued>(&outcome)) {
      if (new_key) SCEPD_TRY_STATUS(WriteKey(o.newkey, key.get()));
      SCEPD_TRY_STATUS(WriteIssued(o, *issued));
      return kEstExitSuccess;
    }
    if (auto* rejected = std::get_if<est::Rejected>(&outcome)) return Rejected(*rejected);
    const auto& pending = std::get<est::Pending>(outcome);
    if (pending.retry_at > give_up) {
      if (new_key) {
        SCEPD_TRY_STATUS(WriteKey(o.newkey, key.get()));
        Say("kept the new key in " + o.newkey + " for the next try (--key " + o.newkey + ")");
      }
      Say("pending: the server asks to try again at " + UtcText(pending.retry_at));
      return kEstExitPending;
    }
    Say("pending: trying again at " + UtcText(pending.retry_at));
    std::this_thread::sleep_for(std::chrono::seconds(std::max<std::int64_t>(pending.retry_at - Now(), 0)));
  }
  return MakeError(ErrorCode::kProtocol, "too many pending answers");
}

Result<int> ServerKeygen(Session& s) {
  const EstClientOptions& o = s.o();
  std::string challenge;
  WipeOnExit wipe_challenge(challenge);
  if (!o.challenge_file.empty()) {
    SCEPD_TRY(std::string text, ReadUserFile(o.challenge_file, "challenge file"));
    challenge = FirstLine(text);
  }
  SCEPD_TRY(RequestChoice choice, Choose(s, challenge));
  // The request only carries the subject: it is signed with a throwaway key.
  SCEPD_TRY(auto signer, GenerateEcKey("P-256"));
  CsrSpec spec;
  spec.subject = o.subject;
  spec.alt_names = o.alt_names;
  spec.challenge_password = challenge;
  auto built = BuildCsr(spec, signer.get(), choice.digest);
  Wipe(spec.challenge_password);
  SCEPD_TRY(auto csr, std::move(built));
  // RFC 7030 4.4.1.1: the key comes back encrypted to the --cert pair.
  est::KeyDecryption decrypt{s.client_cert(), s.client_key()};
  if (o.encrypted_key) {
    SCEPD_TRY_STATUS(est::RequestEncryptedKey(csr.get(), decrypt.cert, signer.get(), choice.digest));
    Detail("asking for the key encrypted to the key of " + o.cert);
  }
  SCEPD_TRY(const std::string url, s.Url(est::Operation::kServerKeygen));
  SCEPD_TRY(HttpRequest request, est::CsrPostRequest(url, csr.get()));
  SCEPD_TRY(HttpResponse response, s.Send(std::move(request)));
  SCEPD_TRY(est::ServerKeygenOutcome outcome,
            est::InterpretServerKeygen(response, Now(), o.encrypted_key ? &decrypt : nullptr));
  Wipe(response.body);
  if (auto* done = std::get_if<est::ServerKeyIssued>(&outcome)) {
    SCEPD_TRY_STATUS(WriteKey(o.newkey, done->key.get()));
    Say("wrote the server-generated key to " + o.newkey);
    SCEPD_TRY_STATUS(WriteIssued(o, done->issued));
    return kEstExitSuccess;
  }
  if (auto* rejected = std::get_if<est::Rejected>(&outcome)) return Rejected(*rejected);
  Say("pending: the server asks to try again at " +
      UtcText(std::get<est::Pending>(outcome).retry_at));
  return kEstExitPending;
}

Result<int> Run(Session& s) {
  SCEPD_TRY_STATUS(s.Start());
  const std::string& c = s.o().command;
  if (c == "cacerts") return CaCerts(s);
  if (c == "csrattrs") return CsrAttrsCommand(s);
  if (c == "enroll") return Enroll(s, false);
  if (c == "reenroll") return Enroll(s, true);
  return ServerKeygen(s);
}

}  // namespace
}  // namespace scepd::cli

int main(int argc, char** argv) {
  using namespace scepd::cli;  // NOLINT(build/namespaces)
  ::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv, argv + argc);
  auto options = ParseEstClientArgs(args);
  if (!options.ok() && options.error().message == "version") {
    std::printf("scepd's est-client %s\nLicense: %s\n", SCEPD_VERSION, scepd::kLicense);
    return kEstExitSuccess;
  }
  if (!options.ok()) {
    const bool help = options.error().message == "help";
    if (!help) std::fprintf(stderr, "est-client: %s\n\n", options.error().message.c_str());
    std::fputs(EstClientUsage("est-client").c_str(), help ? stdout : stderr);
    return help ? kEstExitSuccess : kEstExitError;
  }
  g_verbosity = options->verbosity;
  Session session(std::move(*options));
  auto code = Run(session);
  if (!code.ok()) {
    Say("error: " + code.error().message);
    return EstExitCodeFor(code.error());
  }
  return *code;
}
