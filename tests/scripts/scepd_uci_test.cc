// init/scepd-uci, OpenWrt's UCI settings (/etc/config/scepd) to scepd.conf,
// on UCI-syntax files under dash and busybox ash (busybox awk): the output
// as text, and as scepd --check-config reads it.

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/scripts/script_shell.h"

namespace scepd::testing {
namespace {

const std::string kConverter = std::string(SCEPD_SOURCE_DIR) + "/init/scepd-uci";
const std::string kOpenWrtDefaults =
    std::string(SCEPD_SOURCE_DIR) + "/packaging/openwrt/files/scepd.config";
const std::string kShippedSettings = std::string(SCEPD_SOURCE_DIR) + "/etc/scepd.conf";

// The keys etc/scepd.conf documents (";key =" lines), with their section
// ("scepd" or "certificate"). ConfigTest.ShippedFileDocumentsEveryKey keeps
// that list equal to the daemon's, but for data_dir of a named certificate
// section.
std::vector<std::pair<std::string, std::string>> DocumentedKeys() {
  std::vector<std::pair<std::string, std::string>> keys;
  std::istringstream text(ReadFile(kShippedSettings));
  std::string line, section;
  while (std::getline(text, line)) {
    if (line == "[scepd]" || line == "[certificate]") section = line.substr(1, line.size() - 2);
    if (line.rfind(";[", 0) == 0) break;  // the commented-out example repeats keys
    if (line.size() < 2 || line[0] != ';' || line[1] == ' ') continue;
    const std::size_t eq = line.find(" =");
    if (eq != std::string::npos) keys.emplace_back(section, line.substr(1, eq - 1));
  }
  return keys;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class ScepdUciTest : public ::testing::TestWithParam<Shell> {
 protected:
  ProcessResult Convert(const std::string& uci_file) {
    return RunProcess(GetParam().Command(kConverter, {uci_file}), {"PATH=" + GetParam().Path()});
  }
  // Converts `uci` (file contents); returns the scepd.conf text, or "" and a
  // test failure.
  std::string ConvertText(const std::string& uci) {
    WriteFile(dir_.File("scepd"), uci);
    auto r = Convert(dir_.File("scepd"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    return r.out;
  }
  // scepd --check-config on converted text.
  ProcessResult CheckConfig(const std::string& conf) {
    WriteFile(dir_.File("scepd.conf"), conf, 0600);
    return RunProcess({kScepdBinary, "--check-config", "-c", dir_.File("scepd.conf")});
  }
  // The converter's error for `uci`: exit 1, and its message.
  std::string ErrorFor(const std::string& uci) {
    WriteFile(dir_.File("bad"), uci);
    auto r = Convert(dir_.File("bad"));
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(r.out, "") << "nothing on stdout when the file is refused";
    return r.err;
  }

  TempDir dir_{"scepd-uci-"};
};

TEST_P(ScepdUciTest, OpenWrtDefaultsLoad) {
  auto r = Convert(kOpenWrtDefaults);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "\n[scepd]\nenabled = 0\ndata_dir = /etc/scepClient\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "\n[certificate]\nrenew_days = 30\nkey_size = 2048\n")) << r.out;
  EXPECT_FALSE(Contains(r.out, "url")) << "commented-out options stay out";
  auto check = CheckConfig(r.out);
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_TRUE(Contains(check.out, "enabled = no")) << check.out;
  // /var is a tmpfs on OpenWrt: keys must live on flash.
  EXPECT_TRUE(Contains(check.out, "data_dir = /etc/scepClient")) << check.out;
  EXPECT_TRUE(Contains(check.out, "log_target = stderr")) << check.out;
}

TEST_P(ScepdUciTest, ConvertsSectionsOptionsListsAndQuoting) {
  // As `uci set`/`uci add_list`/`uci commit` write it, plus hand edits:
  // double quotes, a glued quote, an unquoted value, comments, a
  // multi-line script and a later option replacing an earlier one.
  const std::string conf = ConvertText(
      "\npackage scepd\n\n"
      "config scepd 'main'\n"
      "\toption enabled '1'\n"
      "\toption serial_number \"A1B2\"   # the router's\n"
      "\toption data_dir " + dir_.File("data") + "\n"
      "\toption run_dir '" + dir_.File("run") + "'\n"
      "\toption log_level 'info'\n"
      "\toption log_level 'debug'\n\n"
      "config certificate\n"
      "\toption url 'http://ca.example.com/scep'\n"
      "\toption subject '/O=it'\\''s \"here\"/CN=router-SN'\n"
      "\tlist alt_name 'DNS:router-SN.example.com'\n"
      "\tlist alt_name \"IP:192.0.2.1\"\n"
      "\toption success_script 'scep_replace_pem /etc/settings.ipsec \\\n"
      "\t    IPSEC_LOCAL_KEY pkey IPSEC_LOCAL_CERT cert &&\n"
      "\n"
      "\t/etc/init.d/ipsec restart'\n\n"
      "config certificate 'vpn'\n"
      "\toption url \"http://ca.example.com/scep?a=\\\"b\\\"\"\n"
      "\toption subject /CN=vpn\\ SN\n"
      "\toption data_dir '" + dir_.File("vpn") + "'\n");
  EXPECT_TRUE(Contains(conf, "\n[scepd]\nenabled = 1\nserial_number = A1B2\n")) << conf;
  EXPECT_TRUE(Contains(conf, "\nlog_level = debug\n")) << conf;
  EXPECT_FALSE(Contains(conf, "log_level = info")) << conf;
  EXPECT_TRUE(Contains(conf, "\n[certificate]\nurl = http://ca.example.com/scep\n"
                             "subject = /O=it's \"here\"/CN=router-SN\n"
                             "alt_name = DNS:router-SN.example.com,IP:192.0.2.1\n"
                             "success_script = scep_replace_pem /etc/settings.ipsec \\\n"
                             "    IPSEC_LOCAL_KEY pkey IPSEC_LOCAL_CERT cert &&\n"
                             "    /etc/init.d/ipsec restart\n"))
      << conf;
  EXPECT_TRUE(Contains(conf, "\n[certificate vpn]\nurl = http://ca.example.com/scep?a=\"b\"\n"
                             "subject = /CN=vpn SN\n"))
      << conf;

  auto check = CheckConfig(conf);
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_TRUE(Contains(check.out, "enabled = yes")) << check.out;
  EXPECT_TRUE(Contains(check.out, "subject = /O=it's \"here\"/CN=router-A1B2")) << check.out;
  EXPECT_TRUE(Contains(check.out, "alt_name = DNS:router-A1B2.example.com,IP:192.0.2.1"))
      << check.out;
  EXPECT_TRUE(Contains(check.out, "success_script = scep_replace_pem /etc/settings.ipsec \\\n"
                                  "    IPSEC_LOCAL_KEY pkey IPSEC_LOCAL_CERT cert &&\n"
                                  "    /etc/init.d/ipsec restart\n"))
      << check.out;
  EXPECT_TRUE(Contains(check.out, "[certificate vpn]")) << check.out;
}

// The converter keeps no list of keys: every key the daemon reads (EST's,
// CMP's, the proxy's, any added later) comes through as it was written.
TEST_P(ScepdUciTest, EveryKeyOfTheDaemonComesThrough) {
  const auto keys = DocumentedKeys();
  ASSERT_GT(keys.size(), 40u);
  std::string scepd = "config scepd 'main'\n", certificate = "config certificate\n";
  for (const auto& [section, key] : keys) {
    (section == "scepd" ? scepd : certificate) +=
        "\toption " + key + " 'v " + key + "'\n";
  }
  const std::string conf = ConvertText(scepd + "\n" + certificate +
                                       "\nconfig certificate 'vpn'\n\toption data_dir 'v vpn'\n");
  const std::size_t cert_at = conf.find("\n[certificate]\n");
  const std::size_t vpn_at = conf.find("\n[certificate vpn]\n");
  ASSERT_NE(cert_at, std::string::npos) << conf;
  ASSERT_NE(vpn_at, std::string::npos) << conf;
  for (const auto& [section, key] : keys) {
    const std::size_t at = conf.find("\n" + key + " = v " + key + "\n");
    EXPECT_NE(at, std::string::npos) << key << " lost:\n" << conf;
    if (section == "scepd") {
      EXPECT_LT(at, cert_at) << key << " not in [scepd]";
    } else {
      EXPECT_GT(at, cert_at) << key << " not in [certificate]";
      EXPECT_LT(at, vpn_at) << key << " not in [certificate]";
    }
  }
  for (const char* key : {"est_username", "est_password_file", "cmp_secret_file", "cmp_reference",
                          "recipient", "proxy", "proxy_credentials_file", "protocol"}) {
    EXPECT_TRUE(Contains(conf, std::string("\n") + key + " = ")) << key;
  }
}

// UCI files as an OpenWrt user writes them for an EST and a CMP CA behind a
// proxy: scepd takes the converted settings.
TEST_P(ScepdUciTest, EstAndCmpBehindAProxyLoad) {
  WriteFile(dir_.File("est-password"), "estpass\n", 0600);
  WriteFile(dir_.File("cmp-secret"), "cmpsecret\n", 0600);
  WriteFile(dir_.File("proxy-creds"), "gw:pass\n", 0600);
  WriteFile(dir_.File("tls-ca.pem"), "read when the CA is contacted\n");
  const std::string conf = ConvertText(
      "config scepd 'main'\n"
      "\toption enabled '1'\n"
      "\toption serial_number 'A1B2'\n"
      "\toption data_dir '" + dir_.File("data") + "'\n"
      "\toption run_dir '" + dir_.File("run") + "'\n\n"
      "config certificate 'est'\n"
      "\toption protocol 'est'\n"
      "\toption url 'https://est.example.com:8443'\n"
      "\toption est_label 'routers'\n"
      "\toption est_username 'router'\n"
      "\toption est_password_file '" + dir_.File("est-password") + "'\n"
      "\toption tls_ca_file '" + dir_.File("tls-ca.pem") + "'\n"
      "\toption subject '/CN=router-SN'\n"
      "\toption key_type 'ec'\n"
      "\toption proxy 'http://proxy.example.net:3128'\n"
      "\toption proxy_credentials_file '" + dir_.File("proxy-creds") + "'\n"
      "\toption data_dir '" + dir_.File("est") + "'\n\n"
      "config certificate 'cmp'\n"
      "\toption protocol 'cmp'\n"
      "\toption url 'http://cmp.example.com/pkix/'\n"
      "\toption cmp_reference '62154'\n"
      "\toption cmp_secret_file '" + dir_.File("cmp-secret") + "'\n"
      "\toption recipient '/CN=Example CA'\n"
      "\toption subject '/CN=router-SN-cmp'\n"
      "\toption proxy 'proxy.example.net:3128'\n"
      "\toption data_dir '" + dir_.File("cmp") + "'\n");
  auto check = CheckConfig(conf);
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  for (const std::string& line : std::vector<std::string>{"protocol = est", "est_label = routers", "est_username = router",
        "est_password_file = " + dir_.File("est-password"),
        "proxy = http://proxy.example.net:3128",
        "proxy_credentials_file = " + dir_.File("proxy-creds"), "protocol = cmp",
        "cmp_reference = 62154", "cmp_secret_file = " + dir_.File("cmp-secret"),
        "recipient = /CN=Example CA", "proxy = proxy.example.net:3128"}) {
    EXPECT_TRUE(Contains(check.out, line + "\n")) << line << "\n" << check.out;
  }
  EXPECT_FALSE(Contains(check.out, "estpass")) << check.out;
  EXPECT_FALSE(Contains(check.out, "cmpsecret")) << check.out;
}

TEST_P(ScepdUciTest, RefusesWhatItCannotConvertNamingTheLine) {
  EXPECT_TRUE(Contains(ErrorFor("config scepd\n\toption enabled '0'\n\toptoin url x\n"),
                       "/bad:3: unknown statement \"optoin\""));
  EXPECT_TRUE(Contains(ErrorFor("config scepd\n\n\toption url 'http://x\n"),
                       "/bad:3: quote (') not closed"));
  EXPECT_TRUE(Contains(ErrorFor("config certificate\n\toption url a\n\nconfig certificate\n"),
                       "/bad:4: second \"config certificate\" (first on line 1); give the "
                       "others names"));
  EXPECT_TRUE(Contains(ErrorFor("\toption enabled 1\nconfig scepd\n"),
                       "/bad:1: option before the first config line"));
  EXPECT_TRUE(Contains(ErrorFor("config interface 'lan'\n"),
                       "/bad:1: unknown section type \"interface\""));
  EXPECT_TRUE(Contains(ErrorFor("config certificate 'a b'\n"), "/bad:1: certificate name"));
  EXPECT_TRUE(Contains(ErrorFor("config scepd\n\toption log_level debug info\n"),
                       "/bad:2: option takes a name and one value"));
  EXPECT_TRUE(Contains(ErrorFor("config certificate\n\toption alt_name a\n\tlist alt_name b\n"),
                       "/bad:3: \"alt_name\" is an option above"));
  auto missing = Convert(dir_.File("absent"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.err, dir_.File("absent") + " is not a readable file")) << missing.err;
}

INSTANTIATE_TEST_SUITE_P(Shells, ScepdUciTest, ::testing::Values(Dash(), Busybox()), ShellName);

}  // namespace
}  // namespace scepd::testing
