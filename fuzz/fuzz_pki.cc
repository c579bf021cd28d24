#include "fuzz/fuzz_pki.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace scepd::fuzz {
namespace {

std::string ReadOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) {
    std::fprintf(stderr, "fuzz: cannot read %s (run fuzz/make-corpus.sh)\n", path.c_str());
    std::abort();
  }
  return text.str();
}

FuzzPki Load() {
  const std::string dir = SCEPD_FUZZ_PKI_DIR;
  auto key = ossl::PrivateKeyFromPem(ReadOrDie(dir + "/fuzz.key"), "fuzz.key");
  auto cert = ossl::CertFromPem(ReadOrDie(dir + "/fuzz.crt"), "fuzz.crt");
  if (!key || !cert) {
    std::fprintf(stderr, "fuzz: %s\n",
                 (!key ? key.error() : cert.error()).message.c_str());
    std::abort();
  }
  return FuzzPki{std::move(*key), std::move(*cert)};
}

}  // namespace

const FuzzPki& GetFuzzPki() {
  static const FuzzPki pki = Load();
  return pki;
}

}  // namespace scepd::fuzz
