#pragma once
// libcurl's entry points as a table, so the daemon can load libcurl only
// when it first talks to a CA instead of at every start.
//
// libcurl pulls in about 25 further shared libraries (HTTP/2, IDN, SSH,
// LDAP, Kerberos, GnuTLS for RTMP, ...). Loading them costs the dynamic
// loader most of a process start and leaves their writable data in private
// memory for as long as the process lives, though the daemon needs the
// network once a year. With SCEPD_CURL_DLOPEN (the default build) the table
// is filled by dlopen("libcurl.so.4") on first use; otherwise it points at
// the functions linked in the usual way. Either way the library stays
// loaded until exit: libcurl brings libssl, which registers itself with
// libcrypto (error strings, exit handlers) and must not be unloaded while
// libcrypto lives.

#include <curl/curl.h>

#include "core/result.h"

namespace scepd {

struct CurlApi {
  CURLcode (*global_init)(long flags);  // NOLINT(runtime/int): libcurl's type
  const char* (*easy_strerror)(CURLcode code);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL* handle);
  void (*easy_reset)(CURL* handle);
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* handle);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  CURLU* (*url)();
  void (*url_cleanup)(CURLU* url);
  CURLUcode (*url_set)(CURLU* url, CURLUPart part, const char* content, unsigned int flags);
  CURLUcode (*url_get)(const CURLU* url, CURLUPart part, char** content, unsigned int flags);
  const char* (*url_strerror)(CURLUcode code);
  void (*free)(void* p);
  curl_slist* (*slist_append)(curl_slist* list, const char* string);
  void (*slist_free_all)(curl_slist* list);
};

// The table, loaded and curl_global_init'ed once per process (thread-safe).
// Fails with kUnsupported naming the library and the loader's reason when
// libcurl cannot be loaded or lacks a function, kInternal when
// curl_global_init fails; a failure is remembered, not retried.
Result<const CurlApi*> LoadCurl();

// True when this build loads libcurl at run time (SCEPD_CURL_DLOPEN).
bool CurlLoadedAtRunTime();

}  // namespace scepd
