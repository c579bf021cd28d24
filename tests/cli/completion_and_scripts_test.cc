// The shell files that come with the command lines: the mkrequest script
// (POSIX sh) and the bash completion of sscep, scep-client and cmp-client, checked with
// shellcheck and exercised in bash.

#include <gtest/gtest.h>

#include <regex>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"

namespace scepd::testing {
namespace {

const std::string kSource = SCEPD_SOURCE_DIR;

// What bash completes for `words` (the last one being completed).
std::string Complete(const std::string& file, const std::string& function, const std::string& words) {
  const std::string script = "source '" + kSource + "/packaging/completion/" + file + "'\n"
                             "COMP_WORDS=(" + words + ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n" +
                             function + "\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
  auto r = RunProcess({"bash", "-c", script});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

TEST(ShellFiles, ShellcheckClean) {
  if (RunProcess({"shellcheck", "--version"}).exit_code != 0) {
    GTEST_SKIP() << "shellcheck is not installed (scripts/lib/install-deps.sh installs it)";
  }
  auto sh = RunProcess({"shellcheck", "-s", "sh", kSource + "/cli/mkrequest"});
  EXPECT_EQ(sh.exit_code, 0) << sh.out << sh.err;
  for (const char* f : {"sscep", "scep-client", "cmp-client"}) {
    auto r = RunProcess({"shellcheck", kSource + "/packaging/completion/" + f});
    EXPECT_EQ(r.exit_code, 0) << f << "\n" << r.out << r.err;
  }
}

TEST(ShellFiles, SscepCompletion) {
  EXPECT_EQ(Complete("sscep", "_sscep", "sscep getc"), "getca\ngetcaps\ngetcert\ngetcrl\n");
  EXPECT_EQ(Complete("sscep", "_sscep", "sscep getca -F sha2"), "sha224\nsha256\n");
  std::string enroll = Complete("sscep", "_sscep", "sscep enroll -");
  for (const char* o : {"-k\n", "-r\n", "-R\n", "-M\n"}) EXPECT_NE(enroll.find(o), std::string::npos) << o;
}

TEST(ShellFiles, ScepClientCompletion) {
  EXPECT_EQ(Complete("scep-client", "_scep_client", "scep-client get-c"), "GET-CA\nGET-CHAIN\n");
  EXPECT_EQ(Complete("scep-client", "_scep_client", "scep-client ENROLL -u digitalSignature\\;key"),
            "keyEncipherment\nkeyAgreement\nkeyCertSign\n");
  EXPECT_EQ(Complete("scep-client", "_scep_client", "scep-client ENROLL -U ike"), "ikeIntermediate\n");
  std::string enroll = Complete("scep-client", "_scep_client", "scep-client enroll -");
  for (const char* o : {"-P\n", "-C\n", "-E\n", "-V\n", "--poll-interval\n"}) {
    EXPECT_NE(enroll.find(o), std::string::npos) << o << enroll;
  }
  EXPECT_EQ(Complete("scep-client", "_scep_client", "scep-client get-ca -").find("-P\n"), std::string::npos);
}

TEST(ShellFiles, CmpClientCompletion) {
  EXPECT_EQ(Complete("cmp-client", "_cmp_client", "cmp-client in"), "INITIALIZE\n");
  EXPECT_EQ(Complete("cmp-client", "_cmp_client", "cmp-client INIT -u digitalSignature\\;key"),
            "keyEncipherment\nkeyAgreement\nkeyCertSign\n");
  std::string update = Complete("cmp-client", "_cmp_client", "cmp-client update -");
  for (const char* o : {"-c\n", "-k\n", "-P\n", "-y\n"}) EXPECT_NE(update.find(o), std::string::npos) << o << update;
  EXPECT_EQ(update.find("-p\n"), std::string::npos) << update;  // UPDATE is signed, no secret
  std::string init = Complete("cmp-client", "_cmp_client", "cmp-client -y INITIALIZE -");
  EXPECT_NE(init.find("-p\n"), std::string::npos) << init;
}

// Every long option a program's usage text lists is offered by its
// completion, before a command or after one of them.
void ExpectEveryLongOptionOffered(const std::string& program, const std::string& function,
                                  const std::vector<std::string>& commands) {
  SCOPED_TRACE(program);
  std::string offered = Complete(program, function, program + " -");
  for (const std::string& command : commands) {
    offered += Complete(program, function, program + " " + command + " -");
  }
  auto usage = RunProcess({BuiltBinary("cli/" + program), "--help"});
  const std::string text = usage.out + usage.err;
  ASSERT_NE(text.find("--timeout"), std::string::npos) << text;
  const std::regex long_opt("--[a-z0-9-]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), long_opt);
       it != std::sregex_iterator(); ++it) {
    EXPECT_NE(offered.find(it->str() + "\n"), std::string::npos) << it->str() << " is not completed";
  }
}

TEST(ShellFiles, CompletionsOfferEveryLongOptionOfTheUsage) {
  ExpectEveryLongOptionOffered("sscep", "_sscep",
                               {"getca", "getnextca", "getcaps", "enroll", "getcert", "getcrl", "mkrequest"});
  ExpectEveryLongOptionOffered("scep-client", "_scep_client", {"GET-CA", "GET-CHAIN", "ENROLL"});
  ExpectEveryLongOptionOffered("cmp-client", "_cmp_client",
                               {"INITIALIZE", "ENROLL", "UPDATE", "REVOKE", "TUNNEL"});
}

}  // namespace
}  // namespace scepd::testing
