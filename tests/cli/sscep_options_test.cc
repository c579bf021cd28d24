#include "cli/sscep_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/argv.h"
#include "tests/support/reliability_doc.h"

namespace scepd::cli {
namespace {

using testing::Argv;

TEST(HideSecretArgumentsTest, TheChallengeLeavesTheProcessArguments) {
  Argv a({"sscep", "mkrequest", "--challenge", "Zq9pw", "-k", "Zq9pw.key",
          "--challenge=Zq9pw", "--subject", "/CN=x"});
  HideSecretArguments(a.argc(), a.argv(), "Zq9pw");
  EXPECT_EQ(a.args(), (std::vector<std::string>{"sscep", "mkrequest", "--challenge", "*****",
                                                "-k", "Zq9pw.key", "--challenge=*****",
                                                "--subject", "/CN=x"}));
}

TEST(HideSecretArgumentsTest, NothingToHide) {
  Argv a({"sscep", "getca", "-u", "http://ca/", "-c", "ca.crt"});
  const auto before = a.args();
  HideSecretArguments(a.argc(), a.argv(), "");
  EXPECT_EQ(a.args(), before);
  HideSecretArguments(a.argc(), a.argv(), "not-there");
  EXPECT_EQ(a.args(), before);
}

TEST(HideSecretArgumentsTest, ParsedThenHidden) {
  Argv a({"sscep", "mkrequest", "-k", "k.pem", "-r", "r.csr", "--subject", "/CN=x",
          "--challenge", "Zq9pw"});
  auto options = ParseSscepArgs(a.argc(), a.argv());
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->challenge, "Zq9pw");
  HideSecretArguments(a.argc(), a.argv(), options->challenge);
  std::string cmdline;
  for (const std::string& arg : a.args()) {
    EXPECT_EQ(arg.find("Zq9pw"), std::string::npos) << arg;
    cmdline += (cmdline.empty() ? "" : " ") + arg;
  }
  testing::ExpectReliabilityRow("secrets.sscep-argv", cmdline);
}

}  // namespace
}  // namespace scepd::cli
