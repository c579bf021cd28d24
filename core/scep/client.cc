#include "core/scep/client.h"

#include <openssl/evp.h>

#include "core/key.h"
#include "core/scep/certs_only.h"
#include "core/scep/pki_message.h"
#include "core/wipe.h"

namespace scepd::scep {

namespace {
constexpr std::string_view kPkiMessageType = "application/x-pki-message";

bool IsHtml(const HttpResponse& r) {
  if (r.content_type == "text/html") return true;
  std::string_view head(reinterpret_cast<const char*>(r.body.data()),
                        std::min<std::size_t>(r.body.size(), 64));
  auto lower = std::string(head);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("<html") != std::string::npos || lower.find("<!doctype") != std::string::npos;
}

// What IIS (under Microsoft NDES) accepts in a query string by default;
// longer ones get HTTP 404 (IIS sub-status 404.15).
constexpr std::size_t kIisQueryStringLimit = 2048;

// Non-200 and HTML answers are reported as such, with an excerpt. An empty
// body is an error unless `empty_ok` (GetCACaps: no capabilities).
Status CheckHttp(const HttpResponse& r, std::string_view what, bool empty_ok = false) {
  if (r.status != 200) {
    std::string excerpt = BodyExcerpt(r.body);
    return MakeError(ErrorCode::kHttp, std::string(what) + ": server answered HTTP " +
                                           std::to_string(r.status) +
                                           (excerpt.empty() ? "" : ": " + excerpt));
  }
  if (IsHtml(r)) {
    return MakeError(ErrorCode::kHttp, std::string(what) + ": server answered with an HTML page: " +
                                           BodyExcerpt(r.body));
  }
  if (r.body.empty() && !empty_ok) {
    return MakeError(ErrorCode::kProtocol, std::string(what) + ": server answered with an empty body");
  }
  return {};
}
}  // namespace

std::string BodyExcerpt(std::span<const std::uint8_t> body, std::size_t max) {
  std::string out;
  bool in_tag = false, space = false;
  for (std::uint8_t b : body) {
    char c = static_cast<char>(b);
    if (c == '<') { in_tag = true; space = true; continue; }
    if (c == '>') { in_tag = false; continue; }
    if (in_tag) continue;
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') { space = true; continue; }
    if (b < 0x20 || b >= 0x7F) c = '?';
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
    if (out.size() >= max) { out += "..."; break; }
  }
  return out;
}

std::string CertRep::Describe() const {
  std::string s = PkiStatusName(status);
  if (status == PkiStatus::kFailure) {
    if (fail_info) {
      s += std::string(": ") + FailInfoName(*fail_info) + " (" + FailInfoDescription(*fail_info) + ")";
    } else {
      s += ": no failInfo given";
    }
    if (fail_info_text && !fail_info_text->empty()) s += ": " + *fail_info_text;
  }
  return s;
}

Result<std::string> TransactionIdFor(const EVP_PKEY* key) { return PublicKeySha256Hex(key); }

Client::Client(Transport& transport, ClientOptions options)
    : transport_(transport), options_(std::move(options)) {
  if (options_.url.find("://") == std::string::npos) options_.url = "http://" + options_.url;
}

std::string Client::OperationUrl(const std::string& operation) const {
  char sep = options_.url.find('?') == std::string::npos ? '?' : '&';
  return options_.url + sep + "operation=" + operation;
}

Result<HttpResponse> Client::Get(const std::string& operation, const std::string& message,
                                 std::string_view what, bool empty_ok) {
  HttpRequest req;
  req.url = OperationUrl(operation);
  if (!message.empty()) req.url += "&message=" + PercentEncode(message);
  SCEPD_TRY(HttpResponse resp, transport_.Send(req));
  SCEPD_TRY_STATUS(CheckHttp(resp, what, empty_ok));
  return resp;
}

Result<CaCaps> Client::GetCaCaps() {
  // An empty answer is a CA that advertises nothing (RFC 8894 section
  // 3.5.2), not a broken one.
  SCEPD_TRY(HttpResponse resp,
            Get("GetCACaps", options_.ca_identifier, "GetCACaps", /*empty_ok=*/true));
  caps_ = ParseCaCaps(ToString(resp.body));
  return caps_;
}

Result<CaCertificates> Client::GetCaCert() {
  SCEPD_TRY(HttpResponse resp, Get("GetCACert", options_.ca_identifier, "GetCACert"));
  SCEPD_TRY(CaCertificates certs, ParseGetCaCert(resp.content_type, resp.body));
  // Keep our own copy: the caller gets the parsed value.
  std::vector<ossl::Ptr<X509>> copy;
  for (const auto& c : certs.all) copy.push_back(ossl::UpRef(c.get()));
  SCEPD_TRY(CaCertificates mine, SelectCaRoles(std::move(copy)));
  ca_ = std::move(mine);
  return certs;
}

void Client::SetCaCertificates(CaCertificates certs) { ca_ = std::move(certs); }

Result<CaCertificates> Client::GetNextCaCert() {
  if (!ca_) {
    return MakeError(ErrorCode::kInvalidArgument, "GetNextCACert: the current CA certificate is needed");
  }
  SCEPD_TRY(HttpResponse resp, Get("GetNextCACert", options_.ca_identifier, "GetNextCACert"));
  return ParseGetNextCaCert(resp.body, *ca_);
}

Result<Algorithms> Client::ChosenAlgorithms() const {
  return ChooseAlgorithms(caps_, options_.algorithms);
}

Result<CertRep> Client::Enroll(const EnrollRequest& r) {
  if (r.type != MessageType::kPKCSReq && r.type != MessageType::kRenewalReq) {
    return MakeError(ErrorCode::kInvalidArgument, "enroll: message type must be PKCSReq or RenewalReq");
  }
  if (r.csr == nullptr || r.key == nullptr || r.signer_cert == nullptr || r.signer_key == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "enroll: request, key and signer are required");
  }
  SCEPD_TRY(Bytes csr_der, ossl::CsrToDer(r.csr));
  WipeOnExit wipe(csr_der);  // the request holds the challenge password
  return Exchange(r.type, csr_der, r.signer_cert, r.signer_key, r.transaction_id, Expect::kKey,
                  r.key, nullptr);
}

Result<CertRep> Client::Poll(const EnrollRequest& r) {
  if (!ca_) return MakeError(ErrorCode::kInvalidArgument, "CertPoll: CA certificate unknown");
  if (r.csr == nullptr || r.key == nullptr || r.signer_cert == nullptr || r.signer_key == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "CertPoll: request, key and signer are required");
  }
  SCEPD_TRY(Bytes payload,
            EncodeIssuerAndSubject(ca_->IssuingCaName(), X509_REQ_get_subject_name(r.csr)));
  return Exchange(MessageType::kCertPoll, payload, r.signer_cert, r.signer_key, r.transaction_id,
                  Expect::kKey, r.key, nullptr);
}

Result<CertRep> Client::GetCert(X509* signer_cert, EVP_PKEY* signer_key,
                                const ASN1_INTEGER* serial) {
  if (!ca_) return MakeError(ErrorCode::kInvalidArgument, "GetCert: CA certificate unknown");
  SCEPD_TRY(Bytes payload, EncodeIssuerAndSerial(ca_->IssuingCaName(), serial));
  SCEPD_TRY(std::string tid, TransactionIdFor(signer_key));
  return Exchange(MessageType::kGetCert, payload, signer_cert, signer_key, tid + "-GetCert",
                  Expect::kSerial, nullptr, serial);
}

Result<CertRep> Client::GetCrl(X509* signer_cert, EVP_PKEY* signer_key) {
  if (!ca_) return MakeError(ErrorCode::kInvalidArgument, "GetCRL: CA certificate unknown");
  SCEPD_TRY(Bytes payload, EncodeIssuerAndSerial(X509_get_issuer_name(signer_cert),
                                                 X509_get0_serialNumber(signer_cert)));
  SCEPD_TRY(std::string tid, TransactionIdFor(signer_key));
  return Exchange(MessageType::kGetCRL, payload, signer_cert, signer_key, tid + "-GetCRL",
                  Expect::kCrl, nullptr, nullptr);
}

Result<CertRep> Client::Exchange(MessageType type, const Bytes& payload, X509* signer_cert,
                                 EVP_PKEY* signer_key, const std::string& transaction_id,
                                 Expect expect, const EVP_PKEY* key,
                                 const ASN1_INTEGER* serial) {
  const std::string what = std::string("PKIOperation ") + MessageTypeName(type);
  if (!ca_) return MakeError(ErrorCode::kInvalidArgument, what + ": CA certificate unknown");
  if (transaction_id.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, what + ": transaction ID missing");
  }
  SCEPD_TRY(Algorithms algs, ChosenAlgorithms());
  SCEPD_TRY(Bytes nonce, MakeNonce());

  PkiAttributes attrs;
  attrs.message_type = type;
  attrs.transaction_id = transaction_id;
  attrs.sender_nonce = nonce;
  EnvelopeSpec envelope{{ca_->Encryption()}, algs.cipher};
  SignerSpec signer{signer_cert, signer_key, algs.digest, {}};
  SCEPD_TRY(Bytes der, BuildPkiMessage(attrs, payload, envelope, signer));

  HttpRequest req;
  if (UsePost(caps_)) {
    req.method = HttpRequest::Method::kPost;
    req.url = OperationUrl("PKIOperation");
    req.content_type = std::string(kPkiMessageType);
    req.body = std::move(der);
  } else {
    req.url = OperationUrl("PKIOperation") + "&message=" + PercentEncode(Base64Encode(der));
  }
  SCEPD_TRY(HttpResponse resp, transport_.Send(req));
  if (Status st = CheckHttp(resp, what); !st.ok()) {
    Error e = std::move(st).error();
    const std::size_t query = req.url.size() - std::min(req.url.size(), req.url.find('?'));
    if (req.method == HttpRequest::Method::kGet && (resp.status == 404 || resp.status == 414) &&
        query > kIisQueryStringLimit) {
      e.message += "; the request went by GET with a query string of " + std::to_string(query) +
                   " bytes, longer than the " + std::to_string(kIisQueryStringLimit) +
                   " bytes IIS (Microsoft NDES) accepts by default: enable POSTPKIOperation on "
                   "the CA (it is not in its GetCACaps) or raise its maxQueryString";
    }
    return e;
  }

  std::vector<X509*> trusted = ca_->Trusted();
  auto parsed = ParsePkiMessage(resp.body, trusted);
  if (!parsed.ok()) {
    Error e = std::move(parsed).error();
    e.message = what + ": reply rejected: " + e.message;
    return e;
  }
  PkiMessage& msg = *parsed;
  const PkiAttributes& a = msg.attributes;
  if (a.message_type != MessageType::kCertRep) {
    return MakeError(ErrorCode::kProtocol, what + ": reply is a " +
                                               MessageTypeName(a.message_type) + ", not a CertRep");
  }
  if (a.transaction_id != transaction_id) {
    return MakeError(ErrorCode::kVerify, what + ": reply transactionID '" + a.transaction_id +
                                             "' is not ours ('" + transaction_id + "')");
  }
  if (!a.recipient_nonce) {
    return MakeError(ErrorCode::kVerify, what + ": reply has no recipientNonce");
  }
  if (*a.recipient_nonce != nonce) {
    return MakeError(ErrorCode::kVerify, what + ": reply recipientNonce " +
                                             HexEncode(*a.recipient_nonce) +
                                             " does not match our senderNonce " + HexEncode(nonce));
  }
  if (!a.pki_status) return MakeError(ErrorCode::kProtocol, what + ": reply has no pkiStatus");

  CertRep rep;
  rep.status = *a.pki_status;
  rep.transaction_id = a.transaction_id;
  if (rep.status == PkiStatus::kFailure) {
    rep.fail_info = a.fail_info;
    rep.fail_info_text = a.fail_info_text;
    return rep;
  }
  if (rep.status == PkiStatus::kPending) return rep;

  if (msg.envelope.empty()) {
    return MakeError(ErrorCode::kProtocol, what + ": SUCCESS reply carries no pkcsPKIEnvelope");
  }
  auto opened = OpenEnvelope(msg.envelope, signer_key, signer_cert);
  if (!opened.ok()) {
    Error e = std::move(opened).error();
    e.message = what + ": " + e.message;
    return e;
  }
  auto content = ParseCertsOnly(*opened);
  if (!content.ok()) {
    Error e = std::move(content).error();
    e.message = what + ": reply content: " + e.message;
    return e;
  }
  rep.certs = std::move(content->certs);
  rep.crls = std::move(content->crls);

  switch (expect) {
    case Expect::kKey:
      for (const auto& c : rep.certs) {
        if (EVP_PKEY_eq(X509_get0_pubkey(c.get()), key) == 1) {
          rep.issued = ossl::UpRef(c.get());
          break;
        }
      }
      if (!rep.issued) {
        return MakeError(ErrorCode::kVerify,
                         what + ": the CA returned " + std::to_string(rep.certs.size()) +
                             " certificate(s), none for our public key");
      }
      break;
    case Expect::kSerial:
      for (const auto& c : rep.certs) {
        if (ASN1_INTEGER_cmp(X509_get0_serialNumber(c.get()), serial) == 0) {
          rep.issued = ossl::UpRef(c.get());
          break;
        }
      }
      if (!rep.issued) {
        return MakeError(ErrorCode::kVerify, what + ": no certificate with the requested serial in the reply");
      }
      break;
    case Expect::kCrl:
      if (rep.crls.empty()) return MakeError(ErrorCode::kProtocol, what + ": reply holds no CRL");
      break;
  }
  ClearOpenSslErrors();
  return rep;
}

}  // namespace scepd::scep
