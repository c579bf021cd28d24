#include "core/scep/certs_only.h"

namespace scepd::scep {

Result<Bytes> BuildCertsOnly(std::span<X509* const> certs, std::span<X509_CRL* const> crls) {
  ossl::Ptr<PKCS7> p7(PKCS7_new());
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 ||
      PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "building certs-only SignedData");
  }
  for (X509* c : certs) {
    if (PKCS7_add_certificate(p7.get(), c) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "adding certificate to SignedData");
    }
  }
  for (X509_CRL* c : crls) {
    if (PKCS7_add_crl(p7.get(), c) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "adding CRL to SignedData");
    }
  }
  return ossl::ToDer(p7.get(), i2d_PKCS7, "certs-only SignedData");
}

Result<CertsOnly> ParseCertsOnly(std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  ossl::Ptr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (!p7) return OpenSslError(ErrorCode::kParse, "certs-only PKCS#7: not DER ContentInfo");
  if (!PKCS7_type_is_signed(p7.get()) || p7->d.sign == nullptr) {
    return MakeError(ErrorCode::kParse, "certs-only PKCS#7: not a SignedData");
  }
  CertsOnly out;
  STACK_OF(X509)* certs = p7->d.sign->cert;
  for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i) {
    out.certs.push_back(ossl::UpRef(sk_X509_value(certs, i)));
  }
  STACK_OF(X509_CRL)* crls = p7->d.sign->crl;
  for (int i = 0; crls != nullptr && i < sk_X509_CRL_num(crls); ++i) {
    out.crls.push_back(ossl::UpRef(sk_X509_CRL_value(crls, i)));
  }
  return out;
}

}  // namespace scepd::scep
