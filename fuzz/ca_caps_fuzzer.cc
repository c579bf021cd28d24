// libFuzzer target: GetCACaps bodies. Beyond "no crash", checks what
// ca_caps.h promises: ParseCaCaps never fails and its canonical form parses
// back to the same set; ChooseAlgorithms picks only the names it documents.
// The first input byte chooses the algorithm policy (legacy on/off and one
// of a few forced names, valid or not), the rest is the body.
// Seeds: corpus/ca_caps/ (make-corpus.sh).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "core/scep/ca_caps.h"

namespace {

namespace scep = scepd::scep;

constexpr const char* kCiphers[] = {"", "aes", "3des", "des", "blowfish", "AES128", "rc4"};
constexpr const char* kDigests[] = {"", "sha256", "md5", "SHA1", "sha512", "whirlpool"};

void Check(bool ok, const char* what, std::string_view body) {
  if (!ok) {
    std::fprintf(stderr, "ca_caps_fuzzer: broken promise: %s (body '%.*s')\n", what,
                 static_cast<int>(body.size()), body.data());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const scep::CaCaps caps = scep::ParseCaCaps(body);
  Check(scep::ParseCaCaps(caps.ToString()) == caps, "ToString does not parse back", body);
  (void)scep::UsePost(caps);

  scep::AlgorithmPolicy policy;
  policy.legacy = (data[0] & 1) != 0;
  policy.force_cipher = kCiphers[(data[0] >> 1) % std::size(kCiphers)];
  policy.force_digest = kDigests[(data[0] >> 4) % std::size(kDigests)];
  auto chosen = scep::ChooseAlgorithms(caps, policy);
  if (chosen) {
    static const std::set<std::string> ciphers = {"AES-256-CBC", "AES-192-CBC", "AES-128-CBC",
                                                  "DES-EDE3-CBC", "DES-CBC", "BF-CBC"};
    static const std::set<std::string> digests = {"SHA512", "SHA384", "SHA256",
                                                  "SHA224", "SHA1", "MD5"};
    Check(ciphers.count(chosen->cipher) == 1, "undocumented cipher", body);
    Check(digests.count(chosen->digest) == 1, "undocumented digest", body);
    Check(policy.legacy || (chosen->cipher != "DES-CBC" && chosen->cipher != "BF-CBC" &&
                            chosen->digest != "MD5"),
          "legacy algorithm chosen without legacy", body);
  }
  return 0;
}
