// libFuzzer target: the router's "Alternative Name" text. Whatever
// ParseAltNames accepts must also encode as a subjectAltName extension (what
// the CSR builder does with it) and print through OpenSSL; a failure to
// encode an accepted value aborts (a crash for libFuzzer).
// Seeds: corpus/alt_name/ (make-corpus.sh).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/alt_name.h"
#include "core/ossl.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto names = scepd::ParseAltNames(text);
  if (!names) {
    ERR_clear_error();
    return 0;
  }
  GENERAL_NAMES* gens = names->get();
  if (sk_GENERAL_NAME_num(gens) > 0) {
    scepd::ossl::Ptr<X509_EXTENSION> ext(
        X509V3_EXT_i2d(NID_subject_alt_name, 0, gens));
    if (!ext) {
      std::fprintf(stderr, "alt_name_fuzzer: accepted '%.*s' does not encode\n",
                   static_cast<int>(text.size()), text.data());
      std::abort();
    }
    scepd::ossl::Ptr<BIO> out(BIO_new(BIO_s_mem()));
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); ++i) {
      GENERAL_NAME_print(out.get(), sk_GENERAL_NAME_value(gens, i));
    }
  }
  ERR_clear_error();
  return 0;
}
