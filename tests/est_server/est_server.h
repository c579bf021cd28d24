#pragma once
// A small EST (RFC 7030) server for tests: HTTPS on 127.0.0.1 with a port
// the kernel picks, built on cpp-httplib and OpenSSL. It really issues
// (the requester's key and subject, signed by its own test CA), takes HTTP
// Basic or a TLS client certificate it issued, answers 202 + Retry-After a
// chosen number of times, serves csrattrs and serverkeygen, and misbehaves
// on request (Fault). Answers are HTTP/1.1 with single-line base64 unless
// asked otherwise: strongSwan's pki, the independent client, needs that.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/bytes.h"
#include "core/ossl.h"

namespace httplib {
class SSLServer;
}

namespace scepd::testing {

enum class EstFault {
  kNone,
  kWrongContentType,  // 200 with text/plain around a good body
  kBrokenBase64,      // 200 application/pkcs7-mime, body not base64
  kHtmlPage,          // 200 text/html, an error page
  kUnauthorized,      // 401 with WWW-Authenticate for every request
  kOtherKey,          // enroll: a certificate for a key the client does not have
};

struct EstServerOptions {
  std::string user = "estuser";
  std::string password = "estpass";
  // The TLS certificate is issued by another CA than the one /cacerts
  // serves (the "wrong CA" case).
  bool tls_by_other_ca = false;
  // Base64 bodies in 64-character lines instead of one line.
  bool base64_lines = false;
};

class EstServer {
 public:
  explicit EstServer(EstServerOptions options = {});
  ~EstServer();
  EstServer(const EstServer&) = delete;
  EstServer& operator=(const EstServer&) = delete;

  // False when the server could not start (the test should fail).
  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  // The CA that issues (and whose certificate /cacerts serves) and the CA
  // that issued the TLS certificate (the same unless tls_by_other_ca).
  X509* ca_cert() const { return ca_cert_.get(); }
  std::string ca_pem() const;
  std::string tls_ca_pem() const;

  // The next `n` enrollments (simpleenroll / simplereenroll) get 202 with
  // Retry-After (`retry_after` as sent: seconds or an HTTP date).
  void SetPending(int n, std::string retry_after = "1");
  void SetFault(EstFault fault) { fault_.store(fault); }
  // DER CsrAttrs served by /csrattrs (empty: 204 No Content).
  void SetCsrAttrs(Bytes der);

  // What happened so far.
  int enrollments() const { return enrollments_.load(); }       // certificates issued
  int reenrollments() const { return reenrollments_.load(); }   // of those, by reenroll
  int requests() const { return requests_.load(); }             // every request
  std::string last_path() const;
  // The TLS server name (SNI) of the last request; empty without one.
  std::string last_sni() const;

 private:
  void Install();
  EstServerOptions options_;
  ossl::Ptr<EVP_PKEY> ca_key_;
  ossl::Ptr<X509> ca_cert_;
  ossl::Ptr<EVP_PKEY> other_ca_key_;
  ossl::Ptr<X509> other_ca_cert_;
  ossl::Ptr<EVP_PKEY> tls_key_;
  ossl::Ptr<X509> tls_cert_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<EstFault> fault_{EstFault::kNone};
  std::atomic<int> enrollments_{0};
  std::atomic<int> reenrollments_{0};
  std::atomic<int> requests_{0};
  std::atomic<long> serial_{100};  // NOLINT(runtime/int)
  mutable std::mutex mu_;
  int pending_left_ = 0;
  std::string retry_after_ = "1";
  Bytes csr_attrs_;
  std::string last_path_;
  std::string last_sni_;
};

}  // namespace scepd::testing
