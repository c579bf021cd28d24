#pragma once
// A CMP client (RFC 4210, the lightweight profile RFC 9483, over HTTP) on
// OpenSSL 3.0's OSSL_CMP_CTX. Every message goes through the project's
// Transport (proxy, TLS checks, timeouts and the size cap as for SCEP), one
// request per connection. One CmpSession is one transaction: Start sends
// the request; while the server says `waiting` the outcome is kPending with
// its checkAfter, and the caller calls Poll again when that time has come
// (nothing here sleeps or blocks beyond one HTTP exchange).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ossl.h"
#include "core/result.h"
#include "core/transport.h"

namespace scepd::cmp {

// How we protect our requests.
struct MacProtection {  // PBM: reference number and shared secret (ir)
  std::string reference;
  std::string secret;  // wiped by CmpSession::Create, whatever happens
};
struct SignatureProtection {  // the current pair (cr, kur, rr, genm)
  X509* cert = nullptr;       // borrowed; CmpSession takes its own reference
  EVP_PKEY* key = nullptr;
};

struct CmpOptions {
  std::string url;        // http(s)://host:port/path
  std::string recipient;  // "/CN=..." (the CA's name); empty: from the certificates
  // Trust for signed answers and the chain: the CA certificate given...
  X509* ca_cert = nullptr;  // borrowed
  // ...a SHA-256 fingerprint (hex, colons allowed) that the given CA
  // certificate, or one certificate of the chain received, must have...
  std::string pinned_sha256;
  // ...or a self-signed certificate the server sends in its first answer
  // to an ir (OpenSSL's permit-TA-in-extraCerts).
  bool trust_first_answer = false;
  // Accept an unprotected error answer (its status is then shown); without
  // this it is refused as unauthenticated.
  bool allow_unprotected_errors = false;
  bool implicit_confirm = true;  // requested; the server may still ask certConf
  // Asked about an issued certificate (borrowed) after OpenSSL's own checks
  // passed, before it is confirmed: false declines it, and the certConf
  // sent rejects it (with implicit confirm granted no certConf is sent;
  // callers that may decline ask for none). Empty: every certificate that
  // passes the checks is accepted.
  std::function<bool(X509* issued)> accept;
};

enum class Request { kIr, kCr, kKur, kP10cr };

struct NewCertRequest {
  Request type = Request::kIr;
  EVP_PKEY* new_key = nullptr;  // borrowed; ir/cr/kur (kur may reuse the current key)
  std::string subject;          // "/CN=..."; empty: the current certificate's (kur)
  // p10cr: the request sent (borrowed). ir/cr/kur: when set, the template
  // the request's subject and extensions come from (OpenSSL's p10CSR default).
  X509_REQ* csr = nullptr;
  // Requested extensions (borrowed, copied; null: none) for ir/cr/kur.
  STACK_OF(X509_EXTENSION)* extensions = nullptr;
  // new_key holds only the public key of someone else's pair (an RA's
  // request for an end entity): no signature POPO can be made.
  bool public_key_only = false;
  // Proof of possession: a signature with new_key; raVerified (an RA
  // vouches, RFC 4211 section 4.1); or keyEncipherment (the CA encrypts the
  // certificate to new_key, RFC 4210 section 5.2.8).
  enum class Popo { kSignature, kRaVerified, kKeyEncipherment };
  Popo popo = Popo::kSignature;
};

// The answer, shaped for an Enroller back end: issued, pending or rejected;
// anything else (transport, protection, malformed answer) is the Error.
struct Outcome {
  enum class Kind { kIssued, kPending, kRejected, kAccepted };
  Kind kind = Kind::kRejected;
  ossl::Ptr<X509> cert;               // kIssued
  std::vector<ossl::Ptr<X509>> chain;  // kIssued: caPubs then extraCerts, no duplicates
  std::int64_t check_after_s = 0;     // kPending
  std::string status_text;            // kRejected: status, failInfo names, server text (cleaned)
  std::uint32_t fail_info = 0;        // kRejected: PKIFailureInfo bits (bit n = 1 << n)
  // kAccepted: rr and genm succeeded; genm lists the infoType OIDs answered.
  std::vector<std::string> info_types;
};

class CmpSession {
 public:
  // Checks the options (URL, pin, recipient) and sets up the context.
  // Errors: kInvalidArgument, kVerify (given CA does not match the pin).
  static Result<std::unique_ptr<CmpSession>> Create(Transport& transport, CmpOptions options,
                                                    MacProtection* mac,
                                                    const SignatureProtection* signature);
  ~CmpSession();
  CmpSession(const CmpSession&) = delete;
  CmpSession& operator=(const CmpSession&) = delete;

  // Sends ir/cr/kur/p10cr; kIssued, kPending (call Poll), kRejected.
  Result<Outcome> Start(const NewCertRequest& request);
  // The next pollReq of a pending request (after check_after_s).
  Result<Outcome> Poll();
  // Revokes `cert` (the current one when null) with CRLReason `reason` (-1: none).
  Result<Outcome> Revoke(X509* cert, int reason = -1);
  // A general message without items; the answer's infoTypes are listed.
  Result<Outcome> GeneralMessage();

  // Sends the following messages through `transport` (borrowed; must
  // outlive the session's further use): a pending request may be polled
  // over another connection's transport than the one that started it.
  void Rebind(Transport& transport) noexcept { transport_ = &transport; }

 private:
  struct Key {};

 public:
  CmpSession(Key, Transport& transport, CmpOptions options);

 private:
  static OSSL_CMP_MSG* Transfer(OSSL_CMP_CTX* ctx, const OSSL_CMP_MSG* req);
  static int CertConf(OSSL_CMP_CTX* ctx, X509* cert, int fail_info, const char** text);
  Result<Outcome> TryCertReq(int body_type, bool first);
  Outcome Rejected() const;
  Error Failure(const std::string& what);

  Transport* transport_;
  CmpOptions options_;
  ossl::Ptr<OSSL_CMP_CTX> ctx_;
  ossl::Ptr<X509> own_cert_;  // the signing certificate, revoked by default
  std::optional<Request> pending_;
  std::string transport_error_;  // what the last Transfer failed with
  std::string pin_error_;        // why CertConf refused the chain
  bool declined_ = false;        // options_.accept said no
  std::string refused_;          // why OpenSSL's own certificate check said no
};

// PKIFailureInfo bit names ("badPOP", ...) of the set bits, comma-separated.
std::string FailInfoNames(std::uint32_t bits);

// A CMP response as the transfer layer checks it: HTTP 200 with a DER
// PKIMessage (content type application/pkixcmp). kHttp / kParse otherwise.
Result<ossl::Ptr<OSSL_CMP_MSG>> ParseCmpResponse(const HttpResponse& response);

}  // namespace scepd::cmp
