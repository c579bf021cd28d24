#pragma once
// The CMP back end of the enrollment seam (core/enroll/enroller.h) on
// CmpSession: a first enrollment is an ir protected with the reference
// number and shared secret (PBM), or a cr signed with a certificate the
// settings name; a renewal is a kur signed with the current pair. `waiting`
// is the seam's pending with the server's checkAfter.
//
// OpenSSL 3.0 keeps a waiting transaction only inside its OSSL_CMP_CTX, so
// a session that is waiting lives in CmpLiveSessions (owned by whoever
// outlives the attempts: the daemon) and the next attempt's Poll continues
// it. A pending transaction this process did not start (after a restart)
// cannot be resumed: Poll answers StartOver. The cookie says so.
//
// CMP has no separate CA-certificate request in the lightweight flow:
// FetchCaCertificates hands back the CA the caller already knows (the stored
// chain), or nothing before the first enrollment; the issued answer's caPubs
// and extraCerts then give the chain (the issuer of the new certificate and
// its issuers, never the server's own signing certificate).
//
// Cookie: request ("ir", "cr" or "kur") and resumable ("no").

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/cmp/cmp_client.h"
#include "core/enroll/enroller.h"
#include "core/transport.h"

namespace scepd::cmp {

// Sessions waiting for their next poll, by a caller-chosen name.
class CmpLiveSessions {
 public:
  void Keep(const std::string& name, std::unique_ptr<CmpSession> session);
  // The session kept under `name` (removed from here), or null.
  std::unique_ptr<CmpSession> Take(const std::string& name);
  // Forgets every session whose name starts with `prefix`.
  void Forget(const std::string& prefix);

 private:
  std::map<std::string, std::unique_ptr<CmpSession>> sessions_;
};

struct CmpEnrollerOptions {
  std::string url;
  std::string recipient;  // "/CN=..."; empty: none
  // The CA known from an earlier enrollment (the stored chain, CA first);
  // empty: none yet (the first answer's MAC-protected caPubs give it).
  std::vector<ossl::Ptr<X509>> known_chain;
  // ir: reference number and secret (the secret is wiped when the enroller
  // is destroyed and after each use).
  std::string reference;
  std::string secret;
  // cr: the certificate and key that sign a first enrollment (both or none).
  ossl::Ptr<X509> cert;
  ossl::Ptr<EVP_PKEY> key;
  // Where waiting sessions live between attempts (borrowed; must outlive the
  // enroller). Null: a pending answer cannot be polled (StartOver).
  CmpLiveSessions* live = nullptr;
  std::string live_prefix;  // names this certificate's sessions in `live`
};

class CmpEnroller final : public enroll::Enroller {
 public:
  // `transport` is borrowed and must outlive the enroller.
  CmpEnroller(Transport& transport, CmpEnrollerOptions options);
  ~CmpEnroller() override;

  const char* protocol() const noexcept override { return "cmp"; }
  Result<enroll::CaCertificates> FetchCaCertificates() override;
  bool ca_comes_with_answer() const override { return true; }
  enroll::AttemptFacts facts() const override;
  Result<enroll::Transaction> Prepare(ossl::Ptr<EVP_PKEY> key, const CsrSpec& spec,
                                      const enroll::CurrentPair* current,
                                      std::int64_t now) override;
  enroll::Outcome Submit(const enroll::Transaction& transaction,
                         const enroll::CurrentPair* current) override;
  enroll::Outcome Poll(const enroll::Transaction& transaction,
                       const enroll::CurrentPair* current) override;
  std::string RequestName(const enroll::Transaction& transaction) const override;

  // Whether a first enrollment is possible with these options (reference
  // and secret, or a certificate and key).
  bool can_enroll_anew() const noexcept;

 private:
  Result<std::unique_ptr<CmpSession>> NewSession(Request type, const enroll::CurrentPair* current);
  enroll::Outcome Answer(const enroll::Transaction& t, std::unique_ptr<CmpSession> session,
                         Result<Outcome> got);

  Transport& transport_;
  CmpEnrollerOptions options_;
};

// The CA chain in `received` for `cert`: its issuer, then that one's
// issuer, ... (each once; stops at a self-signed certificate or when the
// next issuer is not there). Empty when the issuer is not in `received`.
std::vector<ossl::Ptr<X509>> IssuerChain(X509* cert, const std::vector<ossl::Ptr<X509>>& received);

}  // namespace scepd::cmp
