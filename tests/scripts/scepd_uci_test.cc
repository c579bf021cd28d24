// init/scepd-uci, OpenWrt's UCI settings (/etc/config/scepd) to scepd.conf,
// on UCI-syntax files under dash and busybox ash (busybox awk): the output
// as text, and as scepd --check-config reads it.

#include <gtest/gtest.h>

#include <string>

#include "tests/scripts/script_shell.h"

namespace scepd::testing {
namespace {

const std::string kConverter = std::string(SCEPD_SOURCE_DIR) + "/init/scepd-uci";
const std::string kOpenWrtDefaults =
    std::string(SCEPD_SOURCE_DIR) + "/packaging/openwrt/files/scepd.config";

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
