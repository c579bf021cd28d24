#include "io/curl_library.h"

#include <mutex>
#include <string>

#ifdef SCEPD_CURL_DLOPEN
#include <dlfcn.h>
#endif

namespace scepd {
namespace {

#ifdef SCEPD_CURL_DLOPEN

// The SONAME libcurl has had since 7.16 (2006); the headers this was
// compiled against describe the same ABI.
constexpr const char* kLibcurl = "libcurl.so.4";

// Looks `name` up into `slot`; records the first missing name.
template <class Fn>
void Resolve(void* library, const char* name, Fn*& slot, std::string& missing) {
  slot = reinterpret_cast<Fn*>(dlsym(library, name));
  if (slot == nullptr && missing.empty()) missing = name;
}

Result<CurlApi> Open() {
  // RTLD_LOCAL: libcurl's dependencies stay out of the global namespace.
  // RTLD_NODELETE: never unmapped, whatever happens to the handle (see the
  // header: libssl must outlive nothing of libcrypto's).
  void* library = dlopen(kLibcurl, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (library == nullptr) {
    const char* why = dlerror();
    return MakeError(ErrorCode::kUnsupported, std::string("cannot load ") + kLibcurl + ": " +
                                                  (why != nullptr ? why : "unknown reason"));
  }
  CurlApi api{};
  std::string missing;
  Resolve(library, "curl_global_init", api.global_init, missing);
  Resolve(library, "curl_easy_strerror", api.easy_strerror, missing);
  Resolve(library, "curl_easy_init", api.easy_init, missing);
  Resolve(library, "curl_easy_cleanup", api.easy_cleanup, missing);
  Resolve(library, "curl_easy_reset", api.easy_reset, missing);
  Resolve(library, "curl_easy_setopt", api.easy_setopt, missing);
  Resolve(library, "curl_easy_perform", api.easy_perform, missing);
  Resolve(library, "curl_easy_getinfo", api.easy_getinfo, missing);
  Resolve(library, "curl_url", api.url, missing);
  Resolve(library, "curl_url_cleanup", api.url_cleanup, missing);
  Resolve(library, "curl_url_set", api.url_set, missing);
  Resolve(library, "curl_url_get", api.url_get, missing);
  Resolve(library, "curl_url_strerror", api.url_strerror, missing);
  Resolve(library, "curl_free", api.free, missing);
  Resolve(library, "curl_slist_append", api.slist_append, missing);
  Resolve(library, "curl_slist_free_all", api.slist_free_all, missing);
  if (!missing.empty()) {
    // Too old a libcurl (curl_url_strerror came in 7.80.0).
    return MakeError(ErrorCode::kUnsupported,
                     std::string(kLibcurl) + " lacks " + missing + " (libcurl 7.85 or later needed)");
  }
  return api;
}

#else  // linked in the usual way

Result<CurlApi> Open() {
  CurlApi api{};
  api.global_init = &curl_global_init;
  api.easy_strerror = &curl_easy_strerror;
  api.easy_init = &curl_easy_init;
  api.easy_cleanup = &curl_easy_cleanup;
  api.easy_reset = &curl_easy_reset;
  api.easy_setopt = &curl_easy_setopt;
  api.easy_perform = &curl_easy_perform;
  api.easy_getinfo = &curl_easy_getinfo;
  api.url = &curl_url;
  api.url_cleanup = &curl_url_cleanup;
  api.url_set = &curl_url_set;
  api.url_get = &curl_url_get;
  api.url_strerror = &curl_url_strerror;
  api.free = &curl_free;
  api.slist_append = &curl_slist_append;
  api.slist_free_all = &curl_slist_free_all;
  return api;
}

#endif

}  // namespace

Result<const CurlApi*> LoadCurl() {
  static std::once_flag once;
  static CurlApi api{};
  static Error failure;
  static bool loaded = false;
  std::call_once(once, [] {
    auto opened = Open();
    if (!opened.ok()) {
      failure = opened.error();
      return;
    }
    // Global state set up once, never torn down: transports may live
    // until exit.
    const CURLcode rc = opened->global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
      failure = MakeError(ErrorCode::kInternal,
                          std::string("cannot initialise libcurl: ") + opened->easy_strerror(rc));
      return;
    }
    api = *opened;
    loaded = true;
  });
  if (!loaded) return failure;
  return &api;
}

bool CurlLoadedAtRunTime() {
#ifdef SCEPD_CURL_DLOPEN
  return true;
#else
  return false;
#endif
}

}  // namespace scepd
