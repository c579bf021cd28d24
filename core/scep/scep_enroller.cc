#include "core/scep/scep_enroller.h"

#include <openssl/x509.h>

#include <algorithm>
#include <utility>

#include "core/cert_info.h"

namespace scepd::scep {
namespace {

constexpr char kMessageType[] = "message_type";
constexpr char kSigner[] = "signer_cert_pem";

}  // namespace

ScepEnroller::ScepEnroller(Transport& transport, ScepEnrollerOptions options)
    : options_(std::move(options)), client_(transport, options_.client) {}

Result<enroll::CaCertificates> ScepEnroller::FetchCaCertificates() {
  SCEPD_TRY_STATUS(ConnectSession(client_, options_.warn));
  SCEPD_TRY(algorithms_, client_.ChosenAlgorithms());
  const CaCertificates& got = *client_.ca();
  enroll::CaCertificates out;
  out.ca = ossl::UpRef(got.Ca());
  out.chain = StoredChain(got);
  return out;
}

enroll::AttemptFacts ScepEnroller::facts() const {
  return {client_.caps().ToString(), algorithms_.cipher, algorithms_.digest};
}

Result<enroll::Transaction> ScepEnroller::Prepare(ossl::Ptr<EVP_PKEY> key, const CsrSpec& spec,
                                                  const enroll::CurrentPair* current,
                                                  std::int64_t now) {
  enroll::Transaction t;
  SCEPD_TRY(t.request, BuildCsr(spec, key.get(), algorithms_.digest));
  EnvelopeSigner signer;
  if (current != nullptr) signer.renewal_cert = current->cert;
  SCEPD_TRY(Envelope envelope, ChooseEnvelope(client_.caps(), t.request.get(), key.get(), signer,
                                              algorithms_.digest, now));
  SCEPD_TRY(std::string signer_pem, ossl::CertToPem(envelope.signer_cert.get()));
  t.id = std::move(envelope.transaction_id);
  t.renewal = current != nullptr;
  t.cookie[kMessageType] = std::to_string(static_cast<int>(envelope.type));
  t.cookie[kSigner] = std::move(signer_pem);
  t.key = std::move(key);
  prepared_id_ = t.id;
  prepared_signer_ = std::move(envelope.signer_cert);
  return t;
}

enroll::Outcome ScepEnroller::Submit(const enroll::Transaction& transaction,
                                     const enroll::CurrentPair* current) {
  return Exchange(transaction, current, false);
}

enroll::Outcome ScepEnroller::Poll(const enroll::Transaction& transaction,
                                   const enroll::CurrentPair* current) {
  return Exchange(transaction, current, true);
}

enroll::Outcome ScepEnroller::Exchange(const enroll::Transaction& t,
                                       const enroll::CurrentPair* current, bool poll) {
  auto type_it = t.cookie.find(kMessageType);
  auto signer_it = t.cookie.find(kSigner);
  std::optional<MessageType> type;
  if (type_it != t.cookie.end() && type_it->second == "19") type = MessageType::kPKCSReq;
  if (type_it != t.cookie.end() && type_it->second == "17") type = MessageType::kRenewalReq;
  if (!type || signer_it == t.cookie.end()) {
    return enroll::StartOver{"the pending SCEP transaction lacks its message type or signer; "
                             "starting over"};
  }
  ossl::Ptr<X509> signer;
  if (prepared_signer_ && prepared_id_ == t.id) {
    signer = ossl::UpRef(prepared_signer_.get());
  } else {
    auto decoded = ossl::CertFromPem(signer_it->second, "pending signer certificate");
    if (!decoded.ok()) {
      ClearOpenSslErrors();
      return enroll::StartOver{"pending transaction unreadable; starting over"};
    }
    signer = std::move(*decoded);
  }
  EnrollRequest req;
  req.type = *type;
  req.csr = t.request.get();
  req.key = t.key.get();
  req.signer_cert = signer.get();
  req.transaction_id = t.id;
  if (t.renewal) {
    // The current pair must still be the one that signed the request: the
    // CertRep is encrypted to it.
    if (current == nullptr || X509_cmp(current->cert, signer.get()) != 0) {
      return enroll::StartOver{
          "the certificate that signed the pending renewal is gone; starting over"};
    }
    req.signer_key = current->key;
  } else {
    req.signer_key = t.key.get();
  }
  Result<CertRep> rep = poll ? client_.Poll(req) : client_.Enroll(req);
  if (!rep.ok()) return enroll::FailedFrom(rep.error());
  switch (rep->status) {
    case PkiStatus::kPending:
      return enroll::Pending{t.cookie, 0};
    case PkiStatus::kFailure:
      return enroll::Rejected{rep->Describe(), rep->fail_info ? FailInfoName(*rep->fail_info) : "",
                              t.renewal};
    case PkiStatus::kSuccess:
      break;
  }
  enroll::Issued issued;
  issued.cert = std::move(rep->issued);
  if (client_.ca()) issued.chain = StoredChain(*client_.ca());
  return issued;
}

bool ScepEnroller::offers_next_ca() const {
  return client_.ca().has_value() && client_.caps().Has(Capability::kGetNextCACert);
}

Result<std::optional<ossl::Ptr<X509>>> ScepEnroller::FetchNextCa() {
  if (!offers_next_ca()) return std::optional<ossl::Ptr<X509>>();
  SCEPD_TRY(CaCertificates next, client_.GetNextCaCert());
  X509* cert = next.Ca();
  if (cert == nullptr || X509_cmp(cert, client_.ca()->Ca()) == 0) {
    return std::optional<ossl::Ptr<X509>>();
  }
  return std::optional<ossl::Ptr<X509>>(ossl::UpRef(cert));
}

std::string ScepEnroller::RequestName(const enroll::Transaction& transaction) const {
  auto it = transaction.cookie.find(kMessageType);
  return it != transaction.cookie.end() && it->second == "17" ? "RenewalReq" : "PKCSReq";
}

}  // namespace scepd::scep
