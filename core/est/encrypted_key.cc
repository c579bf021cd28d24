#include "core/est/encrypted_key.h"

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "core/der.h"
#include "core/wipe.h"

namespace scepd::est {
namespace {

// DER of the OID id-signedData (1.2.840.113549.1.7.2), tag and length included.
constexpr std::uint8_t kSignedDataOid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                           0xf7, 0x0d, 0x01, 0x07, 0x02};

Result<ossl::Ptr<CMS_ContentInfo>> CmsFromDer(std::span<const std::uint8_t> der,
                                              const std::string& what) {
  const unsigned char* p = der.data();
  ossl::Ptr<CMS_ContentInfo> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (!cms || p != der.data() + der.size()) {
    return OpenSslError(ErrorCode::kParse, what + ": not a DER CMS message");
  }
  return cms;
}

// The private key in `content`: a PKCS#8 PrivateKeyInfo (OneAsymmetricKey)
// or an AsymmetricKeyPackage (a SEQUENCE OF them: the first is taken).
Result<ossl::Ptr<EVP_PKEY>> KeyFromContent(std::span<const std::uint8_t> content,
                                           const std::string& what) {
  auto outer = der::Expect(content, der::kSequence);
  if (!outer || !outer->rest.empty()) {
    return MakeError(ErrorCode::kParse, what + ": the key is not a DER SEQUENCE");
  }
  std::span<const std::uint8_t> one = content;
  auto first = der::Read(outer->content);
  if (first && first->tag == der::kSequence) one = first->tlv;  // a package
  const unsigned char* p = one.data();
  ossl::Ptr<EVP_PKEY> key(
      d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(one.size())));  // NOLINT(runtime/int)
  if (!key) return OpenSslError(ErrorCode::kParse, what + ": no PKCS#8 private key inside");
  return key;
}

}  // namespace

Result<Bytes> KeyIdentifier(X509* cert) {
  if (cert == nullptr) return MakeError(ErrorCode::kInvalidArgument, "key identifier: no certificate");
  if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert)) {
    const unsigned char* data = ASN1_STRING_get0_data(ski);
    return Bytes(data, data + ASN1_STRING_length(ski));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_pubkey_digest(cert, EVP_sha1(), md, &n) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "key identifier: cannot hash the public key");
  }
  return Bytes(md, md + n);
}

Status RequestEncryptedKey(X509_REQ* req, X509* decrypt_cert, EVP_PKEY* signer,
                           const std::string& digest) {
  SCEPD_TRY(const Bytes id, KeyIdentifier(decrypt_cert));
  ossl::Ptr<ASN1_OBJECT> oid(OBJ_txt2obj(kAsymmetricDecryptKeyIdOid, 1));
  if (!oid || X509_REQ_add1_attr_by_OBJ(req, oid.get(), V_ASN1_OCTET_STRING, id.data(),
                                        static_cast<int>(id.size())) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "AsymmetricDecryptKeyIdentifier: cannot add it");
  }
  const EVP_MD* md = EVP_get_digestbyname(digest.c_str());
  if (md == nullptr) return MakeError(ErrorCode::kInvalidArgument, "digest '" + digest + "': unknown");
  if (X509_REQ_sign(req, signer, md) <= 0) {
    return OpenSslError(ErrorCode::kCrypto, "signing the request again");
  }
  return {};
}

Result<ossl::Ptr<EVP_PKEY>> OpenServerGeneratedKey(std::span<const std::uint8_t> der, X509* cert,
                                                   EVP_PKEY* key, const std::string& what) {
  SCEPD_TRY(auto envelope, CmsFromDer(der, what));
  if (OBJ_obj2nid(CMS_get0_type(envelope.get())) != NID_pkcs7_enveloped) {
    return MakeError(ErrorCode::kParse, what + ": not an EnvelopedData");
  }
  const int inner = OBJ_obj2nid(CMS_get0_eContentType(envelope.get()));
  // A secure-memory BIO: the plaintext is a private key.
  ossl::Ptr<BIO> out(BIO_new(BIO_s_secmem()));
  if (!out) return OpenSslError(ErrorCode::kCrypto, what + ": out of memory");
  if (CMS_decrypt(envelope.get(), key, cert, nullptr, out.get(), CMS_BINARY) != 1) {
    return OpenSslError(ErrorCode::kVerify,
                        what + ": cannot decrypt it with the key of the client certificate");
  }
  Bytes plain = ossl::BioToBytes(out.get());
  WipeOnExit wipe_plain(plain);
  if (inner == NID_pkcs7_data) return KeyFromContent(plain, what);  // no SignedData layer
  if (inner != NID_pkcs7_signed) {
    return MakeError(ErrorCode::kParse, what + ": the EnvelopedData holds neither a SignedData "
                                               "nor data");
  }
  // The encrypted content is the SignedData itself; OpenSSL reads CMS only
  // as a ContentInfo, so it gets one around it.
  Bytes body(std::begin(kSignedDataOid), std::end(kSignedDataOid));
  WipeOnExit wipe_body(body);
  body.reserve(body.size() + plain.size() + 16);
  body.push_back(der::kExplicit0);
  der::AppendLength(body, plain.size());
  body.insert(body.end(), plain.begin(), plain.end());
  Bytes info{der::kSequence};
  WipeOnExit wipe_info(info);
  info.reserve(body.size() + 8);
  der::AppendLength(info, body.size());
  info.insert(info.end(), body.begin(), body.end());
  SCEPD_TRY(auto signed_data, CmsFromDer(info, what + " (its SignedData)"));
  ossl::Ptr<BIO> content(BIO_new(BIO_s_secmem()));
  if (!content) return OpenSslError(ErrorCode::kCrypto, what + ": out of memory");
  if (CMS_verify(signed_data.get(), nullptr, nullptr, nullptr, content.get(),
                 CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
    return OpenSslError(ErrorCode::kVerify, what + ": the SignedData around the key does not verify");
  }
  Bytes package = ossl::BioToBytes(content.get());
  WipeOnExit wipe_package(package);
  return KeyFromContent(package, what);
}

}  // namespace scepd::est
