// libFuzzer target: what an EST server sends back (core/est). The first
// input byte picks the path, the rest is the body:
//   0  /simpleenroll 200 application/pkcs7-mime (base64 certs-only), for
//      the fixed key: an Issued outcome must carry that key
//   1  /csrattrs DER (ParseCsrAttrs)
//   2  /serverkeygen multipart/mixed, boundary "b1": a key and a
//      certificate that belong together
//   3  a Retry-After value: never before "now"
//   4  /cacerts 200 (InterpretCaCerts): at least one certificate
// Seeds: corpus/est_response/ (make-corpus.sh).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

#include "core/est/csr_attrs.h"
#include "core/est/est_outcome.h"
#include "core/est/server_keygen.h"
#include "core/key.h"
#include "fuzz/fuzz_pki.h"

namespace {

namespace est = scepd::est;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "est_response_fuzzer: broken promise: %s\n", what);
    std::abort();
  }
}

scepd::HttpResponse Response(const std::uint8_t* data, std::size_t size, const char* type,
                             const char* header) {
  scepd::HttpResponse r;
  r.status = 200;
  r.content_type = type;
  r.content_type_header = header;
  r.body.assign(data, data + size);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0] % 5;
  ++data;
  --size;
  constexpr std::int64_t kNow = 1700000000;
  switch (mode) {
    case 0: {
      EVP_PKEY* key = scepd::fuzz::GetFuzzPki().key.get();
      auto outcome = est::InterpretEnroll(
          Response(data, size, "application/pkcs7-mime", "application/pkcs7-mime"), key, kNow);
      if (outcome.ok()) {
        const auto* issued = std::get_if<est::Issued>(&*outcome);
        Check(issued != nullptr && issued->cert != nullptr, "200 without an Issued certificate");
        Check(scepd::SamePublicKey(X509_get0_pubkey(issued->cert.get()), key),
              "Issued certificate is not for the key");
      }
      break;
    }
    case 1: {
      auto attrs = est::ParseCsrAttrs({data, size});
      if (attrs.ok() && attrs->ec_curve) {
        Check(scepd::GenerateEcKey(*attrs->ec_curve).ok(), "curve reported but not usable");
      }
      break;
    }
    case 2: {
      auto outcome = est::InterpretServerKeygen(
          Response(data, size, "multipart/mixed", "multipart/mixed; boundary=b1"), kNow);
      if (outcome.ok()) {
        const auto* done = std::get_if<est::ServerKeyIssued>(&*outcome);
        Check(done != nullptr && done->key && done->issued.cert, "200 without key and cert");
        Check(scepd::SamePublicKey(X509_get0_pubkey(done->issued.cert.get()), done->key.get()),
              "server key and certificate differ");
      }
      break;
    }
    case 3: {
      auto at = est::ParseRetryAfter(
          std::string_view(reinterpret_cast<const char*>(data), size), kNow);
      if (at.ok()) Check(*at >= kNow, "retry time before now");
      break;
    }
    default: {
      auto certs = est::InterpretCaCerts(
          Response(data, size, "application/pkcs7-mime", "application/pkcs7-mime"));
      if (certs.ok()) Check(!certs->empty(), "cacerts without certificates");
      break;
    }
  }
  scepd::ClearOpenSslErrors();
  return 0;
}
