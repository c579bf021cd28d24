// libFuzzer target: a CMP server's answer (core/cmp). The input is the HTTP
// body of a 200 application/pkixcmp response: ParseCmpResponse decodes it,
// then the same bytes are the answer to an ir in a CmpSession (PBM secret
// "ssh", the fixed fuzz key as the new key), so OpenSSL's checks of the
// answer (header, transaction ID and nonces, protection, status, the
// certificate response, extraCerts and caPubs) run on it as they would
// against a server. Each outcome must be well formed.
// Seeds: corpus/cmp_response/ (make-corpus.sh, from `openssl cmp
// -use_mock_srv ... -rspout`).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/cmp/cmp_client.h"
#include "fuzz/fuzz_pki.h"

namespace {

struct Replay final : scepd::Transport {
  scepd::HttpResponse response;
  scepd::Result<scepd::HttpResponse> Send(const scepd::HttpRequest&) override { return response; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Replay transport;
  transport.response.status = 200;
  transport.response.content_type = "application/pkixcmp";
  transport.response.body.assign(data, data + size);
  static_cast<void>(scepd::cmp::ParseCmpResponse(transport.response));

  scepd::cmp::CmpOptions options;
  options.url = "http://127.0.0.1/pkix/";
  options.allow_unprotected_errors = size > 0 && (data[0] & 1) != 0;
  scepd::cmp::MacProtection mac{"62154", "ssh"};
  auto session = scepd::cmp::CmpSession::Create(transport, options, &mac, nullptr);
  if (!session) std::abort();  // nothing here depends on the input
  const auto& pki = scepd::fuzz::GetFuzzPki();
  scepd::cmp::NewCertRequest request;
  request.new_key = pki.key.get();
  request.subject = "/CN=fuzz";
  auto out = (*session)->Start(request);
  if (out && out->kind == scepd::cmp::Outcome::Kind::kIssued && out->cert == nullptr) {
    std::fprintf(stderr, "cmp_response_fuzzer: issued without a certificate\n");
    std::abort();
  }
  if (out && out->kind == scepd::cmp::Outcome::Kind::kPending) {
    static_cast<void>((*session)->Poll());
  }
  return 0;
}
