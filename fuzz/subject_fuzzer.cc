// libFuzzer target: the router's "Certificate Subject" text. Beyond "no
// crash", checks subject.h's round trip: whatever ParseSubject accepts,
// FormatSubject prints in a form ParseSubject accepts again as an equal name
// (X509_NAME_cmp, which ignores the string-type normalisation the header
// allows), and printing is stable after one round.
// Seeds: corpus/subject/ (make-corpus.sh).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "core/subject.h"

namespace {

void Fail(const char* what, std::string_view input, const std::string& printed) {
  std::fprintf(stderr, "subject_fuzzer: %s\n  input:   '%.*s'\n  printed: '%s'\n", what,
               static_cast<int>(input.size()), input.data(), printed.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto name = scepd::ParseSubject(text);
  if (!name) {
    ERR_clear_error();
    return 0;
  }
  const std::string printed = scepd::FormatSubject(name->get());
  auto again = scepd::ParseSubject(printed);
  if (!again) Fail(("printed form does not parse: " + again.error().message).c_str(), text, printed);
  if (X509_NAME_cmp(name->get(), again->get()) != 0) Fail("printed form parses to another name", text, printed);
  if (scepd::FormatSubject(again->get()) != printed) Fail("printing is not stable", text, printed);
  ERR_clear_error();
  return 0;
}
