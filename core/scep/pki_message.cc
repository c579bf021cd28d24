#include "core/scep/pki_message.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

#include <charconv>

#include "core/der.h"

namespace scepd::scep {
namespace {

ossl::Ptr<ASN1_OBJECT> Oid(std::string_view dotted) {
  return ossl::Ptr<ASN1_OBJECT>(OBJ_txt2obj(std::string(dotted).c_str(), 1));
}

Result<ossl::Ptr<CMS_ContentInfo>> CmsFromDer(std::span<const std::uint8_t> der,
                                              std::string_view what) {
  if (der.empty()) return MakeError(ErrorCode::kParse, std::string(what) + ": empty");
  const unsigned char* p = der.data();
  ossl::Ptr<CMS_ContentInfo> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (!cms) {
    return OpenSslError(ErrorCode::kParse, std::string(what) + ": not a DER CMS/PKCS#7 ContentInfo");
  }
  return cms;
}

Status AddStringAttr(CMS_SignerInfo* si, std::string_view oid, int type, std::string_view value,
                     const char* name) {
  auto obj = Oid(oid);
  if (!obj || CMS_signed_add1_attr_by_OBJ(si, obj.get(), type, value.data(),
                                          static_cast<int>(value.size())) != 1) {
    return OpenSslError(ErrorCode::kCrypto, std::string("adding SCEP attribute ") + name);
  }
  return {};
}

Status AddOctetAttr(CMS_SignerInfo* si, std::string_view oid, const Bytes& value, const char* name) {
  auto obj = Oid(oid);
  if (!obj || CMS_signed_add1_attr_by_OBJ(si, obj.get(), V_ASN1_OCTET_STRING, value.data(),
                                          static_cast<int>(value.size())) != 1) {
    return OpenSslError(ErrorCode::kCrypto, std::string("adding SCEP attribute ") + name);
  }
  return {};
}

// The single value of a signed attribute, or nullptr when absent.
Result<const ASN1_TYPE*> AttrValue(CMS_SignerInfo* si, std::string_view oid, const char* name) {
  auto obj = Oid(oid);
  int idx = CMS_signed_get_attr_by_OBJ(si, obj.get(), -1);
  if (idx < 0) return static_cast<const ASN1_TYPE*>(nullptr);
  if (CMS_signed_get_attr_by_OBJ(si, obj.get(), idx) >= 0) {
    return MakeError(ErrorCode::kParse, std::string("pkiMessage: attribute ") + name +
                                            " appears more than once");
  }
  X509_ATTRIBUTE* attr = CMS_signed_get_attr(si, idx);
  if (X509_ATTRIBUTE_count(attr) != 1) {
    return MakeError(ErrorCode::kParse,
                     std::string("pkiMessage: attribute ") + name + " must have exactly one value");
  }
  return static_cast<const ASN1_TYPE*>(X509_ATTRIBUTE_get0_type(attr, 0));
}

// PrintableString per RFC 8894; some CAs send UTF8String or IA5String.
Result<std::optional<std::string>> StringAttr(CMS_SignerInfo* si, std::string_view oid,
                                              const char* name) {
  SCEPD_TRY(const ASN1_TYPE* t, AttrValue(si, oid, name));
  if (t == nullptr) return std::optional<std::string>();
  if (t->type != V_ASN1_PRINTABLESTRING && t->type != V_ASN1_UTF8STRING &&
      t->type != V_ASN1_IA5STRING) {
    return MakeError(ErrorCode::kParse, std::string("pkiMessage: attribute ") + name +
                                            " is not a string (ASN.1 type " +
                                            std::to_string(t->type) + ")");
  }
  const ASN1_STRING* s = t->value.asn1_string;
  return std::optional<std::string>(std::string(
      reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
      static_cast<std::size_t>(ASN1_STRING_length(s))));
}

Result<std::optional<Bytes>> OctetAttr(CMS_SignerInfo* si, std::string_view oid, const char* name) {
  SCEPD_TRY(const ASN1_TYPE* t, AttrValue(si, oid, name));
  if (t == nullptr) return std::optional<Bytes>();
  if (t->type != V_ASN1_OCTET_STRING) {
    return MakeError(ErrorCode::kParse,
                     std::string("pkiMessage: attribute ") + name + " is not an OCTET STRING");
  }
  const ASN1_STRING* s = t->value.octet_string;
  const unsigned char* d = ASN1_STRING_get0_data(s);
  return std::optional<Bytes>(Bytes(d, d + ASN1_STRING_length(s)));
}

Result<int> SmallInt(const std::string& text, const char* name) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return MakeError(ErrorCode::kParse, std::string("pkiMessage: ") + name + " '" + text +
                                            "' is not a decimal number");
  }
  return v;
}

Result<PkiAttributes> ReadAttributes(CMS_SignerInfo* si) {
  PkiAttributes a;
  SCEPD_TRY(auto type_text, StringAttr(si, kOidMessageType, "messageType"));
  if (!type_text) return MakeError(ErrorCode::kParse, "pkiMessage: messageType attribute missing");
  SCEPD_TRY(int type_num, SmallInt(*type_text, "messageType"));
  auto type = MessageTypeFromInt(type_num);
  if (!type) {
    return MakeError(ErrorCode::kParse, "pkiMessage: unknown messageType " + *type_text);
  }
  a.message_type = *type;

  SCEPD_TRY(auto tid, StringAttr(si, kOidTransactionId, "transactionID"));
  if (!tid || tid->empty()) {
    return MakeError(ErrorCode::kParse, "pkiMessage: transactionID attribute missing");
  }
  a.transaction_id = std::move(*tid);

  SCEPD_TRY(auto sender, OctetAttr(si, kOidSenderNonce, "senderNonce"));
  if (sender) a.sender_nonce = std::move(*sender);
  SCEPD_TRY(a.recipient_nonce, OctetAttr(si, kOidRecipientNonce, "recipientNonce"));

  SCEPD_TRY(auto status_text, StringAttr(si, kOidPkiStatus, "pkiStatus"));
  if (status_text) {
    SCEPD_TRY(int v, SmallInt(*status_text, "pkiStatus"));
    a.pki_status = PkiStatusFromInt(v);
    if (!a.pki_status) {
      return MakeError(ErrorCode::kParse, "pkiMessage: unknown pkiStatus " + *status_text);
    }
  }
  SCEPD_TRY(auto fail_text, StringAttr(si, kOidFailInfo, "failInfo"));
  if (fail_text) {
    SCEPD_TRY(int v, SmallInt(*fail_text, "failInfo"));
    a.fail_info = FailInfoFromInt(v);
    if (!a.fail_info) {
      return MakeError(ErrorCode::kParse, "pkiMessage: unknown failInfo " + *fail_text);
    }
  }
  SCEPD_TRY(a.fail_info_text, StringAttr(si, kOidFailInfoText, "failInfoText"));
  return a;
}

}  // namespace

Result<Bytes> MakeNonce() {
  Bytes nonce(kNonceSize);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "generating nonce");
  }
  return nonce;
}

Result<Bytes> BuildPkiMessage(const PkiAttributes& attributes, const std::optional<Bytes>& content,
                              const EnvelopeSpec& envelope, const SignerSpec& signer) {
  if (signer.cert == nullptr || signer.key == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "pkiMessage: signer certificate and key required");
  }
  // The envelope: the payload encrypted for the recipients.
  Bytes enveloped;
  if (content) {
    if (envelope.recipients.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "pkiMessage: no envelope recipient");
    }
    ossl::Ptr<EVP_CIPHER> cipher(EVP_CIPHER_fetch(nullptr, envelope.cipher.c_str(), nullptr));
    if (!cipher) {
      return OpenSslError(ErrorCode::kUnsupported,
                          "envelope cipher " + envelope.cipher + " is not available");
    }
    auto recips = ossl::MakeX509StackView(envelope.recipients);
    ossl::Ptr<BIO> in(BIO_new_mem_buf(content->data(), static_cast<int>(content->size())));
    ossl::Ptr<CMS_ContentInfo> env(
        CMS_encrypt(recips.get(), in.get(), cipher.get(), CMS_BINARY));
    if (!env) return OpenSslError(ErrorCode::kCrypto, "encrypting pkcsPKIEnvelope");
    SCEPD_TRY(enveloped, ossl::ToDer(env.get(), i2d_CMS_ContentInfo, "pkcsPKIEnvelope"));
  }

  ossl::Ptr<EVP_MD> md(EVP_MD_fetch(nullptr, signer.digest.c_str(), nullptr));
  if (!md) {
    return OpenSslError(ErrorCode::kUnsupported, "digest " + signer.digest + " is not available");
  }
  constexpr unsigned kFlags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  ossl::Ptr<CMS_ContentInfo> cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, kFlags));
  if (!cms) return OpenSslError(ErrorCode::kCrypto, "creating SignedData");
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), signer.cert, signer.key, md.get(), kFlags);
  if (si == nullptr) return OpenSslError(ErrorCode::kCrypto, "adding signer to SignedData");
  for (X509* extra : signer.extra_certs) {
    if (CMS_add1_cert(cms.get(), extra) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "adding certificate to SignedData");
    }
  }

  const auto& a = attributes;
  SCEPD_TRY_STATUS(AddStringAttr(si, kOidMessageType, V_ASN1_PRINTABLESTRING,
                                 std::to_string(static_cast<int>(a.message_type)), "messageType"));
  SCEPD_TRY_STATUS(AddStringAttr(si, kOidTransactionId, V_ASN1_PRINTABLESTRING, a.transaction_id,
                                 "transactionID"));
  SCEPD_TRY_STATUS(AddOctetAttr(si, kOidSenderNonce, a.sender_nonce, "senderNonce"));
  if (a.recipient_nonce) {
    SCEPD_TRY_STATUS(AddOctetAttr(si, kOidRecipientNonce, *a.recipient_nonce, "recipientNonce"));
  }
  if (a.pki_status) {
    SCEPD_TRY_STATUS(AddStringAttr(si, kOidPkiStatus, V_ASN1_PRINTABLESTRING,
                                   std::to_string(static_cast<int>(*a.pki_status)), "pkiStatus"));
  }
  if (a.fail_info) {
    SCEPD_TRY_STATUS(AddStringAttr(si, kOidFailInfo, V_ASN1_PRINTABLESTRING,
                                   std::to_string(static_cast<int>(*a.fail_info)), "failInfo"));
  }
  if (a.fail_info_text) {
    SCEPD_TRY_STATUS(AddStringAttr(si, kOidFailInfoText, V_ASN1_UTF8STRING, *a.fail_info_text,
                                   "failInfoText"));
  }

  // PENDING and FAILURE replies sign an empty content.
  static const unsigned char kEmpty[1] = {0};
  ossl::Ptr<BIO> data(BIO_new_mem_buf(enveloped.empty() ? kEmpty : enveloped.data(),
                                      static_cast<int>(enveloped.size())));
  if (CMS_final(cms.get(), data.get(), nullptr, CMS_BINARY) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "signing pkiMessage");
  }
  return ossl::ToDer(cms.get(), i2d_CMS_ContentInfo, "pkiMessage");
}

Result<PkiMessage> ParsePkiMessage(std::span<const std::uint8_t> der,
                                   std::span<X509* const> trusted_signers) {
  SCEPD_TRY(auto cms, CmsFromDer(der, "pkiMessage"));
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    return MakeError(ErrorCode::kParse, "pkiMessage: not a SignedData");
  }
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  if (infos == nullptr || sk_CMS_SignerInfo_num(infos) != 1) {
    return MakeError(ErrorCode::kParse, "pkiMessage: expected exactly one SignerInfo, found " +
                                            std::to_string(infos ? sk_CMS_SignerInfo_num(infos) : 0));
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);

  // Content may be absent (detached) in CertRep PENDING/FAILURE from some CAs:
  // the signature then covers the empty string. The BIO must report end of
  // data: an empty writable memory BIO reports "retry" instead, which
  // OpenSSL's digest loop treats as a read error, so a read-only one.
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  bool detached = content == nullptr || *content == nullptr;
  ossl::Ptr<BIO> empty;
  if (detached) {
    static const char kNothing[] = "";
    empty.reset(BIO_new_mem_buf(kNothing, 0));
    if (!empty) return OpenSslError(ErrorCode::kCrypto, "pkiMessage: out of memory");
  }

  // No chain or purpose check: trust comes from the caller's list (the CA and
  // RA certificates we hold), and a CA certificate may lack digitalSignature.
  unsigned flags = CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY;
  ossl::X509StackView trusted;
  if (!trusted_signers.empty()) {
    trusted = ossl::MakeX509StackView(trusted_signers);
    flags |= CMS_NOINTERN;
  }
  ossl::Ptr<BIO> out(BIO_new(BIO_s_mem()));
  if (CMS_verify(cms.get(), trusted.get(), nullptr, empty.get(), out.get(), flags) != 1) {
    bool no_signer = false;
    unsigned long e = ERR_peek_last_error();  // NOLINT(runtime/int)
    if (ERR_GET_LIB(e) == ERR_LIB_CMS && ERR_GET_REASON(e) == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND) {
      no_signer = true;
    }
    return OpenSslError(ErrorCode::kVerify,
                        no_signer ? "pkiMessage: signed by a certificate we do not trust"
                                  : "pkiMessage: signature does not verify");
  }

  PkiMessage msg;
  SCEPD_TRY(msg.attributes, ReadAttributes(si));
  msg.envelope = ossl::BioToBytes(out.get());

  X509* signer_cert = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, &signer_cert, nullptr, nullptr);
  if (signer_cert == nullptr) {
    return MakeError(ErrorCode::kInternal, "pkiMessage: verified but signer unknown");
  }
  msg.signer = ossl::UpRef(signer_cert);
  X509_ALGOR* digest_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, nullptr);
  if (digest_alg != nullptr) {
    const ASN1_OBJECT* obj = nullptr;
    X509_ALGOR_get0(&obj, nullptr, nullptr, digest_alg);
    msg.digest = OBJ_nid2sn(OBJ_obj2nid(obj));
  }
  ossl::X509Stack certs(CMS_get1_certs(cms.get()));
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
    msg.certificates.push_back(ossl::UpRef(sk_X509_value(certs.get(), i)));
  }
  return msg;
}

Result<Bytes> OpenEnvelope(std::span<const std::uint8_t> envelope, EVP_PKEY* key, X509* cert) {
  SCEPD_TRY(auto cms, CmsFromDer(envelope, "pkcsPKIEnvelope"));
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_enveloped) {
    return MakeError(ErrorCode::kParse, "pkcsPKIEnvelope: not an EnvelopedData");
  }
  ossl::Ptr<BIO> out(BIO_new(BIO_s_mem()));
  // Without a certificate every recipient is tried; CMS_DEBUG_DECRYPT makes a
  // wrong key an error instead of random plaintext.
  unsigned flags = CMS_BINARY | (cert == nullptr ? CMS_DEBUG_DECRYPT : 0);
  if (CMS_decrypt(cms.get(), key, cert, nullptr, out.get(), flags) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "pkcsPKIEnvelope: cannot decrypt");
  }
  return ossl::BioToBytes(out.get());
}

namespace {
Result<Bytes> NameDer(const X509_NAME* name) { return ossl::ToDer(name, i2d_X509_NAME, "name"); }
}  // namespace

Result<Bytes> EncodeIssuerAndSubject(const X509_NAME* issuer, const X509_NAME* subject) {
  SCEPD_TRY(Bytes a, NameDer(issuer));
  SCEPD_TRY(Bytes b, NameDer(subject));
  Bytes out{0x30};  // SEQUENCE
  der::AppendLength(out, a.size() + b.size());
  out.insert(out.end(), a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Result<std::pair<ossl::Ptr<X509_NAME>, ossl::Ptr<X509_NAME>>> DecodeIssuerAndSubject(
    std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  long len = 0;  // NOLINT(runtime/int)
  int tag = 0, xclass = 0;
  int r = ASN1_get_object(&p, &len, &tag, &xclass, static_cast<long>(der.size()));  // NOLINT
  if ((r & 0x80) != 0 || tag != V_ASN1_SEQUENCE || (r & V_ASN1_CONSTRUCTED) == 0) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kParse, "IssuerAndSubject: not a DER SEQUENCE");
  }
  const unsigned char* end = p + len;
  ossl::Ptr<X509_NAME> issuer(d2i_X509_NAME(nullptr, &p, end - p));
  if (!issuer) return OpenSslError(ErrorCode::kParse, "IssuerAndSubject: bad issuer name");
  ossl::Ptr<X509_NAME> subject(d2i_X509_NAME(nullptr, &p, end - p));
  if (!subject) return OpenSslError(ErrorCode::kParse, "IssuerAndSubject: bad subject name");
  if (p != end || end != der.data() + der.size()) {
    return MakeError(ErrorCode::kParse, "IssuerAndSubject: trailing bytes");
  }
  return std::make_pair(std::move(issuer), std::move(subject));
}

Result<Bytes> EncodeIssuerAndSerial(const X509_NAME* issuer, const ASN1_INTEGER* serial) {
  ossl::Ptr<PKCS7_ISSUER_AND_SERIAL> ias(PKCS7_ISSUER_AND_SERIAL_new());
  if (!ias || X509_NAME_set(&ias->issuer, issuer) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "building IssuerAndSerialNumber");
  }
  ASN1_INTEGER* copy = ASN1_INTEGER_dup(serial);
  if (copy == nullptr) return OpenSslError(ErrorCode::kCrypto, "copying serial number");
  ASN1_INTEGER_free(ias->serial);
  ias->serial = copy;
  return ossl::ToDer(ias.get(), i2d_PKCS7_ISSUER_AND_SERIAL, "IssuerAndSerialNumber");
}

Result<std::pair<ossl::Ptr<X509_NAME>, ossl::Ptr<ASN1_INTEGER>>> DecodeIssuerAndSerial(
    std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  ossl::Ptr<PKCS7_ISSUER_AND_SERIAL> ias(
      d2i_PKCS7_ISSUER_AND_SERIAL(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (!ias) return OpenSslError(ErrorCode::kParse, "IssuerAndSerialNumber: not DER");
  if (p != der.data() + der.size()) {
    return MakeError(ErrorCode::kParse, "IssuerAndSerialNumber: trailing bytes");
  }
  ossl::Ptr<X509_NAME> name(X509_NAME_dup(ias->issuer));
  ossl::Ptr<ASN1_INTEGER> serial(ASN1_INTEGER_dup(ias->serial));
  if (!name || !serial) return OpenSslError(ErrorCode::kCrypto, "copying IssuerAndSerialNumber");
  return std::make_pair(std::move(name), std::move(serial));
}

}  // namespace scepd::scep
