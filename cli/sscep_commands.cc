#include "cli/sscep_commands.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "cli/cert_files.h"
#include "cli/exit_code.h"
#include "core/cert_info.h"
#include "core/csr.h"
#include "core/key.h"
#include "core/renewal_policy.h"
#include "core/scep/ca_certs.h"
#include "core/scep/client.h"
#include "core/scep/scep_session_steps.h"
#include "core/url_mask.h"
#include "io/curl_transport.h"
#include "io/files.h"

namespace scepd::cli {

namespace {

// Everything an operation needs; errors bubble up as values and become exit
// codes in one place (RunSscep).
struct Session {
  const SscepOptions& opts;
  std::unique_ptr<CurlTransport> transport;
  std::unique_ptr<scep::Client> client;
};

Status Require(const std::string& value, const char* what) {
  if (value.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("missing ") + what);
  }
  return {};
}

// -c FILE: the file itself, or FILE-0, FILE-1, ... as getca writes them.
Result<std::vector<ossl::Ptr<X509>>> LoadCaFiles(const std::string& path) {
  if (PathExists(path)) return LoadCertificates(path);
  std::vector<ossl::Ptr<X509>> all;
  for (int i = 0; i < 100; ++i) {
    std::string numbered = path + "-" + std::to_string(i);
    if (!PathExists(numbered)) break;
    SCEPD_TRY(auto certs, LoadCertificates(numbered));
    for (auto& c : certs) all.push_back(std::move(c));
  }
  if (all.empty()) {
    return MakeError(ErrorCode::kIo, "CA certificate file " + path + " (or " + path +
                                         "-0, ...) not found; run getca first");
  }
  return all;
}

Result<ossl::Ptr<EVP_PKEY>> LoadKey(const std::string& path) {
  SCEPD_TRY(std::string pem, ReadFileText(path));
  auto key = ossl::PrivateKeyFromPem(pem, path);
  OPENSSL_cleanse(pem.data(), pem.size());
  return key;
}

bool HoldsCa(const std::vector<ossl::Ptr<X509>>& certs) {
  return std::any_of(certs.begin(), certs.end(),
                     [](const ossl::Ptr<X509>& c) { return X509_check_ca(c.get()) != 0; });
}

bool AlreadyHeld(const std::vector<ossl::Ptr<X509>>& held, X509* cert) {
  return std::any_of(held.begin(), held.end(),
                     [&](const ossl::Ptr<X509>& h) { return X509_cmp(h.get(), cert) == 0; });
}

// sscep -c FILE-N names one of the files getca wrote (NDES: FILE-0 the RA
// signature certificate, FILE-1 the RA encryption one, FILE-2 the CA...).
// When what -c and -e hold is only RA certificates, their issuing CA (and
// its own issuers) is taken from FILE-0, FILE-1, ... beside it: only a CA
// certificate whose key verifies the signature on one already held, so
// nothing else from those files is trusted. Appended to `held`; returns the
// names of the files that gave one.
std::vector<std::string> AddIssuersBeside(const std::string& path,
                                          std::vector<ossl::Ptr<X509>>& held) {
  std::vector<std::string> used;
  auto dash = path.find_last_of('-');
  if (dash == std::string::npos || dash + 1 == path.size() ||
      path.find_first_not_of("0123456789", dash + 1) != std::string::npos) {
    return used;
  }
  std::vector<std::pair<std::string, ossl::Ptr<X509>>> candidates;
  for (int i = 0; i < 100; ++i) {
    std::string numbered = path.substr(0, dash + 1) + std::to_string(i);
    if (!PathExists(numbered)) break;
    auto certs = LoadCertificates(numbered);
    if (!certs.ok()) continue;  // not ours to judge: only a CA that verifies is taken
    for (auto& c : *certs) {
      if (X509_check_ca(c.get()) != 0) candidates.emplace_back(numbered, std::move(c));
    }
  }
  for (bool added = true; added;) {
    added = false;
    for (auto& [file, cert] : candidates) {
      if (!cert || AlreadyHeld(held, cert.get())) continue;
      bool issued_one = std::any_of(held.begin(), held.end(), [&](const ossl::Ptr<X509>& h) {
        return scep::IssuedBy(cert.get(), h.get());
      });
      if (!issued_one) continue;
      held.push_back(std::move(cert));
      used.push_back(file);
      added = true;
    }
  }
  return used;
}

// -c (and -e): the CA and RA certificates to use. -c may name an RA
// certificate, as sscep's users do against NDES (-c ca.crt-0 -e ca.crt-1):
// the CA is then its issuer, found beside it (AddIssuersBeside), or, when
// it is not there, the RA certificates stand alone (scep::RaRolesWithoutCa)
// and the CertPoll names the RA's issuer.
Status LoadCa(Session& s) {
  SCEPD_TRY_STATUS(Require(s.opts.ca_cert_file, "CA certificate file (-c)"));
  SCEPD_TRY(auto certs, LoadCaFiles(s.opts.ca_cert_file));
  std::size_t enc_index = 0;
  bool has_enc = false;
  if (!s.opts.enc_cert_file.empty()) {
    SCEPD_TRY(auto enc, LoadCertificates(s.opts.enc_cert_file));
    has_enc = true;
    for (std::size_t i = 0; i < certs.size() && enc_index == 0; ++i) {
      if (X509_cmp(certs[i].get(), enc.front().get()) == 0) enc_index = i + 1;
    }
    if (enc_index == 0) {
      enc_index = certs.size();
      certs.push_back(std::move(enc.front()));
    } else {
      --enc_index;
    }
  }
  if (!HoldsCa(certs)) {
    for (const auto& file : AddIssuersBeside(s.opts.ca_cert_file, certs)) {
      spdlog::info("{}: issuer of the RA certificate(s) taken from {}", s.opts.ca_cert_file,
                   file);
    }
  }
  // One certificate is the CA whatever it says (SelectCaRoles), as before.
  const bool ra_alone = !HoldsCa(certs) && certs.size() > 1;
  Result<scep::CaCertificates> roles = ra_alone ? scep::RaRolesWithoutCa(std::move(certs))
                                                : scep::SelectCaRoles(std::move(certs));
  if (!roles.ok()) {
    Error e = std::move(roles).error();
    e.message = s.opts.ca_cert_file + (has_enc ? " and " + s.opts.enc_cert_file : "") + ": " +
                e.message;
    return e;
  }
  scep::CaCertificates ca = std::move(roles).value();
  if (ra_alone) {
    spdlog::info("{}: RA certificate(s) without their CA; the CA is taken as their issuer, {}",
                 s.opts.ca_cert_file, IssuerString(ca.all[0].get()));
  }
  if (has_enc) ca.encryption = enc_index;
  // An RA certificate given with -c signs the replies (sscep's meaning of -c).
  if (X509_check_ca(ca.all[0].get()) == 0 &&
      std::find(ca.ra.begin(), ca.ra.end(), std::size_t{0}) != ca.ra.end() &&
      (!has_enc || enc_index != 0)) {
    ca.signer = 0;
  }
  s.client->SetCaCertificates(std::move(ca));
  return {};
}

// GetCACaps; a CA that does not implement it gets the defaults.
Status FetchCaps(Session& s) {
  SCEPD_TRY_STATUS(scep::FetchCapsOrDefaults(
      *s.client, [](const std::string& note) { spdlog::warn("{}", note); }));
  spdlog::debug("CA capabilities: {}", s.client->caps().ToString());
  SCEPD_TRY(scep::Algorithms algs, s.client->ChosenAlgorithms());
  spdlog::debug("using {} and {}, {}", algs.cipher, algs.digest,
                scep::UsePost(s.client->caps()) ? "POST" : "GET");
  return {};
}

std::string FingerprintAlg(const SscepOptions& o) {
  return o.fingerprint_alg.empty() ? "sha256" : o.fingerprint_alg;
}

// Fails before any network traffic when -F names an unknown digest.
Status CheckFingerprintAlg(const std::string& alg) {
  static constexpr const char* kKnown[] = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"};
  std::string lower;
  for (char c : alg) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* k : kKnown) {
    if (lower == k) return {};
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "-F " + alg + ": unknown fingerprint algorithm (md5|sha1|sha224|sha256|sha384|sha512)");
}

std::string UpperAlg(std::string alg) {
  for (char& c : alg) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return alg;
}

// Writes one certificate per file: FILE for a single one, FILE-0.. otherwise,
// and prints what sscep prints for each.
Status WriteCaCerts(const std::vector<ossl::Ptr<X509>>& certs, const std::string& path,
                    const std::string& alg) {
  for (std::size_t i = 0; i < certs.size(); ++i) {
    X509* c = certs[i].get();
    SCEPD_TRY(std::string fp, Fingerprint(c, alg));
    SCEPD_TRY(std::string pem, ossl::CertToPem(c));
    std::string file = certs.size() == 1 ? path : path + "-" + std::to_string(i);
    if (certs.size() > 1) {
      spdlog::info("found certificate with\n  subject: {}\n  issuer: {}\n  usage: {}\n  {} fingerprint: {}",
                   SubjectString(c), IssuerString(c), KeyUsageString(c), UpperAlg(alg), fp);
    } else {
      spdlog::info("{} fingerprint: {}", UpperAlg(alg), fp);
    }
    SCEPD_TRY_STATUS(WriteFileAtomic(file, pem, 0644));
    spdlog::info("{} written as {}", certs.size() == 1 ? "CA certificate" : "certificate", file);
  }
  return {};
}

Result<int> GetCa(Session& s) {
  SCEPD_TRY_STATUS(Require(s.opts.ca_cert_file, "CA certificate file to write (-c)"));
  SCEPD_TRY_STATUS(CheckFingerprintAlg(FingerprintAlg(s.opts)));
  spdlog::info("requesting CA certificate");
  SCEPD_TRY(scep::CaCertificates ca, s.client->GetCaCert());
  spdlog::debug("valid response from server: {} certificate(s)", ca.all.size());
  SCEPD_TRY_STATUS(WriteCaCerts(ca.all, s.opts.ca_cert_file, FingerprintAlg(s.opts)));
  return kExitSuccess;
}

Result<int> GetNextCa(Session& s) {
  SCEPD_TRY_STATUS(Require(s.opts.ca_chain_file, "current CA certificate chain (-C)"));
  SCEPD_TRY_STATUS(Require(s.opts.ca_cert_file, "file to write the next CA certificate to (-c)"));
  SCEPD_TRY(auto current, LoadCaFiles(s.opts.ca_chain_file));
  SCEPD_TRY(scep::CaCertificates ca, scep::SelectCaRoles(std::move(current)));
  s.client->SetCaCertificates(std::move(ca));
  spdlog::info("requesting next CA certificate");
  SCEPD_TRY(scep::CaCertificates next, s.client->GetNextCaCert());
  spdlog::info("next CA certificate(s) verified as signed by the current CA");
  SCEPD_TRY_STATUS(WriteCaCerts(next.all, s.opts.ca_cert_file, FingerprintAlg(s.opts)));
  return kExitSuccess;
}

Result<int> GetCaps(Session& s) {
  SCEPD_TRY(scep::CaCaps caps, s.client->GetCaCaps());
  std::string names = caps.ToString();
  std::size_t pos = 0;
  while (pos < names.size()) {
    auto sp = names.find(' ', pos);
    if (sp == std::string::npos) sp = names.size();
    std::printf("%s\n", names.substr(pos, sp - pos).c_str());
    pos = sp + 1;
  }
  std::fflush(stdout);
  return kExitSuccess;
}

Status WriteCert(const std::string& path, X509* cert) {
  SCEPD_TRY(std::string pem, ossl::CertToPem(cert));
  return WriteFileAtomic(path, pem, 0644);
}

Result<int> Enroll(Session& s) {
  const SscepOptions& o = s.opts;
  SCEPD_TRY_STATUS(Require(o.private_key_file, "private key file (-k)"));
  SCEPD_TRY_STATUS(Require(o.request_file, "certificate request file (-r)"));
  SCEPD_TRY_STATUS(Require(o.local_cert_file, "file to write the certificate to (-l)"));
  if (o.sign_cert_file.empty() != o.sign_key_file.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "-O and -K must be given together");
  }
  SCEPD_TRY(auto key, LoadKey(o.private_key_file));
  SCEPD_TRY(Bytes csr_data, ReadFileBytes(o.request_file));
  SCEPD_TRY(auto csr, ossl::CsrFromPemOrDer(csr_data, o.request_file));
  if (!SamePublicKey(X509_REQ_get0_pubkey(csr.get()), key.get())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     o.request_file + ": request does not belong to the key in " + o.private_key_file);
  }
  SCEPD_TRY_STATUS(LoadCa(s));
  SCEPD_TRY_STATUS(FetchCaps(s));
  SCEPD_TRY(scep::Algorithms algs, s.client->ChosenAlgorithms());

  scep::EnrollRequest req;
  req.csr = csr.get();
  req.key = key.get();
  ossl::Ptr<X509> renewal_cert;
  ossl::Ptr<X509> earlier_self_signed;
  ossl::Ptr<EVP_PKEY> signer_key;
  scep::EnvelopeSigner signer;
  if (!o.sign_cert_file.empty()) {
    SCEPD_TRY(auto certs, LoadCertificates(o.sign_cert_file));
    renewal_cert = std::move(certs.front());
    SCEPD_TRY(signer_key, LoadKey(o.sign_key_file));
    if (!KeyMatchesCert(renewal_cert.get(), signer_key.get())) {
      return MakeError(ErrorCode::kInvalidArgument,
                       o.sign_key_file + ": key does not match the certificate in " + o.sign_cert_file);
    }
    signer.renewal_cert = renewal_cert.get();
  } else {
    if (o.resume && !o.self_signed_file.empty() && PathExists(o.self_signed_file)) {
      SCEPD_TRY(auto certs, LoadCertificates(o.self_signed_file));
      earlier_self_signed = std::move(certs.front());
      signer.self_signed = earlier_self_signed.get();
    }
    signer_key = ossl::UpRef(key.get());
  }
  auto envelope = scep::ChooseEnvelope(s.client->caps(), csr.get(), key.get(), signer,
                                       algs.digest, std::time(nullptr));
  if (!envelope.ok()) {
    if (signer.renewal_cert != nullptr) return std::move(envelope).error();
    spdlog::error("{}", envelope.error().message);
    return kExitSelfSigned;
  }
  if (envelope->made_self_signed && !o.self_signed_file.empty()) {
    SCEPD_TRY_STATUS(WriteCert(o.self_signed_file, envelope->signer_cert.get()));
  }
  req.type = envelope->type;
  req.signer_cert = envelope->signer_cert.get();
  req.signer_key = signer_key.get();
  req.transaction_id = envelope->transaction_id;
  spdlog::debug("transaction ID {}", req.transaction_id);

  Result<scep::CertRep> rep = MakeError(ErrorCode::kInternal, "no request sent");
  if (o.resume) {
    spdlog::info("resuming enrollment: requesting certificate (#1)");
    rep = s.client->Poll(req);
  } else {
    spdlog::info("sending certificate request ({})", scep::MessageTypeName(req.type));
    rep = s.client->Enroll(req);
  }
  const auto started = std::chrono::steady_clock::now();
  long polls = o.resume ? 1 : 0;  // NOLINT(runtime/int)
  while (rep.ok() && rep->status == scep::PkiStatus::kPending) {
    spdlog::info("pkistatus: PENDING");
    auto waited = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - started).count();
    if (polls >= o.max_poll_count || waited + o.poll_interval > o.max_poll_time) {
      spdlog::error("still pending after {} poll(s) and {} s; resume later with -R", polls, waited);
      return kExitPending;
    }
    std::this_thread::sleep_for(std::chrono::seconds(o.poll_interval));
    ++polls;
    spdlog::info("requesting certificate (#{})", polls);
    rep = s.client->Poll(req);
  }
  if (!rep.ok()) return std::move(rep).error();
  if (rep->status == scep::PkiStatus::kFailure) {
    spdlog::error("pkistatus: {}", rep->Describe());
    return ExitCodeFor(*rep);
  }
  spdlog::info("pkistatus: SUCCESS");
  // Beyond sscep: a certificate for another subject or one already expired
  // is refused, not written.
  SCEPD_TRY_STATUS(CheckIssuedCertificate(rep->issued.get(), csr.get(), std::time(nullptr)));
  // Nor one the CA certificates held (GetCACert or -c) did not sign.
  {
    std::vector<X509*> held;
    if (s.client->ca()) {
      for (const auto& c : s.client->ca()->all) held.push_back(c.get());
      // RA certificates alone (-c ca.crt-0 -e ca.crt-1 without the CA's
      // file): the CA the reply carries counts when its key signed one of
      // them, since then it is their issuer.
      if (X509_check_ca(s.client->ca()->Ca()) == 0) {
        for (const auto& c : rep->certs) {
          for (const auto& ra : s.client->ca()->all) {
            if (scep::IssuedBy(c.get(), ra.get())) {
              held.push_back(c.get());
              break;
            }
          }
        }
      }
    }
    SCEPD_TRY_STATUS(VerifyIssuedCertificate(rep->issued.get(), held));
  }
  // Written (the caller decides what to replace), but said: a certificate
  // more than 5 minutes ahead of this clock does not work yet.
  if (auto nb = NotBefore(rep->issued.get());
      nb.ok() && *nb > static_cast<std::int64_t>(std::time(nullptr)) + 300) {
    spdlog::warn("the issued certificate is not valid yet: valid from {} (this clock says {})",
                 FormatUtc(*nb), FormatUtc(static_cast<std::int64_t>(std::time(nullptr))));
  }
  SCEPD_TRY_STATUS(WriteCert(o.local_cert_file, rep->issued.get()));
  spdlog::info("certificate written as {} (serial {})", o.local_cert_file, SerialHex(rep->issued.get()));
  // Beyond sscep: the whole chain next to it, leaf first.
  // The reply may carry the CA certificates (RFC 8894 allows it; micromdm
  // sends only the leaf): else take the CA certificates we hold, not the RAs.
  std::vector<X509*> rest;
  for (const auto& c : rep->certs) {
    if (X509_cmp(c.get(), rep->issued.get()) != 0) rest.push_back(c.get());
  }
  std::vector<ossl::Ptr<X509>> held;
  if (rest.empty() && s.client->ca()) held = scep::StoredChain(*s.client->ca());
  for (const auto& c : held) rest.push_back(c.get());
  SCEPD_TRY(std::string chain, ossl::CertToPem(rep->issued.get()));
  for (X509* c : rest) {
    SCEPD_TRY(std::string pem, ossl::CertToPem(c));
    chain += pem;
  }
  SCEPD_TRY_STATUS(WriteFileAtomic(o.local_cert_file + ".chain", chain, 0644));
  spdlog::debug("chain written as {}.chain", o.local_cert_file);
  return kExitSuccess;
}

Result<ossl::Ptr<ASN1_INTEGER>> ParseSerial(const std::string& text) {
  // sscep: decimal, or hex when it has ':' or a-f digits.
  std::string clean;
  bool hex = false;
  for (char c : text) {
    if (c == ':') { hex = true; continue; }
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
      return MakeError(ErrorCode::kInvalidArgument, "serial number '" + text + "' is not a number");
    }
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) hex = true;
    clean += c;
  }
  if (clean.empty()) return MakeError(ErrorCode::kInvalidArgument, "serial number is empty");
  BIGNUM* bn = nullptr;
  int n = hex ? BN_hex2bn(&bn, clean.c_str()) : BN_dec2bn(&bn, clean.c_str());
  ossl::Ptr<BIGNUM> owned(bn);
  if (n <= 0) return OpenSslError(ErrorCode::kInvalidArgument, "serial number '" + text + "'");
  ossl::Ptr<ASN1_INTEGER> serial(BN_to_ASN1_INTEGER(bn, nullptr));
  if (!serial) return OpenSslError(ErrorCode::kInternal, "converting serial number");
  return serial;
}

struct Identity {
  ossl::Ptr<X509> cert;
  ossl::Ptr<EVP_PKEY> key;
};

Result<Identity> LoadIdentity(const SscepOptions& o) {
  SCEPD_TRY_STATUS(Require(o.private_key_file, "private key file (-k)"));
  SCEPD_TRY_STATUS(Require(o.local_cert_file, "local certificate file (-l)"));
  Identity id;
  SCEPD_TRY(auto certs, LoadCertificates(o.local_cert_file));
  id.cert = std::move(certs.front());
  SCEPD_TRY(id.key, LoadKey(o.private_key_file));
  if (!KeyMatchesCert(id.cert.get(), id.key.get())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     o.private_key_file + ": key does not match the certificate in " + o.local_cert_file);
  }
  return id;
}

Result<int> GetCert(Session& s) {
  SCEPD_TRY_STATUS(Require(s.opts.get_cert_serial, "certificate serial number (-s)"));
  SCEPD_TRY_STATUS(Require(s.opts.write_file, "file to write the certificate to (-w)"));
  SCEPD_TRY(auto serial, ParseSerial(s.opts.get_cert_serial));
  SCEPD_TRY(Identity id, LoadIdentity(s.opts));
  // -O: the certificate of the issuer to ask (its subject), not the CA's.
  ossl::Ptr<X509> issuer_cert;
  if (!s.opts.sign_cert_file.empty()) {
    SCEPD_TRY(auto certs, LoadCertificates(s.opts.sign_cert_file));
    issuer_cert = std::move(certs.front());
  }
  SCEPD_TRY_STATUS(LoadCa(s));
  SCEPD_TRY_STATUS(FetchCaps(s));
  spdlog::info("requesting certificate with serial {}", s.opts.get_cert_serial);
  SCEPD_TRY(scep::CertRep rep,
            s.client->GetCert(id.cert.get(), id.key.get(), serial.get(),
                              issuer_cert ? X509_get_subject_name(issuer_cert.get()) : nullptr));
  if (rep.status != scep::PkiStatus::kSuccess) {
    spdlog::error("pkistatus: {}", rep.Describe());
    return ExitCodeFor(rep);
  }
  SCEPD_TRY_STATUS(WriteCert(s.opts.write_file, rep.issued.get()));
  spdlog::info("certificate written as {}", s.opts.write_file);
  return kExitSuccess;
}

Result<int> GetCrl(Session& s) {
  SCEPD_TRY_STATUS(Require(s.opts.write_file, "file to write the CRL to (-w)"));
  SCEPD_TRY(Identity id, LoadIdentity(s.opts));
  // -O: the CRL of that certificate's issuer, asked with its serial; -s
  // replaces the serial.
  ossl::Ptr<X509> about;
  if (!s.opts.sign_cert_file.empty()) {
    SCEPD_TRY(auto certs, LoadCertificates(s.opts.sign_cert_file));
    about = std::move(certs.front());
  }
  ossl::Ptr<ASN1_INTEGER> serial;
  if (!s.opts.get_cert_serial.empty()) {
    SCEPD_TRY(serial, ParseSerial(s.opts.get_cert_serial));
  }
  SCEPD_TRY_STATUS(LoadCa(s));
  SCEPD_TRY_STATUS(FetchCaps(s));
  spdlog::info("requesting CRL");
  X509* subject = about ? about.get() : id.cert.get();
  SCEPD_TRY(scep::CertRep rep,
            s.client->GetCrl(id.cert.get(), id.key.get(), X509_get_issuer_name(subject),
                             serial ? serial.get() : X509_get0_serialNumber(subject)));
  if (rep.status != scep::PkiStatus::kSuccess) {
    spdlog::error("pkistatus: {}", rep.Describe());
    return ExitCodeFor(rep);
  }
  SCEPD_TRY(std::string pem, ossl::CrlToPem(rep.crls.front().get()));
  SCEPD_TRY_STATUS(WriteFileAtomic(s.opts.write_file, pem, 0644));
  spdlog::info("CRL written as {}", s.opts.write_file);
  return kExitSuccess;
}

Result<int> MkRequest(const SscepOptions& o) {
  SCEPD_TRY_STATUS(Require(o.private_key_file, "file to write the private key to (-k)"));
  SCEPD_TRY_STATUS(Require(o.request_file, "file to write the request to (-r)"));
  SCEPD_TRY_STATUS(Require(o.subject, "subject (--subject)"));
  if (PathExists(o.private_key_file)) {
    return MakeError(ErrorCode::kIo, o.private_key_file +
                                         " exists: refusing to overwrite a private key; remove it first");
  }
  CsrSpec spec;
  spec.subject = o.subject;
  spec.alt_names = o.alt_names;
  spec.template_name = o.template_name;
  for (const auto& u : o.key_usage) {
    if (u == "digitalSignature") spec.digital_signature = true;
    else if (u == "keyEncipherment") spec.key_encipherment = true;
    else return MakeError(ErrorCode::kInvalidArgument, "--key-usage: unknown usage '" + u +
                                                          "' (digitalSignature, keyEncipherment)");
  }
  for (const auto& e : o.ext_key_usage) {
    if (e == "serverAuth") spec.server_auth = true;
    else if (e == "clientAuth") spec.client_auth = true;
    else spec.extra_ekus.push_back(e);
  }
  if (!o.challenge_file.empty()) {
    SCEPD_TRY(spec.challenge_password, ReadFileText(o.challenge_file, 4096));
    while (!spec.challenge_password.empty() &&
           (spec.challenge_password.back() == '\n' || spec.challenge_password.back() == '\r')) {
      spec.challenge_password.pop_back();
    }
  } else {
    spec.challenge_password = o.challenge;
  }
  spdlog::info("generating {}-bit RSA key", o.key_size);
  SCEPD_TRY(auto key, GenerateRsaKey(o.key_size));
  auto csr = BuildCsr(spec, key.get());
  OPENSSL_cleanse(spec.challenge_password.data(), spec.challenge_password.size());
  if (!csr.ok()) return std::move(csr).error();
  SCEPD_TRY(std::string key_pem, ossl::PrivateKeyToPem(key.get()));
  auto written = WriteFileAtomic(o.private_key_file, key_pem, 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  SCEPD_TRY_STATUS(std::move(written));
  SCEPD_TRY(std::string csr_pem, ossl::CsrToPem(csr->get()));
  SCEPD_TRY_STATUS(WriteFileAtomic(o.request_file, csr_pem, 0644));
  spdlog::info("key written as {}, request as {}", o.private_key_file, o.request_file);
  return kExitSuccess;
}

Result<int> Dispatch(const SscepOptions& o) {
  if (!o.engine.empty()) {
    return MakeError(ErrorCode::kUnsupported, "-g " + o.engine +
                                                  ": OpenSSL engines are not supported by this build");
  }
  if (o.operation == Operation::kMkRequest) return MkRequest(o);
  SCEPD_TRY_STATUS(Require(o.url, "SCEP server URL (-u)"));
  // CAs may answer with single DES whatever we asked for (micromdm does).
  if (auto st = ossl::EnableLegacyAlgorithms(); !st.ok()) spdlog::warn("{}", st.error().message);

  TransportOptions topts;
  topts.proxy = o.proxy;
  if (!o.proxy_credentials_file.empty()) {
    SCEPD_TRY(topts.proxy_credentials, ReadFileText(o.proxy_credentials_file, 4096));
    while (!topts.proxy_credentials.empty() && (topts.proxy_credentials.back() == '\n' ||
                                                topts.proxy_credentials.back() == '\r')) {
      topts.proxy_credentials.pop_back();
    }
  }
  struct WipeCredentials {
    std::string& s;
    ~WipeCredentials() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe_credentials{topts.proxy_credentials};
  topts.ca_bundle = o.tls_ca_file;
  topts.verify_tls = !o.insecure;
  topts.total_timeout_s = o.timeout_seconds;
  topts.connect_timeout_s = std::min<long>(30, o.timeout_seconds);  // NOLINT(runtime/int)
  SCEPD_TRY(auto transport, CurlTransport::Create(topts));
  if (o.wait_seconds > 0) {
    spdlog::debug("waiting up to {} s for {}", o.wait_seconds, MaskUrlUserInfo(o.url));
    SCEPD_TRY_STATUS(transport->WaitForConnectivity(o.url, o.wait_seconds));
  }
  scep::ClientOptions copts;
  copts.url = o.url;
  copts.ca_identifier = o.ca_identifier;
  copts.extra_query = o.monitor_info;
  copts.algorithms.legacy = o.legacy;
  copts.algorithms.force_cipher = o.enc_algorithm;
  copts.algorithms.force_digest = o.sig_algorithm;
  Session s{o, std::move(transport), nullptr};
  s.client = std::make_unique<scep::Client>(*s.transport, copts);
  switch (o.operation) {
    case Operation::kGetCa: return GetCa(s);
    case Operation::kGetNextCa: return GetNextCa(s);
    case Operation::kGetCaps: return GetCaps(s);
    case Operation::kEnroll: return Enroll(s);
    case Operation::kGetCert: return GetCert(s);
    case Operation::kGetCrl: return GetCrl(s);
    case Operation::kMkRequest: break;
  }
  return MakeError(ErrorCode::kInternal, "unhandled operation");
}

}  // namespace

int RunSscep(const SscepOptions& options) {
  auto result = Dispatch(options);
  if (!result.ok()) {
    spdlog::error("{}", result.error().message);
    return ExitCodeFor(result.error());
  }
  return *result;
}

}  // namespace scepd::cli
