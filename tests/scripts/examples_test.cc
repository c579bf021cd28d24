// scripts/examples/*-success.sh under dash and busybox ash, into temporary
// directories, with fake swanctl and init scripts: the files, their modes
// and the service command. And shellcheck on every script.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/scripts/script_shell.h"
#include "tests/support/process.h"

namespace scepd::testing {
namespace {

const std::string kExamples = kScriptsDir + "/examples";
const std::string kKey = "-----BEGIN PRIVATE KEY-----\nS0VZ'\n-----END PRIVATE KEY-----\n";
const std::string kCert = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n";
const std::string kCa0 = "-----BEGIN CERTIFICATE-----\nSVNTVUlORw==\n-----END CERTIFICATE-----\n";
const std::string kCa1 = "-----BEGIN CERTIFICATE-----\nUk9PVA==\n-----END CERTIFICATE-----\n";

class ExamplesTest : public ::testing::TestWithParam<Shell> {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(data().c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(bin().c_str(), 0755), 0);
    WriteFile(data() + "/0A.key", kKey, 0600);
    WriteFile(data() + "/0A.crt", kCert);
    ASSERT_EQ(::symlink("0A.key", (data() + "/latest.key").c_str()), 0);
    ASSERT_EQ(::symlink("0A.crt", (data() + "/latest.crt").c_str()), 0);
    WriteFile(data() + "/ca.crt-0", kCa0);
    WriteFile(data() + "/ca.crt-1", kCa1);
  }

  std::string data() const { return dir_.File("data"); }
  std::string bin() const { return dir_.File("bin"); }
  std::string calls() const { return dir_.File("calls"); }

  // A fake command that appends "NAME ARGS" to the calls file.
  std::string FakeCommand(const std::string& name) {
    std::string path = bin() + "/" + name;
    WriteScript(path, "echo \"" + name + " $*\" >>" + ShellQuote(calls()) + "\n");
    return path;
  }

  // The environment scepd gives a success script (docs/daemon.md).
  std::vector<std::string> ScepEnv(const std::string& event = "renewed") {
    return {"SCEP_EVENT=" + event, "SCEP_SERIAL=0A", "SCEP_CERT=" + data() + "/0A.crt",
            "SCEP_KEY=" + data() + "/0A.key",
            "SCEP_CA=" + data() + "/ca.crt-0 " + data() + "/ca.crt-1",
            "SCEP_NOT_AFTER=2027-11-22T12:00:00Z", "SCEP_SUBJECT=/CN=router-A1B2",
            "SCEP_DATA_DIR=" + data(), "SCEP_NAME="};
  }

  ProcessResult RunExample(const std::string& name, std::vector<std::string> env) {
    // scepd puts its own directory (where scep_replace_pem is) first in PATH.
    env.push_back("PATH=" + GetParam().Path(bin() + ":" + kScriptsDir));
    env.push_back("SCEPD_CONF=/nonexistent");
    return RunProcess(GetParam().Command(kExamples + "/" + name), env, 30000);
  }

  TempDir dir_{"scepd-examples-"};
};

TEST_P(ExamplesTest, IpsecRewritesTheSettingsAndRestartsIpsec) {
  const std::string settings = dir_.File("settings.ipsec");
  WriteFile(settings, "IPSEC_ENABLED=1\nIPSEC_LOCAL_KEY='old\nkey'\n", 0600);
  auto env = ScepEnv();
  env.push_back("IPSEC_SETTINGS=" + settings);
  env.push_back("IPSEC_INIT=" + FakeCommand("ipsec"));
  auto r = RunExample("ipsec-success.sh", env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFile(calls()), "ipsec restart\n");
  EXPECT_EQ(FileMode(settings), 0600u);
  for (auto [name, pem] : {std::pair{"IPSEC_LOCAL_KEY", kKey}, std::pair{"IPSEC_LOCAL_CERT", kCert}}) {
    std::vector<std::string> argv = GetParam().argv;
    argv.insert(argv.end(), {"-c", std::string(". \"$1\" && printf '%s' \"$") + name + "\"", "sh",
                             settings});
    EXPECT_EQ(RunProcess(argv).out, pem) << name;
  }
  EXPECT_EQ(ReadFile(settings).rfind("IPSEC_ENABLED=1\nIPSEC_LOCAL_KEY='-----BEGIN", 0), 0u);

  // After a failure there is nothing to install.
  WriteFile(settings, "X=1\n", 0600);
  env = ScepEnv("failed");
  env.push_back("IPSEC_SETTINGS=" + settings);
  env.push_back("IPSEC_INIT=" + FakeCommand("ipsec"));
  r = RunExample("ipsec-success.sh", env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(settings), "X=1\n");
  EXPECT_EQ(ReadFile(calls()), "ipsec restart\n");
}

TEST_P(ExamplesTest, StrongswanSwanctlInstallsCredentialsAndLoadsThem) {
  const std::string swanctl = dir_.File("swanctl");
  FakeCommand("swanctl");
  // A longer chain from before: its extra file goes.
  ASSERT_EQ(::mkdir(swanctl.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((swanctl + "/x509ca").c_str(), 0755), 0);
  WriteFile(swanctl + "/x509ca/scepd-ca-2.crt", "old");
  WriteFile(swanctl + "/x509ca/other.crt", "not ours");
  auto env = ScepEnv("enrolled");
  env.push_back("SWANCTL_DIR=" + swanctl);
  auto r = RunExample("strongswan-swanctl-success.sh", env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFile(calls()), "swanctl --load-creds\n");
  EXPECT_EQ(ReadFile(swanctl + "/private/scepd.key"), kKey);
  EXPECT_EQ(FileMode(swanctl + "/private/scepd.key"), 0600u);
  EXPECT_EQ(FileMode(swanctl + "/private"), 0700u);
  EXPECT_EQ(ReadFile(swanctl + "/x509/scepd.crt"), kCert);
  EXPECT_EQ(FileMode(swanctl + "/x509/scepd.crt"), 0644u);
  EXPECT_EQ(ReadFile(swanctl + "/x509ca/scepd-ca-0.crt"), kCa0);
  EXPECT_EQ(ReadFile(swanctl + "/x509ca/scepd-ca-1.crt"), kCa1);
  EXPECT_EQ(FileMode(swanctl + "/x509ca/scepd-ca-1.crt"), 0644u);
  EXPECT_FALSE(PathExists(swanctl + "/x509ca/scepd-ca-2.crt"));
  EXPECT_EQ(ReadFile(swanctl + "/x509ca/other.crt"), "not ours");

  // A named certificate gets its own file names.
  env = ScepEnv("renewed");
  env.back() = "SCEP_NAME=vpn";
  env.push_back("SWANCTL_DIR=" + swanctl);
  r = RunExample("strongswan-swanctl-success.sh", env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(swanctl + "/private/scepd-vpn.key"), kKey);
  EXPECT_EQ(ReadFile(swanctl + "/x509/scepd-vpn.crt"), kCert);
}

TEST_P(ExamplesTest, OpenvpnInstallsKeyCertAndChainAndRestarts) {
  const std::string openvpn = dir_.File("openvpn");
  auto env = ScepEnv();
  env.push_back("OPENVPN_DIR=" + openvpn);
  env.push_back("OPENVPN_INIT=" + FakeCommand("openvpn"));
  auto r = RunExample("openvpn-success.sh", env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFile(calls()), "openvpn restart\n");
  EXPECT_EQ(ReadFile(openvpn + "/scepd/client.key"), kKey);
  EXPECT_EQ(FileMode(openvpn + "/scepd/client.key"), 0600u);
  EXPECT_EQ(ReadFile(openvpn + "/scepd/client.crt"), kCert);
  EXPECT_EQ(FileMode(openvpn + "/scepd/client.crt"), 0644u);
  EXPECT_EQ(ReadFile(openvpn + "/scepd/ca.crt"), kCa0 + kCa1);
  EXPECT_EQ(FileMode(openvpn + "/scepd/ca.crt"), 0644u);
  std::string listing = RunProcess({"ls", "-A", openvpn + "/scepd"}).out;
  EXPECT_EQ(listing, "ca.crt\nclient.crt\nclient.key\n") << "temporary files left";
}

INSTANTIATE_TEST_SUITE_P(Shells, ExamplesTest, ::testing::Values(Dash(), Busybox()), ShellName);

// shellcheck -s sh on every script this folder tests.
TEST(ScriptsShellcheck, EveryScriptIsClean) {
  if (RunProcess({"shellcheck", "--version"}).exit_code != 0) {
    GTEST_SKIP() << "shellcheck is not installed (scripts/lib/install-deps.sh installs it)";
  }
  for (const std::string& script :
       {kScriptsDir + "/check-cert.sh", kScriptsDir + "/scep_replace_pem",
        kExamples + "/ipsec-success.sh", kExamples + "/strongswan-swanctl-success.sh",
        kExamples + "/openvpn-success.sh"}) {
    auto r = RunProcess({"shellcheck", "-s", "sh", script});
    EXPECT_EQ(r.exit_code, 0) << script << "\n" << r.out << r.err;
    EXPECT_EQ(FileMode(script) & 0111, 0111u) << script << " is not executable";
  }
}

}  // namespace
}  // namespace scepd::testing
