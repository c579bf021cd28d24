#include "cli/scep_client_commands.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "cli/cert_files.h"
#include "cli/exit_code.h"
#include "cli/scep_client_chain.h"
#include "cli/tectia/key_url.h"
#include "cli/tectia/output_names.h"
#include "cli/tectia/request_spec.h"
#include "core/cert_info.h"
#include "core/csr.h"
#include "core/key.h"
#include "core/scep/client.h"
#include "core/scep/scep_session_steps.h"
#include "core/wipe.h"
#include "io/curl_transport.h"
#include "io/files.h"

namespace scepd::cli {
namespace {

using tectia::OutputFileName;
using tectia::OutputKind;

void Verbose(const ScepClientOptions& o, const std::string& text) {
  if (o.verbosity > 0) std::fprintf(stderr, "scep-client: %s\n", text.c_str());
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "fingerprint 9b:96:..." (MD5, lower case, as the Tectia client prints it)
// and the SHA-256 fingerprint for CAs that publish that one.
Status PrintFingerprints(X509* cert) {
  SCEPD_TRY(std::string md5, Fingerprint(cert, "md5"));
  SCEPD_TRY(std::string sha256, Fingerprint(cert, "sha256"));
  std::printf("fingerprint %s\nsha256 fingerprint %s\n", Lower(md5).c_str(), sha256.c_str());
  return {};
}

Status WritePem(const std::string& path, X509* cert) {
  SCEPD_TRY(std::string pem, ossl::CertToPem(cert));
  return WriteFileAtomic(path, pem, 0644);
}

// One received CA/RA certificate: saved when -o was given, then described.
Status ReportCaCert(const ScepClientOptions& o, std::size_t index, X509* cert, const char* role) {
  std::string file;
  if (!o.output_prefix.empty()) {
    file = OutputFileName(o.output_prefix, index, OutputKind::kCaCertificate);
    SCEPD_TRY_STATUS(WritePem(file, cert));
  }
  std::printf("Received %s certificate%s%s:\n  subject: %s\n  issuer: %s\n", role,
              file.empty() ? "" : " ", file.c_str(), SubjectString(cert).c_str(),
              IssuerString(cert).c_str());
  return PrintFingerprints(cert);
}

struct Session {
  std::unique_ptr<CurlTransport> transport;
  std::unique_ptr<scep::Client> client;
};

Result<Session> Connect(const ScepClientOptions& o) {
  // CAs may answer with single DES whatever we asked for (micromdm does).
  if (auto st = ossl::EnableLegacyAlgorithms(); !st.ok()) Verbose(o, st.error().message);
  TransportOptions topts;
  topts.proxy = o.proxy;
  topts.ca_bundle = o.tls_ca_file;
  topts.total_timeout_s = o.timeout_seconds;
  topts.connect_timeout_s = std::min<long>(30, o.timeout_seconds);  // NOLINT(runtime/int)
  Session s;
  SCEPD_TRY(s.transport, CurlTransport::Create(topts));
  scep::ClientOptions copts;
  copts.url = o.access;
  copts.ca_identifier = o.name;
  s.client = std::make_unique<scep::Client>(*s.transport, copts);
  return s;
}

Result<int> GetCa(const ScepClientOptions& o) {
  SCEPD_TRY(Session s, Connect(o));
  SCEPD_TRY(scep::CaCertificates ca, s.client->GetCaCert());
  for (std::size_t i = 0; i < ca.all.size(); ++i) {
    SCEPD_TRY_STATUS(ReportCaCert(o, i, ca.all[i].get(), "CA/RA"));
  }
  return kExitSuccess;
}

Result<int> GetChain(const ScepClientOptions& o) {
  SCEPD_TRY(Session s, Connect(o));
  SCEPD_TRY(scep::CaCertificates ca, s.client->GetCaCert());
  const CaChain chain = OrderCaChain(ca);
  for (std::size_t i = 0; i < chain.certs.size(); ++i) {
    SCEPD_TRY_STATUS(ReportCaCert(o, i, chain.certs[i], i < chain.ra_count ? "RA" : "CA"));
  }
  if (!chain.complete) {
    X509* top = chain.certs.back();
    std::fprintf(stderr,
                 "scep-client: warning: the chain ends at %s: the CA did not send its issuer %s\n",
                 SubjectString(top).c_str(), IssuerString(top).c_str());
  }
  return kExitSuccess;
}

// -C, -E, -V: the CA and RA certificates, with the roles the files give.
Result<scep::CaCertificates> LoadCaAndRa(const ScepClientOptions& o) {
  if (o.ca_file.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "ENROLL needs the CA certificate (-C file; GET-CA -o prefix saves it)");
  }
  std::vector<ossl::Ptr<X509>> all;
  SCEPD_TRY(auto ca_certs, LoadCertificates(o.ca_file));
  for (auto& c : ca_certs) all.push_back(std::move(c));
  std::optional<std::size_t> enc;
  std::optional<std::size_t> sig;
  if (!o.ra_encryption_file.empty()) {
    SCEPD_TRY(auto certs, LoadCertificates(o.ra_encryption_file));
    enc = all.size();
    all.push_back(std::move(certs.front()));
  }
  if (!o.ra_signing_file.empty()) {
    SCEPD_TRY(auto certs, LoadCertificates(o.ra_signing_file));
    sig = all.size();
    all.push_back(std::move(certs.front()));
  }
  SCEPD_TRY(scep::CaCertificates ca, scep::SelectCaRoles(std::move(all)));
  if (enc) ca.encryption = *enc;
  if (sig) {
    ca.signer = *sig;
    bool listed = false;
    for (std::size_t i : ca.ra) listed = listed || i == *sig;
    if (!listed) ca.ra.push_back(*sig);  // a signer we were told to trust
  }
  return ca;
}

// The request's subject and extensions: -T first, then -s, -u, -U override.
Result<CsrSpec> BuildSpec(const ScepClientOptions& o) {
  ossl::Ptr<X509> template_cert;
  if (!o.template_file.empty()) {
    SCEPD_TRY(auto certs, LoadCertificates(o.template_file));
    template_cert = std::move(certs.front());
  }
  SCEPD_TRY(CsrSpec spec, tectia::RequestSpec(o, template_cert.get()));
  if (spec.subject.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "ENROLL needs a subject (-s subject-ldap or -T file)");
  }
  return spec;
}

// -P: the key file, or a new key saved (never over an existing file)
// before anything is sent, so an issued certificate always has its key.
Result<ossl::Ptr<EVP_PKEY>> ObtainKey(const ScepClientOptions& o) {
  if (o.key_url.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "ENROLL needs the key pair (-P keyfile or -P generate://pkcs8@rsa:2048/prefix)");
  }
  SCEPD_TRY(tectia::KeyUrl url, tectia::ParseKeyUrl(o.key_url));
  WipeOnExit wipe_passphrase(url.passphrase);
  if (!url.generate) {
    SCEPD_TRY(std::string pem, ReadFileText(url.path));
    WipeOnExit wipe_pem(pem);
    return ossl::PrivateKeyFromPem(pem, url.path);
  }
  if (url.passphrase_ignored) {
    std::fprintf(stderr, "scep-client: warning: -P: a %s key is saved unencrypted; the passphrase "
                         "is not used (savetype pkcs8s encrypts the key)\n",
                 url.save_type == tectia::KeySaveType::kPkcs1 ? "pkcs1" : "pkcs8");
  }
  const std::string path = url.SavePath();
  if (PathExists(path)) {
    return MakeError(ErrorCode::kIo, path + " exists: refusing to overwrite a private key; "
                                            "remove it or give it with -P " + path);
  }
  Verbose(o, "generating a " + std::to_string(url.bits) + "-bit RSA key");
  SCEPD_TRY(auto key, GenerateRsaKey(url.bits));
  SCEPD_TRY(std::string pem, tectia::EncodeKey(key.get(), url));
  WipeOnExit wipe_pem(pem);
  SCEPD_TRY_STATUS(WriteFileAtomic(path, pem, 0600));
  Verbose(o, "private key saved as " + path);
  return key;
}

// The first prefix-N.crt that does not exist yet: an earlier certificate
// is never overwritten.
std::string UserCertFile(const std::string& prefix) {
  for (std::size_t n = 0;; ++n) {
    std::string name = OutputFileName(prefix, n, OutputKind::kUserCertificate);
    if (!PathExists(name) || n >= 9999) return name;
  }
}

Result<int> Enroll(const ScepClientOptions& o) {
  SCEPD_TRY(CsrSpec spec, BuildSpec(o));
  SCEPD_TRY(scep::CaCertificates ca, LoadCaAndRa(o));
  if (auto st = CheckChallengePassword(o.psk); !st.ok()) return std::move(st).error();
  SCEPD_TRY(auto key, ObtainKey(o));
  SCEPD_TRY(Session s, Connect(o));
  s.client->SetCaCertificates(std::move(ca));
  SCEPD_TRY_STATUS(scep::FetchCapsOrDefaults(
      *s.client, [&o](const std::string& note) { Verbose(o, note); }));
  SCEPD_TRY(scep::Algorithms algs, s.client->ChosenAlgorithms());
  spec.challenge_password = o.psk;
  auto csr = BuildCsr(spec, key.get(), algs.digest);
  Wipe(spec.challenge_password);
  if (!csr.ok()) return std::move(csr).error();
  SCEPD_TRY(scep::Envelope envelope,
            scep::ChooseEnvelope(s.client->caps(), csr->get(), key.get(), {}, algs.digest,
                                 std::time(nullptr)));

  scep::EnrollRequest req;
  req.type = envelope.type;
  req.csr = csr->get();
  req.key = key.get();
  req.signer_cert = envelope.signer_cert.get();
  req.signer_key = key.get();
  req.transaction_id = envelope.transaction_id;
  Verbose(o, "sending PKCSReq, transaction " + req.transaction_id);
  auto rep = s.client->Enroll(req);
  long polls = 0;  // NOLINT(runtime/int)
  while (rep.ok() && rep->status == scep::PkiStatus::kPending) {
    if (polls >= o.max_polls) {
      std::fprintf(stderr, "scep-client: error: still PENDING after %ld poll(s); the request stays "
                           "with the CA (transaction %s)\n", polls, req.transaction_id.c_str());
      return kExitPending;
    }
    std::printf("Request pending, polling again in %ld s\n", o.poll_interval);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(o.poll_interval));
    ++polls;
    rep = s.client->Poll(req);
  }
  if (!rep.ok()) return std::move(rep).error();
  if (rep->status == scep::PkiStatus::kFailure) {
    std::fprintf(stderr, "scep-client: error: %s\n", rep->Describe().c_str());
    return ExitCodeFor(*rep);
  }
  SCEPD_TRY_STATUS(CheckIssuedCertificate(rep->issued.get(), csr->get(), std::time(nullptr)));
  if (o.output_prefix.empty()) {
    SCEPD_TRY(std::string pem, ossl::CertToPem(rep->issued.get()));
    std::printf("Received user certificate:\n");
    SCEPD_TRY_STATUS(PrintFingerprints(rep->issued.get()));
    std::fputs(pem.c_str(), stdout);
  } else {
    std::string file = UserCertFile(o.output_prefix);
    SCEPD_TRY_STATUS(WritePem(file, rep->issued.get()));
    std::printf("Received user certificate %s:\n", file.c_str());
    SCEPD_TRY_STATUS(PrintFingerprints(rep->issued.get()));
  }
  return kExitSuccess;
}

Result<int> Dispatch(const ScepClientOptions& o) {
  switch (o.command) {
    case ScepClientCommand::kGetCa: return GetCa(o);
    case ScepClientCommand::kGetChain: return GetChain(o);
    case ScepClientCommand::kEnroll: return Enroll(o);
  }
  return MakeError(ErrorCode::kInternal, "unhandled command");
}

}  // namespace

int RunScepClient(const ScepClientOptions& options) {
  auto result = Dispatch(options);
  std::fflush(stdout);
  if (!result.ok()) {
    std::fprintf(stderr, "scep-client: error: %s\n", result.error().message.c_str());
    return ExitCodeFor(result.error());
  }
  return *result;
}

}  // namespace scepd::cli
