#pragma once
// The steps every SCEP session repeats, whoever drives it: the daemon's
// back end (scep_enroller.h), sscep and scep-client. One copy each, so the
// CLIs and the daemon fall back, choose and sign alike.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/csr.h"
#include "core/ossl.h"
#include "core/result.h"
#include "core/scep/ca_caps.h"
#include "core/scep/ca_certs.h"
#include "core/scep/client.h"

namespace scepd::scep {

// GetCACaps, kept in the client; a CA that answers it with anything but 200
// has no capabilities: `warn` is told ("GetCACaps failed (...); using
// defaults") and the defaults are used. Other failures are returned.
Status FetchCapsOrDefaults(Client& client, const std::function<void(const std::string&)>& warn);

// The steps every daemon SCEP attempt starts with: FetchCapsOrDefaults,
// then GetCACert (roles chosen, kept in the client). Fails as the client.
Status ConnectSession(Client& client, const std::function<void(const std::string&)>& warn);

// RenewalReq when `renewal` and the CA offers Renewal, else PKCSReq (a CA
// without it gets a PKCSReq signed with the current pair).
MessageType MessageTypeFor(const CaCaps& caps, bool renewal) noexcept;

// The chain kept beside an issued certificate: every certificate of the
// GetCACert answer but the RA ones, in the order received (new references).
// Never fails.
std::vector<ossl::Ptr<X509>> StoredChain(const CaCertificates& ca);

// Which certificate signs a request's envelope. Borrowed pointers.
struct EnvelopeSigner {
  // The current certificate: the request is a renewal.
  X509* renewal_cert = nullptr;
  // A first enrollment resumed with the self-signed certificate made for it
  // before (sscep -R with -L); null makes a new one.
  X509* self_signed = nullptr;
};

// A request's envelope: message type, signing certificate, transactionID.
struct Envelope {
  MessageType type = MessageType::kPKCSReq;
  // Owned. Its key signs the pkiMessage: the request's key for a first
  // enrollment, the current key for a renewal.
  ossl::Ptr<X509> signer_cert;
  // TransactionIdFor(the request's key).
  std::string transaction_id;
  // True when signer_cert was made here (a caller may save it, as sscep -L).
  bool made_self_signed = false;
};

// Chooses the envelope the same way for the daemon and the CLIs: a renewal
// is signed by the current certificate and is a RenewalReq when the CA
// offers it (MessageTypeFor); a first enrollment is a PKCSReq signed by a
// certificate self-signed over `csr`'s key with `digest`, valid from `now`
// (or by signer.self_signed). Fails as MakeSelfSignedCert (kInvalidArgument
// when `key` is not the request's key) or TransactionIdFor.
Result<Envelope> ChooseEnvelope(const CaCaps& caps, X509_REQ* csr, EVP_PKEY* key,
                                const EnvelopeSigner& signer, const std::string& digest,
                                std::int64_t now);

}  // namespace scepd::scep
