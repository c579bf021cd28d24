#pragma once
// The SCEP client: every RFC 8894 operation as one call over a Transport.
// It builds the request, sends it, and checks every CertRep (signer among the
// CA/RA certificates, messageType, transactionID, recipientNonce, status, the
// issued key). Used by the sscep CLI and by the daemon's SCEP back end.

#include <optional>
#include <string>
#include <vector>

#include "core/ossl.h"
#include "core/result.h"
#include "core/scep/ca_caps.h"
#include "core/scep/ca_certs.h"
#include "core/scep/scep.h"
#include "core/transport.h"

namespace scepd::scep {

struct ClientOptions {
  std::string url;            // "http://host[:port]/path"; "http://" is assumed if absent
  std::string ca_identifier;  // sent as message= with GetCACert/GetCACaps/GetNextCACert
  AlgorithmPolicy algorithms;
};

// What the CA answered to a PKIOperation. PENDING and FAILURE are outcomes,
// not errors: the caller (CLI exit code, daemon state machine) decides.
struct CertRep {
  PkiStatus status = PkiStatus::kFailure;
  std::optional<FailInfo> fail_info;         // FAILURE
  std::optional<std::string> fail_info_text; // FAILURE, when the CA gave one
  std::vector<ossl::Ptr<X509>> certs;        // SUCCESS: every certificate returned
  std::vector<ossl::Ptr<X509_CRL>> crls;     // SUCCESS of GetCRL
  ossl::Ptr<X509> issued;                    // SUCCESS of enroll/poll/GetCert: ours
  std::string transaction_id;

  // "FAILURE: badRequest (transaction not permitted or supported): <text>".
  std::string Describe() const;
};

// An enrollment in flight: what PKCSReq/RenewalReq sends and CertPoll repeats.
// Borrowed pointers; the caller keeps them alive across polls.
struct EnrollRequest {
  MessageType type = MessageType::kPKCSReq;  // or kRenewalReq
  X509_REQ* csr = nullptr;
  EVP_PKEY* key = nullptr;          // the CSR's key: the issued cert must carry it
  X509* signer_cert = nullptr;      // self-signed (first enrollment) or the current cert
  EVP_PKEY* signer_key = nullptr;   // its key; the CertRep is encrypted to it
  std::string transaction_id;       // TransactionIdFor(key) unless resuming
};

// The transactionID we use: SHA-256 of the new public key (hex). Unique per
// key, stable across polls and across restarts of the same enrollment.
Result<std::string> TransactionIdFor(const EVP_PKEY* key);

class Client {
 public:
  // `transport` is borrowed and must outlive the client.
  Client(Transport& transport, ClientOptions options);

  // GetCACaps. Also remembers the answer for algorithm and method choice.
  // An empty 200 answer is the empty set (RFC 8894 section 3.5.2).
  // A CA that answers non-200 gets kHttp; callers may go on with SetCaps({}).
  Result<CaCaps> GetCaCaps();
  void SetCaps(const CaCaps& caps) { caps_ = caps; }
  const CaCaps& caps() const { return caps_; }

  // GetCACert; the result is also kept for later PKIOperations.
  Result<CaCertificates> GetCaCert();
  // Supplies the CA/RA certificates (from files or an earlier GetCACert).
  void SetCaCertificates(CaCertificates certs);
  const std::optional<CaCertificates>& ca() const { return ca_; }

  // GetNextCACert, verified as signed by the current CA (or its RA).
  Result<CaCertificates> GetNextCaCert();

  // The algorithms PKIOperations will use, from the caps and the policy.
  Result<Algorithms> ChosenAlgorithms() const;

  // PKCSReq or RenewalReq. Fails (error, not outcome) on transport errors,
  // non-200 answers (a GET longer than IIS's default query string limit
  // answered 404 or 414 says so and points to POSTPKIOperation), HTML pages, bad signatures, a wrong transactionID or
  // recipientNonce, or an issued certificate that does not carry our key.
  Result<CertRep> Enroll(const EnrollRequest& request);
  // CertPoll (GetCertInitial) for the same transaction.
  Result<CertRep> Poll(const EnrollRequest& request);
  // GetCert: the certificate with `serial` issued by the CA, signed with our
  // current certificate and key.
  Result<CertRep> GetCert(X509* signer_cert, EVP_PKEY* signer_key, const ASN1_INTEGER* serial);
  // GetCRL for the CA that issued `cert` (signed with cert/key).
  Result<CertRep> GetCrl(X509* signer_cert, EVP_PKEY* signer_key);

 private:
  enum class Expect { kKey, kSerial, kCrl };
  Result<HttpResponse> Get(const std::string& operation, const std::string& message,
                           std::string_view what, bool empty_ok = false);
  Result<CertRep> Exchange(MessageType type, const Bytes& payload, X509* signer_cert,
                           EVP_PKEY* signer_key, const std::string& transaction_id,
                           Expect expect, const EVP_PKEY* key, const ASN1_INTEGER* serial);
  std::string OperationUrl(const std::string& operation) const;

  Transport& transport_;
  ClientOptions options_;
  CaCaps caps_{};
  std::optional<CaCertificates> ca_;
};

// A short printable excerpt of an HTTP body for error messages: tags
// stripped, whitespace folded, at most `max` characters.
std::string BodyExcerpt(std::span<const std::uint8_t> body, std::size_t max = 160);

}  // namespace scepd::scep
