#include "core/ossl.h"

#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/provider.h>

#include <cstdlib>
#include <mutex>

namespace scepd::ossl {

X509StackView MakeX509StackView(std::span<X509* const> certs) {
  X509StackView stack(sk_X509_new_null());
  if (!stack) return stack;
  for (X509* c : certs) {
    if (sk_X509_push(stack.get(), c) <= 0) return X509StackView();
  }
  return stack;
}

namespace {
std::string Name(std::string_view what) { return std::string(what); }

Ptr<BIO> MemBio(std::span<const std::uint8_t> data) {
  return Ptr<BIO>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}
Ptr<BIO> MemBio(std::string_view text) {
  return Ptr<BIO>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

bool LooksLikePem(std::span<const std::uint8_t> data) {
  static constexpr std::string_view kMarker = "-----BEGIN";
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  return text.find(kMarker) != std::string_view::npos;
}

std::string BioToString(BIO* bio) {
  Bytes b = BioToBytes(bio);
  return std::string(b.begin(), b.end());
}
}  // namespace

Ptr<ASN1_OBJECT> ObjectFromText(std::string_view text) {
  if (text.empty() || text.find('\0') != std::string_view::npos) return {};
  Ptr<ASN1_OBJECT> obj(OBJ_txt2obj(std::string(text).c_str(), 0));
  if (obj && OBJ_length(obj.get()) == 0) obj.reset();
  if (!obj) ClearOpenSslErrors();
  return obj;
}

Bytes BioToBytes(BIO* bio) {
  const char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  if (n <= 0 || data == nullptr) return {};
  return Bytes(data, data + n);
}

Result<Ptr<X509>> CertFromDer(std::span<const std::uint8_t> der, std::string_view what) {
  const unsigned char* p = der.data();
  Ptr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (!cert) return OpenSslError(ErrorCode::kParse, Name(what) + ": not a DER certificate");
  if (p != der.data() + der.size()) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kParse, Name(what) + ": trailing bytes after DER certificate");
  }
  return cert;
}

Result<Ptr<X509>> CertFromPem(std::string_view pem, std::string_view what) {
  auto bio = MemBio(pem);
  Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslError(ErrorCode::kParse, Name(what) + ": not a PEM certificate");
  return cert;
}

Result<Ptr<X509>> CertFromPemOrDer(std::span<const std::uint8_t> data, std::string_view what) {
  if (LooksLikePem(data)) {
    return CertFromPem(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()),
                       what);
  }
  return CertFromDer(data, what);
}

Result<std::vector<Ptr<X509>>> CertsFromPem(std::string_view pem, std::string_view what) {
  auto bio = MemBio(pem);
  std::vector<Ptr<X509>> certs;
  while (true) {
    Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    certs.push_back(std::move(cert));
  }
  ClearOpenSslErrors();  // the loop ends on "no start line"
  if (certs.empty()) {
    return MakeError(ErrorCode::kParse, Name(what) + ": no PEM certificate found");
  }
  return certs;
}

Result<Bytes> CertToDer(X509* cert) { return ToDer(cert, i2d_X509, "certificate"); }

Result<std::string> CertToPem(X509* cert) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "encoding certificate as PEM");
  }
  return BioToString(bio.get());
}

namespace {
// OpenSSL 3.0's PEM_read_bio_PrivateKey asks every decoder of every key
// type whether it can read the text: about 4.2 M instructions per key on
// x86-64, three times the cost of the decoding itself. Told the structure
// and the key type it takes about 1.3 M, and a renewal reads several keys.
// The key type comes from the PEM label, or from a PKCS#8 key's algorithm
// OID. Anything else (encrypted, several blocks, an unknown label) takes
// the general path, as does a key the narrow decoder refuses, so the
// errors stay those of PEM_read_bio_PrivateKey.
const char* KeyTypeOfPkcs8(const unsigned char* der, long len) {  // NOLINT(runtime/int)
  Ptr<PKCS8_PRIV_KEY_INFO> p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &der, len));
  const ASN1_OBJECT* alg = nullptr;
  if (!p8 || PKCS8_pkey_get0(&alg, nullptr, nullptr, nullptr, p8.get()) != 1) return nullptr;
  switch (OBJ_obj2nid(alg)) {
    case NID_rsaEncryption: return "RSA";
    case NID_rsassaPss: return "RSA-PSS";
    case NID_X9_62_id_ecPublicKey: return "EC";
    case NID_ED25519: return "ED25519";
    case NID_ED448: return "ED448";
    default: return nullptr;
  }
}

Ptr<EVP_PKEY> PrivateKeyFromPemHinted(std::string_view pem) {
  auto bio = MemBio(pem);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* der = nullptr;
  long len = 0;  // NOLINT(runtime/int)
  if (!bio || PEM_read_bio(bio.get(), &name, &header, &der, &len) != 1) {
    ClearOpenSslErrors();
    return {};
  }
  const std::string_view label(name);
  const char* structure = nullptr;
  const char* type = nullptr;
  if (header != nullptr && header[0] != '\0') {
    // Proc-Type/DEK-Info: an encrypted legacy key, for the general path.
  } else if (label == "PRIVATE KEY") {
    structure = "PrivateKeyInfo";
    type = KeyTypeOfPkcs8(der, len);
  } else if (label == "RSA PRIVATE KEY") {
    structure = "type-specific";
    type = "RSA";
  } else if (label == "EC PRIVATE KEY") {
    structure = "type-specific";
    type = "EC";
  }
  Ptr<EVP_PKEY> key;
  if (type != nullptr) {
    EVP_PKEY* out = nullptr;
    Ptr<OSSL_DECODER_CTX> ctx(OSSL_DECODER_CTX_new_for_pkey(&out, "DER", structure, type,
                                                            EVP_PKEY_KEYPAIR, nullptr, nullptr));
    const unsigned char* p = der;
    std::size_t left = static_cast<std::size_t>(len);
    if (ctx && OSSL_DECODER_from_data(ctx.get(), &p, &left) == 1) key.reset(out);
  }
  OPENSSL_clear_free(der, static_cast<std::size_t>(len));
  OPENSSL_free(header);
  OPENSSL_free(name);
  ClearOpenSslErrors();
  return key;
}
}  // namespace

Result<Ptr<EVP_PKEY>> PrivateKeyFromPem(std::string_view pem, std::string_view what) {
  if (Ptr<EVP_PKEY> key = PrivateKeyFromPemHinted(pem)) return key;
  auto bio = MemBio(pem);
  // An empty passphrase callback: encrypted keys fail instead of prompting.
  Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(
      bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!key) return OpenSslError(ErrorCode::kParse, Name(what) + ": not an unencrypted PEM private key");
  return key;
}

Result<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  Ptr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio) bio.reset(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "encoding private key as PEM");
  }
  return BioToString(bio.get());
}

Result<Ptr<X509_REQ>> CsrFromPemOrDer(std::span<const std::uint8_t> data, std::string_view what) {
  Ptr<X509_REQ> req;
  if (LooksLikePem(data)) {
    auto bio = MemBio(data);
    req.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = data.data();
    req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(data.size())));  // NOLINT
  }
  if (!req) return OpenSslError(ErrorCode::kParse, Name(what) + ": not a PKCS#10 request");
  return req;
}

Result<Bytes> CsrToDer(X509_REQ* req) { return ToDer(req, i2d_X509_REQ, "request"); }

Result<std::string> CsrToPem(X509_REQ* req) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "encoding request as PEM");
  }
  return BioToString(bio.get());
}

Result<std::string> CrlToPem(X509_CRL* crl) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl) != 1) {
    return OpenSslError(ErrorCode::kCrypto, "encoding CRL as PEM");
  }
  return BioToString(bio.get());
}

namespace {
OSSL_PROVIDER* g_default_provider = nullptr;
OSSL_PROVIDER* g_legacy_provider = nullptr;

// Registered after OpenSSL's own exit handler, so it runs first: the
// providers go before the library context they live in.
void UnloadProviders() {
  if (g_legacy_provider != nullptr) OSSL_PROVIDER_unload(g_legacy_provider);
  if (g_default_provider != nullptr) OSSL_PROVIDER_unload(g_default_provider);
  g_legacy_provider = g_default_provider = nullptr;
}
}  // namespace

Status EnableLegacyAlgorithms() {
  static std::once_flag once;
  static bool loaded = false;
  std::call_once(once, [] {
    // Loading any provider explicitly turns off the implicit "default", so
    // load both. They stay loaded until the process exits.
    g_default_provider = OSSL_PROVIDER_load(nullptr, "default");
    g_legacy_provider = OSSL_PROVIDER_load(nullptr, "legacy");
    loaded = g_default_provider != nullptr && g_legacy_provider != nullptr;
    std::atexit(UnloadProviders);
  });
  if (!loaded) {
    return OpenSslError(ErrorCode::kUnsupported,
                        "OpenSSL legacy provider (needed for DES replies) could not be loaded");
  }
  return {};
}

}  // namespace scepd::ossl
