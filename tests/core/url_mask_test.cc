#include "core/url_mask.h"

#include <gtest/gtest.h>

namespace scepd {
namespace {

TEST(MaskUrlUserInfoTest, HidesUserAndPasswordOnly) {
  EXPECT_EQ(MaskUrlUserInfo("http://user:pass@host:8080/scep?x=a@b"),
            "http://***@host:8080/scep?x=a@b");
  EXPECT_EQ(MaskUrlUserInfo("https://u%40x:p@ss@[::1]/scep"), "https://***@[::1]/scep");
  EXPECT_EQ(MaskUrlUserInfo("user:pass@proxy:3128"), "***@proxy:3128");
  EXPECT_EQ(MaskUrlUserInfo("http://host/scep?mail=a@b"), "http://host/scep?mail=a@b");
  EXPECT_EQ(MaskUrlUserInfo("http://host"), "http://host");
  EXPECT_EQ(MaskUrlUserInfo(""), "");
}

}  // namespace
}  // namespace scepd
