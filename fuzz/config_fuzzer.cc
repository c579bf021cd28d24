// libFuzzer target: scepd's settings file, through ParseConfig (the text
// LoadConfig reads). Beyond "no crash", checks config.h's promise that
// FormatEffectiveConfig prints settings that parse back to the same Config
// (except the masked inline challenge password), and RequestSpec's: every
// accepted [certificate] with a subject makes a request BuildCsr accepts
// (signed with the fixed fuzz key), so no accepted value can fail each
// enrollment later.
// The serial number seam points at nothing: no file is consulted and
// serial_number_command runs as `/bin/false -c ...`, so the fuzzer never
// executes the commands it invents. Run it with stdin from /dev/null
// (scripts/fuzz.sh does): a challenge_password_file of /dev/stdin is read.
// Seeds: corpus/config/ (make-corpus.sh).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/csr.h"
#include "daemon/config.h"
#include "daemon/serial_number.h"
#include "fuzz/fuzz_pki.h"

namespace {

const scepd::SerialSources& Sources() {
  static const scepd::SerialSources sources = [] {
    scepd::SerialSources s;
    s.files.clear();
    s.shell = "/bin/false";
    s.command_timeout_ms = 1000;
    return s;
  }();
  return sources;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = scepd::ParseConfig(text, "fuzz.conf", Sources());
  if (!config) return 0;
  const std::string printed = scepd::FormatEffectiveConfig(*config);
  auto again = scepd::ParseConfig(printed, "effective.conf", Sources());
  if (!again) {
    std::fprintf(stderr, "config_fuzzer: the effective settings do not parse:\n%s\n--- printed:\n%s\n",
                 again.error().message.c_str(), printed.c_str());
    std::abort();
  }
  if (again->certificates.size() == config->certificates.size()) {
    for (std::size_t i = 0; i < again->certificates.size(); ++i) {
      again->certificates[i].challenge_password = config->certificates[i].challenge_password;
    }
  }
  if (!(*again == *config)) {
    std::fprintf(stderr, "config_fuzzer: the effective settings parse to other values\n"
                 "--- printed:\n%s\n", printed.c_str());
    std::abort();
  }
  for (const scepd::CertificateSettings& cert : config->certificates) {
    if (cert.subject.empty()) continue;  // enabled = no: no request is made
    auto csr = scepd::BuildCsr(scepd::RequestSpec(cert), scepd::fuzz::GetFuzzPki().key.get());
    if (!csr) {
      std::fprintf(stderr, "config_fuzzer: accepted settings make no request: %s\n--- printed:\n%s\n",
                   csr.error().message.c_str(), printed.c_str());
      std::abort();
    }
  }
  return 0;
}
