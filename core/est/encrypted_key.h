#pragma once
// The CMS-encrypted form of a server-generated key (RFC 7030 sections
// 4.4.1.1 and 4.4.2): the request names the key the server is to encrypt
// to with the AsymmetricDecryptKeyIdentifier attribute; the answer's key
// part (application/pkcs7-mime; smime-type=server-generated-key) is an
// EnvelopedData for that key around a SignedData whose content is an
// AsymmetricKeyPackage (RFC 5958) or a PKCS#8 PrivateKeyInfo. Key transport
// only (the recipient's certificate and key, RSA or EC as OpenSSL's CMS
// decrypts them); symmetric (DecryptKeyIdentifier) keys are not supported.

#include <openssl/x509.h>

#include <cstdint>
#include <span>
#include <string>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace scepd::est {

// id-aa-asymmDecryptKeyID (RFC 7030 section 4.4.1.1).
inline constexpr char kAsymmetricDecryptKeyIdOid[] = "1.2.840.113549.1.9.16.2.54";

// The key identifier of `cert`'s key: its subjectKeyIdentifier, else the
// SHA-1 of the subjectPublicKey bits (RFC 5280 section 4.2.1.2, method 1).
Result<Bytes> KeyIdentifier(X509* cert);

// Adds the AsymmetricDecryptKeyIdentifier attribute naming `decrypt_cert`'s
// key to `req` and signs `req` again with `signer` (its own key) and
// `digest`.
Status RequestEncryptedKey(X509_REQ* req, X509* decrypt_cert, EVP_PKEY* signer,
                           const std::string& digest);

// The private key in a server-generated-key part (`der`, the base64-decoded
// ContentInfo): decrypted with `key` for the recipient `cert`, the
// SignedData's signature checked (its signer is not: the answer came over
// TLS from the authenticated server), the first key of the package. Fails
// with kVerify (cannot decrypt: not for this key; or the signature) or
// kParse, each message starting with `what`. Every copy of the plaintext
// made here is wiped.
Result<ossl::Ptr<EVP_PKEY>> OpenServerGeneratedKey(std::span<const std::uint8_t> der, X509* cert,
                                                   EVP_PKEY* key, const std::string& what);

}  // namespace scepd::est
