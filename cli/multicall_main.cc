// main() of the multi-call binary: dispatches on the name it was started
// under (argv[0]'s last component): "scep-client" (or anything ending in
// "scepclient", as links named after the Tectia program may be), "cmp-client"
// (or ending in "cmpclient"/"cmpclient-g3"), else sscep.
// `sscep --applet scep-client ...` does the same without a link.

#include <cstring>
#include <string_view>

#include "cli/multicall.h"
#include "io/core_dumps.h"
#include "io/openssl_memory.h"

namespace {
// Before anything else: OpenSSL wipes what it frees (installed before its
// first allocation), and keys and the challenge stay out of core files.
void StartSafely() {
  (void)scepd::WipeOpenSslMemoryOnFree();
  (void)scepd::DisableCoreDumps();
}
}  // namespace

#if defined(SCEPD_ONLY_SSCEP)  // SCEPD_SPLIT_CLIS: the size comparison's single-command builds
int main(int argc, char** argv) {
  StartSafely();
  return scepd::cli::SscepMain(argc, argv);
}
#elif defined(SCEPD_ONLY_SCEP_CLIENT)
int main(int argc, char** argv) {
  StartSafely();
  return scepd::cli::ScepClientMain(argc, argv);
}
#else
int main(int argc, char** argv) {
  using namespace scepd::cli;  // NOLINT(build/namespaces)
  StartSafely();
  if (argc >= 3 && std::strcmp(argv[1], "--applet") == 0) {
    std::string_view applet = argv[2];
    argv[2] = argv[0];
    if (applet == "scep-client") return ScepClientMain(argc - 2, argv + 2);
    if (applet == "sscep") return SscepMain(argc - 2, argv + 2);
    if (applet == "cmp-client") return CmpClientMain(argc - 2, argv + 2);
    return 1;
  }
  std::string_view name = argc > 0 && argv[0] != nullptr ? argv[0] : "sscep";
  if (auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
  if (name == "cmp-client" || name.ends_with("cmpclient") || name.ends_with("cmpclient-g3")) {
    return CmpClientMain(argc, argv);
  }
  if (name == "scep-client" || name.ends_with("scepclient") || name.ends_with("scepclient-g3")) {
    return ScepClientMain(argc, argv);
  }
  return SscepMain(argc, argv);
}
#endif
