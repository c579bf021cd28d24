// sscep as a new user meets it: the sscep README's enrollment walk-through
// verbatim (mkrequest, getca -f, enroll -f, openssl verify) against
// micromdm's scepserver, sscep 0.10's sectioned configuration files, and
// the usage, help and version behaviour.

#include <gtest/gtest.h>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/scep_server.h"

namespace scepd::testing {
namespace {

const std::string kSscep = BuiltBinary("cli/sscep");
const std::string kMkrequest = std::string(SCEPD_SOURCE_DIR) + "/cli/mkrequest";

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class SscepWalkthroughTest : public ::testing::Test {
 protected:
  ProcessResult Run(std::vector<std::string> args) {
    return RunProcess(args, {"SSCEP=" + kSscep}, 60000, "", dir_.path());
  }
  ProcessResult Sscep(std::vector<std::string> args) {
    args.insert(args.begin(), kSscep);
    return Run(args);
  }
  std::string Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    auto r = RunProcess(args, {}, 30000, "", dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  TempDir dir_;
};

TEST_F(SscepWalkthroughTest, ReadmeStepsTwoToFiveVerbatim) {
  ScepServer::Options options;
  options.challenge = "password";
  ScepServer server(options);
  ASSERT_TRUE(server.Start());
  // STEP 2: `mkrequest -ip <address> password`.
  auto mk = Run({"sh", kMkrequest, "-ip", "192.0.2.44", "password"});
  ASSERT_EQ(mk.exit_code, 0) << mk.out << mk.err;
  ASSERT_TRUE(PathExists(dir_.File("local.key")));
  ASSERT_TRUE(PathExists(dir_.File("local.csr")));
  std::string csr = Openssl({"req", "-in", "local.csr", "-noout", "-text"});
  EXPECT_TRUE(Contains(csr, "CN = 192.0.2.44")) << csr;
  EXPECT_TRUE(Contains(csr, "IP Address:192.0.2.44")) << csr;
  EXPECT_TRUE(Contains(csr, "challengePassword")) << csr;
  // STEP 3 and 4 with the README's section-less configuration file.
  WriteFile(dir_.File("sscep.conf"),
            "# sscep.conf as the README describes it\n"
            "URL " + server.url() + "\n"
            "CACertFile ./ca.crt\n"
            "PrivateKeyFile ./local.key\n"
            "CertReqFile ./local.csr\n"
            "LocalCertFile ./local.crt\n"
            "\"FingerPrint\" \"md5\"\n");
  auto getca = Sscep({"getca", "-f", "sscep.conf"});
  ASSERT_EQ(getca.exit_code, 0) << getca.out << getca.err;
  std::string md5 = Openssl({"x509", "-in", "ca.crt", "-noout", "-fingerprint", "-md5"});
  md5 = md5.substr(md5.find('=') + 1);
  EXPECT_TRUE(Contains(getca.out, "MD5 fingerprint: " + md5)) << getca.out;
  EXPECT_TRUE(Contains(getca.out, "CA certificate written as ./ca.crt\n")) << getca.out;
  auto enroll = Sscep({"enroll", "-f", "sscep.conf"});
  ASSERT_EQ(enroll.exit_code, 0) << enroll.out << enroll.err;
  EXPECT_TRUE(Contains(enroll.out, "pkistatus: SUCCESS")) << enroll.out;
  EXPECT_TRUE(Contains(enroll.out, "certificate written as ./local.crt")) << enroll.out;
  // STEP 5: "openssl verify -CAfile ca.crt local.crt is your friend".
  EXPECT_EQ(Openssl({"verify", "-CAfile", "ca.crt", "local.crt"}), "local.crt: OK\n");
  // mkrequest never overwrites the key it made.
  auto again = Run({"sh", kMkrequest, "-ip", "192.0.2.44"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_TRUE(Contains(again.err, "local.key exists")) << again.err;
}

TEST_F(SscepWalkthroughTest, MkrequestNamesAndPrefix) {
  auto usage = Run({"sh", kMkrequest, "-ip"});
  EXPECT_EQ(usage.exit_code, 1);
  EXPECT_TRUE(Contains(usage.err, "-ip|-dns|-email name [challenge]")) << usage.err;
  auto bad = Run({"sh", kMkrequest, "-uri", "x"});
  EXPECT_EQ(bad.exit_code, 1);
  auto dns = RunProcess({"sh", kMkrequest, "-dns", "gw.example.org"},
                        {"SSCEP=" + kSscep, "PREFIX=router", "ORGANIZATION=Example/Oy", "KEYBITS=1024"}, 60000, "",
                        dir_.path());
  ASSERT_EQ(dns.exit_code, 0) << dns.out << dns.err;
  std::string csr = Openssl({"req", "-in", "router.csr", "-noout", "-text"});
  EXPECT_TRUE(Contains(csr, "Subject: O = Example/Oy, CN = gw.example.org")) << csr;
  EXPECT_TRUE(Contains(csr, "DNS:gw.example.org")) << csr;
  EXPECT_TRUE(Contains(csr, "Public-Key: (1024 bit)")) << csr;
  EXPECT_FALSE(Contains(csr, "challengePassword")) << csr;
  auto email = RunProcess({"sh", kMkrequest, "-email", "ops@example.org", "pw"},
                          {"SSCEP=" + kSscep, "PREFIX=mail", "KEYBITS=1024"}, 60000, "", dir_.path());
  ASSERT_EQ(email.exit_code, 0) << email.err;
  EXPECT_TRUE(Contains(Openssl({"req", "-in", "mail.csr", "-noout", "-text"}), "email:ops@example.org"));
  EXPECT_FALSE(Contains(email.out + email.err, "pw\n"));
}

TEST_F(SscepWalkthroughTest, SectionedConfigurationOfSscep010) {
  ScepServer server;
  ASSERT_TRUE(server.Start());
  ASSERT_EQ(Run({"sh", kMkrequest, "-dns", "r1.example.org", "secret"}).exit_code, 0);
  WriteFile(dir_.File("sscep.cnf"),
            "# an OpenSSL configuration with sscep's sections\n"
            "HOME = .\n"
            "[ req ]\n"
            "prompt = no\n"
            "[sscep]\n"
            "URL = \"" + server.url() + "\"   # quoted, with a comment\n"
            "CACertFile = 'ca cert.pem'\n"
            "Verbose = no\n"
            "[sscep_getca]\n"
            "FingerPrint = sha1\n"
            "[ sscep_enroll ]\n"
            "PrivateKeyFile = local.key\n"
            "CertReqFile = local.csr\n"
            "LocalCertFile = local.crt\n"
            "PollInterval = 5\n"
            "[sscep_getcrl]\n"
            "GetCrlFile = crl.pem\n");
  auto getca = Sscep({"getca", "-f", "sscep.cnf"});
  ASSERT_EQ(getca.exit_code, 0) << getca.out << getca.err;
  EXPECT_TRUE(Contains(getca.out, "SHA1 fingerprint: ")) << getca.out;
  EXPECT_TRUE(PathExists(dir_.File("ca cert.pem")));
  auto enroll = Sscep({"enroll", "-f", "sscep.cnf"});
  ASSERT_EQ(enroll.exit_code, 0) << enroll.out << enroll.err;
  EXPECT_TRUE(PathExists(dir_.File("local.crt")));
  // The command line wins over the file.
  auto other = Sscep({"getca", "-f", "sscep.cnf", "-c", "other.pem"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_TRUE(PathExists(dir_.File("other.pem")));

  // An unknown key in an sscep section is named with file and line, even in
  // another operation's section; no usage text follows.
  WriteFile(dir_.File("bad.cnf"), "[sscep]\nURL = " + server.url() + "\n[sscep_getcrl]\nGetCRLFile = x\n");
  auto bad = Sscep({"getca", "-f", "bad.cnf", "-c", "x.pem"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.err, "bad.cnf:4: unknown key 'GetCRLFile'")) << bad.err;
  EXPECT_FALSE(Contains(bad.err + bad.out, "Usage:")) << bad.err;
  WriteFile(dir_.File("var.cnf"), "[sscep]\nCACertFile = $HOME/ca.pem\n");
  auto var = Sscep({"getca", "-f", "var.cnf"});
  EXPECT_EQ(var.exit_code, 1);
  EXPECT_TRUE(Contains(var.err, "var.cnf:2: variable expansion")) << var.err;
  // Section-less files still name the line of an unknown key.
  WriteFile(dir_.File("plain.conf"), "URL http://127.0.0.1:9/\nCaCertFile x\n");
  auto plain = Sscep({"getca", "-f", "plain.conf"});
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_TRUE(Contains(plain.err, "plain.conf:2: unknown key 'CaCertFile'")) << plain.err;
}

TEST_F(SscepWalkthroughTest, UsageHelpAndVersion) {
  auto none = Sscep({});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_TRUE(Contains(none.out, "Usage: ")) << none.out;
  EXPECT_EQ(none.err, "");
  for (const char* flag : {"-h", "--help"}) {
    auto help = Sscep({flag});
    EXPECT_EQ(help.exit_code, 0) << flag;
    EXPECT_TRUE(Contains(help.out, "Available OPERATIONs are")) << flag;
  }
  for (const char* flag : {"-V", "--version"}) {
    auto version = Sscep({flag});
    EXPECT_EQ(version.exit_code, 0) << flag;
    EXPECT_EQ(version.out.rfind("scepd's sscep " SCEPD_VERSION "\n", 0), 0u) << version.out;
  }
  auto usage_error = Sscep({"getca", "-Q"});
  EXPECT_EQ(usage_error.exit_code, 1);
  EXPECT_TRUE(Contains(usage_error.err, "Usage: ")) << usage_error.err;
  // A run-time error names itself without the whole usage.
  auto missing = Sscep({"getca", "-u", "http://127.0.0.1:9/"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_FALSE(Contains(missing.err + missing.out, "Usage: ")) << missing.err;
}

}  // namespace
}  // namespace scepd::testing
