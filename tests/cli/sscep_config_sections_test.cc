// sscep 0.10's sectioned configuration files (cli/sscep_config_sections.h):
// each operation reads [sscep] and then its own section, every section's
// keys are checked, errors name file and line.

#include "cli/sscep_config_sections.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace scepd::cli {
namespace {

constexpr const char* kFile =
    "# an OpenSSL configuration shared with other programs\n"   // 1
    "HOME = .\n"                                                // 2
    "[ req ]\n"                                                 // 3
    "distinguished_name = dn\n"                                 // 4
    "[sscep]\n"                                                 // 5
    "URL = \"http://ca.example/scep\"\n"                        // 6
    "CACertFile = general.crt\n"                                // 7
    "[sscep_getca]\n"                                           // 8
    "CACertFile = getca.crt\n"                                  // 9
    "[sscep_getnextca]\n"                                       // 10
    "CACertFile = getnextca.crt\n"                              // 11
    "[ sscep_enroll ]\n"                                        // 12
    "CACertFile = enroll.crt\n"                                 // 13
    "[sscep_getcert]\n"                                         // 14
    "CACertFile = 'getcert.crt'  # quoted\n"                    // 15
    "GetCertSerial = 12\n"                                      // 16
    "[sscep_getcrl]\n"                                          // 17
    "CACertFile = getcrl.crt\n";                                // 18

TEST(SscepConfigSections, EachOperationReadsSscepThenItsOwnSection) {
  EXPECT_TRUE(HasSections(kFile));
  EXPECT_FALSE(HasSections("URL http://ca/\nCACertFile ca.crt\n"));
  for (const auto& [op, file] : std::vector<std::pair<Operation, std::string>>{
           {Operation::kGetCa, "getca.crt"},
           {Operation::kGetNextCa, "getnextca.crt"},
           {Operation::kEnroll, "enroll.crt"},
           {Operation::kGetCert, "getcert.crt"},
           {Operation::kGetCrl, "getcrl.crt"},
           {Operation::kGetCaps, "general.crt"}}) {
    SscepOptions o;
    o.operation = op;
    Status st = ApplySscepSectionedConfig("sscep.cnf", kFile, o);
    ASSERT_TRUE(st.ok()) << file << ": " << st.error().message;
    EXPECT_EQ(o.url, "http://ca.example/scep") << file;
    EXPECT_EQ(o.ca_cert_file, file);
    EXPECT_EQ(o.get_cert_serial, op == Operation::kGetCert ? "12" : "") << file;
  }
}

TEST(SscepConfigSections, UnknownKeysInAnySscepSectionNameFileAndLine) {
  for (const char* section : {"sscep", "sscep_getca", "sscep_getnextca", "sscep_enroll", "sscep_getcert",
                              "sscep_getcrl"}) {
    SscepOptions o;
    o.operation = Operation::kGetCa;
    const std::string text = std::string("[other]\nAnything = goes\n[") + section + "]\nCaCertFile = x\n";
    Status st = ApplySscepSectionedConfig("my.cnf", text, o);
    ASSERT_FALSE(st.ok()) << section;
    EXPECT_EQ(st.error().message.rfind("my.cnf:4: unknown key 'CaCertFile'", 0), 0u) << st.error().message;
  }
  SscepOptions o;
  o.operation = Operation::kEnroll;
  for (const auto& [text, says] : std::vector<std::pair<std::string, std::string>>{
           {"[sscep]\nURL = \"http://x/\n", "my.cnf:2: unterminated quote"},
           {"[sscep]\nURL\n", "my.cnf:2: expected 'key = value'"},
           {"[sscep\nURL = x\n", "my.cnf:1: malformed section header"},
           {"[sscep_enroll]\nLocalCertFile = $dir/x\n", "my.cnf:2: variable expansion"}}) {
    Status st = ApplySscepSectionedConfig("my.cnf", text, o);
    ASSERT_FALSE(st.ok()) << text;
    EXPECT_EQ(st.error().message.rfind(says, 0), 0u) << st.error().message;
  }
}

}  // namespace
}  // namespace scepd::cli
