#include "daemon/certificate_job.h"

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <map>
#include <span>
#include <utility>

#include "core/backoff.h"
#include "core/cert_info.h"
#include "core/csr.h"
#include "core/key.h"
#include "core/renewal_policy.h"
#include "core/server_text.h"
#include "core/subject.h"
#include "core/wipe.h"
#include "daemon/ca_trust.h"
#include "daemon/enroller_factory.h"
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
    case JobState::kHandoffFailed: return "handoff-failed";
    case JobState::kStaged: return "staged";
  }
  return "unknown";
}

struct CertificateJob::Attempt {
  std::unique_ptr<Transport> transport;  // null when make_enroller made the back end
  std::unique_ptr<enroll::Enroller> enroller;
  enroll::CaCertificates ca;
  CaTrustVerdict verdict = CaTrustVerdict::kPinned;
  // The pair being renewed, as StartEnrollment read it: ContinuePending
  // uses it instead of reading and decoding the same files again.
  std::optional<InstalledPair> current;
};

namespace {

std::string Label(const CertificateSettings& s) {
  return s.name.empty() ? std::string("certificate") : "certificate " + s.name;
}

std::vector<X509*> Borrowed(const std::vector<ossl::Ptr<X509>>& certs) {
  std::vector<X509*> out;
  for (const auto& c : certs) out.push_back(c.get());
  return out;
}

}  // namespace

CertificateJob::CertificateJob(const CertificateSettings& settings, DaemonSettings daemon,
                               JobDeps deps)
    : settings_(settings),
      daemon_(std::move(daemon)),
      deps_(std::move(deps)),
      store_(settings_.data_dir) {
  status_.name = settings_.name;
  status_.protocol = settings_.protocol;
}

CertificateJob::~CertificateJob() { WipeSecrets(&settings_); }

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
    if (handoff_failures_ > 0 && p.transaction_id == known_transaction_ &&
        now < handoff_retry_at_) {
      return handoff_retry_at_;  // the success script is run again then
    }
    if (p.transaction_id != known_transaction_) {
      if (const std::string why = StaleReason(p, now); !why.empty()) {
        // Not ours to finish and not ours to delete: kept aside, and a new
        // transaction made from the settings.
        auto aside = store_.SetAsideStalePending();
        if (!aside.ok()) return Fail(now, aside.error().message, "");
        spdlog::error("{}: the pending transaction {} does not match the settings ({}); set aside "
                      "as {}; starting a new one",
                      Label(settings_), CleanServerText(p.transaction_id), why, *aside);
        if (now < retry_at_) return retry_at_;
        return CheckCertificate(now);
      }
      known_transaction_ = p.transaction_id;
      spdlog::info("{}: resuming transaction {} ({}{}, {} PENDING answer(s) so far)",
                   Label(settings_), p.transaction_id, p.protocol,
                   p.renewal ? " renewal" : " enrollment", p.polls);
    }
    if (!p.staged_cert_pem.empty()) return ContinueStaged(std::move(**pending), now);
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
    if (pair->not_before && pair->not_after) {
      times = CertTimes{*pair->not_before, *pair->not_after, RenewalSeed(*pair)};
    }
  }
  NoteActive(pair);
  status_.next_check.reset();

  RenewalSettings rs;
  rs.renew_days = settings_.renew_days;
  rs.spread = settings_.renew_spread / 100.0;
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

namespace {

// The subjectAltName extension's value in a request, or null.
const ASN1_OCTET_STRING* AltNames(const X509_REQ* req, ossl::X509ExtensionStack* keep) {
  *keep = ossl::X509ExtensionStack(X509_REQ_get_extensions(const_cast<X509_REQ*>(req)));
  ClearOpenSslErrors();
  for (int i = 0; *keep && i < sk_X509_EXTENSION_num(keep->get()); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(keep->get(), i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name) {
      return X509_EXTENSION_get_data(ext);
    }
  }
  return nullptr;
}

}  // namespace

std::string CertificateJob::StaleReason(const PendingTransaction& p, std::int64_t now) const {
  if (p.protocol != settings_.protocol) {
    return "it was made with protocol " + p.protocol + ", the settings say " + settings_.protocol;
  }
  if (!p.url.empty() && p.url != settings_.url) return "it was sent to another URL";
  // A clock before the build date proves nothing: only a trusted clock judges.
  if (now >= deps_.build_time && p.started > now + 86400) {
    return "it started at " + FormatUtc(p.started) + ", in the future";
  }
  auto key = ossl::PrivateKeyFromPem(p.key_pem, "pending key");
  auto csr = ossl::CsrFromPemOrDer(
      std::span(reinterpret_cast<const std::uint8_t*>(p.csr_pem.data()), p.csr_pem.size()),
      "pending request");
  if (!key.ok() || !csr.ok()) {
    ClearOpenSslErrors();
    return "";  // undecodable: ContinuePending reports and discards it
  }
  const KeySpec wanted = KeySpecOf(settings_);
  if (!KeyFitsSpec(key->get(), wanted)) return "its key is not a " + KeySpecName(wanted) + " key";
  CsrSpec spec = RequestSpec(settings_);
  OPENSSL_cleanse(spec.challenge_password.data(), spec.challenge_password.size());
  spec.challenge_password.clear();
  auto expected = BuildCsr(spec, key->get());
  if (!expected.ok()) {
    ClearOpenSslErrors();
    return "";
  }
  if (X509_NAME_cmp(X509_REQ_get_subject_name(csr->get()),
                    X509_REQ_get_subject_name(expected->get())) != 0) {
    return "it asks for " + FormatSubject(X509_REQ_get_subject_name(csr->get())) +
           ", the settings for " + FormatSubject(X509_REQ_get_subject_name(expected->get()));
  }
  ossl::X509ExtensionStack keep_have, keep_want;
  const ASN1_OCTET_STRING* have = AltNames(csr->get(), &keep_have);
  const ASN1_OCTET_STRING* want = AltNames(expected->get(), &keep_want);
  if ((have == nullptr) != (want == nullptr) ||
      (have != nullptr && ASN1_OCTET_STRING_cmp(have, want) != 0)) {
    return "its subjectAltName differs from alt_name";
  }
  return "";
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
  if (auto st = store_.WriteCaChain(Borrowed((*attempt)->ca.chain)); !st.ok()) {
    spdlog::warn("{}: CA chain not repaired: {}", Label(settings_), st.error().message);
    return;
  }
  spdlog::info("{}: CA chain rewritten from GetCACert", Label(settings_));
}

Result<std::unique_ptr<CertificateJob::Attempt>> CertificateJob::Connect() {
  auto attempt = std::make_unique<Attempt>();
  if (deps_.make_enroller) {
    SCEPD_TRY(attempt->enroller, deps_.make_enroller(settings_));
  } else {
    SCEPD_TRY(attempt->transport, deps_.make_transport(settings_));
    const std::string label = Label(settings_);
    SCEPD_TRY(attempt->enroller,
              MakeEnroller(settings_, *attempt->transport, [label](const std::string& note) {
                spdlog::warn("{}: {}", label, note);
              }));
  }
  SCEPD_TRY(attempt->ca, attempt->enroller->FetchCaCertificates());
  if (!attempt->ca.ca) {
    if (!attempt->enroller->ca_comes_with_answer()) {
      return MakeError(ErrorCode::kProtocol, "the CA sent no CA certificate");
    }
    // Checked against the pin when the issued answer brings it (ContinuePending).
  } else {
    SCEPD_TRY(attempt->verdict,
              CheckCaTrust(settings_, store_, attempt->ca.ca.get(), Label(settings_)));
  }
  if (attempt->ca.ca && attempt->enroller->offers_next_ca()) {
    KeepNextCa(*attempt->enroller, store_, attempt->ca.ca.get(), Label(settings_));
  }
  enroll::AttemptFacts facts = attempt->enroller->facts();
  status_.ca_caps = facts.ca_caps;
  status_.cipher = facts.cipher;
  status_.digest = facts.digest;
  return attempt;
}

std::int64_t CertificateJob::StartEnrollment(std::int64_t now, bool renewal) {
  state_ = JobState::kEnrolling;
  status_.last_attempt = now;
  Publish(ModuleState::kRunning, renewal ? CertState::kReEnrollment : CertState::kEnrollment);

  std::optional<InstalledPair> current;
  if (renewal) {
    auto active = store_.LoadActive();
    if (active.ok() && active->has_value()) {
      current = std::move(**active);
    } else {
      renewal = false;  // the pair vanished: enroll as new
    }
  }

  // The key: an RSA key made ahead of time, or one made now on a thread
  // while Connect() fetches the CA's capabilities and certificates, so that
  // the exchange with the CA hides behind the key generation.
  const KeySpec key_spec = KeySpecOf(settings_);
  ossl::Ptr<EVP_PKEY> key =
      key_spec.type == KeyType::kRsa ? TakeNextKey(current ? current->key.get() : nullptr)
                                     : nullptr;
  const bool prepared_key = key != nullptr;
  ossl::Ptr<EVP_PKEY> spare = std::move(spare_key_);
  std::future<Result<ossl::Ptr<EVP_PKEY>>> making;
  if (prepared_key) {
    spdlog::info("{}: using the {} key made ahead of time", Label(settings_),
                 KeySpecName(key_spec));
  } else if (KeyFitsSpec(spare.get(), key_spec)) {
    spdlog::info("{}: using the {} key made for the attempt that failed", Label(settings_),
                 KeySpecName(key_spec));
    key = std::move(spare);
  } else {
    spdlog::info("{}: generating a {} key while the CA is asked", Label(settings_),
                 KeySpecName(key_spec));
    // The providers are loaded before the thread starts: loading one (a
    // transport loads "legacy" and "default" where DES replies may come) while
    // another thread fetches RSA makes that fetch fail ("unsupported") in
    // OpenSSL 3.0, as loading a provider explicitly turns the implicit
    // default off.
    if (NeedsLegacyAlgorithms(settings_)) (void)ossl::EnableLegacyAlgorithms();
    making = std::async(std::launch::async, [key_spec] { return GenerateKey(key_spec); });
  }

  auto attempt = Connect();
  if (!key) {
    auto made = making.get();
    if (!made.ok()) return Fail(now, made.error().message, "");
    key = std::move(*made);
  }
  if (!attempt.ok()) {
    // A key made ahead stays on disk for the retry; one made now is kept
    // in memory (spare_key_).
    if (!prepared_key) spare_key_ = std::move(key);
    return Fail(now, attempt.error().message, "");
  }
  Attempt& a = **attempt;

  CsrSpec spec = RequestSpec(settings_);
  enroll::CurrentPair pair;
  if (current) pair = {current->cert.get(), current->key.get()};
  auto tx = a.enroller->Prepare(std::move(key), spec, current ? &pair : nullptr, now);
  OPENSSL_cleanse(spec.challenge_password.data(), spec.challenge_password.size());
  if (!tx.ok()) return Fail(now, tx.error().message, "");

  PendingTransaction p;
  WipeOnExit wipe_csr(p.csr_pem);  // the request holds the challenge password
  WipeOnExit wipe_key(p.key_pem);
  auto key_pem = ossl::PrivateKeyToPem(tx->key.get());
  auto csr_pem = ossl::CsrToPem(tx->request.get());
  if (!key_pem.ok() || !csr_pem.ok()) return Fail(now, "encoding the new request failed", "");
  p.protocol = a.enroller->protocol();
  p.url = settings_.url;
  p.transaction_id = tx->id;
  p.renewal = tx->renewal;
  p.cookie = tx->cookie;
  p.key_pem = std::move(*key_pem);
  p.csr_pem = std::move(*csr_pem);
  p.started = now;
  p.polls = 0;  // PENDING answers so far; 0 = never acknowledged: a retry resends the request
  // Saved before sending: a crash after the CA got it resumes this transaction.
  if (auto st = store_.SavePending(p); !st.ok()) return Fail(now, st.error().message, "");
  known_transaction_ = p.transaction_id;
  // The pending transaction holds the key now: one key, one request.
  if (prepared_key) {
    if (auto st = RemoveNextKey(settings_.data_dir); !st.ok()) {
      spdlog::warn("{}: {}", Label(settings_), st.error().message);
    }
  }
  spdlog::info("{}: sending {} (transaction {})", Label(settings_), a.enroller->RequestName(*tx),
               p.transaction_id);
  poll_at_ = 0;
  // The saved request goes on as the live objects just made: nothing is
  // read back or decoded again.
  auto live = std::make_unique<enroll::Transaction>(std::move(*tx));
  a.current = std::move(current);
  return ContinuePending(std::move(p), now, std::move(*attempt), std::move(live));
}

Result<std::unique_ptr<enroll::Transaction>> CertificateJob::DecodePending(
    const PendingTransaction& p) const {
  auto tx = std::make_unique<enroll::Transaction>();
  auto key = ossl::PrivateKeyFromPem(p.key_pem, "pending key");
  auto csr = ossl::CsrFromPemOrDer(
      std::span(reinterpret_cast<const std::uint8_t*>(p.csr_pem.data()), p.csr_pem.size()),
      "pending request");
  if (!key.ok() || !csr.ok()) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kParse, "pending transaction unreadable; starting over");
  }
  tx->id = p.transaction_id;
  tx->key = std::move(*key);
  tx->request = std::move(*csr);
  tx->renewal = p.renewal;
  tx->cookie = p.cookie;
  return tx;
}

std::int64_t CertificateJob::ContinuePending(PendingTransaction p, std::int64_t now,
                                             std::unique_ptr<Attempt> connected,
                                             std::unique_ptr<enroll::Transaction> live) {
  WipeOnExit wipe_key(p.key_pem);
  WipeOnExit wipe_csr(p.csr_pem);  // the request holds the challenge password
  const bool renewal = p.renewal;
  const bool resumed = live == nullptr;
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

  if (p.protocol != settings_.protocol) {
    (void)store_.ClearPending();
    return Fail(now, "the pending transaction was made with " + p.protocol +
                         ", the settings now say protocol " + settings_.protocol +
                         "; starting over",
                "");
  }
  if (!live) {  // resumed: decode what was saved (StartEnrollment hands its objects over)
    auto decoded = DecodePending(p);
    if (!decoded.ok()) {
      (void)store_.ClearPending();
      return Fail(now, decoded.error().message, "");
    }
    live = std::move(*decoded);
  }

  if (!connected) {
    auto attempt = Connect();
    if (!attempt.ok()) return Fail(now, attempt.error().message, "");
    connected = std::move(*attempt);
  }
  Attempt& a = *connected;
  std::optional<InstalledPair> current;
  enroll::CurrentPair pair;
  if (renewal && a.current) {
    current = std::move(a.current);
  } else if (renewal) {
    auto active = store_.LoadActive();
    if (active.ok() && active->has_value()) current = std::move(**active);
  }
  if (current) pair = {current->cert.get(), current->key.get()};
  enroll::Outcome outcome = p.polls == 0
                                ? a.enroller->Submit(*live, current ? &pair : nullptr)
                                : a.enroller->Poll(*live, current ? &pair : nullptr);

  if (auto* failed = std::get_if<enroll::Failed>(&outcome)) {
    return Fail(now, failed->message, "");
  }
  if (auto* over = std::get_if<enroll::StartOver>(&outcome)) {
    (void)store_.ClearPending();
    if (!resumed) return Fail(now, over->reason, "");
    // A transaction this process did not start: a new one may go at once.
    spdlog::warn("{}: {}", Label(settings_), over->reason);
    return StartEnrollment(now, renewal && current.has_value());
  }
  if (auto* pending = std::get_if<enroll::Pending>(&outcome)) {
    if (now - p.started >= max_wait) {
      (void)store_.ClearPending();
      return Fail(now, "still PENDING " + std::to_string((now - p.started) / 60) +
                           " min after the request (max_await_result " +
                           std::to_string(settings_.max_await_result) + " min); giving up",
                  "");
    }
    ++p.polls;
    p.cookie = std::move(pending->cookie);
    live->cookie = p.cookie;
    if (auto st = store_.SavePending(p); !st.ok()) return Fail(now, st.error().message, "");
    state_ = JobState::kPolling;
    outcome_ = JobOutcome::kPending;
    status_.last_result = "pending";
    // The next poll, but never after the max_await_result deadline.
    const std::int64_t wait = pending->retry_after > 0 ? pending->retry_after
                                                       : std::int64_t{settings_.await_result};
    poll_at_ = std::min<std::int64_t>(now + wait, p.started + max_wait);
    status_.next_check = poll_at_;
    spdlog::info("{}: PENDING (transaction {}); polling again in {} s", Label(settings_),
                 p.transaction_id, wait);
    Publish(ModuleState::kRunning, renewal ? CertState::kReEnrollment : CertState::kEnrollment);
    return poll_at_;
  }
  if (auto* rejected = std::get_if<enroll::Rejected>(&outcome)) {
    (void)store_.ClearPending();
    if (renewal && rejected->may_enroll_anew && !fallback_tried_) {
      fallback_tried_ = true;
      spdlog::warn("{}: the CA refused the renewal ({}); falling back to a first enrollment",
                   Label(settings_), rejected->reason);
      return StartEnrollment(now, false);
    }
    return Fail(now, "the CA refused the request: " + rejected->reason, rejected->code);
  }
  auto& issued = std::get<enroll::Issued>(outcome);

  // A certificate for another subject, or one already expired, is no use:
  // never let it replace the current pair (a broken or hostile CA).
  if (auto st = CheckIssuedCertificate(issued.cert.get(), live->request.get(), now); !st.ok()) {
    (void)store_.ClearPending();
    return Fail(now, st.error().message + "; not installed", "");
  }
  if (!a.ca.ca) {
    // The CA came with the answer (CMP's caPubs): trusted as any CA is, or not at all.
    if (issued.chain.empty()) {
      (void)store_.ClearPending();
      return Fail(now,
                  "the CA's answer carried no certificate of the issuing CA (caPubs or "
                  "extraCerts); not installed",
                  "");
    }
    auto verdict = CheckCaTrust(settings_, store_, issued.chain.front().get(), Label(settings_));
    if (!verdict.ok()) {
      (void)store_.ClearPending();
      return Fail(now, verdict.error().message + "; not installed", "");
    }
    a.ca.ca = ossl::UpRef(issued.chain.front().get());
    a.verdict = *verdict;
  }
  // Signed by the CA we trust (its chain as GetCACert gave it, checked
  // against the pin): a certificate naming the CA but signed by another key
  // never replaces the current pair.
  std::vector<X509*> held = Borrowed(a.ca.chain);
  held.push_back(a.ca.ca.get());
  if (auto st = VerifyIssuedCertificate(issued.cert.get(), held); !st.ok()) {
    (void)store_.ClearPending();
    return Fail(now, st.error().message + "; not installed", "");
  }
  // Not valid yet while the current pair works: it waits (staged).
  if (auto wake = StageIfNotYetValid(p, issued.cert.get(), now)) return *wake;

  // Installed before the pending transaction is cleared, and that only once
  // the success script has run: a crash in between finds the certificate on
  // disk at the next start (FinishFromDisk), never loses the new key and
  // never skips the script.
  std::vector<X509*> chain = Borrowed(issued.chain);
  if (auto st = store_.Install(issued.cert.get(), live->key.get(), chain, settings_.keep_old, now);
      !st.ok()) {
    return Fail(now, st.error().message, "");
  }
  // The chain's CA is now the trusted one (first use or a rollover).
  if (!chain.empty()) AdoptCa(settings_, store_, a.ca.ca.get(), a.verdict, Label(settings_));
  return Finish(p, issued.cert.get(), chain.size());
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
  if ((*found)->active && handoff_failures_ > 0) {
    spdlog::info("{}: certificate {} is installed; running the success script again (it failed "
                 "{} time(s))",
                 Label(settings_), serial, handoff_failures_);
  } else if ((*found)->active) {
    spdlog::info("{}: certificate {} of transaction {} is installed; finishing what an "
                 "interruption stopped",
                 Label(settings_), serial, p.transaction_id);
  }
  if ((*found)->active) {
    // Installed by a process that may have been killed before its last
    // sync: durable before the transaction is forgotten unsynced (Finish).
    if (auto st = store_.Sync(); !st.ok()) return Fail(now, st.error().message, "");
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
  const bool renewal = p.renewal;
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
  const std::string handoff =
      RunScript(settings_.success_script, renewal ? "renewed" : "enrolled",
                {{"SCEP_PROTOCOL", settings_.protocol},
                 {"SCEP_SERIAL", serial},
                 {"SCEP_CERT", settings_.data_dir + "/" + serial + ".crt"},
                 {"SCEP_KEY", settings_.data_dir + "/" + serial + ".key"},
                 {"SCEP_CA", ca_files},
                 {"SCEP_NOT_AFTER", na.ok() ? FormatUtc(*na) : ""},
                 {"SCEP_SUBJECT", SubjectString(cert)}});
  // The pair is installed either way; a failed hand-off keeps the pending
  // transaction so that the script is run again (after a restart too).
  if (!handoff.empty()) return HandoffFailed(p, cert, handoff);
  if (handoff_failures_ > 0) {
    spdlog::info("{}: success script succeeded after {} failure(s)", Label(settings_),
                 handoff_failures_);
  }
  handoff_failures_ = 0;
  handoff_retry_at_ = 0;
  if (auto st = store_.ClearInstalledPending(); !st.ok()) {
    spdlog::warn("{}: {}", Label(settings_), st.error().message);
  }
  known_transaction_.clear();
  return AfterInstall(cert);
}

bool CertificateJob::ActiveWorks(std::int64_t now) const {
  auto active = store_.LoadActiveCertificate();
  if (!active.ok() || !active->has_value()) return false;
  const CertSummary& s = **active;
  return s.not_before && s.not_after && *s.not_before <= now + kNotBeforeSkew &&
         now < *s.not_after;
}

std::optional<std::int64_t> CertificateJob::StageIfNotYetValid(PendingTransaction& p, X509* cert,
                                                               std::int64_t now) {
  auto not_before = NotBefore(cert);
  if (!not_before.ok() || *not_before <= now + kNotBeforeSkew || !ActiveWorks(now)) {
    ClearOpenSslErrors();
    return std::nullopt;
  }
  auto pem = ossl::CertToPem(cert);
  if (!pem.ok()) return Fail(now, pem.error().message, "");
  p.staged_cert_pem = std::move(*pem);
  if (auto st = store_.SavePending(p); !st.ok()) return Fail(now, st.error().message, "");
  known_transaction_ = p.transaction_id;
  spdlog::warn("{}: the CA issued certificate {}, not valid until {} ({} s ahead of this clock); "
               "staged: the working certificate {} stays until then",
               Label(settings_), SerialHex(cert), FormatUtc(*not_before), *not_before - now,
               status_.serial);
  return ContinueStaged(p, now);
}

std::int64_t CertificateJob::ContinueStaged(PendingTransaction p, std::int64_t now) {
  WipeOnExit wipe_key(p.key_pem);
  WipeOnExit wipe_csr(p.csr_pem);
  auto cert = ossl::CertFromPem(p.staged_cert_pem, "staged certificate");
  auto key = ossl::PrivateKeyFromPem(p.key_pem, "pending key");
  auto not_before = cert.ok() ? NotBefore(cert->get()) : Result<std::int64_t>(std::int64_t{0});
  if (!cert.ok() || !key.ok() || !not_before.ok()) {
    ClearOpenSslErrors();
    (void)store_.ClearPending();
    return Fail(now, "the staged certificate does not load; starting over", "");
  }
  const std::int64_t switch_at = *not_before;
  if (now < switch_at && ActiveWorks(now)) {
    state_ = JobState::kStaged;
    outcome_ = JobOutcome::kStaged;
    status_.transaction_id = p.transaction_id;
    status_.last_result = "staged";
    status_.next_check = switch_at;
    auto active = store_.LoadActiveCertificate();
    NoteActive(active.ok() && active->has_value() ? &**active : nullptr);
    Publish(ModuleState::kNotRunning, CertState::kEnrolled);
    return switch_at;
  }
  spdlog::info("{}: staged certificate {} is valid from {}; installing it", Label(settings_),
               SerialHex(cert->get()), FormatUtc(*not_before));
  if (auto st = store_.Install(cert->get(), key->get(), {}, settings_.keep_old, now); !st.ok()) {
    return Fail(now, st.error().message, "");
  }
  auto chain = store_.LoadCaChain();
  return Finish(p, cert->get(), chain.ok() ? chain->size() : 0);
}

std::int64_t CertificateJob::HandoffFailed(const PendingTransaction& p, X509* cert,
                                           const std::string& why) {
  const std::int64_t now = deps_.clock->Now();
  ++handoff_failures_;
  known_transaction_ = p.transaction_id;
  BackoffSettings bs;
  bs.initial = 60;
  bs.cap = 3600;
  handoff_retry_at_ = now + RetryDelay(handoff_failures_, bs, *deps_.random);
  const std::string serial = SerialHex(cert);
  const std::string message = "certificate " + serial + " is installed but the hand-off failed: " +
                              why + "; the success script runs again at " +
                              FormatUtc(handoff_retry_at_);
  state_ = JobState::kHandoffFailed;
  outcome_ = JobOutcome::kHandoffFailed;
  status_.last_result = "handoff-failed";
  status_.last_error = message;
  status_.next_check = handoff_retry_at_;
  status_.transaction_id.clear();
  spdlog::error("{}: {} (failure {} in a row)", Label(settings_), message, handoff_failures_);
  auto active = store_.LoadActiveCertificate();
  NoteActive(active.ok() && active->has_value() ? &**active : nullptr);
  Publish(ModuleState::kNotRunning, CertState::kEnrolled);
  (void)RunScript(settings_.failure_script, "handoff-failed",
                  {{"SCEP_ERROR", message},
                   {"SCEP_FAIL_INFO", ""},
                   {"SCEP_SERIAL", serial},
                   {"SCEP_CERT", settings_.data_dir + "/" + serial + ".crt"},
                   {"SCEP_KEY", settings_.data_dir + "/" + serial + ".key"}});
  return handoff_retry_at_;
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
  rs.spread = settings_.renew_spread / 100.0;
  rs.check_interval = daemon_.check_interval;
  rs.build_time = deps_.build_time;
  std::optional<CertTimes> times;
  if (nb.ok() && na.ok()) times = CertTimes{*nb, *na, RenewalSeed(SummaryOf(cert))};
  Decision d = DecideRenewal(times, now, rs, *deps_.random);
  std::int64_t next = d.next_check;
  state_ = JobState::kIdle;
  if (d.verdict == Verdict::kClockUntrusted) {
    // Typically the CA's clock is ahead of ours (notBefore in our future).
    state_ = JobState::kClockWait;
    spdlog::warn("{}: {}", Label(settings_), d.reason);
    if (nb.ok() && *nb > now + kNotBeforeSkew) {
      status_.last_error = "certificate " + SerialHex(cert) + " is not valid yet (from " +
                           FormatUtc(*nb) + ")";
    }
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
  if (!deps_.prepare_key || !times || settings_.key_type != KeyType::kRsa) return;
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

ossl::Ptr<EVP_PKEY> CertificateJob::TakeNextKey(EVP_PKEY* in_use) {
  auto ready = LoadNextKey(settings_.data_dir, settings_.key_size);
  if (ready.ok() && !(*ready && in_use && EVP_PKEY_eq(ready->get(), in_use) == 1)) {
    return std::move(*ready);
  }
  // Its removal is synced only with the installation (docs/daemon.md,
  // "Write order"): after a power cut the key the active pair was made
  // with may be back. One key, one certificate.
  spdlog::warn("{}: {}; discarding it", Label(settings_),
               ready.ok() ? NextKeyPath(settings_.data_dir) +
                                " holds the key of the active certificate"
                          : ready.error().message);
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
                                                           {"SCEP_FAIL_INFO", fail_info},
                                                           {"SCEP_PROTOCOL", settings_.protocol}};
  if (has_cert) {
    vars.push_back({"SCEP_SERIAL", status_.serial});
    vars.push_back({"SCEP_CERT", settings_.data_dir + "/latest.crt"});
    vars.push_back({"SCEP_KEY", settings_.data_dir + "/latest.key"});
  }
  RunScript(settings_.failure_script, "failed", vars);
  return retry_at_;
}

std::string CertificateJob::RunScript(const std::string& script, const std::string& event,
                                      const std::vector<std::pair<std::string, std::string>>& vars) {
  if (script.empty() || deps_.hooks == nullptr) return "";
  std::map<std::string, std::string> env(vars.begin(), vars.end());
  env["SCEP_EVENT"] = event;
  env["SCEP_DATA_DIR"] = settings_.data_dir;
  env["SCEP_NAME"] = settings_.name;
  auto result = deps_.hooks->Run(script, HookEnvironment(env, deps_.hook_path_dir),
                                 deps_.hook_timeout_seconds);
  const bool success = event == "renewed" || event == "enrolled";
  const char* which = success ? "success script" : "failure script";
  if (!result.ok()) {
    spdlog::error("{}: {} could not run: {}", Label(settings_), which, result.error().message);
    return std::string(which) + " could not run: " + result.error().message;
  }
  for (const auto& line : result->output) spdlog::info("{}: {}: {}", Label(settings_), which, line);
  if (result->timed_out) {
    spdlog::error("{}: {} killed after {} s", Label(settings_), which, deps_.hook_timeout_seconds);
    return std::string(which) + " killed after " + std::to_string(deps_.hook_timeout_seconds) +
           " s";
  }
  if (result->exit_code != 0) {
    spdlog::warn("{}: {} exited with {}", Label(settings_), which, result->exit_code);
    return std::string(which) + " exited with " + std::to_string(result->exit_code);
  }
  return "";
}

}  // namespace scepd
