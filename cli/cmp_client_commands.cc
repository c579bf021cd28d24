#include "cli/cmp_client_commands.h"

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli/cert_files.h"
#include "cli/tectia/key_url.h"
#include "cli/tectia/output_names.h"
#include "cli/tectia/request_spec.h"
#include "cli/tectia/subject_names.h"
#include "core/cert_info.h"
#include "core/cmp/cmp_client.h"
#include "core/csr.h"
#include "core/subject.h"
#include "core/key.h"
#include "core/wipe.h"
#include "io/curl_transport.h"
#include "io/files.h"

namespace scepd::cli {
namespace {

using tectia::OutputFileName;
using tectia::OutputKind;

constexpr std::size_t kMaxSecretFile = 4096;
constexpr std::size_t kMaxEntropyFile = 64 * 1024;

void Say(const std::string& text) { std::fprintf(stderr, "cmp-client: %s\n", text.c_str()); }

int g_verbosity = 0;
void Verbose(const std::string& text) {
  if (g_verbosity > 0) Say(text);
}

const char* RequestName(cmp::Request type) {
  switch (type) {
    case cmp::Request::kIr: return "ir";
    case cmp::Request::kCr: return "cr";
    case cmp::Request::kKur: return "kur";
    case cmp::Request::kP10cr: return "p10cr";
  }
  return "?";
}

std::string StripFileScheme(const std::string& path) {
  if (path.size() > 7 && (path.compare(0, 7, "file://") == 0 || path.compare(0, 7, "FILE://") == 0)) {
    return path.substr(7);
  }
  return path;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A name in the Tectia client's order and separators: "C=FI, O=SSH, CN=x";
// control characters escaped (names come from the server).
std::string LdapName(const X509_NAME* name) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  const unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN |  // NOLINT(runtime/int)
                              ASN1_STRFLGS_ESC_CTRL | ASN1_STRFLGS_ESC_2253 | ASN1_STRFLGS_UTF8_CONVERT;
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) return "?";
  Bytes b = ossl::BioToBytes(bio.get());
  return std::string(b.begin(), b.end());
}

std::string TimeText(const ASN1_TIME* t) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || ASN1_TIME_print(bio.get(), t) != 1) return "?";
  Bytes b = ossl::BioToBytes(bio.get());
  return std::string(b.begin(), b.end());
}

std::string SerialDecimal(const X509* cert) {
  ossl::Ptr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "?";
  char* dec = BN_bn2dec(bn.get());
  if (dec == nullptr) return "?";
  std::string out = dec;
  OPENSSL_free(dec);
  return out;
}

std::string KeyText(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return "?";
  const char* type = EVP_PKEY_get0_type_name(key);
  return std::string(type != nullptr ? type : "?") + ", " + std::to_string(EVP_PKEY_get_bits(key)) + " bits";
}

std::string AltNamesText(X509* cert) {
  ossl::Ptr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return {};
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  for (int i = 0; bio && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    if (i > 0) BIO_puts(bio.get(), ", ");
    GENERAL_NAME_print(bio.get(), sk_GENERAL_NAME_value(names.get(), i));
  }
  Bytes b = bio ? ossl::BioToBytes(bio.get()) : Bytes{};
  std::string out;
  for (unsigned char c : b) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out;
}

// The certificate as the Tectia client shows it before asking.
Status ShowCertificate(X509* cert) {
  SCEPD_TRY(std::string md5, Fingerprint(cert, "md5"));
  SCEPD_TRY(std::string sha1, Fingerprint(cert, "sha1"));
  SCEPD_TRY(std::string sha256, Fingerprint(cert, "sha256"));
  std::string out = "Certificate =\n";
  out += "  SubjectName = <" + LdapName(X509_get_subject_name(cert)) + ">\n";
  out += "  IssuerName = <" + LdapName(X509_get_issuer_name(cert)) + ">\n";
  out += "  SerialNumber= " + SerialDecimal(cert) + "\n";
  const char* sig_alg = OBJ_nid2ln(X509_get_signature_nid(cert));
  out += std::string("  SignatureAlgorithm = ") + (sig_alg != nullptr ? sig_alg : "?") + "\n";
  out += "  Validity =\n    NotBefore = " + TimeText(X509_get0_notBefore(cert)) +
         "\n    NotAfter  = " + TimeText(X509_get0_notAfter(cert)) + "\n";
  out += "  PublicKeyInfo =\n    PublicKey = " + KeyText(cert) + "\n";
  out += "  Extensions =\n";
  if (std::string alt = AltNamesText(cert); !alt.empty()) out += "    SubjectAltNames = " + alt + "\n";
  out += "    KeyUsage = " + KeyUsageString(cert) + "\n";
  out += "  Fingerprints =\n    MD5 = " + Lower(md5) + "\n    SHA-1 = " + Lower(sha1) +
         "\n    SHA-256 = " + Lower(sha256) + "\n";
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  return {};
}

bool AskToAccept() {
  std::fputs("\nDo you accept the certificate above? ", stdout);
  std::fflush(stdout);
  std::string answer;
  if (!std::getline(std::cin, answer)) {
    std::fputs("\n", stdout);
    return false;
  }
  answer = Lower(answer);
  while (!answer.empty() && (answer.back() == ' ' || answer.back() == '\r')) answer.pop_back();
  return answer == "y" || answer == "yes";
}

Result<ossl::Ptr<EVP_PKEY>> LoadKey(const std::string& url_text, const char* option) {
  SCEPD_TRY(tectia::KeyUrl url, tectia::ParseKeyUrl(url_text));
  WipeOnExit wipe_passphrase(url.passphrase);
  if (url.generate) return MakeError(ErrorCode::kInvalidArgument, std::string(option) + ": a key file is needed");
  SCEPD_TRY(std::string pem, ReadFileText(url.path, 1u << 20));
  WipeOnExit wipe_pem(pem);
  return ossl::PrivateKeyFromPem(pem, url.path);
}

Result<ossl::Ptr<X509>> LoadOneCert(const std::string& file) {
  SCEPD_TRY(auto certs, LoadCertificates(StripFileScheme(file)));
  return std::move(certs.front());
}

// -p: "refnum:key" or a file holding it. The key is a secret: the caller
// wipes what it gets.
Result<cmp::MacProtection> ReadPsk(const CmpClientOptions& o) {
  std::string text = o.psk;
  WipeOnExit wipe_text(text);
  if (!o.psk_inline) {
    const std::string path = StripFileScheme(o.psk);
    SCEPD_TRY(std::string content, ReadFileText(path, kMaxSecretFile));
    Wipe(text);
    text.swap(content);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.find(':') == std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument, "-p " + path + ": expected one line refnum:key");
    }
  }
  const auto colon = text.find(':');
  cmp::MacProtection mac;
  mac.reference = text.substr(0, colon);
  mac.secret = text.substr(colon + 1);
  if (mac.reference.empty() || mac.secret.empty()) {
    Wipe(mac.secret);
    return MakeError(ErrorCode::kInvalidArgument, "-p: reference number and key must not be empty");
  }
  return mac;
}

Status StirEntropy(const std::string& file) {
  SCEPD_TRY(Bytes data, ReadFileBytes(file, kMaxEntropyFile));
  RAND_seed(data.data(), static_cast<int>(data.size()));
  OPENSSL_cleanse(data.data(), data.size());
  return {};
}

// The new key of -P: loaded, or generated in memory; a generated key is
// written only once its certificate is accepted (nothing on disk otherwise).
struct NewKey {
  ossl::Ptr<EVP_PKEY> key;
  std::string save_path;  // empty: an existing file
  tectia::KeyUrl url;
};

Result<NewKey> ObtainNewKey(const CmpClientOptions& o) {
  NewKey k;
  SCEPD_TRY(k.url, tectia::ParseKeyUrl(o.key_url));
  if (!k.url.generate) {
    Wipe(k.url.passphrase);
    SCEPD_TRY(k.key, LoadKey(o.key_url, "-P"));
    return k;
  }
  if (k.url.passphrase_ignored) {
    Say("warning: -P: the key is saved unencrypted; the passphrase is not used (savetype pkcs8s "
        "encrypts the key)");
  }
  k.save_path = k.url.SavePath();
  if (PathExists(k.save_path)) {
    Wipe(k.url.passphrase);
    return MakeError(ErrorCode::kIo, k.save_path + " exists: refusing to overwrite a private key; "
                                                   "remove it or give it with -P " + k.save_path);
  }
  if (!o.entropy_file.empty()) {
    SCEPD_TRY_STATUS(StirEntropy(o.entropy_file));
  }
  if (k.url.ec_curve.empty()) {
    Verbose("generating a " + std::to_string(k.url.bits) + "-bit RSA key");
    SCEPD_TRY(k.key, GenerateRsaKey(k.url.bits));
  } else {
    Verbose("generating a " + k.url.ec_curve + " EC key");
    SCEPD_TRY(k.key, GenerateEcKey(k.url.ec_curve));
  }
  return k;
}

// Everything a run writes, decided before anything is sent so that an
// existing certificate or key is never overwritten.
struct Outputs {
  std::string cert_file;  // empty: printed as PEM
  std::string prefix;     // -o: also the CA certificates
  std::vector<std::string> written;
};

Result<Outputs> PlanOutputs(const CmpClientOptions& o) {
  Outputs out;
  out.prefix = o.output_prefix;
  if (!o.output_file.empty()) out.cert_file = o.output_file;
  if (!o.output_prefix.empty()) out.cert_file = OutputFileName(o.output_prefix, 0, OutputKind::kUserCertificate);
  if (!out.cert_file.empty() && PathExists(out.cert_file)) {
    return MakeError(ErrorCode::kIo, out.cert_file + " exists: refusing to overwrite it");
  }
  return out;
}

Status WritePem(const std::string& path, X509* cert) {
  SCEPD_TRY(std::string pem, ossl::CertToPem(cert));
  return WriteFileAtomic(path, pem, 0644);
}

// Writes the accepted certificate, its key and (with -o) the CA
// certificates received. Called before the certificate is confirmed: a
// failure here declines it.
Status SaveAccepted(X509* cert, const std::vector<X509*>& chain, NewKey* key, Outputs& out) {
  if (key != nullptr && !key->save_path.empty()) {
    SCEPD_TRY(std::string pem, tectia::EncodeKey(key->key.get(), key->url));
    WipeOnExit wipe_pem(pem);
    SCEPD_TRY_STATUS(WriteFileAtomic(key->save_path, pem, 0600));
    out.written.push_back(key->save_path);
  }
  if (out.cert_file.empty()) {
    SCEPD_TRY(std::string pem, ossl::CertToPem(cert));
    std::fputs(pem.c_str(), stdout);
  } else {
    SCEPD_TRY_STATUS(WritePem(out.cert_file, cert));
    out.written.push_back(out.cert_file);
  }
  for (std::size_t i = 0; !out.prefix.empty() && i < chain.size(); ++i) {
    const std::string file = OutputFileName(out.prefix, i, OutputKind::kCaCertificate);
    SCEPD_TRY_STATUS(WritePem(file, chain[i]));
    out.written.push_back(file);
  }
  return {};
}

struct Run {
  const CmpClientOptions& o;
  std::unique_ptr<CurlTransport> transport;
  std::unique_ptr<cmp::CmpSession> session;
  ossl::Ptr<X509> ca;
  ossl::Ptr<X509> auth_cert;
  ossl::Ptr<EVP_PKEY> auth_key;
  bool declined = false;
  Status save_status;
};

Result<std::unique_ptr<Run>> Connect(const CmpClientOptions& o, NewKey* new_key, Outputs* outputs) {
  auto run = std::make_unique<Run>(Run{o, nullptr, nullptr, nullptr, nullptr, nullptr, false, {}});
  if (!o.ca_file.empty()) {
    SCEPD_TRY(run->ca, LoadOneCert(o.ca_file));
  }
  const std::string auth_file = !o.cert_file.empty() ? o.cert_file : o.ra_cert_file;
  if (!auth_file.empty()) {
    SCEPD_TRY(run->auth_cert, LoadOneCert(auth_file));
    SCEPD_TRY(run->auth_key, LoadKey(o.auth_key_url, "-k"));
  }
  TransportOptions topts;
  topts.proxy = o.proxy;
  topts.ca_bundle = o.tls_ca_file;
  topts.total_timeout_s = o.timeout_seconds;
  topts.connect_timeout_s = std::min<long>(30, o.timeout_seconds);  // NOLINT(runtime/int)
  SCEPD_TRY(run->transport, CurlTransport::Create(topts));

  cmp::CmpOptions copts;
  copts.url = o.access;
  if (!o.name.empty() && !run->ca) {
    SCEPD_TRY(copts.recipient, tectia::LdapDnToSubject(o.name));
  }
  copts.ca_cert = run->ca.get();
  copts.allow_unprotected_errors = o.unprotected_errors;
  // Declining must reach the CA as a rejecting certConf: no implicit
  // confirmation unless every certificate is accepted anyway (-y).
  copts.implicit_confirm = o.yes;
  Run* r = run.get();
  copts.accept = [r, new_key, outputs](X509* cert) {
    if (!ShowCertificate(cert).ok()) return false;
    if (!r->o.yes && !AskToAccept()) {
      r->declined = true;
      return false;
    }
    if (outputs == nullptr) return true;
    // The CA certificates follow in Finish, once the session hands them out.
    r->save_status = SaveAccepted(cert, {}, new_key, *outputs);
    return r->save_status.ok();
  };
  // Read last: CmpSession::Create wipes our copy of the secret at once.
  std::optional<cmp::MacProtection> mac;
  if (!o.psk.empty()) {
    if (o.psk_inline) {
      Say("warning: -p refnum:key puts the secret in the process list while cmp-client starts; "
          "give -p FILE (one line refnum:key, mode 0600) instead");
    }
    SCEPD_TRY(mac, ReadPsk(o));
  }
  cmp::SignatureProtection sig{run->auth_cert.get(), run->auth_key.get()};
  SCEPD_TRY(run->session, cmp::CmpSession::Create(*run->transport, std::move(copts), mac ? &*mac : nullptr,
                                                  run->auth_cert ? &sig : nullptr));
  return run;
}

int ReportRejected(const cmp::Outcome& out) {
  Say("the CA refused: " + out.status_text);
  return kCmpExitRejected;
}

Result<int> Finish(Run& run, Result<cmp::Outcome> result, Outputs& outputs) {
  long polls = 0;  // NOLINT(runtime/int)
  while (result.ok() && result->kind == cmp::Outcome::Kind::kPending) {
    if (polls >= run.o.max_polls) {
      Say("PKI transaction is still waiting after " + std::to_string(polls) +
          " poll(s); it cannot be polled from another run: send the request again later");
      return kCmpExitPending;
    }
    const long wait = std::max<long>(1, std::min<long>(result->check_after_s, 300));  // NOLINT(runtime/int)
    std::printf("PKI transaction is pending; polling again in %ld s.\n", wait);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(wait));
    ++polls;
    result = run.session->Poll();
  }
  if (!result.ok()) {
    if (run.declined) {
      Say("certificate declined; the CA was told so (a rejecting certConf); nothing written");
      return kCmpExitDeclined;
    }
    if (!run.save_status.ok()) return run.save_status.error();
    if (!outputs.written.empty()) {
      std::string files;
      for (const auto& f : outputs.written) files += " " + f;
      Say("the certificate was saved (" + files.substr(1) + ") but the exchange failed afterwards");
    }
    return std::move(result).error();
  }
  if (result->kind == cmp::Outcome::Kind::kRejected) return ReportRejected(*result);
  if (result->kind == cmp::Outcome::Kind::kIssued && !outputs.prefix.empty()) {
    for (std::size_t i = 0; i < result->chain.size(); ++i) {
      const std::string file = OutputFileName(outputs.prefix, i, OutputKind::kCaCertificate);
      SCEPD_TRY_STATUS(WritePem(file, result->chain[i].get()));
      outputs.written.push_back(file);
    }
  }
  for (const auto& f : outputs.written) std::printf("Saved %s\n", f.c_str());
  return kCmpExitSuccess;
}

Result<int> NewCertificate(const CmpClientOptions& o) {
  SCEPD_TRY(Outputs outputs, PlanOutputs(o));
  ossl::Ptr<X509> template_cert;
  if (!o.template_file.empty()) {
    SCEPD_TRY(template_cert, LoadOneCert(o.template_file));
  }
  SCEPD_TRY(CsrSpec spec, tectia::RequestSpec(o, template_cert.get()));
  cmp::NewCertRequest req;
  if (o.command == CmpClientCommand::kInitialize) req.type = cmp::Request::kIr;
  if (o.command == CmpClientCommand::kEnroll) req.type = cmp::Request::kCr;
  if (o.command == CmpClientCommand::kUpdate) req.type = cmp::Request::kKur;
  if (req.type != cmp::Request::kKur && spec.subject.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a subject is needed (-s subject-ldap or -T file)");
  }
  req.subject = spec.subject;
  SCEPD_TRY(ossl::X509ExtensionStack exts, BuildRequestExtensions(spec));
  req.extensions = exts.get();
  if (o.pop_by_encryption) req.popo = cmp::NewCertRequest::Popo::kKeyEncipherment;
  std::optional<NewKey> key;
  if (!o.key_url.empty()) {
    SCEPD_TRY(key, ObtainNewKey(o));
    req.new_key = key->key.get();
  }
  SCEPD_TRY(auto run, Connect(o, key ? &*key : nullptr, &outputs));
  Verbose(std::string("sending ") + RequestName(req.type) + " to " + o.access +
          (o.psk.empty() ? ", signed" : ", MAC-protected (PBM)"));
  auto result = run->session->Start(req);
  if (key) Wipe(key->url.passphrase);  // EncodeKey ran in the callback, or never will
  return Finish(*run, std::move(result), outputs);
}

Result<int> Tunnel(const CmpClientOptions& o) {
  SCEPD_TRY(Outputs outputs, PlanOutputs(o));
  // -T: the end entity's PKCS#10 request (or a certificate of its key).
  SCEPD_TRY(Bytes data, ReadFileBytes(StripFileScheme(o.template_file), 1u << 20));
  ossl::Ptr<EVP_PKEY> public_key;
  CsrSpec spec;
  auto csr = ossl::CsrFromPemOrDer(data, o.template_file);
  if (csr.ok()) {
    if (X509_REQ_verify(csr->get(), X509_REQ_get0_pubkey(csr->get())) != 1) {
      ClearOpenSslErrors();
      return MakeError(ErrorCode::kVerify, o.template_file + ": the request's signature does not verify");
    }
    public_key = ossl::UpRef(X509_REQ_get0_pubkey(csr->get()));
    SCEPD_TRY(spec, tectia::RequestSpec(o, nullptr));
    if (spec.subject.empty()) spec.subject = FormatSubject(X509_REQ_get_subject_name(csr->get()));
    ossl::X509ExtensionStack from_csr(X509_REQ_get_extensions(csr->get()));
    cmp::NewCertRequest req;
    req.type = cmp::Request::kCr;
    req.new_key = public_key.get();
    req.public_key_only = true;
    req.popo = cmp::NewCertRequest::Popo::kRaVerified;
    req.subject = spec.subject;
    // The request's own extensions unless -s/-u/-U gave others.
    ossl::X509ExtensionStack exts;
    if (!o.subject.empty() || !o.key_usage.empty() || !o.ext_key_usage.empty() || !from_csr) {
      SCEPD_TRY(exts, BuildRequestExtensions(spec));
      req.extensions = exts.get();
    } else {
      req.extensions = from_csr.get();
    }
    SCEPD_TRY(auto run, Connect(o, nullptr, &outputs));
    return Finish(*run, run->session->Start(req), outputs);
  }
  SCEPD_TRY(ossl::Ptr<X509> cert, ossl::CertFromPemOrDer(data, o.template_file));
  public_key = ossl::UpRef(X509_get0_pubkey(cert.get()));
  SCEPD_TRY(spec, tectia::RequestSpec(o, cert.get()));
  SCEPD_TRY(ossl::X509ExtensionStack exts, BuildRequestExtensions(spec));
  cmp::NewCertRequest req;
  req.type = cmp::Request::kCr;
  req.new_key = public_key.get();
  req.public_key_only = true;
  req.popo = cmp::NewCertRequest::Popo::kRaVerified;
  req.subject = spec.subject;
  req.extensions = exts.get();
  SCEPD_TRY(auto run, Connect(o, nullptr, &outputs));
  return Finish(*run, run->session->Start(req), outputs);
}

Result<int> Revoke(const CmpClientOptions& o) {
  ossl::Ptr<X509> target;
  if (!o.template_file.empty()) {
    SCEPD_TRY(target, LoadOneCert(o.template_file));
  }
  SCEPD_TRY(auto run, Connect(o, nullptr, nullptr));
  Verbose("sending rr to " + o.access);
  auto out = run->session->Revoke(target.get());
  if (!out.ok()) return std::move(out).error();
  if (out->kind == cmp::Outcome::Kind::kRejected) return ReportRejected(*out);
  X509* revoked = target ? target.get() : run->auth_cert.get();
  std::printf("Revoked: serial %s, %s\n", SerialHex(revoked).c_str(),
              LdapName(X509_get_subject_name(revoked)).c_str());
  return kCmpExitSuccess;
}

Result<int> Dispatch(const CmpClientOptions& o) {
  switch (o.command) {
    case CmpClientCommand::kInitialize:
    case CmpClientCommand::kEnroll:
    case CmpClientCommand::kUpdate: return NewCertificate(o);
    case CmpClientCommand::kRevoke: return Revoke(o);
    case CmpClientCommand::kTunnel: return Tunnel(o);
    case CmpClientCommand::kPoll:
    case CmpClientCommand::kRecover: break;
  }
  return MakeError(ErrorCode::kUnsupported, "command not available");
}

}  // namespace

int CmpExitCodeFor(const Error& error) noexcept {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kUnsupported:
    case ErrorCode::kInternal:
    case ErrorCode::kCrypto: return kCmpExitError;
    case ErrorCode::kIo: return kCmpExitFile;
    case ErrorCode::kTimeout: return kCmpExitTimeout;
    case ErrorCode::kNetwork:
    case ErrorCode::kHttp: return kCmpExitNetwork;
    case ErrorCode::kParse:
    case ErrorCode::kVerify:
    case ErrorCode::kProtocol: return kCmpExitBadAnswer;
  }
  return kCmpExitError;
}

int RunCmpClient(const CmpClientOptions& options) {
  g_verbosity = options.verbosity;
  auto result = Dispatch(options);
  std::fflush(stdout);
  if (!result.ok()) {
    Say("error: " + result.error().message);
    return CmpExitCodeFor(result.error());
  }
  return *result;
}

}  // namespace scepd::cli
