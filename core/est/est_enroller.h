#pragma once
// The EST back end of the enrollment seam (core/enroll/enroller.h): RFC 7030
// over a Transport. /cacerts (through the given transport, whose TLS trusts
// an explicit anchor, or by the section 4.1.1 bootstrap: an unverified first
// answer only used to find the pinned CA, then the same question again over
// TLS verified against that CA alone), /simpleenroll with HTTP Basic for a
// first enrollment, /simplereenroll with the current pair as TLS client
// certificate for a renewal. 202 + Retry-After is Pending; EST asks again
// by sending the same request, so a pending request survives a restart.
//
// Its cookie (the pending file keeps it): operation ("simpleenroll" or
// "simplereenroll").

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/enroll/enroller.h"
#include "core/est/est_url.h"
#include "core/transport.h"

namespace scepd::est {

struct EstEnrollerOptions {
  std::string url;    // the server's base URL (est_url.h)
  std::string label;  // the CA label, "" for none
  // HTTP Basic for /simpleenroll, sent when `username` is not empty.
  // Secret: the enroller wipes its copy of the password when destroyed.
  std::string username;
  std::string password;
  // The RFC 7030 section 4.1.1 bootstrap: the SHA-256 digest (32 bytes) of
  // the CA certificate to trust, and a maker of transports trusting exactly
  // `anchor_pem` (empty: the provisional, unverified first contact). When
  // both are set the transport given to the constructor is not used.
  Bytes bootstrap_sha256;
  std::function<Result<std::unique_ptr<Transport>>(const std::string& anchor_pem)>
      make_transport;
  std::string digest = "SHA256";
  // Seconds since the epoch (Retry-After dates); the wall clock when empty.
  std::function<std::int64_t()> now;
};

// The CA that issues among `certs` (a /cacerts answer): the one whose
// SHA-256 digest is `pin` when given, else the first that issued none of
// the others (the end of the chain), else the first. Null for an empty set.
X509* IssuingCa(const std::vector<ossl::Ptr<X509>>& certs, const Bytes& pin);

class EstEnroller final : public enroll::Enroller {
 public:
  // `transport` is borrowed and must outlive the enroller.
  EstEnroller(Transport& transport, EstEnrollerOptions options);
  ~EstEnroller() override;
  EstEnroller(const EstEnroller&) = delete;
  EstEnroller& operator=(const EstEnroller&) = delete;

  const char* protocol() const noexcept override { return "est"; }
  Result<enroll::CaCertificates> FetchCaCertificates() override;
  enroll::AttemptFacts facts() const override;
  Result<enroll::Transaction> Prepare(ossl::Ptr<EVP_PKEY> key, const CsrSpec& spec,
                                      const enroll::CurrentPair* current,
                                      std::int64_t now) override;
  enroll::Outcome Submit(const enroll::Transaction& transaction,
                         const enroll::CurrentPair* current) override;
  enroll::Outcome Poll(const enroll::Transaction& transaction,
                       const enroll::CurrentPair* current) override;
  std::string RequestName(const enroll::Transaction& transaction) const override;

 private:
  Result<HttpResponse> Get(Operation op, Transport& transport);
  enroll::Outcome Exchange(const enroll::Transaction& transaction,
                           const enroll::CurrentPair* current);
  std::int64_t Now() const;

  Transport& given_;
  EstEnrollerOptions options_;
  // The bootstrap's verified transport, once made; else null (given_).
  std::unique_ptr<Transport> anchored_;
  std::vector<ossl::Ptr<X509>> chain_;  // from /cacerts, the issuing CA first
};

}  // namespace scepd::est
