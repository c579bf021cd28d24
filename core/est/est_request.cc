#include "core/est/est_request.h"

#include "core/bytes.h"

namespace scepd::est {

HttpRequest GetRequest(const std::string& url) {
  HttpRequest r;
  r.method = HttpRequest::Method::kGet;
  r.url = url;
  return r;
}

Result<HttpRequest> CsrPostRequest(const std::string& url, X509_REQ* csr) {
  auto der = ossl::CsrToDer(csr);
  if (!der.ok()) return std::move(der).error();
  HttpRequest r;
  r.method = HttpRequest::Method::kPost;
  r.url = url;
  r.content_type = "application/pkcs10";
  r.headers.emplace_back("Content-Transfer-Encoding", "base64");
  r.body = ToBytes(Base64Encode(*der));
  return r;
}

Result<ossl::Ptr<X509_REQ>> BuildReenrollCsr(X509* current, EVP_PKEY* key,
                                             const std::string& digest) {
  if (current == nullptr || key == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "re-enrollment needs the certificate and a key");
  }
  ossl::Ptr<EVP_MD> md(EVP_MD_fetch(nullptr, digest.c_str(), nullptr));
  if (!md) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kInvalidArgument, "digest '" + digest + "': unknown");
  }
  ossl::Ptr<X509_REQ> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_REQ_set_subject_name(req.get(), X509_get_subject_name(current)) != 1 ||
      X509_REQ_set_pubkey(req.get(), key) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "building the re-enrollment request");
  }
  const int san_at = X509_get_ext_by_NID(current, NID_subject_alt_name, -1);
  if (san_at >= 0) {
    ossl::X509ExtensionStack exts(sk_X509_EXTENSION_new_null());
    ossl::Ptr<X509_EXTENSION> san(X509_EXTENSION_dup(X509_get_ext(current, san_at)));
    if (!exts || !san || sk_X509_EXTENSION_push(exts.get(), san.get()) == 0) {
      return OpenSslError(ErrorCode::kCrypto, "copying subjectAltName");
    }
    static_cast<void>(san.release());  // now owned by the stack
    if (X509_REQ_add_extensions(req.get(), exts.get()) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "adding subjectAltName to the request");
    }
  }
  if (X509_REQ_sign(req.get(), key, md.get()) <= 0) {
    return OpenSslError(ErrorCode::kCrypto, "signing the re-enrollment request");
  }
  return req;
}

}  // namespace scepd::est
