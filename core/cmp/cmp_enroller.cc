#include "core/cmp/cmp_enroller.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <utility>

#include "core/scep/client.h"  // TransactionIdFor: SHA-256 of the new public key
#include "core/wipe.h"

namespace scepd::cmp {
namespace {

constexpr char kRequest[] = "request";
constexpr char kResumable[] = "resumable";

const char* RequestWord(Request type) {
  switch (type) {
    case Request::kCr: return "cr";
    case Request::kKur: return "kur";
    case Request::kP10cr: return "p10cr";
    case Request::kIr: break;
  }
  return "ir";
}

std::optional<Request> RequestFromWord(const std::string& word) {
  if (word == "ir") return Request::kIr;
  if (word == "cr") return Request::kCr;
  if (word == "kur") return Request::kKur;
  return std::nullopt;
}

bool IsSelfSigned(X509* cert) { return X509_check_issued(cert, cert) == X509_V_OK; }

}  // namespace

void CmpLiveSessions::Keep(const std::string& name, std::unique_ptr<CmpSession> session) {
  sessions_[name] = std::move(session);
}

std::unique_ptr<CmpSession> CmpLiveSessions::Take(const std::string& name) {
  auto it = sessions_.find(name);
  if (it == sessions_.end()) return nullptr;
  std::unique_ptr<CmpSession> out = std::move(it->second);
  sessions_.erase(it);
  return out;
}

void CmpLiveSessions::Forget(const std::string& prefix) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->first.rfind(prefix, 0) == 0 ? sessions_.erase(it) : std::next(it);
  }
}

std::vector<ossl::Ptr<X509>> IssuerChain(X509* cert,
                                         const std::vector<ossl::Ptr<X509>>& received) {
  std::vector<ossl::Ptr<X509>> chain;
  X509* current = cert;
  while (current != nullptr && chain.size() < received.size()) {
    if (!chain.empty() && IsSelfSigned(current)) break;
    X509* issuer = nullptr;
    for (const auto& c : received) {
      if (X509_cmp(c.get(), current) == 0) continue;
      if (X509_check_issued(c.get(), current) == X509_V_OK) {
        issuer = c.get();
        break;
      }
    }
    if (issuer == nullptr) break;
    const bool seen = std::any_of(chain.begin(), chain.end(), [issuer](const ossl::Ptr<X509>& c) {
      return X509_cmp(c.get(), issuer) == 0;
    });
    if (seen) break;
    chain.push_back(ossl::UpRef(issuer));
    current = issuer;
  }
  ClearOpenSslErrors();
  return chain;
}

CmpEnroller::CmpEnroller(Transport& transport, CmpEnrollerOptions options)
    : transport_(transport), options_(std::move(options)) {}

CmpEnroller::~CmpEnroller() { Wipe(options_.secret); }

bool CmpEnroller::can_enroll_anew() const noexcept {
  return (!options_.reference.empty() && !options_.secret.empty()) ||
         (options_.cert != nullptr && options_.key != nullptr);
}

Result<enroll::CaCertificates> CmpEnroller::FetchCaCertificates() {
  enroll::CaCertificates out;
  if (options_.known_chain.empty()) return out;  // the first answer brings it
  out.ca = ossl::UpRef(options_.known_chain.front().get());
  for (const auto& c : options_.known_chain) out.chain.push_back(ossl::UpRef(c.get()));
  return out;
}

enroll::AttemptFacts CmpEnroller::facts() const { return {}; }

Result<enroll::Transaction> CmpEnroller::Prepare(ossl::Ptr<EVP_PKEY> key, const CsrSpec& spec,
                                                 const enroll::CurrentPair* current,
                                                 std::int64_t /*now*/) {
  CsrSpec template_spec = spec;
  Wipe(template_spec.challenge_password);  // CMP authenticates otherwise; never sent
  enroll::Transaction t;
  SCEPD_TRY(t.request, BuildCsr(template_spec, key.get()));
  SCEPD_TRY(t.id, scep::TransactionIdFor(key.get()));
  t.renewal = current != nullptr;
  Request type = Request::kKur;
  if (!t.renewal) {
    if (!can_enroll_anew()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "CMP first enrollment needs cmp_reference and cmp_secret, or cmp_cert "
                       "and cmp_key");
    }
    type = options_.cert != nullptr ? Request::kCr : Request::kIr;
  }
  t.cookie[kRequest] = RequestWord(type);
  t.cookie[kResumable] = "no";  // OpenSSL 3.0 polls only inside the process that sent it
  t.key = std::move(key);
  return t;
}

Result<std::unique_ptr<CmpSession>> CmpEnroller::NewSession(Request type,
                                                            const enroll::CurrentPair* current) {
  CmpOptions o;
  o.url = options_.url;
  o.recipient = options_.recipient;
  o.implicit_confirm = true;
  if (!options_.known_chain.empty()) o.ca_cert = options_.known_chain.front().get();
  if (type == Request::kIr) {
    MacProtection mac{options_.reference, options_.secret};  // Create wipes its copy
    return CmpSession::Create(transport_, std::move(o), &mac, nullptr);
  }
  SignatureProtection sig;
  if (type == Request::kKur) {
    if (current == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument, "kur needs the current pair");
    }
    sig = {current->cert, current->key};
  } else {
    sig = {options_.cert.get(), options_.key.get()};
  }
  return CmpSession::Create(transport_, std::move(o), nullptr, &sig);
}

enroll::Outcome CmpEnroller::Submit(const enroll::Transaction& t,
                                    const enroll::CurrentPair* current) {
  auto it = t.cookie.find(kRequest);
  std::optional<Request> type =
      it == t.cookie.end() ? std::nullopt : RequestFromWord(it->second);
  if (!type) {
    return enroll::StartOver{"the pending CMP transaction lacks its request type; starting over"};
  }
  if (*type == Request::kKur && current == nullptr) {
    return enroll::StartOver{"the pair a CMP kur is signed with is gone; starting over"};
  }
  // One transaction in flight per certificate: a new one ends any other.
  if (options_.live != nullptr) options_.live->Forget(options_.live_prefix);
  auto session = NewSession(*type, current);
  if (!session) return enroll::FailedFrom(session.error());
  NewCertRequest req;
  req.type = *type;
  req.new_key = t.key.get();
  req.csr = t.request.get();
  auto got = (*session)->Start(req);
  return Answer(t, std::move(*session), std::move(got));
}

enroll::Outcome CmpEnroller::Poll(const enroll::Transaction& t,
                                  const enroll::CurrentPair* /*current*/) {
  std::unique_ptr<CmpSession> session =
      options_.live != nullptr ? options_.live->Take(options_.live_prefix + t.id) : nullptr;
  if (session == nullptr) {
    return enroll::StartOver{
        "the CMP request waiting at the CA cannot be polled by this process (OpenSSL 3.0 keeps "
        "a waiting transaction in memory only); starting over"};
  }
  session->Rebind(transport_);
  auto got = session->Poll();
  if (!got && got.error().code == ErrorCode::kNetwork) {
    // Not reached: the CA still has the request; this session asks again.
    options_.live->Keep(options_.live_prefix + t.id, std::move(session));
  }
  return Answer(t, std::move(session), std::move(got));
}

enroll::Outcome CmpEnroller::Answer(const enroll::Transaction& t,
                                    std::unique_ptr<CmpSession> session, Result<Outcome> got) {
  if (!got) return enroll::FailedFrom(got.error());
  switch (got->kind) {
    case Outcome::Kind::kPending:
      if (options_.live == nullptr) {
        return enroll::StartOver{"the CMP server answered waiting, but this process cannot "
                                 "poll; starting over"};
      }
      options_.live->Keep(options_.live_prefix + t.id, std::move(session));
      // At least a second: a checkAfter of 0 must not make a busy loop.
      return enroll::Pending{t.cookie, std::max<std::int64_t>(got->check_after_s, 1)};
    case Outcome::Kind::kRejected: {
      std::string code;
      for (std::size_t i = 0; i < 32 && code.empty(); ++i) {
        if ((got->fail_info & (std::uint32_t{1} << i)) != 0) code = FailInfoNames(1u << i);
      }
      return enroll::Rejected{got->status_text, code, t.renewal && can_enroll_anew()};
    }
    case Outcome::Kind::kIssued: {
      enroll::Issued issued;
      issued.chain = IssuerChain(got->cert.get(), got->chain);
      issued.cert = std::move(got->cert);
      return issued;
    }
    case Outcome::Kind::kAccepted:
      break;
  }
  return enroll::Failed{enroll::FailureKind::kProtocol, "CMP: unexpected answer"};
}

std::string CmpEnroller::RequestName(const enroll::Transaction& transaction) const {
  auto it = transaction.cookie.find(kRequest);
  return it != transaction.cookie.end() ? it->second : "CMP request";
}

}  // namespace scepd::cmp
