#pragma once
// The seam between the daemon and an enrollment protocol. The daemon's state
// machine (daemon/certificate_job.h) keeps the schedule, the keys, the
// store, the scripts, the status and crash safety; an Enroller only talks to
// the CA. One Enroller serves one attempt (one connection's worth of
// answers); the job makes a new one for every attempt. docs/daemon.md, "The
// enrollment seam", describes the contract and the pending file.
//
// An attempt: FetchCaCertificates first (the daemon checks the CA against
// its pin before anything is sent), then either Prepare + Submit (a new
// request) or Poll (a request saved earlier, perhaps by another process),
// and optionally FetchNextCa.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/csr.h"
#include "core/enroll/outcome.h"
#include "core/ossl.h"
#include "core/result.h"

namespace scepd::enroll {

// The CA certificates: `ca` issues our certificates (the one the daemon
// pins), `chain` is what the daemon stores as ca.crt-0..N (the CA and its
// issuers, no RA certificates; contains `ca`).
struct CaCertificates {
  ossl::Ptr<X509> ca;
  std::vector<ossl::Ptr<X509>> chain;
};

// The pair in use, for a renewal (borrowed; outlives the call).
struct CurrentPair {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
};

// One request, saved before it is sent and kept while the CA considers it.
// The daemon stores it in the pending file and hands the live objects back;
// it never looks inside `cookie`.
struct Transaction {
  std::string id;                   // for logs and status (SCEP: the transactionID)
  ossl::Ptr<EVP_PKEY> key;          // the new key (secret)
  ossl::Ptr<X509_REQ> request;      // the PKCS#10 request for it
  bool renewal = false;             // authenticated with the current pair
  Cookie cookie;                    // the back end's state
};

// For the status page: what the CA offers and what this attempt uses.
struct AttemptFacts {
  std::string ca_caps;  // the CA's capabilities as text, "" when not known
  std::string cipher;   // "" when the protocol has no message encryption of its own
  std::string digest;
};

class Enroller {
 public:
  virtual ~Enroller() = default;

  // The protocol's name as the settings and the pending file spell it ("scep").
  virtual const char* protocol() const noexcept = 0;

  // Asks the CA for its certificates. Fails (kNetwork, kTimeout, kHttp,
  // kParse, kProtocol, kVerify) when there is no usable answer.
  virtual Result<CaCertificates> FetchCaCertificates() = 0;

  // Whether an empty FetchCaCertificates answer means "the CA comes with the
  // issued answer" (CMP's caPubs before the first enrollment): the daemon
  // then checks the first certificate of Issued::chain against the pin
  // instead, and installs nothing without one.
  virtual bool ca_comes_with_answer() const { return false; }

  // After FetchCaCertificates: what the status shows about this attempt.
  virtual AttemptFacts facts() const = 0;

  // Builds a request for `key` (taken) asking for `spec`; a renewal when
  // `current` is set (the back end may still send it as a first enrollment
  // when the CA cannot renew, keeping the current pair's authentication).
  // Sends nothing: the daemon saves the transaction first. Fails with
  // kInvalidArgument or kCrypto.
  virtual Result<Transaction> Prepare(ossl::Ptr<EVP_PKEY> key, const CsrSpec& spec,
                                      const CurrentPair* current, std::int64_t now) = 0;

  // Sends the request (again, when the CA never acknowledged it). `current`:
  // the pair in use for a renewal, else null.
  virtual Outcome Submit(const Transaction& transaction, const CurrentPair* current) = 0;
  // Asks about a request the CA answered "pending" to.
  virtual Outcome Poll(const Transaction& transaction, const CurrentPair* current) = 0;

  // After FetchCaCertificates: whether the protocol and the CA offer the
  // CA's successor (FetchNextCa may find one).
  virtual bool offers_next_ca() const { return false; }
  // The CA's successor, verified by the current CA; nullopt when there is
  // none. Errors mean "none this time" (most CAs have none most of the time).
  virtual Result<std::optional<ossl::Ptr<X509>>> FetchNextCa() {
    return std::optional<ossl::Ptr<X509>>();
  }

  // A short name for the request in logs ("PKCSReq", "RenewalReq").
  virtual std::string RequestName(const Transaction& transaction) const = 0;
};

}  // namespace scepd::enroll
