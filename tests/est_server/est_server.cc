#include "tests/est_server/est_server.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <chrono>
#include <ctime>

#include "core/scep/certs_only.h"
#include "tests/support/test_pki.h"

namespace scepd::testing {
namespace {

constexpr char kBoundary[] = "estPartBoundary";
constexpr char kPkcs7[] = "application/pkcs7-mime";

std::string Pem(X509* cert) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return ToString(ossl::BioToBytes(bio.get()));
}

std::string Base64Body(const Bytes& der, bool lines) {
  std::string one = Base64Encode(der);
  if (!lines) return one;
  std::string out;
  for (std::size_t i = 0; i < one.size(); i += 64) out += one.substr(i, 64) + "\r\n";
  return out;
}

int AcceptAnyClientCert(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) {
  return 1;  // the handler checks SSL_get_verify_result and answers 401
}

}  // namespace

EstServer::EstServer(EstServerOptions options) : options_(std::move(options)) {
  TestCa ca = MakeTestCa("/O=EST Test/CN=EST Test CA", 6);
  ca_key_ = std::move(ca.key);
  ca_cert_ = std::move(ca.cert);
  TestCa other = MakeTestCa("/O=Elsewhere/CN=Other CA", 5);
  other_ca_key_ = std::move(other.key);
  other_ca_cert_ = std::move(other.cert);
  tls_key_ = CachedKey(4);
  CertSpec spec;
  spec.subject = "/CN=localhost";
  spec.serial = 2;
  spec.alt_names = "DNS:localhost,IP:127.0.0.1";
  X509* tls_issuer = options_.tls_by_other_ca ? other_ca_cert_.get() : ca_cert_.get();
  EVP_PKEY* tls_issuer_key = options_.tls_by_other_ca ? other_ca_key_.get() : ca_key_.get();
  tls_cert_ = MakeCert(spec, tls_key_.get(), tls_issuer, tls_issuer_key);

  server_ = std::make_unique<httplib::SSLServer>([this](SSL_CTX& ctx) {
    if (SSL_CTX_use_certificate(&ctx, tls_cert_.get()) != 1 ||
        SSL_CTX_use_PrivateKey(&ctx, tls_key_.get()) != 1) {
      return false;
    }
    // Client certificates are asked for, optional, and checked against the
    // issuing CA; Basic works without one.
    X509_STORE_add_cert(SSL_CTX_get_cert_store(&ctx), ca_cert_.get());
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, &AcceptAnyClientCert);
    return true;
  });
  if (!server_->is_valid()) return;
  // Answers leave at once: with Nagle's algorithm the answer waited behind
  // TLS 1.3's session tickets for the client's delayed ACK (40 ms per
  // request on Linux, which bench/protocols.sh would count as the client's).
  server_->set_tcp_nodelay(true);
  Install();
  const int port = server_->bind_to_any_port("127.0.0.1");
  if (port <= 0) return;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // Bounded wait until the loop runs, so stop() cannot race its start.
  for (int i = 0; i < 500 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (server_->is_running()) port_ = port;
}

EstServer::~EstServer() {
  if (thread_.joinable()) {
    for (int i = 0; i < 500 && !server_->is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    server_->stop();
    thread_.join();
  }
}

std::string EstServer::ca_pem() const { return Pem(ca_cert_.get()); }
std::string EstServer::tls_ca_pem() const {
  return Pem(options_.tls_by_other_ca ? other_ca_cert_.get() : ca_cert_.get());
}

void EstServer::SetPending(int n, std::string retry_after) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_left_ = n;
  retry_after_ = std::move(retry_after);
}

void EstServer::SetCsrAttrs(Bytes der) {
  std::lock_guard<std::mutex> lock(mu_);
  csr_attrs_ = std::move(der);
}

std::string EstServer::last_path() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_path_;
}

std::string EstServer::last_sni() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_sni_;
}

void EstServer::Install() {
  using httplib::Request;
  using httplib::Response;
  const std::string prefix = R"(/\.well-known/est(?:/[A-Za-z0-9_.-]+)?/)";

  // Sends `der` base64-encoded as `type`, or the configured fault instead.
  auto send = [this](Response& res, const Bytes& der, const std::string& type) {
    switch (fault_.load()) {
      case EstFault::kWrongContentType:
        res.set_content(Base64Body(der, options_.base64_lines), "text/plain");
        return;
      case EstFault::kBrokenBase64:
        res.set_content("MIIB!!not*base64%%", type.c_str());
        return;
      case EstFault::kHtmlPage:
        res.set_content("<html><body><h1>Welcome</h1>Please log in.</body></html>", "text/html");
        return;
      default:
        res.set_header("Content-Transfer-Encoding", "base64");
        res.set_content(Base64Body(der, options_.base64_lines), type.c_str());
    }
  };
  auto unauthorized = [](Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Basic realm=\"estrealm\"");
    res.set_content("authentication required\n", "text/plain");
  };
  auto verified_client = [this](const Request& req) -> X509* {
    if (req.ssl == nullptr) return nullptr;
    X509* peer = SSL_get0_peer_certificate(req.ssl);
    if (peer == nullptr || SSL_get_verify_result(req.ssl) != X509_V_OK) return nullptr;
    return peer;
  };
  auto basic_ok = [this](const Request& req) {
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Basic ", 0) != 0) return false;
    auto decoded = Base64Decode(auth.substr(6));
    return decoded.ok() && ToString(*decoded) == options_.user + ":" + options_.password;
  };
  auto note = [this](const Request& req) {
    ++requests_;
    const char* sni =
        req.ssl != nullptr ? SSL_get_servername(req.ssl, TLSEXT_NAMETYPE_host_name) : nullptr;
    std::lock_guard<std::mutex> lock(mu_);
    last_path_ = req.path;
    last_sni_ = sni != nullptr ? sni : "";
  };

  server_->Get(prefix + "cacerts", [=, this](const Request& req, Response& res) {
    note(req);
    if (fault_.load() == EstFault::kUnauthorized) return unauthorized(res);
    X509* certs[] = {ca_cert_.get()};
    auto der = scep::BuildCertsOnly(certs);
    if (!der.ok()) {
      res.status = 500;
      return;
    }
    send(res, *der, kPkcs7);
  });

  server_->Get(prefix + "csrattrs", [=, this](const Request& req, Response& res) {
    note(req);
    if (fault_.load() == EstFault::kUnauthorized) return unauthorized(res);
    Bytes der;
    {
      std::lock_guard<std::mutex> lock(mu_);
      der = csr_attrs_;
    }
    if (der.empty()) {
      res.status = 204;
      return;
    }
    send(res, der, "application/csrattrs");
  });

  // Enrollment: auth, pending rounds, then a certificate for the request.
  auto enroll = [=, this](const Request& req, Response& res, bool reenroll, bool keygen) {
    note(req);
    X509* client = verified_client(req);
    const bool authorized = fault_.load() != EstFault::kUnauthorized &&
                            (reenroll ? client != nullptr : (client != nullptr || basic_ok(req)));
    if (!authorized) return unauthorized(res);
    auto der = Base64Decode(req.body);
    ossl::Ptr<X509_REQ> csr;
    if (der.ok()) {
      const unsigned char* p = der->data();
      csr.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size())));  // NOLINT
    }
    if (!csr || X509_REQ_verify(csr.get(), X509_REQ_get0_pubkey(csr.get())) != 1) {
      res.status = 400;
      res.set_content("bad certification request\n", "text/plain");
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_left_ > 0) {
        --pending_left_;
        res.status = 202;
        res.set_header("Retry-After", retry_after_);
        return;
      }
    }
    ossl::Ptr<EVP_PKEY> made;
    EVP_PKEY* key = X509_REQ_get0_pubkey(csr.get());
    if (keygen || fault_.load() == EstFault::kOtherKey) {
      made.reset(EVP_EC_gen("P-256"));
      key = made.get();
    }
    ossl::Ptr<X509> cert = IssueForRequest(X509_REQ_get_subject_name(csr.get()), key,
                                           ca_cert_.get(), ca_key_.get(), ++serial_);
    X509* one[] = {cert.get()};
    auto p7 = cert ? scep::BuildCertsOnly(one) : Result<Bytes>(Error{});
    if (!p7.ok()) {
      res.status = 500;
      return;
    }
    ++enrollments_;
    if (reenroll) ++reenrollments_;
    if (!keygen || fault_.load() != EstFault::kNone) return send(res, *p7, kPkcs7);
    ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
    i2d_PKCS8PrivateKey_bio(bio.get(), made.get(), nullptr, nullptr, 0, nullptr, nullptr);
    const Bytes key_der = ossl::BioToBytes(bio.get());
    const std::string b = kBoundary;
    std::string body = "--" + b + "\r\nContent-Type: application/pkcs8\r\n" +
                       "Content-Transfer-Encoding: base64\r\n\r\n" +
                       Base64Body(key_der, options_.base64_lines) + "\r\n--" + b +
                       "\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only\r\n" +
                       "Content-Transfer-Encoding: base64\r\n\r\n" +
                       Base64Body(*p7, options_.base64_lines) + "\r\n--" + b + "--\r\n";
    res.set_content(body, ("multipart/mixed; boundary=" + b).c_str());
  };
  server_->Post(prefix + "simpleenroll",
                [=](const Request& req, Response& res) { enroll(req, res, false, false); });
  server_->Post(prefix + "simplereenroll",
                [=](const Request& req, Response& res) { enroll(req, res, true, false); });
  server_->Post(prefix + "serverkeygen",
                [=](const Request& req, Response& res) { enroll(req, res, false, true); });
}

}  // namespace scepd::testing
