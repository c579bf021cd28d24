#include "core/cmp/cmp_client.h"

#include <openssl/cmp.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "core/bytes.h"
#include "core/scep/client.h"  // BodyExcerpt: the one cleaner of server text
#include "core/subject.h"
#include "core/wipe.h"

namespace scepd::cmp {
namespace {

constexpr const char* kContentType = "application/pkixcmp";
constexpr std::size_t kMaxStatusText = 300;

// RFC 4210 section 5.2.3 PKIFailureInfo, bit by bit.
constexpr std::array<const char*, 27> kFailInfoNames = {
    "badAlg",           "badMessageCheck",   "badRequest",        "badTime",
    "badCertId",        "badDataFormat",     "wrongAuthority",    "incorrectData",
    "missingTimeStamp", "badPOP",            "certRevoked",       "certConfirmed",
    "wrongIntegrity",   "badRecipientNonce", "timeNotAvailable",  "unacceptedPolicy",
    "unacceptedExtension", "addInfoNotAvailable", "badSenderNonce", "badCertTemplate",
    "signerNotTrusted", "transactionIdInUse", "unsupportedVersion", "notAuthorized",
    "systemUnavail",    "systemFailure",     "duplicateCertReq"};

int BodyType(Request type) {
  switch (type) {
    case Request::kCr: return OSSL_CMP_CR;
    case Request::kKur: return OSSL_CMP_KUR;
    case Request::kP10cr: return OSSL_CMP_P10CR;
    case Request::kIr: break;
  }
  return OSSL_CMP_IR;
}

int SilentLog(const char*, const char*, int, OSSL_CMP_severity, const char*) { return 1; }

// Lower-case hex without separators.
std::string NormalizeFingerprint(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string Sha256Hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) {
    ClearOpenSslErrors();
    return {};
  }
  return NormalizeFingerprint(HexEncode(std::span<const std::uint8_t>(md, n)));
}

void AppendUnique(std::vector<ossl::Ptr<X509>>& out, STACK_OF(X509) * certs, X509* skip) {
  for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i) {
    X509* c = sk_X509_value(certs, i);
    if (skip != nullptr && X509_cmp(c, skip) == 0) continue;
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [c](const ossl::Ptr<X509>& o) { return X509_cmp(o.get(), c) == 0; });
    if (!seen) out.push_back(ossl::UpRef(c));
  }
}

std::vector<ossl::Ptr<X509>> ReceivedChain(OSSL_CMP_CTX* ctx, X509* issued) {
  std::vector<ossl::Ptr<X509>> chain;
  ossl::X509Stack ca_pubs(OSSL_CMP_CTX_get1_caPubs(ctx));
  ossl::X509Stack extra(OSSL_CMP_CTX_get1_extraCertsIn(ctx));
  AppendUnique(chain, ca_pubs.get(), issued);
  AppendUnique(chain, extra.get(), issued);
  return chain;
}

}  // namespace

std::string FailInfoNames(std::uint32_t bits) {
  std::string out;
  for (std::size_t i = 0; i < 32; ++i) {
    if ((bits & (std::uint32_t{1} << i)) == 0) continue;
    if (!out.empty()) out += ", ";
    out += i < kFailInfoNames.size() ? kFailInfoNames[i] : "bit" + std::to_string(i);
  }
  return out;
}

Result<ossl::Ptr<OSSL_CMP_MSG>> ParseCmpResponse(const HttpResponse& response) {
  if (response.status != 200) {
    const std::string excerpt = scep::BodyExcerpt(response.body);
    return MakeError(ErrorCode::kHttp, "CMP server answered HTTP " +
                                           std::to_string(response.status) +
                                           (excerpt.empty() ? "" : ": " + excerpt));
  }
  if (response.content_type != kContentType) {
    return MakeError(ErrorCode::kHttp, "CMP server answered with content type \"" +
                                           scep::BodyExcerpt(ToBytes(response.content_type), 60) +
                                           "\", not " + kContentType);
  }
  const unsigned char* p = response.body.data();
  const long len = static_cast<long>(response.body.size());  // NOLINT(runtime/int)
  ossl::Ptr<OSSL_CMP_MSG> msg(d2i_OSSL_CMP_MSG(nullptr, &p, len));
  if (msg == nullptr || p != response.body.data() + response.body.size()) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kParse, "CMP server's answer is not a DER PKIMessage (" +
                                            std::to_string(response.body.size()) + " bytes)");
  }
  // What OpenSSL checks later needs a header and a body it knows.
  if (OSSL_CMP_MSG_get0_header(msg.get()) == nullptr ||
      OSSL_CMP_MSG_get_bodytype(msg.get()) < 0) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kParse, "CMP server's answer has no usable header or body");
  }
  return msg;
}

CmpSession::CmpSession(Key, Transport& transport, CmpOptions options)
    : transport_(&transport), options_(std::move(options)) {}

CmpSession::~CmpSession() = default;  // OSSL_CMP_CTX_free cleanses the secret it holds

Result<std::unique_ptr<CmpSession>> CmpSession::Create(Transport& transport, CmpOptions options,
                                                       MacProtection* mac,
                                                       const SignatureProtection* signature) {
  std::string secret_holder;
  if (mac != nullptr) secret_holder.swap(mac->secret);
  WipeOnExit<std::string> wipe_secret(secret_holder);

  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "CMP server URL must start with http:// or https://: " + options.url);
  }
  if (mac == nullptr && (signature == nullptr || signature->cert == nullptr ||
                         signature->key == nullptr)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "CMP needs a reference and secret or a certificate and its key");
  }
  if (mac != nullptr && (mac->reference.empty() || secret_holder.empty())) {
    return MakeError(ErrorCode::kInvalidArgument, "CMP reference number and secret must not be empty");
  }
  const std::string pin = NormalizeFingerprint(options.pinned_sha256);
  if (!pin.empty()) {
    if (pin.size() != 64 || pin.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "pinned CA fingerprint must be 64 hex digits (SHA-256)");
    }
    if (options.ca_cert != nullptr && Sha256Hex(options.ca_cert) != pin) {
      return MakeError(ErrorCode::kVerify,
                       "the CA certificate given does not match the pinned fingerprint");
    }
  }

  auto session = std::make_unique<CmpSession>(Key{}, transport, std::move(options));
  const CmpOptions& o = session->options_;
  session->ctx_.reset(OSSL_CMP_CTX_new(nullptr, nullptr));
  OSSL_CMP_CTX* ctx = session->ctx_.get();
  if (ctx == nullptr) return OpenSslError(ErrorCode::kCrypto, "creating CMP context");

  bool ok = OSSL_CMP_CTX_set_log_cb(ctx, &SilentLog) == 1 &&
            OSSL_CMP_CTX_set_transfer_cb(ctx, &CmpSession::Transfer) == 1 &&
            OSSL_CMP_CTX_set_transfer_cb_arg(ctx, session.get()) == 1 &&
            OSSL_CMP_CTX_set_certConf_cb(ctx, &CmpSession::CertConf) == 1 &&
            OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_IMPLICIT_CONFIRM,
                                    o.implicit_confirm ? 1 : 0) == 1 &&
            OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_UNPROTECTED_ERRORS,
                                    o.allow_unprotected_errors ? 1 : 0) == 1 &&
            OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_PERMIT_TA_IN_EXTRACERTS_FOR_IR,
                                    o.trust_first_answer ? 1 : 0) == 1;
  if (ok && o.ca_cert != nullptr) {
    ossl::Ptr<X509_STORE> store(X509_STORE_new());
    ok = store != nullptr && X509_STORE_add_cert(store.get(), o.ca_cert) == 1;
    if (ok) {
      // The store also checks the issued certificate (OpenSSL's certConf check).
      ok = OSSL_CMP_CTX_set_certConf_cb_arg(ctx, store.get()) == 1 &&
           OSSL_CMP_CTX_set0_trustedStore(ctx, store.get()) == 1;
      if (ok) static_cast<void>(store.release());
    }
  }
  if (!ok) return OpenSslError(ErrorCode::kCrypto, "setting up CMP context");

  if (!o.recipient.empty()) {
    auto name = ParseSubject(o.recipient);
    if (!name) {
      return MakeError(ErrorCode::kInvalidArgument, "CMP recipient: " + name.error().message);
    }
    if (OSSL_CMP_CTX_set1_recipient(ctx, name->get()) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "setting CMP recipient");
    }
  }
  if (mac != nullptr) {
    ok = OSSL_CMP_CTX_set1_referenceValue(
             ctx, reinterpret_cast<const unsigned char*>(mac->reference.data()),
             static_cast<int>(mac->reference.size())) == 1 &&
         OSSL_CMP_CTX_set1_secretValue(
             ctx, reinterpret_cast<const unsigned char*>(secret_holder.data()),
             static_cast<int>(secret_holder.size())) == 1;
    if (!ok) return OpenSslError(ErrorCode::kCrypto, "setting CMP reference and secret");
  }
  if (signature != nullptr && signature->cert != nullptr) {
    if (OSSL_CMP_CTX_set1_cert(ctx, signature->cert) != 1 ||
        OSSL_CMP_CTX_set1_pkey(ctx, signature->key) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "setting CMP signing certificate and key");
    }
    session->own_cert_ = ossl::UpRef(signature->cert);
  }
  return session;
}

OSSL_CMP_MSG* CmpSession::Transfer(OSSL_CMP_CTX* ctx, const OSSL_CMP_MSG* req) {
  auto* self = static_cast<CmpSession*>(OSSL_CMP_CTX_get_transfer_cb_arg(ctx));
  self->transport_error_.clear();
  auto body = ossl::ToDer(const_cast<OSSL_CMP_MSG*>(req), i2d_OSSL_CMP_MSG, "CMP request");
  if (!body) {
    self->transport_error_ = body.error().message;
    return nullptr;
  }
  HttpRequest http;
  http.method = HttpRequest::Method::kPost;
  http.url = self->options_.url;
  http.content_type = kContentType;
  http.body = std::move(*body);
  http.close_connection = true;  // servers tie a transaction to its connection
  auto response = self->transport_->Send(http);
  if (!response) {
    self->transport_error_ = response.error().message;
    return nullptr;
  }
  auto msg = ParseCmpResponse(*response);
  if (!msg) {
    self->transport_error_ = msg.error().message;
    return nullptr;
  }
  return msg->release();
}

int CmpSession::CertConf(OSSL_CMP_CTX* ctx, X509* cert, int fail_info, const char** text) {
  // OpenSSL's own check first: the certificate carries our key (and, with
  // a CA given, chains to it).
  fail_info = OSSL_CMP_certConf_cb(ctx, cert, fail_info, text);
  auto* self = static_cast<CmpSession*>(OSSL_CMP_CTX_get_transfer_cb_arg(ctx));
  const std::string pin = NormalizeFingerprint(self->options_.pinned_sha256);
  if (fail_info != 0) {
    self->refused_ = "the certificate the CA issued was refused: it failed OpenSSL's checks (" +
                     FailInfoNames(static_cast<std::uint32_t>(fail_info)) +
                     (*text != nullptr ? std::string(": ") + *text : std::string()) +
                     "); a rejecting certConf was sent";
    return fail_info;
  }
  bool pinned_ok = pin.empty() || self->options_.ca_cert != nullptr;
  for (const auto& c : ReceivedChain(ctx, cert)) {
    if (!pinned_ok && Sha256Hex(c.get()) == pin) pinned_ok = true;
  }
  if (!pinned_ok) {
    self->pin_error_ = "no CA certificate in the answer matches the pinned fingerprint";
    *text = "CA certificate does not match the pinned fingerprint";
    return 1 << OSSL_CMP_PKIFAILUREINFO_wrongAuthority;
  }
  if (self->options_.accept && !self->options_.accept(cert)) {
    self->declined_ = true;
    *text = "certificate declined by the user";
    return 1 << OSSL_CMP_PKIFAILUREINFO_badCertTemplate;
  }
  return fail_info;
}

Error CmpSession::Failure(const std::string& what) {
  if (!refused_.empty()) {
    Error e = OpenSslError(ErrorCode::kVerify, what + ": " + refused_);
    return e;
  }
  if (declined_) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kVerify,
                     what + ": the certificate was declined; the server was told so (certConf)");
  }
  if (!pin_error_.empty()) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kVerify, what + ": " + pin_error_);
  }
  if (!transport_error_.empty()) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kNetwork, what + ": " + transport_error_);
  }
  Error e = OpenSslError(ErrorCode::kProtocol, what);
  if (e.message.find("wrong pbm value") != std::string::npos) {
    // The server's MAC does not verify with our secret: the usual reason is
    // a wrong secret or reference number (the server refused it too).
    e.code = ErrorCode::kVerify;
    e.message = what + ": the answer's MAC does not match our secret (wrong reference number or "
                "secret?): " + e.message.substr(what.size() + 2);
  }
  if (e.message.find("missing protection") != std::string::npos) {
    e.code = ErrorCode::kVerify;
    e.message = what + ": the server answered without protection (accepted only when unprotected "
                "errors are allowed): " + e.message.substr(what.size() + 2);
  }
  return e;
}

Outcome CmpSession::Rejected() const {
  Outcome out;
  out.kind = Outcome::Kind::kRejected;
  const int bits = OSSL_CMP_CTX_get_failInfoCode(ctx_.get());
  out.fail_info = bits > 0 ? static_cast<std::uint32_t>(bits) : 0;
  std::string server_text;
  OSSL_CMP_PKIFREETEXT* texts = OSSL_CMP_CTX_get0_statusString(ctx_.get());
  for (int i = 0; texts != nullptr && i < sk_ASN1_UTF8STRING_num(texts); ++i) {
    const ASN1_UTF8STRING* s = sk_ASN1_UTF8STRING_value(texts, i);
    if (!server_text.empty()) server_text += "; ";
    server_text.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  out.status_text = "rejected";
  if (out.fail_info != 0) out.status_text += " (" + FailInfoNames(out.fail_info) + ")";
  const std::string cleaned = scep::BodyExcerpt(ToBytes(server_text), kMaxStatusText);
  if (!cleaned.empty()) out.status_text += ": " + cleaned;
  return out;
}

Result<Outcome> CmpSession::TryCertReq(int body_type, bool first) {
  transport_error_.clear();
  pin_error_.clear();
  refused_.clear();
  declined_ = false;
  int check_after = 0;
  const int rc = OSSL_CMP_try_certreq(ctx_.get(), body_type, nullptr, &check_after);
  Outcome out;
  if (rc == -1) {
    out.kind = Outcome::Kind::kPending;
    out.check_after_s = std::max(check_after, 0);
    return out;
  }
  pending_.reset();
  if (rc == 1) {
    X509* cert = OSSL_CMP_CTX_get0_newCert(ctx_.get());
    if (cert == nullptr) return MakeError(ErrorCode::kProtocol, "CMP: no certificate issued");
    out.kind = Outcome::Kind::kIssued;
    out.cert = ossl::UpRef(cert);
    out.chain = ReceivedChain(ctx_.get(), cert);
    return out;
  }
  if (pin_error_.empty() && !declined_ && refused_.empty() && OSSL_CMP_CTX_get_status(ctx_.get()) == OSSL_CMP_PKISTATUS_rejection) {
    ClearOpenSslErrors();
    return Rejected();
  }
  return Failure(first ? "CMP request" : "CMP poll");
}

Result<Outcome> CmpSession::Start(const NewCertRequest& request) {
  if (pending_) return MakeError(ErrorCode::kInvalidArgument, "a CMP request is still pending");
  OSSL_CMP_CTX* ctx = ctx_.get();
  const int body = BodyType(request.type);
  if (request.type == Request::kP10cr) {
    if (request.csr == nullptr) return MakeError(ErrorCode::kInvalidArgument, "p10cr needs a CSR");
    if (OSSL_CMP_CTX_set1_p10CSR(ctx, request.csr) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "setting CMP p10cr CSR");
    }
  } else {
    if (request.csr != nullptr && OSSL_CMP_CTX_set1_p10CSR(ctx, request.csr) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "setting the CMP request template");
    }
    if (request.new_key == nullptr && request.type != Request::kKur) {
      return MakeError(ErrorCode::kInvalidArgument, "CMP request needs the new key");
    }
    if (request.new_key != nullptr) {
      ossl::Ptr<EVP_PKEY> key = ossl::UpRef(request.new_key);
      if (OSSL_CMP_CTX_set0_newPkey(ctx, request.public_key_only ? 0 : 1, key.get()) != 1) {
        return OpenSslError(ErrorCode::kCrypto, "setting CMP new key");
      }
      static_cast<void>(key.release());
    }
    if (!request.subject.empty()) {
      auto name = ParseSubject(request.subject);
      if (!name) return MakeError(ErrorCode::kInvalidArgument, "subject: " + name.error().message);
      if (OSSL_CMP_CTX_set1_subjectName(ctx, name->get()) != 1) {
        return OpenSslError(ErrorCode::kCrypto, "setting CMP subject");
      }
    } else if (request.type == Request::kIr && request.csr == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument, "ir needs a subject");
    }
    if (request.extensions != nullptr && sk_X509_EXTENSION_num(request.extensions) > 0) {
      ossl::X509ExtensionStack exts(sk_X509_EXTENSION_deep_copy(
          request.extensions, X509_EXTENSION_dup, X509_EXTENSION_free));
      if (!exts || OSSL_CMP_CTX_set0_reqExtensions(ctx, exts.get()) != 1) {
        return OpenSslError(ErrorCode::kCrypto, "setting CMP requested extensions");
      }
      static_cast<void>(exts.release());
    }
    int popo = OSSL_CRMF_POPO_SIGNATURE;
    if (request.popo == NewCertRequest::Popo::kRaVerified) popo = OSSL_CRMF_POPO_RAVERIFIED;
    if (request.popo == NewCertRequest::Popo::kKeyEncipherment) popo = OSSL_CRMF_POPO_KEYENC;
    if (request.public_key_only && popo == OSSL_CRMF_POPO_SIGNATURE) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "a request for a public key alone needs raVerified or keyEncipherment POPO");
    }
    if (OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_POPO_METHOD, popo) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "setting CMP proof-of-possession method");
    }
  }
  pending_ = request.type;
  return TryCertReq(body, true);
}

Result<Outcome> CmpSession::Poll() {
  if (!pending_) return MakeError(ErrorCode::kInvalidArgument, "no CMP request is pending");
  return TryCertReq(BodyType(*pending_), false);
}

Result<Outcome> CmpSession::Revoke(X509* cert, int reason) {
  transport_error_.clear();
  pin_error_.clear();
  if (cert == nullptr) cert = own_cert_.get();
  if (cert == nullptr) return MakeError(ErrorCode::kInvalidArgument, "no certificate to revoke");
  if (OSSL_CMP_CTX_set1_oldCert(ctx_.get(), cert) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "setting the certificate to revoke");
  }
  if (OSSL_CMP_CTX_set_option(ctx_.get(), OSSL_CMP_OPT_REVOCATION_REASON, reason) != 1) {
    return OpenSslError(ErrorCode::kInvalidArgument, "revocation reason " + std::to_string(reason));
  }
  if (OSSL_CMP_exec_RR_ses(ctx_.get()) == 1) {
    Outcome out;
    out.kind = Outcome::Kind::kAccepted;
    return out;
  }
  if (OSSL_CMP_CTX_get_status(ctx_.get()) == OSSL_CMP_PKISTATUS_rejection) {
    ClearOpenSslErrors();
    return Rejected();
  }
  return Failure("CMP revocation");
}

Result<Outcome> CmpSession::GeneralMessage() {
  transport_error_.clear();
  pin_error_.clear();
  STACK_OF(OSSL_CMP_ITAV)* itavs = OSSL_CMP_exec_GENM_ses(ctx_.get());
  if (itavs == nullptr) {
    if (OSSL_CMP_CTX_get_status(ctx_.get()) == OSSL_CMP_PKISTATUS_rejection) {
      ClearOpenSslErrors();
      return Rejected();
    }
    // An empty genp comes back as an empty stack; null is a failure.
    return Failure("CMP general message");
  }
  Outcome out;
  out.kind = Outcome::Kind::kAccepted;
  for (int i = 0; i < sk_OSSL_CMP_ITAV_num(itavs); ++i) {
    char oid[128];
    ASN1_OBJECT* type = OSSL_CMP_ITAV_get0_type(sk_OSSL_CMP_ITAV_value(itavs, i));
    if (type != nullptr && OBJ_obj2txt(oid, sizeof oid, type, 1) > 0) out.info_types.push_back(oid);
  }
  sk_OSSL_CMP_ITAV_pop_free(itavs, OSSL_CMP_ITAV_free);
  return out;
}

}  // namespace scepd::cmp
