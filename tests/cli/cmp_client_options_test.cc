// cmp-client's option parser (cli/cmp_client_options.cc) without a server:
// what each command needs, and the secrets hidden from the process list.

#include "cli/cmp_client_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/argv.h"

namespace scepd::cli {
namespace {

using testing::Argv;

Result<CmpClientArgs> Parse(std::vector<std::string> words) {
  words.insert(words.begin(), "cmp-client");
  Argv a(std::move(words));
  return ParseCmpClientArgs(a.argc(), a.argv());
}

TEST(CmpClientOptionsTest, CommandsAbbreviationsAndWhatTheyNeed) {
  auto init = Parse({"init", "-p", "62154:ssh", "-P", "k.pem", "-s", "CN=x", "http://127.0.0.1:1/pkix/",
                     "C=FI, CN=CA"});
  ASSERT_TRUE(init.ok()) << init.error().message;
  EXPECT_EQ(init->options.command, CmpClientCommand::kInitialize);
  EXPECT_TRUE(init->options.psk_inline);
  EXPECT_EQ(init->options.name, "C=FI, CN=CA");
  auto upd = Parse({"Update", "-c", "c.crt", "-k", "file://pkcs8@/k.pem", "http://[::1]:8080/pkix/"});
  ASSERT_TRUE(upd.ok()) << upd.error().message;
  EXPECT_EQ(upd->options.command, CmpClientCommand::kUpdate);
  EXPECT_FALSE(Parse({"upd", "-c", "c.crt", "-k", "k", "http://x/"}).ok());  // three letters
  EXPECT_FALSE(Parse({"ENROLL", "-c", "c.crt", "-P", "k", "-s", "CN=x", "http://x/"}).ok());  // no -k
  EXPECT_FALSE(Parse({"TUNNEL", "-R", "r.crt", "-k", "k", "http://x/"}).ok());  // no -T
  EXPECT_FALSE(Parse({"INITIALIZE", "-p", "1:2", "-s", "CN=x", "http://x/"}).ok());  // no -P
  EXPECT_FALSE(Parse({"REVOKE", "-p", "1:2", "-P", "k", "-T", "t", "http://x/"}).ok());  // -P
  EXPECT_FALSE(Parse({"INITIALIZE", "-p", "1:2", "-P", "k", "-s", "CN=x", "ftp://x/"}).ok());
  auto ec = Parse({"INITIALIZE", "-p", "1:2", "-P", "generate://pkcs8@ec:P-384/k", "-s", "CN=x", "http://x/"});
  EXPECT_TRUE(ec.ok()) << ec.error().message;
  auto bad_curve = Parse({"INITIALIZE", "-p", "1:2", "-P", "generate://pkcs8@ec:P-999/k", "-s", "CN=x", "http://x/"});
  ASSERT_FALSE(bad_curve.ok());
  EXPECT_NE(bad_curve.error().message.find("P-999"), std::string::npos);
}

TEST(CmpClientOptionsTest, RefusalsAreUnsupportedWithTheReason) {
  for (const std::vector<std::string>& words :
       {std::vector<std::string>{"RECOVER", "-p", "1:2", "-T", "t", "http://x/"},
        std::vector<std::string>{"INIT", "-B", "http://x/"},
        std::vector<std::string>{"INIT", "-v", "1", "http://x/"},
        std::vector<std::string>{"INIT", "-i", "1024", "http://x/"},
        std::vector<std::string>{"POLL", "-p", "1:2", "-I", "5", "http://x/"},
        std::vector<std::string>{"INIT", "-p", "1:2", "-P", "k", "-s", "CN=x", "tcp://x:1/"},
        std::vector<std::string>{"INIT", "-p", "1:2", "-P", "generate://ssh1@rsa:2048/k", "-s", "CN=x",
                                 "http://x/"}}) {
    auto r = Parse(words);
    ASSERT_FALSE(r.ok()) << words[0];
    EXPECT_EQ(r.error().code, ErrorCode::kUnsupported) << r.error().message;
  }
  EXPECT_TRUE(Parse({"INIT", "-i", "500", "-v", "2", "-p", "1:2", "-P", "k", "-s", "CN=x", "http://x/"}).ok());
}

TEST(CmpClientOptionsTest, SecretsAreHiddenFromTheProcessList) {
  Argv a({"cmp-client", "INIT", "-p", "62154:ssh", "-P", "generate://pkcs8s:topsecret@rsa:2048/k", "-k",
          "generate://pkcs8s:other@rsa:2048/x", "-s", "CN=x", "http://x/"});
  HideCmpClientSecrets(a.argc(), a.argv());
  EXPECT_STREQ(a.argv()[3], "62154:***");  // the reference number stays readable
  EXPECT_STREQ(a.argv()[5], "generate://pkcs8s:*********@rsa:2048/k");
  EXPECT_STREQ(a.argv()[7], "generate://pkcs8s:*****@rsa:2048/x");
  Argv file({"cmp-client", "INIT", "-p", "refnum.txt"});
  HideCmpClientSecrets(file.argc(), file.argv());
  EXPECT_STREQ(file.argv()[3], "refnum.txt");
}

}  // namespace
}  // namespace scepd::cli
