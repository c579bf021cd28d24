// io/curl_library: libcurl is loaded by the first LoadCurl, not at start.
// ctest runs every test in a process of its own, so "not loaded before" is
// this test's own process state.

#include "io/curl_library.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

namespace scepd {
namespace {

bool CurlIsMapped() {
  void* handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);  // drops only the reference NOLOAD took
  return true;
}

TEST(CurlLibraryTest, LoadedOnFirstUseOnlyAndOnce) {
  if (!CurlLoadedAtRunTime()) GTEST_SKIP() << "SCEPD_CURL_DLOPEN=OFF: libcurl is linked in";
  EXPECT_FALSE(CurlIsMapped()) << "libcurl was loaded before anything needed it";
  auto api = LoadCurl();
  ASSERT_TRUE(api.ok()) << api.error().message;
  EXPECT_TRUE(CurlIsMapped());
  auto again = LoadCurl();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *api);
}

TEST(CurlLibraryTest, TheTableReachesLibcurl) {
  auto api = LoadCurl();
  ASSERT_TRUE(api.ok()) << api.error().message;
  const CurlApi& curl = **api;
  EXPECT_STREQ(curl.easy_strerror(CURLE_OK), "No error");
  CURL* easy = curl.easy_init();
  ASSERT_NE(easy, nullptr);
  EXPECT_EQ(curl.easy_setopt(easy, CURLOPT_URL, "http://127.0.0.1:9/"), CURLE_OK);
  EXPECT_EQ(curl.easy_setopt(easy, static_cast<CURLoption>(999999), 1L), CURLE_UNKNOWN_OPTION);
  curl.easy_cleanup(easy);
  CURLU* url = curl.url();
  ASSERT_NE(url, nullptr);
  ASSERT_EQ(curl.url_set(url, CURLUPART_URL, "http://[::1]:8080/scep?x=1", 0), CURLUE_OK);
  char* host = nullptr;
  ASSERT_EQ(curl.url_get(url, CURLUPART_HOST, &host, 0), CURLUE_OK);
  EXPECT_STREQ(host, "[::1]");
  curl.free(host);
  curl.url_cleanup(url);
  curl_slist* list = curl.slist_append(nullptr, "Expect:");
  ASSERT_NE(list, nullptr);
  EXPECT_STREQ(list->data, "Expect:");
  curl.slist_free_all(list);
}

}  // namespace
}  // namespace scepd
