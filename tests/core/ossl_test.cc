#include "core/ossl.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <string>

namespace scepd::ossl {
namespace {

std::string Dotted(const ASN1_OBJECT* obj) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof(buf), obj, 1);
  return buf;
}

TEST(ObjectFromTextTest, TakesShortNamesLongNamesAndDottedOids) {
  const struct {
    const char* text;
    const char* oid;
  } cases[] = {
      {"CN", "2.5.4.3"},
      {"commonName", "2.5.4.3"},
      {"serverAuth", "1.3.6.1.5.5.7.3.1"},
      {"TLS Web Server Authentication", "1.3.6.1.5.5.7.3.1"},
      {"1.3.6.1.4.1.311.20.2.3", "1.3.6.1.4.1.311.20.2.3"},
      {"1.2.3", "1.2.3"},  // unregistered OIDs are fine
  };
  for (const auto& c : cases) {
    Ptr<ASN1_OBJECT> obj = ObjectFromText(c.text);
    ASSERT_TRUE(obj) << c.text;
    EXPECT_EQ(Dotted(obj.get()), c.oid) << c.text;
  }
}

TEST(ObjectFromTextTest, RefusesWhatHasNoOidAndLeavesNoErrorBehind) {
  const std::string with_nul("CN\0x", 4);
  const std::string cases[] = {"",           "fooAuth",      "not an oid",
                               "AES-128-OCB", "aes-128-ocb", "UNDEF",    "undefined",
                               with_nul};
  // AES-128-OCB is the case fuzzing found: OBJ_txt2obj returns an object
  // for it, but one with no OID to encode.
  ASSERT_NE(OBJ_sn2nid("AES-128-OCB"), NID_undef);
  for (const std::string& text : cases) {
    ERR_clear_error();
    EXPECT_FALSE(ObjectFromText(text)) << "'" << text << "'";
    EXPECT_EQ(ERR_peek_error(), 0UL) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace scepd::ossl
