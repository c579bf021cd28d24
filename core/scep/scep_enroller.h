#pragma once
// The SCEP back end of the enrollment seam (core/enroll/enroller.h): RFC 8894
// over a Transport. Everything the daemon used to know about SCEP lives
// here: GetCACaps (defaults when the CA has none), GetCACert with the RA
// roles, the algorithms, which certificate signs the request (a self-signed
// one for a first enrollment, the current certificate for a renewal),
// RenewalReq when the CA offers it and PKCSReq otherwise, CertPoll, and
// GetNextCACert. The CLIs use the same session steps
// (scep_session_steps.h).
//
// Its cookie (the pending file keeps it): message_type ("19" PKCSReq or "17"
// RenewalReq) and signer_cert_pem (the certificate that signed the request).

#include <functional>
#include <memory>
#include <string>

#include "core/enroll/enroller.h"
#include "core/scep/client.h"
#include "core/scep/scep_session_steps.h"
#include "core/transport.h"

namespace scepd::scep {

struct ScepEnrollerOptions {
  ClientOptions client;
  // Told about things worth a warning that do not stop the attempt (a CA
  // without GetCACaps). Server text in it is already cleaned. May be empty.
  std::function<void(const std::string&)> warn;
};

class ScepEnroller final : public enroll::Enroller {
 public:
  // `transport` is borrowed and must outlive the enroller.
  ScepEnroller(Transport& transport, ScepEnrollerOptions options);

  const char* protocol() const noexcept override { return "scep"; }
  Result<enroll::CaCertificates> FetchCaCertificates() override;
  enroll::AttemptFacts facts() const override;
  Result<enroll::Transaction> Prepare(ossl::Ptr<EVP_PKEY> key, const CsrSpec& spec,
                                      const enroll::CurrentPair* current,
                                      std::int64_t now) override;
  enroll::Outcome Submit(const enroll::Transaction& transaction,
                         const enroll::CurrentPair* current) override;
  enroll::Outcome Poll(const enroll::Transaction& transaction,
                       const enroll::CurrentPair* current) override;
  bool offers_next_ca() const override;
  Result<std::optional<ossl::Ptr<X509>>> FetchNextCa() override;
  std::string RequestName(const enroll::Transaction& transaction) const override;

 private:
  enroll::Outcome Exchange(const enroll::Transaction& transaction,
                           const enroll::CurrentPair* current, bool poll);

  ScepEnrollerOptions options_;
  Client client_;
  Algorithms algorithms_;
  // The signer Prepare made, kept live for the Submit that follows.
  std::string prepared_id_;
  ossl::Ptr<X509> prepared_signer_;
};

}  // namespace scepd::scep
