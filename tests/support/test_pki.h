#pragma once
// Throwaway PKI for tests: RSA keys (cached, key generation is slow under
// emulation) and certificates with chosen names, usages and validity.

#include <cstdint>
#include <ctime>
#include <string>

#include "core/ossl.h"

namespace scepd::testing {

// A fresh reference to one of a few cached RSA keys; `index` picks a
// distinct key (0..7) so tests can have "ours" and "someone else's". 1024-
// and 2048-bit keys are made once per build tree (kept in
// <build>/tests/cached-keys, 0600, so every test process of a ctest run
// shares them); other sizes are new each call.
ossl::Ptr<EVP_PKEY> CachedKey(int index, int bits = 2048);

struct CertSpec {
  std::string subject = "/CN=test";  // "/type=value/..." as openssl -subj
  long serial = 1;                   // NOLINT(runtime/int)
  bool is_ca = false;
  // X509v3 key usage bits (KU_DIGITAL_SIGNATURE, KU_KEY_ENCIPHERMENT, ...);
  // 0 leaves the extension out.
  int key_usage = 0;
  std::int64_t not_before = 0;  // seconds since the epoch; 0 = now - 1h
  std::int64_t not_after = 0;   // 0 = not_before + 30 days
  std::string digest = "SHA256";
  // subjectAltName in OpenSSL's config form ("DNS:localhost,IP:127.0.0.1");
  // empty leaves the extension out.
  std::string alt_names;
};

// Issues a certificate for `key`'s public half, signed by issuer_key; with no
// issuer_cert it is self-signed. Aborts the test on failure.
ossl::Ptr<X509> MakeCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer_cert,
                         EVP_PKEY* issuer_key);

// A certificate as a test CA issues it for a request: `subject` and `key`
// as asked, version 3, `serial`, valid from an hour ago for `valid_s`
// seconds, the requested `extensions` (null: none) copied, signed by
// `ca_key` with SHA-256. Null when OpenSSL fails; adds no test failure, so
// a server thread may call it.
ossl::Ptr<X509> IssueForRequest(const X509_NAME* subject, EVP_PKEY* key, X509* ca,
                                EVP_PKEY* ca_key, long serial,  // NOLINT(runtime/int)
                                std::int64_t valid_s = 86400,
                                const STACK_OF(X509_EXTENSION)* extensions = nullptr);

// A small CA: a self-signed CA certificate (keyCertSign + cRLSign only, like
// micromdm's) and its key.
struct TestCa {
  ossl::Ptr<EVP_PKEY> key;
  ossl::Ptr<X509> cert;
};
TestCa MakeTestCa(const std::string& subject = "/O=Test CA/CN=Test CA", int key_index = 7);

}  // namespace scepd::testing
