// libFuzzer target: a certificate file as the routine check reads it
// (core/cert_summary.h: latest.crt and ca.crt-N, PEM or DER). Beyond "no
// crash", a differential check: whenever the summary reads the bytes and
// OpenSSL's full parse reads them too, both must give the same serial,
// subject, validity and RSA key, since the daemon takes the summary for
// the full parse.
// Seeds: corpus/cert_summary/ (make-corpus.sh).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include <openssl/err.h>

#include "core/cert_summary.h"
#include "core/ossl.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  auto summary = scepd::SummarizeCertificateFile(bytes);
  if (summary) {
    auto cert = scepd::ossl::CertFromPemOrDer(bytes, "fuzz");
    if (cert.ok() && !(scepd::SummaryOf(cert->get()) == *summary)) {
      const scepd::CertSummary full = scepd::SummaryOf(cert->get());
      std::fprintf(stderr,
                   "cert_summary_fuzzer: the summary disagrees with the full parse\n"
                   "  serial  %s | %s\n  subject %s | %s\n",
                   summary->serial.c_str(), full.serial.c_str(), summary->subject.c_str(),
                   full.subject.c_str());
      std::abort();
    }
  }
  ERR_clear_error();
  return 0;
}
