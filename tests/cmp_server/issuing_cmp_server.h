#pragma once
// A CMP (RFC 4210, lightweight profile RFC 9483) server for tests that
// really issues, unlike OpenSSL's mock (`openssl cmp -port`, which answers
// every request with one fixed certificate): plain HTTP on 127.0.0.1 with
// a port the kernel picks (cpp-httplib), each message handed to OpenSSL
// 3.0's generic server (OSSL_CMP_SRV_CTX).
//
// - ir: accepted only when MAC-protected (PBM) with the reference number
//   and secret; the ip is MAC-protected and carries the CA in caPubs.
// - cr, kur, p10cr: accepted only when signed by a certificate of the test
//   CA (a kur by the pair it renews); answers are signed by the server's
//   own certificate, which the CA issued.
// - Each issues a certificate for the public key in the request, with the
//   subject and the extensions asked for, signed by the test CA; the CA is
//   sent in extraCerts too. Proof of possession is checked by OpenSSL.
// - Optionally the first answers of each transaction are `waiting` (the
//   client polls with pollReq) before the certificate comes.
// - implicitConfirm is granted when asked for; otherwise the client's
//   certConf is taken.
// - HTTP: one message per connection. `openssl cmp` with its default
//   keep-alive failed to send a pollReq over the connection of the answer
//   before (cpp-httplib 0.11 and OpenSSL's HTTP/1.0 keep-alive disagree);
//   with `-keep_alive 0` it works. Our client always sends one per connection.
// Every transaction has its own server context, keyed by transactionID,
// so a client that vanished in the middle of one (a SIGKILLed daemon)
// does not block the next one, as it would with a single context.
//
// Our own test server: independent checks come from OpenSSL's mock and
// from OpenSSL's `openssl cmp` client run against this server.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/ossl.h"

namespace httplib {
class Server;
}

namespace scepd::testing {

struct IssuingCmpServerOptions {
  std::string reference = "62154";   // PBM reference number for ir
  std::string secret = "cmp-test-secret";
  std::int64_t valid_s = 86400;      // lifetime of the certificates issued
  bool grant_implicit_confirm = true;
};

class IssuingCmpServer {
 public:
  explicit IssuingCmpServer(IssuingCmpServerOptions options = {});
  ~IssuingCmpServer();
  IssuingCmpServer(const IssuingCmpServer&) = delete;
  IssuingCmpServer& operator=(const IssuingCmpServer&) = delete;

  // False when the server could not start (the test should fail).
  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  // Any path is served; this is the usual one.
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/pkix/"; }

  X509* ca_cert() const { return ca_cert_.get(); }
  std::string ca_pem() const;
  // The certificate that signs the answers to cr, kur and p10cr.
  X509* server_cert() const { return server_cert_.get(); }

  // Transactions that start from now on are answered `waiting` `answers`
  // times (the request, then answers - 1 pollReqs, each with checkAfter
  // `check_after_s`) before the certificate. 0: issue at once.
  void SetWaiting(int answers, int check_after_s = 1);

  // What happened so far: messages received of a body type ("ir", "cr",
  // "kur", "p10cr", "pollReq", "certConf", "error", "other"), certificates
  // issued, and a log (one line per message, OpenSSL's server messages).
  int count(const std::string& body_type) const;
  int issued() const;
  std::string log() const;

 private:
  struct Transaction;
  static OSSL_CMP_PKISI* OnCertRequest(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG* req,
                                       int cert_req_id, const OSSL_CRMF_MSG* crm,
                                       const X509_REQ* p10cr, X509** cert_out,
                                       STACK_OF(X509) * *chain_out, STACK_OF(X509) * *ca_pubs);
  static int OnPollReq(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG* req, int cert_req_id,
                       OSSL_CMP_MSG** cert_req, int64_t* check_after);
  static int OnCertConf(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG* req, int cert_req_id,
                        const ASN1_OCTET_STRING* cert_hash, const OSSL_CMP_PKISI* si);
  static void OnError(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG* req,
                      const OSSL_CMP_PKISI* status, const ASN1_INTEGER* code,
                      const OSSL_CMP_PKIFREETEXT* details);

  // The answer to one DER request; empty when OpenSSL produced none. mu_ held.
  Bytes Process(const Bytes& request);
  Transaction* TransactionFor(const OSSL_CMP_MSG* msg);
  std::unique_ptr<Transaction> NewTransaction(int body_type);
  // A certificate for the request (crm, or p10cr), or why not.
  OSSL_CMP_PKISI* Issue(const OSSL_CRMF_MSG* crm, const X509_REQ* p10cr, X509** cert_out,
                        STACK_OF(X509) * *chain_out, STACK_OF(X509) * *ca_pubs);
  void Note(const std::string& line);

  IssuingCmpServerOptions options_;
  ossl::Ptr<EVP_PKEY> ca_key_;
  ossl::Ptr<X509> ca_cert_;
  ossl::Ptr<EVP_PKEY> server_key_;
  ossl::Ptr<X509> server_cert_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mu_;  // everything below; one message is processed at a time
  std::map<std::string, std::unique_ptr<Transaction>> transactions_;  // by transactionID
  std::uint64_t next_order_ = 0;
  long serial_ = 0x1000;  // NOLINT(runtime/int)
  int waiting_answers_ = 0;
  int check_after_s_ = 1;
  int issued_ = 0;
  std::map<std::string, int> counts_;
  std::string log_;
};

}  // namespace scepd::testing
