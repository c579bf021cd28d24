// libFuzzer target: the CA's certificates as the client receives them.
// The first input byte picks the path, the rest is the HTTP body:
//   0-4  ParseGetCaCert with one of five Content-Types (the two RFC 8894
//        ones, none, a wrong one, one with parameters), so both the typed
//        parse and the sniffing fallbacks run
//   5    ParseCertsOnly, then SelectCaRoles on its certificates
//   6    ParseGetNextCaCert, the current CA being the fixed certificate
// Every CaCertificates returned is checked for what ca_certs.h promises:
// role indexes inside `all`, non-null role certificates. A broken promise
// aborts (a crash for libFuzzer).
// Seeds: corpus/ca_certs/ (make-corpus.sh).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include <openssl/err.h>

#include "core/ossl.h"
#include "core/scep/ca_certs.h"
#include "core/scep/certs_only.h"
#include "fuzz/fuzz_pki.h"

namespace {

namespace ossl = scepd::ossl;
namespace scep = scepd::scep;

constexpr std::string_view kContentTypes[] = {
    "application/x-x509-ca-cert",
    "application/x-x509-ca-ra-cert",
    "",
    "text/html",
    "Application/X-X509-CA-RA-Cert; charset=binary",
};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "ca_certs_fuzzer: broken promise: %s\n", what);
    std::abort();
  }
}

void CheckRoles(const scepd::Result<scep::CaCertificates>& result) {
  if (!result) return;
  const scep::CaCertificates& c = *result;
  Check(!c.all.empty(), "no certificates");
  Check(c.ca < c.all.size() && c.encryption < c.all.size() && c.signer < c.all.size(),
        "role index outside `all`");
  for (std::size_t i : c.ra) Check(i < c.all.size(), "RA index outside `all`");
  Check(c.Ca() != nullptr && c.Encryption() != nullptr && c.Signer() != nullptr,
        "null role certificate");
  for (X509* t : c.Trusted()) Check(t != nullptr, "null trusted certificate");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)scepd::fuzz::GetFuzzPki();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::span<const std::uint8_t> body(data + 1, size - 1);
  const unsigned mode = data[0] % 7;
  if (mode < std::size(kContentTypes)) {
    CheckRoles(scep::ParseGetCaCert(kContentTypes[mode], body));
  } else if (mode == 5) {
    auto parsed = scep::ParseCertsOnly(body);
    if (parsed && !parsed->certs.empty()) CheckRoles(scep::SelectCaRoles(std::move(parsed->certs)));
  } else {
    scep::CaCertificates current;
    current.all.push_back(ossl::UpRef(scepd::fuzz::GetFuzzPki().cert.get()));
    CheckRoles(scep::ParseGetNextCaCert(body, current));
  }
  ERR_clear_error();
  return 0;
}
