#pragma once
// RAII for OpenSSL handles: ossl::Ptr<X509> owns an X509* and frees it with
// X509_free. Ownership follows OpenSSL's names: get0 borrows, get1/new returns
// a reference the caller owns (wrap it at once), set0 takes ownership (call
// .release() only after the call succeeded), set1 copies or up-refs.

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cmp.h>
#include <openssl/cms.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace scepd::ossl {

template <class T>
struct Deleter;

#define SCEPD_OSSL_DELETER(Type, free_fn)                  \
  template <>                                              \
  struct Deleter<Type> {                                   \
    void operator()(Type* p) const noexcept { free_fn(p); } \
  };

SCEPD_OSSL_DELETER(ASN1_OBJECT, ASN1_OBJECT_free)
// ASN1_INTEGER, ASN1_OCTET_STRING, ASN1_TIME, ASN1_BIT_STRING ... are all
// ASN1_STRING underneath: one deleter serves them.
SCEPD_OSSL_DELETER(ASN1_STRING, ASN1_STRING_free)
SCEPD_OSSL_DELETER(ASN1_TYPE, ASN1_TYPE_free)
SCEPD_OSSL_DELETER(BIGNUM, BN_free)
SCEPD_OSSL_DELETER(BIO, BIO_free_all)
SCEPD_OSSL_DELETER(OSSL_CMP_CTX, OSSL_CMP_CTX_free)
SCEPD_OSSL_DELETER(OSSL_CMP_MSG, OSSL_CMP_MSG_free)
SCEPD_OSSL_DELETER(OSSL_CMP_ITAV, OSSL_CMP_ITAV_free)
SCEPD_OSSL_DELETER(OSSL_CMP_SRV_CTX, OSSL_CMP_SRV_CTX_free)
SCEPD_OSSL_DELETER(OSSL_DECODER_CTX, OSSL_DECODER_CTX_free)
SCEPD_OSSL_DELETER(CMS_ContentInfo, CMS_ContentInfo_free)
SCEPD_OSSL_DELETER(EVP_CIPHER, EVP_CIPHER_free)
SCEPD_OSSL_DELETER(EVP_MD, EVP_MD_free)
SCEPD_OSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free)
SCEPD_OSSL_DELETER(EVP_PKEY, EVP_PKEY_free)
SCEPD_OSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
SCEPD_OSSL_DELETER(GENERAL_NAME, GENERAL_NAME_free)
SCEPD_OSSL_DELETER(GENERAL_NAMES, GENERAL_NAMES_free)
SCEPD_OSSL_DELETER(OTHERNAME, OTHERNAME_free)
SCEPD_OSSL_DELETER(PKCS7, PKCS7_free)
SCEPD_OSSL_DELETER(PKCS7_ISSUER_AND_SERIAL, PKCS7_ISSUER_AND_SERIAL_free)
SCEPD_OSSL_DELETER(PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free)
SCEPD_OSSL_DELETER(X509, X509_free)
SCEPD_OSSL_DELETER(X509_CRL, X509_CRL_free)
SCEPD_OSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free)
SCEPD_OSSL_DELETER(X509_NAME, X509_NAME_free)
SCEPD_OSSL_DELETER(X509_REQ, X509_REQ_free)
SCEPD_OSSL_DELETER(X509_STORE, X509_STORE_free)
SCEPD_OSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free)
SCEPD_OSSL_DELETER(X509_ATTRIBUTE, X509_ATTRIBUTE_free)
SCEPD_OSSL_DELETER(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free)
#undef SCEPD_OSSL_DELETER

template <class T>
using Ptr = std::unique_ptr<T, Deleter<T>>;

// Stacks: an owning stack frees its elements too; a view stack only the stack.
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
struct X509StackViewDeleter {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); }
};
struct X509ExtensionStackDeleter {
  void operator()(STACK_OF(X509_EXTENSION) * s) const noexcept {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};
struct X509CrlStackDeleter {
  void operator()(STACK_OF(X509_CRL) * s) const noexcept { sk_X509_CRL_pop_free(s, X509_CRL_free); }
};
using X509Stack = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;
using X509StackView = std::unique_ptr<STACK_OF(X509), X509StackViewDeleter>;
using X509ExtensionStack = std::unique_ptr<STACK_OF(X509_EXTENSION), X509ExtensionStackDeleter>;
using X509CrlStack = std::unique_ptr<STACK_OF(X509_CRL), X509CrlStackDeleter>;

// Takes a new reference on a ref-counted object and returns it owned.
inline Ptr<X509> UpRef(X509* p) {
  if (p != nullptr) X509_up_ref(p);
  return Ptr<X509>(p);
}
inline Ptr<EVP_PKEY> UpRef(EVP_PKEY* p) {
  if (p != nullptr) EVP_PKEY_up_ref(p);
  return Ptr<EVP_PKEY>(p);
}
inline Ptr<X509_CRL> UpRef(X509_CRL* p) {
  if (p != nullptr) X509_CRL_up_ref(p);
  return Ptr<X509_CRL>(p);
}

// A borrowed-pointer stack of the given certificates (none freed on release).
X509StackView MakeX509StackView(std::span<X509* const> certs);

// DER and PEM helpers. Each fails with kParse naming `what` ("CA certificate").
Result<Ptr<X509>> CertFromDer(std::span<const std::uint8_t> der, std::string_view what);
Result<Ptr<X509>> CertFromPem(std::string_view pem, std::string_view what);
// Accepts PEM or DER, whichever the bytes are.
Result<Ptr<X509>> CertFromPemOrDer(std::span<const std::uint8_t> data, std::string_view what);
// Every PEM certificate in the text, in order (at least one).
Result<std::vector<Ptr<X509>>> CertsFromPem(std::string_view pem, std::string_view what);
Result<Bytes> CertToDer(X509* cert);
Result<std::string> CertToPem(X509* cert);
Result<Ptr<EVP_PKEY>> PrivateKeyFromPem(std::string_view pem, std::string_view what);
// Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY").
Result<std::string> PrivateKeyToPem(EVP_PKEY* key);
Result<Ptr<X509_REQ>> CsrFromPemOrDer(std::span<const std::uint8_t> data, std::string_view what);
Result<Bytes> CsrToDer(X509_REQ* req);
Result<std::string> CsrToPem(X509_REQ* req);
Result<std::string> CrlToPem(X509_CRL* crl);

// Encodes `obj` with OpenSSL's i2d function (i2d_X509, i2d_PKCS7, ...) into
// bytes the caller owns. Fails with kCrypto: "encoding <what>: ...".
template <class T, class I2d>
Result<Bytes> ToDer(T* obj, I2d i2d, std::string_view what) {
  unsigned char* buf = nullptr;
  int n = i2d(obj, &buf);
  if (n <= 0 || buf == nullptr) {
    return OpenSslError(ErrorCode::kCrypto, "encoding " + std::string(what));
  }
  Bytes out(buf, buf + n);
  OPENSSL_free(buf);
  return out;
}

// An object from an OpenSSL short or long name or a dotted OID, as
// OBJ_txt2obj(text, 0) gives it, but only one that has an OID: OpenSSL also
// names objects that have none ("AES-128-OCB"), and those fail later, when
// a name or an extension holding them is encoded. Null for an empty text,
// an embedded NUL, an unknown name or such an object; leaves OpenSSL's
// error queue empty.
Ptr<ASN1_OBJECT> ObjectFromText(std::string_view text);

// Reads everything from a memory BIO into a byte vector.
Bytes BioToBytes(BIO* bio);

// Loads OpenSSL's "legacy" provider (DES-CBC, MD5 replies from older CAs)
// next to "default" in the default library context, once per process.
// Needed because a CA may answer with single DES whatever we asked for.
// Fails with kUnsupported when the provider module is missing.
Status EnableLegacyAlgorithms();

}  // namespace scepd::ossl
