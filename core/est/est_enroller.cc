#include "core/est/est_enroller.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <utility>

#include "core/est/est_outcome.h"
#include "core/est/est_request.h"
#include "core/key.h"
#include "core/wipe.h"

namespace scepd::est {
namespace {

constexpr char kOperation[] = "operation";
constexpr char kEnroll[] = "simpleenroll";
constexpr char kReenroll[] = "simplereenroll";

std::vector<ossl::Ptr<X509>> UpRefAll(const std::vector<ossl::Ptr<X509>>& certs) {
  std::vector<ossl::Ptr<X509>> out;
  out.reserve(certs.size());
  for (const auto& c : certs) out.push_back(ossl::UpRef(c.get()));
  return out;
}

}  // namespace

X509* IssuingCa(const std::vector<ossl::Ptr<X509>>& certs, const Bytes& pin) {
  if (certs.empty()) return nullptr;
  if (!pin.empty()) return FindByFingerprint(certs, HexEncode(pin));
  for (const auto& candidate : certs) {
    bool issued_another = false;
    for (const auto& other : certs) {
      if (other.get() == candidate.get() || X509_cmp(other.get(), candidate.get()) == 0) continue;
      if (X509_check_issued(candidate.get(), other.get()) == X509_V_OK) issued_another = true;
    }
    if (!issued_another) return candidate.get();
  }
  return certs.front().get();
}

EstEnroller::EstEnroller(Transport& transport, EstEnrollerOptions options)
    : given_(transport), options_(std::move(options)) {}

EstEnroller::~EstEnroller() { Wipe(options_.password); }

std::int64_t EstEnroller::Now() const {
  return options_.now ? options_.now() : static_cast<std::int64_t>(std::time(nullptr));
}

Result<HttpResponse> EstEnroller::Get(Operation op, Transport& transport) {
  SCEPD_TRY(const std::string url, OperationUrl(options_.url, options_.label, op));
  return transport.Send(GetRequest(url));
}

Result<enroll::CaCertificates> EstEnroller::FetchCaCertificates() {
  const Bytes& pin = options_.bootstrap_sha256;
  std::vector<ossl::Ptr<X509>> certs;
  if (!pin.empty() && options_.make_transport) {
    // RFC 7030 section 4.1.1: the provisional answer only shows which
    // certificate carries the pin; what is kept comes over TLS verified
    // against that certificate alone.
    SCEPD_TRY(auto provisional, options_.make_transport(""));
    SCEPD_TRY(HttpResponse first, Get(Operation::kCaCerts, *provisional));
    SCEPD_TRY(auto offered, InterpretCaCerts(first));
    X509* pinned = FindByFingerprint(offered, HexEncode(pin));
    if (pinned == nullptr) {
      return MakeError(ErrorCode::kVerify,
                       "EST bootstrap: no certificate in the /cacerts answer has the "
                       "ca_fingerprint; not trusting this server");
    }
    SCEPD_TRY(const std::string anchor, ossl::CertToPem(pinned));
    SCEPD_TRY(anchored_, options_.make_transport(anchor));
    SCEPD_TRY(HttpResponse second, Get(Operation::kCaCerts, *anchored_));
    SCEPD_TRY(certs, InterpretCaCerts(second));
  } else {
    SCEPD_TRY(HttpResponse r, Get(Operation::kCaCerts, given_));
    SCEPD_TRY(certs, InterpretCaCerts(r));
  }
  X509* ca = IssuingCa(certs, pin);
  if (ca == nullptr) {
    return MakeError(ErrorCode::kVerify, "/cacerts: the answer lacks the pinned CA certificate");
  }
  enroll::CaCertificates out;
  out.ca = ossl::UpRef(ca);
  chain_.clear();
  chain_.push_back(ossl::UpRef(ca));
  for (const auto& c : certs) {
    if (X509_cmp(c.get(), ca) != 0) chain_.push_back(ossl::UpRef(c.get()));
  }
  out.chain = UpRefAll(chain_);
  return out;
}

enroll::AttemptFacts EstEnroller::facts() const {
  return {options_.label.empty() ? "" : "label " + options_.label, "", options_.digest};
}

Result<enroll::Transaction> EstEnroller::Prepare(ossl::Ptr<EVP_PKEY> key, const CsrSpec& spec,
                                                 const enroll::CurrentPair* current,
                                                 std::int64_t /*now*/) {
  enroll::Transaction t;
  SCEPD_TRY(t.request, BuildCsr(spec, key.get(), options_.digest));
  SCEPD_TRY(t.id, PublicKeySha256Hex(key.get()));
  t.renewal = current != nullptr;
  t.cookie[kOperation] = t.renewal ? kReenroll : kEnroll;
  t.key = std::move(key);
  return t;
}

enroll::Outcome EstEnroller::Submit(const enroll::Transaction& transaction,
                                    const enroll::CurrentPair* current) {
  return Exchange(transaction, current);
}

// EST has no separate polling message: the client sends the same request
// again (RFC 7030 section 4.2.3).
enroll::Outcome EstEnroller::Poll(const enroll::Transaction& transaction,
                                  const enroll::CurrentPair* current) {
  return Exchange(transaction, current);
}

enroll::Outcome EstEnroller::Exchange(const enroll::Transaction& t,
                                      const enroll::CurrentPair* current) {
  auto it = t.cookie.find(kOperation);
  if (it == t.cookie.end() || (it->second != kEnroll && it->second != kReenroll)) {
    return enroll::StartOver{"the pending EST request lacks its operation; starting over"};
  }
  const bool reenroll = it->second == kReenroll;
  if (reenroll && (current == nullptr || current->cert == nullptr || current->key == nullptr)) {
    return enroll::StartOver{
        "the certificate that was to authenticate the pending renewal is gone; starting over"};
  }
  auto url = OperationUrl(options_.url, options_.label,
                          reenroll ? Operation::kSimpleReenroll : Operation::kSimpleEnroll);
  if (!url.ok()) return enroll::FailedFrom(url.error());
  auto request = CsrPostRequest(*url, t.request.get());
  if (!request.ok()) return enroll::FailedFrom(request.error());
  HttpRequest& req = *request;
  if (reenroll) {
    auto cert_pem = ossl::CertToPem(current->cert);
    auto key_pem = ossl::PrivateKeyToPem(current->key);
    if (!cert_pem.ok() || !key_pem.ok()) {
      if (key_pem.ok()) Wipe(*key_pem);
      return enroll::Failed{enroll::FailureKind::kProtocol,
                            "the current pair cannot be used as TLS client certificate"};
    }
    req.client_cert_pem = std::move(*cert_pem);
    req.client_key_pem = std::move(*key_pem);  // a PEM key: heap storage, handed over
  } else if (!options_.username.empty()) {
    req.basic_user = options_.username;
    req.basic_password = options_.password;
  }
  Transport& transport = anchored_ ? *anchored_ : given_;
  Result<HttpResponse> response = transport.Send(req);
  Wipe(req.basic_password);
  Wipe(req.client_key_pem);
  if (!response.ok()) return enroll::FailedFrom(response.error());
  const std::int64_t now = Now();
  auto outcome = InterpretEnroll(*response, t.key.get(), now);
  if (!outcome.ok()) return enroll::FailedFrom(outcome.error());
  if (auto* issued = std::get_if<Issued>(&*outcome)) {
    enroll::Issued out;
    out.cert = std::move(issued->cert);
    out.chain = UpRefAll(chain_);
    return out;
  }
  if (auto* pending = std::get_if<Pending>(&*outcome)) {
    return enroll::Pending{t.cookie, std::max<std::int64_t>(1, pending->retry_at - now)};
  }
  auto& rejected = std::get<Rejected>(*outcome);
  return enroll::Rejected{rejected.reason, RejectCodeName(rejected.code),
                          reenroll && rejected.code != RejectCode::kBadRequest};
}

std::string EstEnroller::RequestName(const enroll::Transaction& transaction) const {
  auto it = transaction.cookie.find(kOperation);
  return it != transaction.cookie.end() && it->second == kReenroll ? "simplereenroll"
                                                                   : "simpleenroll";
}

}  // namespace scepd::est
