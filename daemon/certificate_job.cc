#include "daemon/certificate_job.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <span>
#include <utility>

#include "core/backoff.h"
#include "core/cert_info.h"
#include "core/csr.h"
#include "core/key.h"
#include "core/renewal_policy.h"
#include "core/scep/client.h"
#include "core/wipe.h"
#include "daemon/next_key.h"
#include "io/process_hook_runner.h"

namespace scepd {

const char* JobStateName(JobState state) noexcept {
  switch (state) {
    case JobState::kIdle: return "idle";
    case JobState::kEnrolling: return "enrolling";
    case JobState::kPolling: return "polling";
    case JobState::kBackoff: return "backoff";
    case JobState::kClockWait: return "clockwait";
  }
  return "unknown";
}

struct CertificateJob::Attempt {
  std::unique_ptr<Transport> transport;
  std::unique_ptr<scep::Client> client;
  scep::CaCertificates ca;
  scep::Algorithms algorithms;
  bool rollover = false;  // the CA is the successor fetched with GetNextCACert
};

struct CertificateJob::Request {
  ossl::Ptr<EVP_PKEY> key;
  ossl::Ptr<X509_REQ> csr;
  ossl::Ptr<X509> signer;
  ossl::Ptr<EVP_PKEY> signer_key;
};

namespace {

std::string Label(const CertificateSettings& s) {
  return s.name.empty() ? std::string("certificate") : "certificate " + s.name;
}

// The CA chain we store: every certificate from GetCACert but the RA ones.
std::vector<X509*> CaChain(const scep::CaCertificates& ca) {
  std::vector<X509*> out;
  for (std::size_t i = 0; i < ca.all.size(); ++i) {
    if (std::find(ca.ra.begin(), ca.ra.end(), i) == ca.ra.end()) out.push_back(ca.all[i].get());
  }
  return out;
}

struct Secret {
  std::string text;
  ~Secret() { OPENSSL_cleanse(text.data(), text.size()); }
};

}  // namespace

CertificateJob::CertificateJob(CertificateSettings settings, DaemonSettings daemon, JobDeps deps)
    : settings_(std::move(settings)),
      daemon_(std::move(daemon)),
      deps_(std::move(deps)),
      store_(settings_.data_dir) {
  status_.name = settings_.name;
}

CertificateJob::~CertificateJob() {
  OPENSSL_cleanse(settings_.challenge_password.data(), settings_.challenge_password.size());
}

void CertificateJob::Publish(ModuleState module, CertState cert) {
  status_.module = module;
  status_.cert = cert;
  status_.state = JobStateName(state_);
  if (deps_.publish_status) deps_.publish_status(status_);
}

void CertificateJob::NoteActive(const CertSummary* active) {
  if (active == nullptr) {
    status_.serial.clear();
    status_.subject.clear();
    status_.not_before.reset();
    status_.not_after.reset();
    status_.days_left.reset();
    status_.renewal_window.reset();
    return;
  }
  status_.serial = active->serial;
  status_.subject = active->subject;
  status_.not_before = active->not_before;
  status_.not_after = active->not_after;
  status_.days_left.reset();
  if (active->not_after) status_.days_left = (*active->not_after - deps_.clock->Now()) / 86400;
  status_.renewal_window.reset();
  if (active->not_after) {
    status_.renewal_window = *active->not_after - std::int64_t{settings_.renew_days} * 86400;
  }
}

std::int64_t CertificateJob::Step() {
  const std::int64_t now = deps_.clock->Now();
  outcome_ = JobOutcome::kNone;
  if (auto st = store_.Prepare(); !st.ok()) {
    return Fail(now, st.error().message, "");
  }
  auto pending = store_.LoadPending();
  if (!pending.ok() && pending.error().code != ErrorCode::kParse) {
    // Unreadable is not corrupt: the CA may already have the request, and
    // only this file has its key. Keep it and try again later.
    return Fail(now, pending.error().message + " (the pending transaction is kept)", "");
  }
  if (!pending.ok()) {
    auto aside = store_.SetAsidePending();
    spdlog::error("{}: {}; {}; enrolling anew", Label(settings_), pending.error().message,
                  aside.ok() ? "moved to " + *aside : aside.error().message);
    if (!aside.ok()) return Fail(now, aside.error().message, "");
  } else if (pending->has_value()) {
    const PendingTransaction& p = **pending;
    if (p.transaction_id != known_transaction_) {
      known_transaction_ = p.transaction_id;
      spdlog::info("{}: resuming transaction {} ({}, {} PENDING answer(s) so far)",
                   Label(settings_), p.transaction_id,
                   scep::MessageTypeName(static_cast<scep::MessageType>(p.message_type)), p.polls);
    }
    if (auto finished = FinishFromDisk(p, now)) return *finished;
    return ContinuePending(std::move(**pending), now);
  }
  if (now < retry_at_) return retry_at_;  // backing off after a failure
  return CheckCertificate(now);
}

std::int64_t CertificateJob::CheckCertificate(std::int64_t now) {
  // Only the certificate is needed here; an enrollment loads the pair anew.
  auto active = store_.LoadActiveCertificate();
  std::optional<CertTimes> times;
  const CertSummary* pair = nullptr;
  if (!active.ok()) {
    spdlog::warn("{}: {}: enrolling anew", Label(settings_), active.error().message);
  } else if (active->has_value()) {
    pair = &**active;
    if (pair->not_before && pair->not_after) times = CertTimes{*pair->not_before, *pair->not_after};
  }
  NoteActive(pair);
  status_.next_check.reset();

  RenewalSettings rs;
  rs.renew_days = settings_.renew_days;
  rs.check_interval = daemon_.check_interval;
  rs.build_time = deps_.build_time;
  Decision d = DecideRenewal(times, now, rs, *deps_.random);
  const bool renew_now = std::exchange(renew_now_, false);
  if (renew_now && pair != nullptr && d.verdict == Verdict::kValid) {
    spdlog::info("{}: {} valid, renewing now as asked (SIGUSR2)", Label(settings_), status_.serial);
    fallback_tried_ = false;
    return StartEnrollment(now, /*renewal=*/true);
  }
  switch (d.verdict) {
    case Verdict::kValid:
      RepairCaChain();
      state_ = JobState::kIdle;
      outcome_ = JobOutcome::kValid;
      status_.next_check = d.next_check;
      spdlog::info("{}: {} valid: {}; next check at {}", Label(settings_), status_.serial, d.reason,
                   FormatUtc(d.next_check));
      Publish(ModuleState::kNotRunning, CertState::kEnrolled);
      PrepareKeyIfNear(now, times);
      return d.next_check;
    case Verdict::kClockUntrusted:
      state_ = JobState::kClockWait;
      outcome_ = JobOutcome::kValid;
      status_.next_check = d.next_check;
      spdlog::warn("{}: {}", Label(settings_), d.reason);
      Publish(ModuleState::kNotRunning, pair ? CertState::kEnrolled : CertState::kNotEnrolled);
      return d.next_check;
    case Verdict::kMissing:
    case Verdict::kRenewalDue:
    case Verdict::kExpired:
      spdlog::info("{}: {}", Label(settings_), d.reason);
      fallback_tried_ = false;
      return StartEnrollment(now, d.verdict == Verdict::kRenewalDue && pair != nullptr);
  }
  return now + daemon_.check_interval;
}

void CertificateJob::RepairCaChain() {
  Status readable = store_.CheckCaChain();
  if (readable.ok()) return;
  spdlog::warn("{}: {}; fetching the CA chain again", Label(settings_), readable.error().message);
  auto attempt = Connect();
  if (!attempt.ok()) {
    spdlog::warn("{}: CA chain not repaired: {}", Label(settings_), attempt.error().message);
    return;
  }
  if (auto st = store_.WriteCaChain(CaChain((*attempt)->ca)); !st.ok()) {
    spdlog::warn("{}: CA chain not repaired: {}", Label(settings_), st.error().message);
    return;
  }
  spdlog::info("{}: CA chain rewritten from GetCACert", Label(settings_));
}

Result<std::unique_ptr<CertificateJob::Attempt>> CertificateJob::Connect() {
  auto attempt = std::make_unique<Attempt>();
  SCEPD_TRY(attempt->transport, deps_.make_transport(settings_));
  scep::ClientOptions options;
  options.url = settings_.url;
  options.ca_identifier = settings_.ca_identifier;
  options.algorithms.legacy = settings_.legacy_ciphers;
  attempt->client = std::make_unique<scep::Client>(*attempt->transport, options);
  auto caps = attempt->client->GetCaCaps();
  if (!caps.ok()) {
    if (caps.error().code != ErrorCode::kHttp) return std::move(caps).error();
    spdlog::warn("{}: GetCACaps failed ({}); using defaults", Label(settings_), caps.error().message);
    attempt->client->SetCaps({});
  }
  SCEPD_TRY(attempt->ca, attempt->client->GetCaCert());
  SCEPD_TRY_STATUS(CheckCaTrust(*attempt));
  FetchNextCa(*attempt);
  SCEPD_TRY(attempt->algorithms, attempt->client->ChosenAlgorithms());
  status_.ca_caps = attempt->client->caps().ToString();
  status_.cipher = attempt->algorithms.cipher;
  status_.digest = attempt->algorithms.digest;
  return attempt;
}

Status CertificateJob::CheckCaTrust(Attempt& a) {
  X509* ca = a.ca.Ca();
  SCEPD_TRY(std::string sha256, Fingerprint(ca, "sha256"));
  // The anchor: ca_fingerprint from the settings, else the pin stored with
  // the chain; none before the first installation (trust on first use).
  std::string algorithm = "sha256";
  std::string server_fp = sha256;
  std::string pinned;
  std::string where;
  if (!settings_.ca_fingerprint.empty()) {
    algorithm = settings_.ca_fingerprint.algorithm;
    SCEPD_TRY(server_fp, Fingerprint(ca, algorithm));
    pinned = HexEncode(settings_.ca_fingerprint.digest, ':');
    where = "ca_fingerprint";
  } else {
    SCEPD_TRY(std::optional<std::string> stored, store_.LoadCaPin());
    if (!stored) {
      spdlog::info("{}: no CA pinned yet: trusting the CA certificate {} (sha256:{}) on first use",
                   Label(settings_), SubjectString(ca), sha256);
      return {};
    }
    pinned = *stored;
    where = store_.Path("ca.fingerprint");
  }
  if (server_fp == pinned) return {};
  // The only other CA accepted: the successor the pinned CA announced
  // through GetNextCACert (verified when it was fetched).
  SCEPD_TRY(auto next, store_.LoadNextCa());
  if (next && X509_cmp(next->get(), ca) == 0) {
    spdlog::warn("{}: CA rollover: the server now presents the next CA certificate {} (sha256:{}) "
                 "fetched earlier with GetNextCACert; adopting it{}",
                 Label(settings_), SubjectString(ca), sha256,
                 where == "ca_fingerprint" ? " (update ca_fingerprint to it)" : "");
    a.rollover = true;
    return {};
  }
  if (where == "ca_fingerprint") {
    return MakeError(ErrorCode::kVerify, "CA certificate fingerprint " + server_fp +
                                             " does not match ca_fingerprint " + pinned);
  }
  return MakeError(ErrorCode::kVerify,
                   "CA certificate changed: the server presents " + SubjectString(ca) +
                       " with fingerprint sha256:" + server_fp + ", but the CA pinned in " + where +
                       " is sha256:" + pinned +
                       "; refused (a new CA is accepted only through GetNextCACert)");
}

void CertificateJob::FetchNextCa(Attempt& a) {
  if (!a.client->caps().Has(scep::Capability::kGetNextCACert)) return;
  auto stored = store_.LoadNextCa();
  if (stored.ok() && stored->has_value() && X509_cmp(stored->value().get(), a.ca.Ca()) != 0) {
    return;  // already have the successor
  }
  auto next = a.client->GetNextCaCert();
  if (!next.ok()) {
    // Most CAs have no successor most of the time (HTTP 500 or 404).
    spdlog::debug("{}: no next CA certificate: {}", Label(settings_), next.error().message);
    return;
  }
  X509* cert = next->Ca();
  if (cert == nullptr || X509_cmp(cert, a.ca.Ca()) == 0) return;
  auto fp = Fingerprint(cert, "sha256");
  if (auto st = store_.SaveNextCa(cert); !st.ok()) {
    spdlog::warn("{}: cannot keep the next CA certificate: {}", Label(settings_),
                 st.error().message);
    return;
  }
  spdlog::info("{}: next CA certificate {} (sha256:{}) fetched with GetNextCACert and verified "
               "by the current CA; it is accepted once the server presents it",
               Label(settings_), SubjectString(cert), fp.ok() ? *fp : "?");
}

std::int64_t CertificateJob::StartEnrollment(std::int64_t now, bool renewal) {
  state_ = JobState::kEnrolling;
  status_.last_attempt = now;
  Publish(ModuleState::kRunning, renewal ? CertState::kReEnrollment : CertState::kEnrollment);

  auto attempt = Connect();
  if (!attempt.ok()) return Fail(now, attempt.error().message, "");
  Attempt& a = **attempt;

  ossl::Ptr<X509> signer_cert;
  ossl::Ptr<EVP_PKEY> signer_key;
  if (renewal) {
    auto active = store_.LoadActive();
    if (active.ok() && active->has_value()) {
      signer_cert = std::move((*active)->cert);
      signer_key = std::move((*active)->key);
    } else {
      renewal = false;  // the pair vanished: enroll as new
    }
  }

  Result<ossl::Ptr<EVP_PKEY>> key = TakeNextKey();
  const bool prepared_key = *key != nullptr;
  if (prepared_key) {
    spdlog::info("{}: using the {}-bit RSA key made ahead of time", Label(settings_),
                 settings_.key_size);
  } else {
    spdlog::info("{}: generating a {}-bit RSA key", Label(settings_), settings_.key_size);
    key = GenerateRsaKey(settings_.key_size);
    if (!key.ok()) return Fail(now, key.error().message, "");
  }
  CsrSpec spec = RequestSpec(settings_);
  auto csr = BuildCsr(spec, key->get(), a.algorithms.digest);
  OPENSSL_cleanse(spec.challenge_password.data(), spec.challenge_password.size());
  if (!csr.ok()) return Fail(now, csr.error().message, "");
  if (!renewal) {
    auto self = MakeSelfSignedCert(csr->get(), key->get(), a.algorithms.digest, now);
    if (!self.ok()) return Fail(now, self.error().message, "");
    signer_cert = std::move(*self);
    signer_key = ossl::UpRef(key->get());
  }

  PendingTransaction p;
  WipeOnExit wipe_csr(p.csr_pem);  // the request holds the challenge password
  auto tid = scep::TransactionIdFor(key->get());
  auto key_pem = ossl::PrivateKeyToPem(key->get());
  auto csr_pem = ossl::CsrToPem(csr->get());
  auto signer_pem = ossl::CertToPem(signer_cert.get());
  if (!tid.ok() || !key_pem.ok() || !csr_pem.ok() || !signer_pem.ok()) {
    return Fail(now, "encoding the new request failed", "");
  }
  p.transaction_id = *tid;
  p.message_type = static_cast<int>(renewal && a.client->caps().Has(scep::Capability::kRenewal)
                                        ? scep::MessageType::kRenewalReq
                                        : scep::MessageType::kPKCSReq);
  p.key_pem = std::move(*key_pem);
  p.csr_pem = std::move(*csr_pem);
  p.signer_cert_pem = std::move(*signer_pem);
  p.signer_is_new_key = !renewal;
  p.started = now;
  p.polls = 0;  // PENDING answers so far; 0 = never acknowledged: a retry resends the request
  // Saved before sending: a crash after the CA got it resumes this transaction.
  if (auto st = store_.SavePending(p); !st.ok()) return Fail(now, st.error().message, "");
  known_transaction_ = p.transaction_id;
  OPENSSL_cleanse(p.key_pem.data(), p.key_pem.size());
  // The pending transaction holds the key now: one key, one request.
  if (prepared_key) {
    if (auto st = RemoveNextKey(settings_.data_dir); !st.ok()) {
      spdlog::warn("{}: {}", Label(settings_), st.error().message);
    }
  }
  spdlog::info("{}: sending {} (transaction {})", Label(settings_),
               scep::MessageTypeName(static_cast<scep::MessageType>(p.message_type)),
               p.transaction_id);
  auto reloaded = store_.LoadPending();
  if (!reloaded.ok() || !reloaded->has_value()) {
    return Fail(now, reloaded.ok() ? "pending transaction not saved" : reloaded.error().message, "");
  }
  poll_at_ = 0;
  auto made = std::make_unique<Request>();
  made->key = std::move(*key);
  made->csr = std::move(*csr);
  made->signer = std::move(signer_cert);
  made->signer_key = std::move(signer_key);
  return ContinuePending(std::move(**reloaded), now, std::move(*attempt), std::move(made));
}

Result<std::unique_ptr<CertificateJob::Request>> CertificateJob::DecodePending(
    const PendingTransaction& p, const std::string& key_pem) const {
  auto made = std::make_unique<Request>();
  auto key = ossl::PrivateKeyFromPem(key_pem, "pending key");
  auto csr = ossl::CsrFromPemOrDer(
      std::span(reinterpret_cast<const std::uint8_t*>(p.csr_pem.data()), p.csr_pem.size()),
      "pending request");
  auto signer = ossl::CertFromPem(p.signer_cert_pem, "pending signer certificate");
  if (!key.ok() || !csr.ok() || !signer.ok()) {
    return MakeError(ErrorCode::kParse, "pending transaction unreadable; starting over");
  }
  made->key = std::move(*key);
  made->csr = std::move(*csr);
  made->signer = std::move(*signer);
  if (p.signer_is_new_key) {
    made->signer_key = ossl::UpRef(made->key.get());
    return made;
  }
  auto active = store_.LoadActive();
  if (!active.ok() || !active->has_value() ||
      X509_cmp((*active)->cert.get(), made->signer.get()) != 0) {
    return MakeError(ErrorCode::kVerify,
                     "the certificate that signed the pending renewal is gone; starting over");
  }
  made->signer_key = std::move((*active)->key);
  return made;
}

std::int64_t CertificateJob::ContinuePending(PendingTransaction p, std::int64_t now,
                                             std::unique_ptr<Attempt> connected,
                                             std::unique_ptr<Request> made) {
  Secret key_pem{std::move(p.key_pem)};
  WipeOnExit wipe_csr(p.csr_pem);  // the request holds the challenge password
  const bool renewal = !p.signer_is_new_key;
  const int max_wait = settings_.max_await_result * 60;
  status_.transaction_id = p.transaction_id;
  // Past the deadline (e.g. after a long power-off): give up without a poll.
  // Exactly at it, one last poll is made below.
  if (p.polls > 0 && now - p.started > max_wait) {
    (void)store_.ClearPending();
    return Fail(now, "still PENDING " + std::to_string((now - p.started) / 60) +
                         " min after the request (max_await_result " +
                         std::to_string(settings_.max_await_result) + " min); giving up",
                "");
  }
  if (now < poll_at_) return poll_at_;
  if (now < retry_at_) return retry_at_;

  state_ = p.polls == 0 ? JobState::kEnrolling : JobState::kPolling;
  status_.last_attempt = now;
  Publish(ModuleState::kRunning, renewal ? CertState::kReEnrollment : CertState::kEnrollment);

  if (!made) {  // resumed: decode what was saved (StartEnrollment hands its objects over)
    auto decoded = DecodePending(p, key_pem.text);
    if (!decoded.ok()) {
      (void)store_.ClearPending();
      return Fail(now, decoded.error().message, "");
    }
    made = std::move(*decoded);
  }
  EVP_PKEY* key = made->key.get();
  X509_REQ* csr = made->csr.get();

  if (!connected) {
    auto attempt = Connect();
    if (!attempt.ok()) return Fail(now, attempt.error().message, "");
    connected = std::move(*attempt);
  }
  Attempt& a = *connected;
  scep::EnrollRequest req;
  req.type = static_cast<scep::MessageType>(p.message_type);
  req.csr = csr;
  req.key = key;
  req.signer_cert = made->signer.get();
  req.signer_key = made->signer_key.get();
  req.transaction_id = p.transaction_id;
  Result<scep::CertRep> rep = p.polls == 0 ? a.client->Enroll(req) : a.client->Poll(req);
  if (!rep.ok()) return Fail(now, rep.error().message, "");

  switch (rep->status) {
    case scep::PkiStatus::kPending: {
      if (now - p.started >= max_wait) {
        (void)store_.ClearPending();
        return Fail(now, "still PENDING " + std::to_string((now - p.started) / 60) +
                             " min after the request (max_await_result " +
                             std::to_string(settings_.max_await_result) + " min); giving up",
                    "");
      }
      ++p.polls;
      p.key_pem = key_pem.text;
      auto st = store_.SavePending(p);
      OPENSSL_cleanse(p.key_pem.data(), p.key_pem.size());
      if (!st.ok()) return Fail(now, st.error().message, "");
      state_ = JobState::kPolling;
      outcome_ = JobOutcome::kPending;
      status_.last_result = "pending";
      // The next poll, but never after the max_await_result deadline.
      poll_at_ = std::min<std::int64_t>(now + settings_.await_result, p.started + max_wait);
      status_.next_check = poll_at_;
      spdlog::info("{}: PENDING (transaction {}); polling again in {} s", Label(settings_),
                   p.transaction_id, settings_.await_result);
      Publish(ModuleState::kRunning, renewal ? CertState::kReEnrollment : CertState::kEnrollment);
      return poll_at_;
    }
    case scep::PkiStatus::kFailure: {
      (void)store_.ClearPending();
      std::string info = rep->fail_info ? scep::FailInfoName(*rep->fail_info) : "";
      if (renewal && !fallback_tried_) {
        fallback_tried_ = true;
        spdlog::warn("{}: the CA refused the renewal ({}); falling back to a first enrollment",
                     Label(settings_), rep->Describe());
        return StartEnrollment(now, false);
      }
      return Fail(now, "the CA refused the request: " + rep->Describe(), info);
    }
    case scep::PkiStatus::kSuccess:
      break;
  }

  // A certificate for another subject, or one already expired, is no use:
  // never let it replace the current pair (a broken or hostile CA).
  if (auto st = CheckIssuedCertificate(rep->issued.get(), csr, now); !st.ok()) {
    (void)store_.ClearPending();
    return Fail(now, st.error().message + "; not installed", "");
  }

  // Installed before the pending transaction is cleared, and that only once
  // the success script has run: a crash in between finds the certificate on
  // disk at the next start (FinishFromDisk), never loses the new key and
  // never skips the script.
  std::vector<X509*> chain = CaChain(a.ca);
  if (auto st = store_.Install(rep->issued.get(), key, chain, settings_.keep_old, now);
      !st.ok()) {
    return Fail(now, st.error().message, "");
  }
  // The chain's CA is now the trusted one (first use or a rollover).
  if (!chain.empty()) {
    if (auto st = store_.SaveCaPin(a.ca.Ca()); !st.ok()) {
      spdlog::error("{}: {}", Label(settings_), st.error().message);
    }
    if (a.rollover && settings_.ca_fingerprint.empty()) (void)store_.RemoveNextCa();
  }
  p.key_pem.clear();
  return Finish(p, rep->issued.get(), chain.size());
}

// A pending transaction whose certificate a crash left on disk: installed
// already (latest.crt names it) or written but not switched to. Either way
// the CA has done its part; asking again could be refused (a one-time
// challenge) or issue a second certificate for the same key.
std::optional<std::int64_t> CertificateJob::FinishFromDisk(const PendingTransaction& p,
                                                           std::int64_t now) {
  auto key = ossl::PrivateKeyFromPem(p.key_pem, "pending key");
  if (!key.ok()) {
    ClearOpenSslErrors();
    return std::nullopt;  // ContinuePending reports and discards it
  }
  auto found = store_.FindIssued(key->get());
  if (!found.ok() || !found->has_value()) return std::nullopt;
  X509* cert = (*found)->cert.get();
  const std::string serial = SerialHex(cert);
  if ((*found)->active) {
    spdlog::info("{}: certificate {} of transaction {} is installed; finishing what an "
                 "interruption stopped",
                 Label(settings_), serial, p.transaction_id);
  } else {
    auto not_after = NotAfter(cert);
    if (!not_after.ok() || *not_after <= now) {
      ClearOpenSslErrors();
      return std::nullopt;
    }
    spdlog::info("{}: certificate {} of transaction {} was stored before an interruption; "
                 "installing it",
                 Label(settings_), serial, p.transaction_id);
    if (auto st = store_.Install(cert, key->get(), {}, settings_.keep_old, now); !st.ok()) {
      return Fail(now, st.error().message, "");
    }
  }
  auto chain = store_.LoadCaChain();
  return Finish(p, cert, chain.ok() ? chain->size() : 0);
}

// The installation is done: report, run the success script, and only then
// forget the transaction.
std::int64_t CertificateJob::Finish(const PendingTransaction& p, X509* cert,
                                    std::size_t chain_size) {
  const bool renewal = !p.signer_is_new_key;
  failures_ = 0;
  retry_at_ = 0;
  poll_at_ = 0;
  status_.transaction_id.clear();
  status_.last_result = "success";
  status_.last_success = deps_.clock->Now();
  status_.failures = 0;
  status_.last_error.clear();
  status_.fail_info.clear();
  const std::string serial = SerialHex(cert);
  auto na = NotAfter(cert);
  spdlog::info("{}: {} {} installed, valid until {}", Label(settings_),
               renewal ? "renewed: certificate" : "enrolled: certificate", serial,
               FormatUtc(na.ok() ? *na : 0));

  std::string ca_files;
  for (std::size_t i = 0; i < chain_size; ++i) {
    ca_files += (i ? " " : "") + settings_.data_dir + "/ca.crt-" + std::to_string(i);
  }
  RunScript(settings_.success_script, renewal ? "renewed" : "enrolled",
            {{"SCEP_SERIAL", serial},
             {"SCEP_CERT", settings_.data_dir + "/" + serial + ".crt"},
             {"SCEP_KEY", settings_.data_dir + "/" + serial + ".key"},
             {"SCEP_CA", ca_files},
             {"SCEP_NOT_AFTER", na.ok() ? FormatUtc(*na) : ""},
             {"SCEP_SUBJECT", SubjectString(cert)}});
  if (auto st = store_.ClearPending(); !st.ok()) {
    spdlog::warn("{}: {}", Label(settings_), st.error().message);
  }
  known_transaction_.clear();
  return AfterInstall(cert);
}

std::int64_t CertificateJob::AfterInstall(X509* cert) {
  // A fresh certificate is checked again after check_interval at the
  // earliest, even when renew_days says it is already due (renew_days longer
  // than the CA's validity): renewing in a loop would hammer the CA.
  const std::int64_t now = deps_.clock->Now();
  auto nb = NotBefore(cert);
  auto na = NotAfter(cert);
  RenewalSettings rs;
  rs.renew_days = settings_.renew_days;
  rs.check_interval = daemon_.check_interval;
  rs.build_time = deps_.build_time;
  std::optional<CertTimes> times;
  if (nb.ok() && na.ok()) times = CertTimes{*nb, *na};
  Decision d = DecideRenewal(times, now, rs, *deps_.random);
  std::int64_t next = d.next_check;
  state_ = JobState::kIdle;
  if (d.verdict == Verdict::kClockUntrusted) {
    // Typically the CA's clock is ahead of ours (notBefore in our future).
    state_ = JobState::kClockWait;
    spdlog::warn("{}: {}", Label(settings_), d.reason);
  } else if (d.verdict != Verdict::kValid) {
    next = now + daemon_.check_interval;
    spdlog::warn("{}: the new certificate is already inside the renewal window (renew_days {} "
                 "is longer than its validity); next renewal at {}",
                 Label(settings_), settings_.renew_days, FormatUtc(next));
  }
  auto active = store_.LoadActiveCertificate();  // for the status: the certificate only
  NoteActive(active.ok() && active->has_value() ? &**active : nullptr);
  outcome_ = JobOutcome::kEnrolled;
  status_.next_check = next;
  Publish(ModuleState::kNotRunning, CertState::kEnrolled);
  PrepareKeyIfNear(now, times);
  return next;
}

void CertificateJob::PrepareKeyIfNear(std::int64_t now, const std::optional<CertTimes>& times) {
  if (!deps_.prepare_key || !times) return;
  // Near: the renewal window opens within two check intervals, so the key
  // is ready at least one check before it is needed.
  const std::int64_t window = times->not_after - std::int64_t{settings_.renew_days} * 86400;
  if (window - now > 2 * daemon_.check_interval) return;
  auto ready = LoadNextKey(settings_.data_dir, settings_.key_size);
  if (ready.ok() && *ready != nullptr) return;
  if (!ready.ok()) {
    spdlog::warn("{}: {}; making another", Label(settings_), ready.error().message);
    if (auto st = RemoveNextKey(settings_.data_dir); !st.ok()) {
      spdlog::warn("{}: {}", Label(settings_), st.error().message);
      return;
    }
  }
  deps_.prepare_key(settings_.data_dir, settings_.key_size);
}

ossl::Ptr<EVP_PKEY> CertificateJob::TakeNextKey() {
  auto ready = LoadNextKey(settings_.data_dir, settings_.key_size);
  if (ready.ok()) return std::move(*ready);
  spdlog::warn("{}: {}; discarding it", Label(settings_), ready.error().message);
  if (auto st = RemoveNextKey(settings_.data_dir); !st.ok()) {
    spdlog::warn("{}: {}", Label(settings_), st.error().message);
  }
  return nullptr;
}

std::int64_t CertificateJob::Fail(std::int64_t now, const std::string& message,
                                  const std::string& fail_info) {
  ++failures_;
  BackoffSettings bs;
  bs.initial = std::max<std::int64_t>(60, std::min<std::int64_t>(settings_.await_result, 3600));
  retry_at_ = now + RetryDelay(failures_, bs, *deps_.random);
  state_ = JobState::kBackoff;
  outcome_ = JobOutcome::kFailed;
  status_.last_result = fail_info.empty() ? "error" : "failure";
  status_.failures = failures_;
  status_.last_error = message;
  status_.fail_info = fail_info;
  status_.next_check = retry_at_;
  auto still_pending = store_.LoadPending();
  if (!still_pending.ok() || !still_pending->has_value()) status_.transaction_id.clear();
  spdlog::error("{}: {}; retrying at {} (failure {} in a row)", Label(settings_), message,
                FormatUtc(retry_at_), failures_);
  auto active = store_.LoadActiveCertificate();
  bool has_cert = active.ok() && active->has_value();
  NoteActive(has_cert ? &**active : nullptr);
  Publish(ModuleState::kNotRunning, has_cert ? CertState::kEnrolled : CertState::kNotEnrolled);
  std::vector<std::pair<std::string, std::string>> vars = {{"SCEP_ERROR", message},
                                                           {"SCEP_FAIL_INFO", fail_info}};
  if (has_cert) {
    vars.push_back({"SCEP_SERIAL", status_.serial});
    vars.push_back({"SCEP_CERT", settings_.data_dir + "/latest.crt"});
    vars.push_back({"SCEP_KEY", settings_.data_dir + "/latest.key"});
  }
  RunScript(settings_.failure_script, "failed", vars);
  return retry_at_;
}

void CertificateJob::RunScript(const std::string& script, const std::string& event,
                               const std::vector<std::pair<std::string, std::string>>& vars) {
  if (script.empty() || deps_.hooks == nullptr) return;
  std::map<std::string, std::string> env(vars.begin(), vars.end());
  env["SCEP_EVENT"] = event;
  env["SCEP_DATA_DIR"] = settings_.data_dir;
  env["SCEP_NAME"] = settings_.name;
  auto result = deps_.hooks->Run(script, HookEnvironment(env, deps_.hook_path_dir),
                                 deps_.hook_timeout_seconds);
  const char* which = event == "failed" ? "failure script" : "success script";
  if (!result.ok()) {
    spdlog::error("{}: {} could not run: {}", Label(settings_), which, result.error().message);
    return;
  }
  for (const auto& line : result->output) spdlog::info("{}: {}: {}", Label(settings_), which, line);
  if (result->timed_out) {
    spdlog::error("{}: {} killed after {} s", Label(settings_), which, deps_.hook_timeout_seconds);
  } else if (result->exit_code != 0) {
    spdlog::warn("{}: {} exited with {}", Label(settings_), which, result->exit_code);
  }
}

}  // namespace scepd
