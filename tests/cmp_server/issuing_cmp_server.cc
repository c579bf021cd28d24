#include "tests/cmp_server/issuing_cmp_server.h"

#include <httplib.h>
#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <chrono>
#include <ctime>
#include <utility>

#include "tests/cmp_server/crmf_template_key.h"
#include "tests/support/test_pki.h"

namespace scepd::testing {
namespace {

// PKIBody choice numbers (RFC 4210 section 5.1.2; OpenSSL 3.0 keeps its
// names for them internal).
constexpr int kIr = 0;
constexpr int kCr = 2;
constexpr int kP10cr = 4;
constexpr int kKur = 7;
constexpr int kError = 23;
constexpr int kCertConf = 24;
constexpr int kPollReq = 25;

constexpr char kContentType[] = "application/pkixcmp";
constexpr std::size_t kMaxLog = 64 * 1024;

const char* BodyName(int type) {
  switch (type) {
    case kIr: return "ir";
    case kCr: return "cr";
    case kP10cr: return "p10cr";
    case kKur: return "kur";
    case kError: return "error";
    case kCertConf: return "certConf";
    case kPollReq: return "pollReq";
    default: return "other";
  }
}

// OpenSSL's server log has no user argument: the server processing a
// message on this thread collects it.
thread_local std::string* current_log = nullptr;

int CollectLog(const char* /*func*/, const char* /*file*/, int /*line*/, OSSL_CMP_severity level,
               const char* msg) {
  if (current_log != nullptr && level <= OSSL_CMP_LOG_INFO) {
    *current_log += std::string("  ") + msg + "\n";
  }
  return 1;
}

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {  // NOLINT(runtime/int)
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += std::string("  ") + buf + "\n";
  }
  return out;
}

std::string Hex(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) return "";
  return HexEncode(std::span<const std::uint8_t>(ASN1_STRING_get0_data(s),
                                                 static_cast<std::size_t>(ASN1_STRING_length(s))));
}

OSSL_CMP_PKISI* Refuse(int fail_bit, const char* text) {
  return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_rejection, 1 << fail_bit, text);
}

}  // namespace

struct IssuingCmpServer::Transaction {
  IssuingCmpServer* server = nullptr;
  ossl::Ptr<OSSL_CMP_SRV_CTX> srv;
  std::uint64_t order = 0;
  int waiting_left = 0;               // `waiting` answers still to give
  int check_after_s = 1;
  ossl::Ptr<OSSL_CMP_MSG> held;       // the request answered `waiting`
};

IssuingCmpServer::IssuingCmpServer(IssuingCmpServerOptions options)
    : options_(std::move(options)) {
  TestCa ca = MakeTestCa("/O=CMP Test/CN=CMP Test CA", 6);
  ca_key_ = std::move(ca.key);
  ca_cert_ = std::move(ca.cert);
  server_key_ = CachedKey(4);
  CertSpec spec;
  spec.subject = "/O=CMP Test/CN=CMP Test Server";
  spec.serial = 2;
  spec.key_usage = KU_DIGITAL_SIGNATURE;
  spec.not_after = std::time(nullptr) + 3650LL * 86400;
  server_cert_ = MakeCert(spec, server_key_.get(), ca_cert_.get(), ca_key_.get());

  http_ = std::make_unique<httplib::Server>();
  http_->Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Content-Type") != kContentType) {
      res.status = 415;
      res.set_content("expected application/pkixcmp\n", "text/plain");
      return;
    }
    Bytes answer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      answer = Process(ToBytes(req.body));
    }
    if (answer.empty()) {
      res.status = 400;
      res.set_content("not a CMP message this server can answer\n", "text/plain");
      return;
    }
    res.set_content(std::string(answer.begin(), answer.end()), kContentType);
  });
  const int port = http_->bind_to_any_port("127.0.0.1");
  if (port <= 0) return;
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // Bounded wait until the loop runs, so stop() cannot race its start.
  for (int i = 0; i < 500 && !http_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (http_->is_running()) port_ = port;
}

IssuingCmpServer::~IssuingCmpServer() {
  if (thread_.joinable()) {
    for (int i = 0; i < 500 && !http_->is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    http_->stop();
    thread_.join();
  }
}

std::string IssuingCmpServer::ca_pem() const {
  auto pem = ossl::CertToPem(ca_cert_.get());
  return pem ? *pem : std::string();
}

void IssuingCmpServer::SetWaiting(int answers, int check_after_s) {
  std::lock_guard<std::mutex> lock(mu_);
  waiting_answers_ = answers;
  check_after_s_ = check_after_s;
}

int IssuingCmpServer::count(const std::string& body_type) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(body_type);
  return it == counts_.end() ? 0 : it->second;
}

int IssuingCmpServer::issued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return issued_;
}

std::string IssuingCmpServer::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

void IssuingCmpServer::Note(const std::string& line) {
  log_ += line;
  if (log_.size() > kMaxLog) log_.erase(0, log_.size() - kMaxLog);
}

Bytes IssuingCmpServer::Process(const Bytes& request) {
  const unsigned char* p = request.data();
  ossl::Ptr<OSSL_CMP_MSG> msg(d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(request.size())));  // NOLINT
  if (msg == nullptr || OSSL_CMP_MSG_get0_header(msg.get()) == nullptr) {
    Note("undecodable request (" + std::to_string(request.size()) + " bytes)\n" + OpenSslErrors());
    return {};
  }
  const int type = OSSL_CMP_MSG_get_bodytype(msg.get());
  ++counts_[BodyName(type)];
  Transaction* t = TransactionFor(msg.get());
  std::string log = std::string(BodyName(type)) + " transaction " +
                    Hex(OSSL_CMP_HDR_get0_transactionID(OSSL_CMP_MSG_get0_header(msg.get()))) +
                    "\n";
  current_log = &log;
  ossl::Ptr<OSSL_CMP_MSG> answer(
      t == nullptr ? nullptr : OSSL_CMP_SRV_process_request(t->srv.get(), msg.get()));
  current_log = nullptr;
  log += OpenSslErrors();
  Bytes out;
  if (answer != nullptr) {
    auto der = ossl::ToDer(answer.get(), i2d_OSSL_CMP_MSG, "CMP answer");
    if (der) out = std::move(*der);
    log += "  answered " + std::to_string(out.size()) + " bytes\n" + OpenSslErrors();
  }
  Note(log);
  return out;
}

IssuingCmpServer::Transaction* IssuingCmpServer::TransactionFor(const OSSL_CMP_MSG* msg) {
  const std::string id = Hex(OSSL_CMP_HDR_get0_transactionID(OSSL_CMP_MSG_get0_header(msg)));
  auto it = transactions_.find(id);
  if (it != transactions_.end()) return it->second.get();
  auto t = NewTransaction(OSSL_CMP_MSG_get_bodytype(msg));
  if (t == nullptr) return nullptr;
  // Bounded: the oldest transaction goes when there are too many.
  constexpr std::size_t kMaxTransactions = 64;
  if (transactions_.size() >= kMaxTransactions) {
    auto oldest = transactions_.begin();
    for (auto i = transactions_.begin(); i != transactions_.end(); ++i) {
      if (i->second->order < oldest->second->order) oldest = i;
    }
    transactions_.erase(oldest);
  }
  Transaction* raw = t.get();
  transactions_[id] = std::move(t);
  return raw;
}

std::unique_ptr<IssuingCmpServer::Transaction> IssuingCmpServer::NewTransaction(int body_type) {
  auto t = std::make_unique<Transaction>();
  t->server = this;
  t->order = next_order_++;
  t->waiting_left = waiting_answers_;
  t->check_after_s = check_after_s_;
  t->srv.reset(OSSL_CMP_SRV_CTX_new(nullptr, nullptr));
  if (t->srv == nullptr) return nullptr;
  OSSL_CMP_CTX* ctx = OSSL_CMP_SRV_CTX_get0_cmp_ctx(t->srv.get());
  bool ok = OSSL_CMP_SRV_CTX_init(t->srv.get(), t.get(), &OnCertRequest, nullptr, nullptr,
                                  &OnError, &OnCertConf, &OnPollReq) == 1 &&
            OSSL_CMP_SRV_CTX_set_grant_implicit_confirm(
                t->srv.get(), options_.grant_implicit_confirm ? 1 : 0) == 1 &&
            OSSL_CMP_CTX_set_log_cb(ctx, &CollectLog) == 1;
  if (ok && body_type == kIr) {
    // MAC (PBM) with the reference number and secret, both ways.
    ok = OSSL_CMP_CTX_set1_referenceValue(
             ctx, reinterpret_cast<const unsigned char*>(options_.reference.data()),
             static_cast<int>(options_.reference.size())) == 1 &&
         OSSL_CMP_CTX_set1_secretValue(
             ctx, reinterpret_cast<const unsigned char*>(options_.secret.data()),
             static_cast<int>(options_.secret.size())) == 1 &&
         OSSL_CMP_CTX_set1_subjectName(ctx, X509_get_subject_name(ca_cert_.get())) == 1;
  } else if (ok) {
    // Signatures: requests by certificates of the CA, answers by ours.
    ossl::Ptr<X509_STORE> store(X509_STORE_new());
    ok = store != nullptr && X509_STORE_add_cert(store.get(), ca_cert_.get()) == 1 &&
         OSSL_CMP_CTX_set0_trustedStore(ctx, store.get()) == 1;
    if (ok) static_cast<void>(store.release());
    ok = ok && OSSL_CMP_CTX_set1_cert(ctx, server_cert_.get()) == 1 &&
         OSSL_CMP_CTX_set1_pkey(ctx, server_key_.get()) == 1;
  }
  if (!ok) {
    Note("setting up a server context failed\n" + OpenSslErrors());
    return nullptr;
  }
  return t;
}

OSSL_CMP_PKISI* IssuingCmpServer::OnCertRequest(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG* req,
                                                int /*cert_req_id*/, const OSSL_CRMF_MSG* crm,
                                                const X509_REQ* p10cr, X509** cert_out,
                                                STACK_OF(X509) * *chain_out,
                                                STACK_OF(X509) * *ca_pubs) {
  auto* t = static_cast<Transaction*>(OSSL_CMP_SRV_CTX_get0_custom_ctx(srv));
  if (t->waiting_left > 0 && t->held == nullptr) {
    t->held.reset(OSSL_CMP_MSG_dup(req));
    if (t->held == nullptr) return nullptr;
    --t->waiting_left;
    return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_waiting, 0, nullptr);
  }
  return t->server->Issue(crm, p10cr, cert_out, chain_out, ca_pubs);
}

OSSL_CMP_PKISI* IssuingCmpServer::Issue(const OSSL_CRMF_MSG* crm, const X509_REQ* p10cr,
                                        X509** cert_out, STACK_OF(X509) * *chain_out,
                                        STACK_OF(X509) * *ca_pubs) {
  const X509_NAME* subject = nullptr;
  ossl::Ptr<EVP_PKEY> key;
  ossl::X509ExtensionStack owned_extensions;
  const STACK_OF(X509_EXTENSION)* extensions = nullptr;
  if (p10cr != nullptr) {
    auto* csr = const_cast<X509_REQ*>(p10cr);  // OpenSSL 3.0's getters are not const
    subject = X509_REQ_get_subject_name(csr);
    key = ossl::UpRef(X509_REQ_get0_pubkey(csr));
    owned_extensions.reset(X509_REQ_get_extensions(csr));
    extensions = owned_extensions.get();
  } else if (crm != nullptr) {
    const OSSL_CRMF_CERTTEMPLATE* tmpl = OSSL_CRMF_MSG_get0_tmpl(crm);
    subject = OSSL_CRMF_CERTTEMPLATE_get0_subject(tmpl);
    key = TemplatePublicKey(tmpl);
    extensions = OSSL_CRMF_CERTTEMPLATE_get0_extensions(tmpl);
  }
  if (subject == nullptr || X509_NAME_entry_count(subject) == 0) {
    return Refuse(OSSL_CMP_PKIFAILUREINFO_badCertTemplate, "the request names no subject");
  }
  if (key == nullptr) {
    return Refuse(OSSL_CMP_PKIFAILUREINFO_badCertTemplate, "the request holds no public key");
  }
  ossl::Ptr<X509> cert = IssueForRequest(subject, key.get(), ca_cert_.get(), ca_key_.get(),
                                         ++serial_, options_.valid_s, extensions);
  ossl::X509Stack chain(sk_X509_new_null());
  ossl::X509Stack pubs(sk_X509_new_null());
  if (cert == nullptr || chain == nullptr || pubs == nullptr ||
      !sk_X509_push(chain.get(), ossl::UpRef(ca_cert_.get()).release()) ||
      !sk_X509_push(pubs.get(), ossl::UpRef(ca_cert_.get()).release())) {
    return Refuse(OSSL_CMP_PKIFAILUREINFO_systemFailure, "issuing failed");
  }
  ++issued_;
  *cert_out = cert.release();
  *chain_out = chain.release();
  *ca_pubs = pubs.release();
  return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_accepted, 0, nullptr);
}

int IssuingCmpServer::OnPollReq(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG* /*req*/,
                                int /*cert_req_id*/, OSSL_CMP_MSG** cert_req,
                                int64_t* check_after) {
  auto* t = static_cast<Transaction*>(OSSL_CMP_SRV_CTX_get0_custom_ctx(srv));
  *cert_req = nullptr;
  if (t->held == nullptr) return 0;  // nothing is waiting in this transaction
  if (t->waiting_left > 0) {
    --t->waiting_left;
    *check_after = t->check_after_s;
    return 1;
  }
  // OpenSSL processes the held request again: now it is issued.
  *cert_req = t->held.release();
  return 1;
}

int IssuingCmpServer::OnCertConf(OSSL_CMP_SRV_CTX* /*srv*/, const OSSL_CMP_MSG* /*req*/,
                                 int /*cert_req_id*/, const ASN1_OCTET_STRING* /*cert_hash*/,
                                 const OSSL_CMP_PKISI* /*si*/) {
  return 1;  // accepted or rejected by the client: either is acknowledged
}

void IssuingCmpServer::OnError(OSSL_CMP_SRV_CTX* /*srv*/, const OSSL_CMP_MSG* /*req*/,
                               const OSSL_CMP_PKISI* /*status*/, const ASN1_INTEGER* /*code*/,
                               const OSSL_CMP_PKIFREETEXT* /*details*/) {}

}  // namespace scepd::testing
