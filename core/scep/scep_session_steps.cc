#include "core/scep/scep_session_steps.h"

#include <algorithm>
#include <utility>

namespace scepd::scep {

Status FetchCapsOrDefaults(Client& client, const std::function<void(const std::string&)>& warn) {
  auto caps = client.GetCaCaps();
  if (!caps.ok()) {
    if (caps.error().code != ErrorCode::kHttp) return std::move(caps).error();
    if (warn) warn("GetCACaps failed (" + caps.error().message + "); using defaults");
    client.SetCaps({});
  }
  return {};
}

Status ConnectSession(Client& client, const std::function<void(const std::string&)>& warn) {
  SCEPD_TRY_STATUS(FetchCapsOrDefaults(client, warn));
  auto ca = client.GetCaCert();  // the client keeps its own copy
  if (!ca.ok()) return std::move(ca).error();
  return {};
}

MessageType MessageTypeFor(const CaCaps& caps, bool renewal) noexcept {
  return renewal && caps.Has(Capability::kRenewal) ? MessageType::kRenewalReq
                                                   : MessageType::kPKCSReq;
}

std::vector<ossl::Ptr<X509>> StoredChain(const CaCertificates& ca) {
  std::vector<ossl::Ptr<X509>> out;
  for (std::size_t i = 0; i < ca.all.size(); ++i) {
    if (std::find(ca.ra.begin(), ca.ra.end(), i) == ca.ra.end()) {
      out.push_back(ossl::UpRef(ca.all[i].get()));
    }
  }
  return out;
}

Result<Envelope> ChooseEnvelope(const CaCaps& caps, X509_REQ* csr, EVP_PKEY* key,
                                const EnvelopeSigner& signer, const std::string& digest,
                                std::int64_t now) {
  Envelope out;
  const bool renewal = signer.renewal_cert != nullptr;
  out.type = MessageTypeFor(caps, renewal);
  if (renewal) {
    out.signer_cert = ossl::UpRef(signer.renewal_cert);
  } else if (signer.self_signed != nullptr) {
    out.signer_cert = ossl::UpRef(signer.self_signed);
  } else {
    SCEPD_TRY(out.signer_cert, MakeSelfSignedCert(csr, key, digest, now));
    out.made_self_signed = true;
  }
  SCEPD_TRY(out.transaction_id, TransactionIdFor(key));
  return out;
}

}  // namespace scepd::scep
