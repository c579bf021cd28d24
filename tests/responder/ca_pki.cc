#include "tests/responder/ca_pki.h"

#include <openssl/cms.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <memory>

namespace scepd::testing::rsp {
namespace {

// X509_REVOKED is only needed here, so its deleter lives here too.
struct RevokedDeleter {
  void operator()(X509_REVOKED* r) const noexcept { X509_REVOKED_free(r); }
};
using RevokedPtr = std::unique_ptr<X509_REVOKED, RevokedDeleter>;

// Sets `t` to `seconds` after the epoch without passing through time_t
// arithmetic (safe where time_t is 32 bits).
bool SetTime(ASN1_TIME* t, std::int64_t seconds) {
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    days -= 1;
  }
  return ASN1_TIME_adj(t, 0, static_cast<int>(days), static_cast<long>(rest)) != nullptr;  // NOLINT
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ossl::Ptr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(ErrorCode::kCrypto,
                        std::string("adding extension ") + OBJ_nid2sn(nid) + " = " + value);
  }
  return {};
}

}  // namespace

Result<ossl::Ptr<EVP_PKEY>> GenerateRsa(int bits) {
  ossl::Ptr<EVP_PKEY> key(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!key) return OpenSslError(ErrorCode::kCrypto, "generating RSA key");
  return key;
}

Result<ossl::Ptr<X509_NAME>> MakeName(const std::string& org, const std::string& cn) {
  ossl::Ptr<X509_NAME> name(X509_NAME_new());
  if (!name) return OpenSslError(ErrorCode::kCrypto, "allocating name");
  auto add = [&](const char* type, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name.get(), type, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  if ((!org.empty() && !add("O", org)) || !add("CN", cn)) {
    return OpenSslError(ErrorCode::kInvalidArgument, "name /O=" + org + "/CN=" + cn);
  }
  return name;
}

Result<ossl::Ptr<X509>> MakeCertificate(const CertParams& p) {
  if (p.subject == nullptr || p.public_key == nullptr || p.serial == nullptr ||
      p.issuer_key == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "certificate: missing subject, key or serial");
  }
  ossl::Ptr<X509> cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(cert.get(), const_cast<ASN1_INTEGER*>(p.serial)) != 1 ||
      X509_set_subject_name(cert.get(), p.subject) != 1 ||
      X509_set_issuer_name(cert.get(), p.issuer != nullptr ? X509_get_subject_name(p.issuer)
                                                           : p.subject) != 1 ||
      !SetTime(X509_getm_notBefore(cert.get()), p.not_before) ||
      !SetTime(X509_getm_notAfter(cert.get()), p.not_after) ||
      X509_set_pubkey(cert.get(), p.public_key) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "building certificate");
  }
  // Self-signed: the certificate is its own issuer for the key identifiers.
  X509* issuer = p.issuer != nullptr ? p.issuer : cert.get();
  SCEPD_TRY_STATUS(AddExtension(cert.get(), issuer, NID_basic_constraints,
                                p.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  if (!p.key_usage.empty()) {
    SCEPD_TRY_STATUS(AddExtension(cert.get(), issuer, NID_key_usage, "critical," + p.key_usage));
  }
  if (!p.extended_key_usage.empty()) {
    SCEPD_TRY_STATUS(AddExtension(cert.get(), issuer, NID_ext_key_usage, p.extended_key_usage));
  }
  SCEPD_TRY_STATUS(AddExtension(cert.get(), issuer, NID_subject_key_identifier, "hash"));
  SCEPD_TRY_STATUS(AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  for (X509_EXTENSION* ext : p.extra_extensions) {
    if (X509_add_ext(cert.get(), ext, -1) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "copying extension into certificate");
    }
  }
  ossl::Ptr<EVP_MD> md(EVP_MD_fetch(nullptr, p.digest.c_str(), nullptr));
  if (!md) return OpenSslError(ErrorCode::kUnsupported, "digest " + p.digest);
  if (X509_sign(cert.get(), p.issuer_key, md.get()) <= 0) {
    return OpenSslError(ErrorCode::kCrypto, "signing certificate");
  }
  return cert;
}

Result<ossl::Ptr<X509_CRL>> MakeCrl(X509* ca, EVP_PKEY* ca_key,
                                    const std::vector<const ASN1_INTEGER*>& revoked,
                                    std::int64_t now) {
  ossl::Ptr<X509_CRL> crl(X509_CRL_new());
  ossl::Ptr<ASN1_TIME> this_update(ASN1_TIME_new());
  ossl::Ptr<ASN1_TIME> next_update(ASN1_TIME_new());
  if (!crl || !this_update || !next_update || !SetTime(this_update.get(), now) ||
      !SetTime(next_update.get(), now + 86400) || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "building CRL");
  }
  for (const ASN1_INTEGER* serial : revoked) {
    RevokedPtr entry(X509_REVOKED_new());
    if (!entry || X509_REVOKED_set_serialNumber(entry.get(), const_cast<ASN1_INTEGER*>(serial)) != 1 ||
        X509_REVOKED_set_revocationDate(entry.get(), this_update.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry.get()) != 1) {
      return OpenSslError(ErrorCode::kCrypto, "adding CRL entry");
    }
    entry.release();  // owned by the CRL now
  }
  ossl::Ptr<EVP_MD> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!md || X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), ca_key, md.get()) <= 0) {
    return OpenSslError(ErrorCode::kCrypto, "signing CRL");
  }
  return crl;
}

Result<Bytes> SignContent(X509* cert, EVP_PKEY* key, const std::string& digest,
                          const Bytes& content) {
  ossl::Ptr<EVP_MD> md(EVP_MD_fetch(nullptr, digest.c_str(), nullptr));
  if (!md) return OpenSslError(ErrorCode::kUnsupported, "digest " + digest + " is not available");
  constexpr unsigned kFlags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  ossl::Ptr<CMS_ContentInfo> cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, kFlags));
  if (!cms || CMS_add1_signer(cms.get(), cert, key, md.get(), kFlags) == nullptr) {
    return OpenSslError(ErrorCode::kCrypto, "creating SignedData");
  }
  ossl::Ptr<BIO> data(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  if (!data || CMS_final(cms.get(), data.get(), nullptr, CMS_BINARY) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "signing SignedData");
  }
  unsigned char* buf = nullptr;
  int n = i2d_CMS_ContentInfo(cms.get(), &buf);
  if (n <= 0) return OpenSslError(ErrorCode::kCrypto, "encoding SignedData");
  Bytes out(buf, buf + n);
  OPENSSL_free(buf);
  return out;
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  ossl::Ptr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "";
  int n = BN_num_bytes(bn.get());
  if (n == 0) return "00";
  Bytes bytes(static_cast<std::size_t>(n));
  BN_bn2bin(bn.get(), bytes.data());
  std::string hex = HexEncode(bytes);
  return BN_is_negative(bn.get()) ? "-" + hex : hex;
}

Result<ossl::Ptr<ASN1_INTEGER>> SerialFromHex(const std::string& hex) {
  if (hex.empty() || hex.size() > 80 ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "serial '" + hex + "' is not hexadecimal");
  }
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) == 0) {
    return OpenSslError(ErrorCode::kInvalidArgument, "serial '" + hex + "'");
  }
  ossl::Ptr<BIGNUM> bn(raw);
  ossl::Ptr<ASN1_INTEGER> out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) return OpenSslError(ErrorCode::kCrypto, "converting serial");
  return out;
}

Result<ossl::Ptr<ASN1_INTEGER>> SerialFromInt(std::uint64_t value) {
  ossl::Ptr<ASN1_INTEGER> out(ASN1_INTEGER_new());
  if (!out || ASN1_INTEGER_set_uint64(out.get(), value) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "converting serial");
  }
  return out;
}

Result<ossl::Ptr<ASN1_INTEGER>> RandomSerial() {
  Bytes b = RandomBytes(8);
  if (b.size() != 8) return OpenSslError(ErrorCode::kCrypto, "random serial");
  b[0] = static_cast<std::uint8_t>((b[0] & 0x7F) | 0x40);  // positive, 8 bytes long
  std::uint64_t v = 0;
  for (std::uint8_t x : b) v = (v << 8) | x;
  return SerialFromInt(v);
}

Bytes RandomBytes(std::size_t n) {
  Bytes out(n);
  if (n != 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) return {};
  return out;
}

}  // namespace scepd::testing::rsp
