// scripts/scep_replace_pem under dash and busybox ash: the value a shell
// gets by sourcing the rewritten file is the PEM byte for byte, every other
// byte of the file stays, errors leave the file alone.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/scripts/script_shell.h"
#include "tests/support/process.h"

namespace scepd::testing {
namespace {

const std::string kScript = kScriptsDir + "/scep_replace_pem";

// PEM-shaped text with every character that matters to a shell in a header
// line: a single quote, $, backtick, double quote, backslash.
const std::string kKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "Comment: router's key $HOME `id` \"q\" back\\slash\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
    "-----END PRIVATE KEY-----\n";
const std::string kCertPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIC+zCCAeOgAwIBAgIBAjANBgkqhkiG9w0BAQsFADAS\n"
    "-----END CERTIFICATE-----\n";
const std::string kCaPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDCA==\n"
    "-----END CERTIFICATE-----\n";

// What scep_replace_pem writes by default: single quotes, ' as '\''.
std::string ShQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class ScepReplacePemTest : public ::testing::TestWithParam<Shell> {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(data().c_str(), 0700), 0);
    WriteFile(data() + "/02.key", kKeyPem, 0600);
    ASSERT_EQ(::symlink("02.key", (data() + "/latest.key").c_str()), 0);
    WriteFile(data() + "/02.crt", kCertPem);
    ASSERT_EQ(::symlink("02.crt", (data() + "/latest.crt").c_str()), 0);
    WriteFile(data() + "/ca.crt-0", kCaPem);
  }

  std::string data() const { return dir_.File("data"); }
  std::string settings() const { return dir_.File("settings.ipsec"); }

  ProcessResult Run(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
    env.push_back("PATH=" + GetParam().Path());
    bool has_conf = false;
    for (const auto& e : env) has_conf = has_conf || e.rfind("SCEPD_CONF=", 0) == 0;
    if (!has_conf) env.push_back("SCEPD_CONF=" + dir_.File("no-such.conf"));
    return RunProcess(GetParam().Command(kScript, args), env, 30000);
  }

  // Sources `file` with the same shell and prints $name with `printf fmt`.
  ProcessResult Sourced(const std::string& file, const std::string& name,
                        const std::string& fmt = "%s") {
    std::vector<std::string> argv = GetParam().argv;
    argv.insert(argv.end(), {"-c", ". \"$1\" && printf '" + fmt + "' \"$" + name + "\"", "sh", file});
    return RunProcess(argv, {"PATH=" + GetParam().Path()});
  }

  // Every file in the test directory (besides data/), to catch leftovers.
  std::string Listing() {
    auto r = RunProcess({"ls", "-A", dir_.path()});
    return r.out;
  }

  TempDir dir_{"scepd-replace-pem-"};
};

TEST_P(ScepReplacePemTest, ReplacesAndAppendsAndKeepsEveryOtherByte) {
  // A comment with a quote, the old multi-line key, another key's multi-line
  // value that contains a line looking like an assignment of a target.
  const std::string head =
      "# IPsec settings; don't edit by hand\n"
      "IPSEC_ENABLED=1\n"
      "IPSEC_LOCAL_KEY='-----BEGIN RSA PRIVATE KEY-----\n"
      "b2xkIGtleQ==\n"
      "-----END RSA PRIVATE KEY-----\n"
      "'\n";
  const std::string tail =
      "IPSEC_REMOTE_CERT=\"-----BEGIN CERTIFICATE-----\n"
      "IPSEC_LOCAL_CERT=not-an-assignment\n"
      "-----END CERTIFICATE-----\"\n"
      "\n"
      "IPSEC_REMOTE=vpn.example.com # the hub\n";
  WriteFile(settings(), head + tail);

  auto r = Run({"--data-dir", data(), settings(), "IPSEC_LOCAL_KEY", "pkey", "IPSEC_LOCAL_CERT",
                "cert", "IPSEC_CA", "cacert"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("replaced IPSEC_LOCAL_KEY"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("appended IPSEC_LOCAL_CERT"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("MIIEvQ"), std::string::npos) << "the key was printed";
  EXPECT_EQ(r.err.find("MIIEvQ"), std::string::npos) << "the key was printed";

  const std::string want = "# IPsec settings; don't edit by hand\n"
                           "IPSEC_ENABLED=1\n"
                           "IPSEC_LOCAL_KEY=" + ShQuoted(kKeyPem) + "\n" + tail +
                           "IPSEC_LOCAL_CERT=" + ShQuoted(kCertPem) + "\n" +
                           "IPSEC_CA=" + ShQuoted(kCaPem) + "\n";
  EXPECT_EQ(ReadFile(settings()), want);

  for (auto [name, pem] : {std::pair{"IPSEC_LOCAL_KEY", kKeyPem},
                           std::pair{"IPSEC_LOCAL_CERT", kCertPem},
                           std::pair{"IPSEC_CA", kCaPem}}) {
    auto s = Sourced(settings(), name);
    ASSERT_EQ(s.exit_code, 0) << s.err;
    EXPECT_EQ(s.out, pem) << name;
  }
  auto other = Sourced(settings(), "IPSEC_REMOTE_CERT");
  EXPECT_EQ(other.out,
            "-----BEGIN CERTIFICATE-----\nIPSEC_LOCAL_CERT=not-an-assignment\n"
            "-----END CERTIFICATE-----");
  EXPECT_EQ(Sourced(settings(), "IPSEC_REMOTE").out, "vpn.example.com");
  EXPECT_EQ(Listing(), "data\nsettings.ipsec\n") << "temporary files left behind";

  // Again with the same files: nothing to change, the file is not rewritten.
  struct stat before {}, after {};
  ASSERT_EQ(::stat(settings().c_str(), &before), 0);
  auto again = Run({"--data-dir", data(), settings(), "IPSEC_LOCAL_KEY", "pkey",
                    "IPSEC_LOCAL_CERT", "cert", "IPSEC_CA", "cacert"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already up to date"), std::string::npos) << again.out;
  ASSERT_EQ(::stat(settings().c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(ReadFile(settings()), want);
}

TEST_P(ScepReplacePemTest, KeepsTextAroundTheValueExportAndAMissingLastNewline) {
  WriteFile(settings(),
            "A='one'\n"
            "export KEY=\"old\"'still old' ; : kept # comment\n"
            "CERT='old\nmulti-line'");  // no newline at the end
  auto r = Run({"--data-dir", data(), settings(), "KEY", "pkey", "CERT", "cert"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(settings()), "A='one'\n"
                                  "export KEY=" + ShQuoted(kKeyPem) + " ; : kept # comment\n"
                                  "CERT=" + ShQuoted(kCertPem));
  EXPECT_EQ(Sourced(settings(), "CERT").out, kCertPem);

  // Appending to a file without a final newline adds exactly one.
  WriteFile(settings(), "A=1");
  ASSERT_EQ(Run({"--data-dir", data(), settings(), "KEY", "pkey"}).exit_code, 0);
  EXPECT_EQ(ReadFile(settings()), "A=1\nKEY=" + ShQuoted(kKeyPem) + "\n");
  // And to an empty file.
  WriteFile(settings(), "");
  ASSERT_EQ(Run({"--data-dir", data(), settings(), "KEY", "pkey"}).exit_code, 0);
  EXPECT_EQ(ReadFile(settings()), "KEY=" + ShQuoted(kKeyPem) + "\n");
}

TEST_P(ScepReplacePemTest, EscapedAndBase64EncodingsDecodeToThePem) {
  WriteFile(settings(), "# settings\nKEY=\"old\\nvalue\"\nZ=1\n");
  auto r = Run({"--encoding", "escaped", "--data-dir", data(), settings(), "KEY", "pkey"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string text = ReadFile(settings());
  EXPECT_EQ(text.rfind("# settings\nKEY=\"-----BEGIN PRIVATE KEY-----\\n", 0), 0u) << text;
  EXPECT_NE(text.find("-----END PRIVATE KEY-----\\n\"\nZ=1\n"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << "one line per key";
  auto escaped = Sourced(settings(), "KEY", "%b");
  ASSERT_EQ(escaped.exit_code, 0) << escaped.err;
  EXPECT_EQ(escaped.out, kKeyPem);

  r = Run({"--encoding=base64", "--data-dir", data(), settings(), "KEY", "pkey", "CERT", "cert"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  text = ReadFile(settings());
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4) << text;
  for (auto [name, pem] : {std::pair{"KEY", kKeyPem}, std::pair{"CERT", kCertPem}}) {
    std::vector<std::string> argv = GetParam().argv;
    argv.insert(argv.end(), {"-c", std::string(". \"$1\" && printf '%s' \"$") + name +
                                       "\" | base64 -d", "sh", settings()});
    auto decoded = RunProcess(argv, {"PATH=" + GetParam().Path()});
    ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
    EXPECT_EQ(decoded.out, pem) << name;
  }
}

TEST_P(ScepReplacePemTest, KeepsModeAndOwner) {
  WriteFile(settings(), "KEY=old\n", 0640);
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown(settings().c_str(), 1234, 2345), 0);
  }
  auto r = Run({"--data-dir", data(), settings(), "KEY", "pkey"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(settings().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  if (root) {
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 2345u);
  }
  EXPECT_EQ(Sourced(settings(), "KEY").out, kKeyPem);
}

TEST_P(ScepReplacePemTest, KeepsModeAndOwnerWithoutStatThroughCpP) {
  // A busybox built without stat: cp -p carries mode and owner over.
  TempDir applets("scepd-applets-");
  MakeAppletDir(applets.path(), {"stat"});
  WriteFile(settings(), "KEY=old\n", 0604);
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown(settings().c_str(), 4321, 5432), 0);
  }
  auto r = RunProcess(GetParam().Command(kScript, {"--data-dir", data(), settings(), "KEY", "pkey"}),
                      {"PATH=" + applets.path(), "SCEPD_CONF=/nonexistent"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(settings().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0604u);
  if (root) {
    EXPECT_EQ(st.st_uid, 4321u);
    EXPECT_EQ(st.st_gid, 5432u);
  }
  EXPECT_EQ(Sourced(settings(), "KEY").out, kKeyPem);
}

TEST_P(ScepReplacePemTest, ASymlinkedFileStaysALink) {
  WriteFile(dir_.File("real.ipsec"), "KEY=old\n", 0600);
  ASSERT_EQ(::symlink("real.ipsec", settings().c_str()), 0);
  ASSERT_EQ(Run({"--data-dir", data(), settings(), "KEY", "pkey"}).exit_code, 0);
  struct stat st {};
  ASSERT_EQ(::lstat(settings().c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(ReadFile(dir_.File("real.ipsec")), "KEY=" + ShQuoted(kKeyPem) + "\n");
  EXPECT_EQ(FileMode(dir_.File("real.ipsec")), 0600u);
}

TEST_P(ScepReplacePemTest, ErrorsLeaveTheFileUntouched) {
  const std::string original = "KEY='old\nvalue'\n# keep\n";
  WriteFile(settings(), original, 0640);
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string message;
  } cases[] = {
      {{"--data-dir", data(), settings(), "KEY", "pkey", "CERT"}, 2, "odd number of NAME TYPE"},
      {{"--data-dir", data(), settings(), "KEY"}, 2, "odd number of NAME TYPE"},
      {{"--data-dir", data(), settings()}, 2, "no NAME TYPE pair"},
      {{"--data-dir", data()}, 2, "no FILE"},
      {{"--data-dir", data(), settings(), "KEY", "key"}, 2, "bad type 'key' for KEY"},
      {{"--data-dir", data(), settings(), "1KEY", "pkey"}, 2, "not a valid shell variable name"},
      {{"--data-dir", data(), settings(), "KEY", "pkey", "KEY", "cert"}, 2, "KEY is given twice"},
      {{"--encoding", "hex", "--data-dir", data(), settings(), "KEY", "pkey"}, 2,
       "unknown encoding 'hex'"},
      {{"--bogus", settings(), "KEY", "pkey"}, 2, "unknown option: --bogus"},
      {{"--data-dir", dir_.File("nowhere"), settings(), "KEY", "pkey"}, 1,
       "private key " + dir_.File("nowhere") + "/latest.key does not exist"},
      {{"--data-dir", data(), dir_.File("missing.ipsec"), "KEY", "pkey"}, 1,
       dir_.File("missing.ipsec") + ": no such file"},
  };
  for (const auto& c : cases) {
    auto r = Run(c.args);
    EXPECT_EQ(r.exit_code, c.code) << c.message << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("scep_replace_pem: ", 0), 0u) << r.err;
    EXPECT_EQ(ReadFile(settings()), original) << c.message;
    EXPECT_EQ(FileMode(settings()), 0640u);
  }
  EXPECT_FALSE(PathExists(dir_.File("missing.ipsec")));

  // An unreadable key: latest.key points nowhere.
  ASSERT_EQ(::unlink((data() + "/02.key").c_str()), 0);
  auto r = Run({"--data-dir", data(), settings(), "CERT", "cert", "KEY", "pkey"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("KEY: private key " + data() + "/latest.key"), std::string::npos) << r.err;
  // A key that is not PEM.
  WriteFile(data() + "/02.key", "garbage\n", 0600);
  r = Run({"--data-dir", data(), settings(), "KEY", "pkey"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not PEM"), std::string::npos) << r.err;
  // A directory where the key should be.
  ASSERT_EQ(::unlink((data() + "/02.key").c_str()), 0);
  ASSERT_EQ(::mkdir((data() + "/02.key").c_str(), 0700), 0);
  r = Run({"--data-dir", data(), settings(), "KEY", "pkey"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not readable"), std::string::npos) << r.err;

  // A settings file that ends inside a quote is not rewritten.
  const std::string broken = "A='never closed\nKEY=old\n";
  WriteFile(settings(), broken);
  r = Run({"--data-dir", data(), settings(), "CERT", "cert"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("never closed"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(settings()), broken);
  EXPECT_EQ(Listing(), "data\nsettings.ipsec\n") << "temporary files left behind";
}

TEST_P(ScepReplacePemTest, DataDirFromScepDataDirThenTheSettingsThenTheOption) {
  WriteFile(settings(), "KEY=old\n");
  // SCEP_DATA_DIR, as scepd sets it for the success script.
  auto r = Run({settings(), "KEY", "pkey"}, {"SCEP_DATA_DIR=" + data()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sourced(settings(), "KEY").out, kKeyPem);

  // [scepd] data_dir from SCEPD_CONF when SCEP_DATA_DIR is not set.
  WriteFile(dir_.File("scepd.conf"),
            "[scepd]\n; data_dir = /wrong\nenabled = no\n  data_dir = /continuation\n"
            "data_dir = " + data() + "\n[certificate]\ndata_dir = /wrong\n");
  WriteFile(settings(), "CERT=old\n");
  r = Run({settings(), "CERT", "cert"}, {"SCEPD_CONF=" + dir_.File("scepd.conf")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sourced(settings(), "CERT").out, kCertPem);

  // --data-dir wins over SCEP_DATA_DIR.
  WriteFile(settings(), "CERT=old\n");
  r = Run({"--data-dir=" + data(), settings(), "CERT", "cert"},
          {"SCEP_DATA_DIR=" + dir_.File("nowhere")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sourced(settings(), "CERT").out, kCertPem);

  // And SCEP_DATA_DIR is really used: pointing elsewhere fails.
  r = Run({settings(), "CERT", "cert"}, {"SCEP_DATA_DIR=" + dir_.File("nowhere")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir_.File("nowhere") + "/latest.crt"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Shells, ScepReplacePemTest, ::testing::Values(Dash(), Busybox()),
                         ShellName);

}  // namespace
}  // namespace scepd::testing
