#include "daemon/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/alt_name.h"
#include "core/subject.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"

namespace scepd {
namespace {

using testing::TempDir;
using testing::WriteFile;

class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest() { sources_.files = {dir_.File("serial")}; }

  Result<Config> Parse(const std::string& text) {
    return ParseConfig(text, "t.conf", sources_);
  }

  // The error text, or a marker that makes the comparison fail readably.
  std::string Errors(const std::string& text) {
    auto config = Parse(text);
    if (config.ok()) return "(loaded without error)";
    EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
    return config.error().message;
  }

  TempDir dir_;
  SerialSources sources_;
};

TEST_F(ConfigTest, EmptyFileGivesDefaults) {
  auto config = Parse("");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(*config, Config{});
  EXPECT_FALSE(config->daemon.enabled);
  EXPECT_EQ(config->daemon.data_dir, "/var/data/scepClient");
  EXPECT_EQ(config->daemon.run_dir, "/var/run/scepClient");
  EXPECT_EQ(config->daemon.check_interval, 86400);
  EXPECT_EQ(config->daemon.log_level, LogLevel::kInfo);
  EXPECT_EQ(config->daemon.log_target, LogTarget::kSyslog);
  EXPECT_TRUE(config->certificates.empty());
}

TEST_F(ConfigTest, EmptyCertificateSectionGetsDefaults) {
  auto config = Parse("[certificate]\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_EQ(config->certificates.size(), 1u);
  const CertificateSettings& c = config->certificates[0];
  EXPECT_EQ(c.name, "");
  EXPECT_EQ(c.data_dir, "/var/data/scepClient");
  EXPECT_EQ(c.renew_days, 30);
  EXPECT_EQ(c.await_result, 300);
  EXPECT_EQ(c.max_await_result, 480);
  EXPECT_FALSE(c.legacy_ciphers);
  EXPECT_EQ(c.key_size, 2048);
  EXPECT_TRUE(c.digital_signature);
  EXPECT_TRUE(c.key_encipherment);
  EXPECT_FALSE(c.server_auth);
  EXPECT_TRUE(c.client_auth);
  EXPECT_EQ(c.keep_old, 2);
  EXPECT_TRUE(c.ca_fingerprint.empty());
}

TEST_F(ConfigTest, EveryKeyIsRead) {
  auto config = Parse(
      "; router settings\n"
      "[scepd]\n"
      "enabled = yes\n"
      "data_dir = /data/scep/\n"
      "run_dir = /run/scep\n"
      "check_interval = 6h\n"
      "log_level = Debug\n"
      "log_target = both\n"
      "serial_number = A1B2\n"
      "\n"
      "[certificate]\n"
      "url = https://ca.example.com/scep\n"
      "renew_days = 14\n"
      "await_result = 30\n"
      "max_await_result = 0\n"
      "legacy_ciphers = on\n"
      "key_size = 4096\n"
      "subject = /DC=org/DC=OpenXPKI/DC=Test Deployment/CN=router-SN\n"
      "alt_name = DNS:router-SN.example.com, IP:192.0.2.1\n"
      "template = IPSecIntermediateOffline\n"
      "digital_signature = false\n"
      "key_encipherment = 0\n"
      "server_auth = TRUE\n"
      "client_auth = off\n"
      "challenge_password = s3cret;pass\n"
      "ca_fingerprint = sha1:0102030405060708090a0b0c0d0e0f1011121314\n"
      "ca_identifier = RootCA\n"
      "success_script = /etc/init.d/ipsec restart\n"
      "failure_script = logger scep failed\n"
      "keep_old = 5\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const DaemonSettings& d = config->daemon;
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.data_dir, "/data/scep");  // trailing '/' dropped
  EXPECT_EQ(d.run_dir, "/run/scep");
  EXPECT_EQ(d.check_interval, 6 * 3600);
  EXPECT_EQ(d.log_level, LogLevel::kDebug);
  EXPECT_EQ(d.log_target, LogTarget::kBoth);
  EXPECT_EQ(d.serial_number, "A1B2");
  ASSERT_EQ(config->certificates.size(), 1u);
  const CertificateSettings& c = config->certificates[0];
  EXPECT_EQ(c.data_dir, "/data/scep");
  EXPECT_EQ(c.url, "https://ca.example.com/scep");
  EXPECT_EQ(c.renew_days, 14);
  EXPECT_EQ(c.await_result, 30);
  EXPECT_EQ(c.max_await_result, 0);
  EXPECT_TRUE(c.legacy_ciphers);
  EXPECT_EQ(c.key_size, 4096);
  EXPECT_EQ(c.subject, "/DC=org/DC=OpenXPKI/DC=Test Deployment/CN=router-A1B2");
  EXPECT_EQ(c.alt_name, "DNS:router-A1B2.example.com, IP:192.0.2.1");
  EXPECT_EQ(c.template_name, "IPSecIntermediateOffline");
  EXPECT_FALSE(c.digital_signature);
  EXPECT_FALSE(c.key_encipherment);
  EXPECT_TRUE(c.server_auth);
  EXPECT_FALSE(c.client_auth);
  EXPECT_EQ(c.challenge_password, "s3cret;pass");
  EXPECT_EQ(c.challenge_password_file, "");
  EXPECT_EQ(c.ca_fingerprint.algorithm, "sha1");
  EXPECT_EQ(c.ca_fingerprint.digest,
            Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}));
  EXPECT_EQ(c.ca_identifier, "RootCA");
  EXPECT_EQ(c.success_script, "/etc/init.d/ipsec restart");
  EXPECT_EQ(c.failure_script, "logger scep failed");
  EXPECT_EQ(c.keep_old, 5);
}

TEST_F(ConfigTest, RequestSpecCarriesWhatTheRequestAsksFor) {
  auto config = Parse(
      "[scepd]\nserial_number = A1B2\n"
      "[certificate]\n"
      "subject = /O=Example/CN=router-SN\n"
      "alt_name = DNS:router-SN.example.com, otherName:1.3.6.1.4.1.311.20.2.3;UTF8:r@example\n"
      "template = IPSecIntermediateOffline\n"
      "digital_signature = no\n"
      "server_auth = yes\n"
      "client_auth = no\n"
      "challenge_password = s3cret\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const CsrSpec spec = RequestSpec(config->certificates.at(0));
  EXPECT_EQ(spec.subject, "/O=Example/CN=router-A1B2");
  EXPECT_EQ(spec.alt_names,
            "DNS:router-A1B2.example.com, otherName:1.3.6.1.4.1.311.20.2.3;UTF8:r@example");
  EXPECT_EQ(spec.template_name, "IPSecIntermediateOffline");
  EXPECT_FALSE(spec.digital_signature);
  EXPECT_TRUE(spec.key_encipherment);
  EXPECT_TRUE(spec.server_auth);
  EXPECT_FALSE(spec.client_auth);
  EXPECT_TRUE(spec.extra_ekus.empty());
  EXPECT_EQ(spec.challenge_password, "s3cret");
  auto csr = BuildCsr(spec, testing::CachedKey(1).get());
  ASSERT_TRUE(csr.ok()) << csr.error().message;
  EXPECT_EQ(X509_REQ_verify(csr->get(), X509_REQ_get0_pubkey(csr->get())), 1);
}

// One bad value per row: the line to put in a section, and the error.
struct BadValue {
  const char* section;
  const char* line;
  const char* error;
};

TEST_F(ConfigTest, BadValuesNameFileLineSectionAndKey) {
  const std::vector<BadValue> cases = {
      {"scepd", "enabled = maybe",
       "t.conf:2: [scepd] enabled: expected yes or no (or true/false, on/off, 1/0), not "
       "'maybe'"},
      {"scepd", "data_dir = var/data",
       "t.conf:2: [scepd] data_dir: expected an absolute path, not 'var/data'"},
      {"scepd", "run_dir =", "t.conf:2: [scepd] run_dir: expected an absolute path, not ''"},
      {"scepd", "check_interval = 1.5h",
       "t.conf:2: [scepd] check_interval: '1.5h' is not a duration (unknown unit '.'; "
       "expected a whole number of seconds, or one with the unit s, m, h or d, e.g. 90, "
       "15m, 24h, 7d)"},
      {"scepd", "check_interval = 30s",
       "t.conf:2: [scepd] check_interval: must be from 1m to 365d, not '30s'"},
      {"scepd", "check_interval = 366d",
       "t.conf:2: [scepd] check_interval: must be from 1m to 365d, not '366d'"},
      {"scepd", "check_interval = 99999999999999999999",
       "t.conf:2: [scepd] check_interval: '99999999999999999999' is too large a duration"},
      {"scepd", "log_level = verbose",
       "t.conf:2: [scepd] log_level: expected trace, debug, info, warning, error, critical "
       "or off, not 'verbose'"},
      {"scepd", "log_target = file",
       "t.conf:2: [scepd] log_target: expected syslog, stderr or both, not 'file'"},
      {"certificate", "url = ftp://ca.example.com/",
       "t.conf:2: [certificate] url: expected an http:// or https:// URL, not "
       "'ftp://ca.example.com/'"},
      {"certificate", "url = ca.example.com",
       "t.conf:2: [certificate] url: expected an http:// or https:// URL, not "
       "'ca.example.com'"},
      {"certificate", "url = http:///scep",
       "t.conf:2: [certificate] url: the URL 'http:///scep' has no host"},
      {"certificate", "url = http://ca example/",
       "t.conf:2: [certificate] url: a URL cannot contain spaces or control characters"},
      {"certificate", "renew_days = 0",
       "t.conf:2: [certificate] renew_days: expected a whole number from 1 to 3650, not '0'"},
      {"certificate", "renew_days = 3651",
       "t.conf:2: [certificate] renew_days: expected a whole number from 1 to 3650, not "
       "'3651'"},
      {"certificate", "renew_days = -1",
       "t.conf:2: [certificate] renew_days: expected a whole number from 1 to 3650, not "
       "'-1'"},
      {"certificate", "renew_days = 12 days",
       "t.conf:2: [certificate] renew_days: expected a whole number from 1 to 3650, not "
       "'12 days'"},
      {"certificate", "await_result = 0",
       "t.conf:2: [certificate] await_result: expected a whole number from 1 to 86400, not "
       "'0'"},
      {"certificate", "await_result = 5m",
       "t.conf:2: [certificate] await_result: expected a whole number from 1 to 86400, not "
       "'5m'"},
      {"certificate", "max_await_result = 43201",
       "t.conf:2: [certificate] max_await_result: expected a whole number from 0 to 43200, "
       "not '43201'"},
      {"certificate", "legacy_ciphers = si",
       "t.conf:2: [certificate] legacy_ciphers: expected yes or no (or true/false, on/off, "
       "1/0), not 'si'"},
      {"certificate", "key_size = 512",
       "t.conf:2: [certificate] key_size: expected a whole number from 1024 to 16384, not "
       "'512'"},
      {"certificate", "key_size = 99999999999999999999999",
       "t.conf:2: [certificate] key_size: expected a whole number from 1024 to 16384, not "
       "'99999999999999999999999'"},
      {"certificate", "key_size = 2049",
       "t.conf:2: [certificate] key_size: must be a multiple of 8, not 2049"},
      {"certificate", "digital_signature = 2",
       "t.conf:2: [certificate] digital_signature: expected yes or no (or true/false, "
       "on/off, 1/0), not '2'"},
      {"certificate", "key_encipherment = y",
       "t.conf:2: [certificate] key_encipherment: expected yes or no (or true/false, "
       "on/off, 1/0), not 'y'"},
      {"certificate", "server_auth = enabled",
       "t.conf:2: [certificate] server_auth: expected yes or no (or true/false, on/off, "
       "1/0), not 'enabled'"},
      {"certificate", "client_auth =",
       "t.conf:2: [certificate] client_auth: expected yes or no (or true/false, on/off, "
       "1/0), not ''"},
      {"certificate", "challenge_password_file = secret.txt",
       "t.conf:2: [certificate] challenge_password_file: expected an absolute path, not "
       "'secret.txt'"},
      {"certificate", "ca_fingerprint = sha512:00",
       "t.conf:2: [certificate] ca_fingerprint: unknown digest 'sha512' (expected sha256:, "
       "sha1: or md5: before the hex digits)"},
      {"certificate", "ca_fingerprint = sha256:0102",
       "t.conf:2: [certificate] ca_fingerprint: a sha256 fingerprint has 32 bytes, this one "
       "has 2"},
      {"certificate", "ca_fingerprint = 0102",
       "t.conf:2: [certificate] ca_fingerprint: a fingerprint without sha256:, sha1: or md5: "
       "must have 32, 20 or 16 bytes, this one has 2"},
      {"certificate", "ca_fingerprint = md5:zz",
       "t.conf:2: [certificate] ca_fingerprint: 'md5:zz' is not a fingerprint (hex: invalid "
       "character 'z' at position 1); expected e.g. sha256:AB:CD:... or sha1:ABCD..."},
      {"certificate", "keep_old = 101",
       "t.conf:2: [certificate] keep_old: expected a whole number from 0 to 100, not '101'"},
      {"certificate", "data_dir = /data/other",
       "t.conf:2: [certificate] data_dir: not allowed in the unnamed [certificate], which "
       "uses [scepd] data_dir; only [certificate NAME] sections have their own"},
  };
  for (const BadValue& c : cases) {
    const std::string text = std::string("[") + c.section + "]\n" + c.line + "\n";
    EXPECT_EQ(Errors(text), c.error) << text;
  }
}

// The core's own message, after the settings' FILE:LINE: [section] key.
std::string CoreMessage(const Error& error) {
  std::string message = error.message;
  if (message.rfind("subject: ", 0) == 0) message.erase(0, 9);
  return message;
}

TEST_F(ConfigTest, SubjectAndAltNameUseTheCoreParsers) {
  const std::string subject_error = CoreMessage(ParseSubject("CN=router").error());
  EXPECT_EQ(Errors("[certificate]\nsubject = CN=router\n"),
            "t.conf:2: [certificate] subject: " + subject_error);
  const std::string alt_error = CoreMessage(ParseAltNames("FTP:x").error());
  EXPECT_NE(alt_error.find("'FTP:x'"), std::string::npos) << alt_error;
  EXPECT_EQ(Errors("[certificate]\n\nalt_name = FTP:x\n"),
            "t.conf:3: [certificate] alt_name: " + alt_error);
  // A name OpenSSL knows but that has no OID is refused when the settings
  // are read, not at the first enrollment.
  const std::string oid_error =
      CoreMessage(ParseAltNames("otherName:AES-128-OCB;UTF8:x").error());
  EXPECT_NE(oid_error.find("'AES-128-OCB' is not an OID"), std::string::npos) << oid_error;
  EXPECT_EQ(Errors("[certificate]\nalt_name = otherName:AES-128-OCB;UTF8:x\n"),
            "t.conf:2: [certificate] alt_name: " + oid_error);
}

TEST_F(ConfigTest, UnknownKeysAndSections) {
  EXPECT_EQ(Errors("[scepd]\nenable = yes\n"), "t.conf:2: [scepd] enable: unknown key");
  EXPECT_EQ(Errors("[scepd]\nurl = http://ca/\n"),
            "t.conf:2: [scepd] url: unknown key (it belongs in [certificate])");
  EXPECT_EQ(Errors("[certificate]\nlog_level = info\n"),
            "t.conf:2: [certificate] log_level: unknown key (it belongs in [scepd])");
  // Keys in an unknown section are not reported again.
  EXPECT_EQ(Errors("[scep]\nenabled = yes\nfoo = 1\n"),
            "t.conf:1: [scep]: unknown section (expected [scepd], [certificate] or "
            "[certificate NAME])");
  EXPECT_EQ(Errors("[certificate a/b]\n"),
            "t.conf:1: [certificate a/b]: a certificate name may only have ASCII letters, "
            "digits, '.', '_' and '-' (at most 64)");
  EXPECT_EQ(Errors("enabled = yes\n[scepd]\n"),
            "t.conf:1: enabled: key outside of any section (put it under [scepd] or "
            "[certificate])");
}

TEST_F(ConfigTest, DuplicateSectionsAndKeys) {
  EXPECT_EQ(Errors("[scepd]\nenabled = no\n[scepd]\nenabled = yes\n"),
            "t.conf:3: [scepd]: duplicate section (first on line 1)");
  EXPECT_EQ(Errors("[certificate]\n\n[certificate]\n"),
            "t.conf:3: [certificate]: duplicate section (first on line 1)");
  EXPECT_EQ(Errors("[certificate x]\ndata_dir = /x\n[certificate   x]\n"),
            "t.conf:3: [certificate x]: duplicate section (first on line 1)");
  EXPECT_EQ(Errors("[certificate]\nrenew_days = 10\n; again\nrenew_days = 20\n"),
            "t.conf:4: [certificate] renew_days: duplicate key (first set on line 2)");
}

TEST_F(ConfigTest, SyntaxErrors) {
  EXPECT_EQ(Errors("[scepd]\nenabled yes\n"),
            "t.conf:2: syntax error: expected 'key = value', '[section]' or a comment");
  EXPECT_EQ(Errors("[scepd\nenabled = yes\n"),
            "t.conf:1: syntax error: section header without ']'");
  EXPECT_EQ(Errors("[scepd] x\n"), "t.conf:1: syntax error: text after ']' of a section header");
  EXPECT_EQ(Errors("[scepd]\n= yes\n"), "t.conf:2: syntax error: a value without a key name");
  EXPECT_EQ(Errors("[scepd]\nenabled ; note = yes\n"),
            "t.conf:2: syntax error: expected 'key = value' (a ';' after a space starts a "
            "comment in the key part)");
}

TEST_F(ConfigTest, AllErrorsAreReportedInLineOrder) {
  const std::string text =
      "[scepd]\n"
      "enabled = yes\n"
      "log_level = loud\n"
      "bogus = 1\n"
      "[certificate]\n"
      "renew_days = many\n"
      "renew_days = 3\n"
      "[other]\n";
  EXPECT_EQ(Errors(text),
            "t.conf:3: [scepd] log_level: expected trace, debug, info, warning, error, "
            "critical or off, not 'loud'\n"
            "t.conf:4: [scepd] bogus: unknown key\n"
            "t.conf:5: [certificate] url: required when enabled = yes\n"
            "t.conf:5: [certificate] subject: required when enabled = yes\n"
            "t.conf:6: [certificate] renew_days: expected a whole number from 1 to 3650, not "
            "'many'\n"
            "t.conf:7: [certificate] renew_days: duplicate key (first set on line 6)\n"
            "t.conf:8: [other]: unknown section (expected [scepd], [certificate] or "
            "[certificate NAME])");
}

TEST_F(ConfigTest, RequiredKeysOnlyWhenEnabled) {
  EXPECT_TRUE(Parse("[scepd]\nenabled = no\n[certificate]\n").ok());
  EXPECT_EQ(Errors("[scepd]\nenabled = yes\n"),
            "t.conf:2: [scepd] enabled: automation is enabled, but there is no [certificate] "
            "section");
  auto config = Parse("[scepd]\nenabled = yes\n[certificate]\nurl = http://ca/scep\n"
                      "subject = /CN=r\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificates[0].url, "http://ca/scep");
}

TEST_F(ConfigTest, MultiLineScripts) {
  auto config = Parse(
      "[certificate]\n"
      "success_script = scep_replace_pem /etc/settings.ipsec \\\n"
      "    IPSEC_LOCAL_KEY pkey IPSEC_LOCAL_CERT cert\n"
      "\n"
      "    # a comment line inside is skipped\n"
      "\t/etc/init.d/ipsec restart ; logger done\n"
      "failure_script =\n"
      "  logger -t scep \"failed: $SCEP_ERROR\"\n"
      "  exit 0\n"
      "keep_old = 3\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const CertificateSettings& c = config->certificates[0];
  EXPECT_EQ(c.success_script,
            "scep_replace_pem /etc/settings.ipsec \\\n"
            "IPSEC_LOCAL_KEY pkey IPSEC_LOCAL_CERT cert\n"
            "/etc/init.d/ipsec restart ; logger done");
  EXPECT_EQ(c.failure_script, "logger -t scep \"failed: $SCEP_ERROR\"\nexit 0");
  EXPECT_EQ(c.keep_old, 3);
}

TEST_F(ConfigTest, OnlyScriptsMaySpanLines) {
  EXPECT_EQ(Errors("[certificate]\nurl = http://ca/\n  more\n  and more\n"),
            "t.conf:3: [certificate] url: only success_script, failure_script and "
            "serial_number_command may continue on indented lines");
}

TEST_F(ConfigTest, SemicolonsLongLinesCrLfAndBom) {
  const std::string long_script = "echo " + std::string(500, 'x') + " ; true";
  auto config = Parse("\xEF\xBB\xBF[certificate]\r\n"
                      "success_script = " + long_script + "\r\n"
                      "challenge_password = a ;b\r\n"
                      "template = T  ; not a comment\r\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificates[0].success_script, long_script);
  EXPECT_EQ(config->certificates[0].challenge_password, "a ;b");
  EXPECT_EQ(config->certificates[0].template_name, "T  ; not a comment");
}

TEST_F(ConfigTest, ChallengePasswordFile) {
  WriteFile(dir_.File("challenge"), "file-secret\n", 0600);
  auto config = Parse("[certificate]\nchallenge_password_file = " + dir_.File("challenge") +
                      "\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificates[0].challenge_password, "file-secret");
  EXPECT_EQ(config->certificates[0].challenge_password_file, dir_.File("challenge"));

  WriteFile(dir_.File("crlf"), "other\r\n", 0600);
  config = Parse("[certificate]\nchallenge_password_file = " + dir_.File("crlf") + "\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificates[0].challenge_password, "other");
}

TEST_F(ConfigTest, ChallengePasswordFileProblems) {
  const std::string missing = dir_.File("missing");
  EXPECT_EQ(Errors("[certificate]\nchallenge_password_file = " + missing + "\n"),
            "t.conf:2: [certificate] challenge_password_file: cannot read '" + missing +
                "': No such file or directory");
  WriteFile(dir_.File("empty"), "\n", 0600);
  EXPECT_EQ(Errors("[certificate]\nchallenge_password_file = " + dir_.File("empty") + "\n"),
            "t.conf:2: [certificate] challenge_password_file: '" + dir_.File("empty") +
                "' is empty");
  WriteFile(dir_.File("two"), "a\nb\n", 0600);
  EXPECT_EQ(Errors("[certificate]\nchallenge_password_file = " + dir_.File("two") + "\n"),
            "t.conf:2: [certificate] challenge_password_file: '" + dir_.File("two") +
                "' holds a control character or more than one line");
  EXPECT_EQ(Errors("[certificate]\nchallenge_password = x\nchallenge_password_file = " +
                   missing + "\n"),
            "t.conf:3: [certificate] challenge_password_file: conflicts with "
            "challenge_password on line 2; set only one");
}

TEST_F(ConfigTest, SerialWildcardInSubjectAndAltName) {
  WriteFile(dir_.File("serial"), std::string("A1B2\0", 5));
  auto config = Parse(
      "[certificate]\n"
      "subject = /CN=router-SN/O=SNMP \\SN/OU=ASN SN2\n"
      "alt_name = DNS:SN.example.com,DNS:SN-SN.lan\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificates[0].subject, "/CN=router-A1B2/O=SNMP SN/OU=ASN SN2");
  EXPECT_EQ(config->certificates[0].alt_name, "DNS:A1B2.example.com,DNS:A1B2-A1B2.lan");
}

TEST_F(ConfigTest, SerialFromSettingsAndCommand) {
  WriteFile(dir_.File("serial"), "FROMFILE");
  auto config = Parse("[scepd]\nserial_number = S-9\n[certificate]\nsubject = /CN=SN\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificates[0].subject, "/CN=S-9");
  config = Parse("[scepd]\nserial_number_command = echo ' CMD7 '\n[certificate]\n"
                 "subject = /CN=SN\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificates[0].subject, "/CN=CMD7");
}

TEST_F(ConfigTest, SerialNotLookedUpWhenUnused) {
  // No serial anywhere and a command that would fail: fine while SN is unused.
  auto config = Parse("[scepd]\nserial_number_command = exit 1\n[certificate]\n"
                      "subject = /CN=router-\\SN\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificates[0].subject, "/CN=router-SN");
}

TEST_F(ConfigTest, SerialWildcardWithoutSerialIsAClearError) {
  EXPECT_EQ(Errors("[certificate]\nsubject = /CN=router-SN\nalt_name = DNS:SN.lan\n"),
            "t.conf:2: [certificate] subject: uses the SN wildcard, but no serial number "
            "found: none of " + dir_.File("serial") +
                " holds a usable one; set serial_number (the serial itself) or "
                "serial_number_command (a command printing it) in [scepd]\n"
                "t.conf:3: [certificate] alt_name: uses the SN wildcard, but no serial number "
                "found: none of " + dir_.File("serial") +
                " holds a usable one; set serial_number (the serial itself) or "
                "serial_number_command (a command printing it) in [scepd]");
  EXPECT_EQ(Errors("[scepd]\nserial_number_command = echo oops >&2; exit 2\n"
                   "[certificate]\nsubject = /CN=SN\n"),
            "t.conf:4: [certificate] subject: uses the SN wildcard, but "
            "serial_number_command: exited with status 2: oops");
}

TEST_F(ConfigTest, BadSubjectAfterSubstitutionNamesLineAndKey) {
  WriteFile(dir_.File("serial"), "R1");
  // The substituted text is what the subject parser sees and reports.
  const std::string core = CoreMessage(ParseSubject("/CN=R1/XYZ=1").error());
  EXPECT_NE(core.find("'XYZ=1'"), std::string::npos) << core;
  EXPECT_EQ(Errors("[certificate]\nurl = http://ca/\nsubject = /CN=SN/XYZ=1\n"),
            "t.conf:3: [certificate] subject: " + core);
}

TEST_F(ConfigTest, FingerprintNormalisation) {
  struct Case {
    const char* text;
    const char* algorithm;
    std::size_t size;
  };
  const std::vector<Case> cases = {
      {"sha256:" "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
       "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", "sha256", 32},
      {"SHA1:00112233445566778899AABBCCDDEEFF00112233", "sha1", 20},
      {"md5: 00112233445566778899aabbccddeeff", "md5", 16},
      {"00112233445566778899AABBCCDDEEFF", "md5", 16},
      {"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33", "sha1", 20},
  };
  for (const Case& c : cases) {
    auto config = Parse(std::string("[certificate]\nca_fingerprint = ") + c.text + "\n");
    ASSERT_TRUE(config.ok()) << c.text << ": " << config.error().message;
    const CaFingerprint& pin = config->certificates[0].ca_fingerprint;
    EXPECT_EQ(pin.algorithm, c.algorithm) << c.text;
    ASSERT_EQ(pin.digest.size(), c.size) << c.text;
    EXPECT_EQ(pin.digest[0], 0x00);
    EXPECT_EQ(pin.digest[10], 0xAA);
  }
  EXPECT_EQ(Errors("[certificate]\nca_fingerprint = sha1:00112233445566778899AABBCCDDEEFF\n"),
            "t.conf:2: [certificate] ca_fingerprint: a sha1 fingerprint has 20 bytes, this one "
            "has 16");
}

TEST_F(ConfigTest, NamedCertificates) {
  auto config = Parse(
      "[scepd]\n"
      "data_dir = /data/main\n"
      "[certificate vpn]\n"
      "data_dir = /data/vpn\n"
      "renew_days = 10\n"
      "[certificate]\n"
      "renew_days = 20\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_EQ(config->certificates.size(), 2u);
  EXPECT_EQ(config->certificates[0].name, "vpn");
  EXPECT_EQ(config->certificates[0].data_dir, "/data/vpn");
  EXPECT_EQ(config->certificates[0].renew_days, 10);
  EXPECT_EQ(config->certificates[1].name, "");
  EXPECT_EQ(config->certificates[1].data_dir, "/data/main");
  EXPECT_EQ(config->certificates[1].renew_days, 20);
}

TEST_F(ConfigTest, NamedCertificatesNeedTheirOwnDataDir) {
  EXPECT_EQ(Errors("[certificate vpn]\nrenew_days = 10\n"),
            "t.conf:1: [certificate vpn] data_dir: required in a named certificate section");
  EXPECT_EQ(Errors("[certificate a]\ndata_dir = /d/x\n[certificate b]\ndata_dir = /d/x/\n"),
            "t.conf:4: [certificate b] data_dir: '/d/x' is already used by [certificate a]");
  EXPECT_EQ(Errors("[certificate]\n[certificate b]\ndata_dir = /var/data/scepClient\n"),
            "t.conf:3: [certificate b] data_dir: '/var/data/scepClient' is already used by "
            "[certificate] (data_dir of [scepd])");
  // Without an unnamed section the global data_dir is free for a named one.
  EXPECT_TRUE(Parse("[certificate b]\ndata_dir = /var/data/scepClient\n").ok());
}

TEST_F(ConfigTest, LoadConfigReadsAFile) {
  WriteFile(dir_.File("scepd.conf"), "[scepd]\nlog_level = warning\nlog_target = x\n");
  auto config = LoadConfig(dir_.File("scepd.conf"), sources_);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            dir_.File("scepd.conf") + ":3: [scepd] log_target: expected syslog, stderr or both, "
                                      "not 'x'");
  auto missing = LoadConfig(dir_.File("nope.conf"), sources_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kIo);
  EXPECT_EQ(missing.error().message,
            dir_.File("nope.conf") + ": cannot read: No such file or directory");
}

TEST_F(ConfigTest, ShippedDefaultFileLoads) {
  const std::string path = std::string(SCEPD_SOURCE_DIR) + "/etc/scepd.conf";
  auto config = LoadConfig(path, sources_);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_FALSE(config->daemon.enabled);
  Config expected;
  expected.certificates.emplace_back();
  expected.certificates[0].data_dir = expected.daemon.data_dir;
  EXPECT_EQ(*config, expected) << FormatEffectiveConfig(*config);

  // Its only gap is the one automation needs filled in: turning it on
  // without a server and subject is refused.
  std::string text = testing::ReadFile(path);
  ASSERT_EQ(text.find("\nenabled = "), std::string::npos)
      << "enabled should be commented out in the shipped file";
  const std::size_t cert = text.find("\n[certificate]\n");
  ASSERT_NE(cert, std::string::npos);
  text = "[scepd]\nenabled = yes\n" + text.substr(cert);
  auto enabled = Parse(text);
  ASSERT_FALSE(enabled.ok());
  EXPECT_NE(enabled.error().message.find("[certificate] url: required when enabled = yes"),
            std::string::npos)
      << enabled.error().message;
}

TEST_F(ConfigTest, EffectiveConfigMasksTheSecretAndParsesBack) {
  WriteFile(dir_.File("serial"), "A1B2");
  WriteFile(dir_.File("challenge"), "from-file\n", 0600);
  const std::string text =
      "[scepd]\n"
      "enabled = yes\n"
      "check_interval = 90m\n"
      "log_target = stderr\n"
      "serial_number_command = cat " + dir_.File("serial") + "\n"
      "[certificate]\n"
      "url = http://ca.example/scep\n"
      "subject = /O=Example \\SN/CN=router-SN\n"
      "alt_name = DNS:SN.lan\n"
      "server_auth = yes\n"
      "challenge_password = top;secret\n"
      "ca_fingerprint = md5:00112233445566778899aabbccddeeff\n"
      "success_script = first\n"
      "    second ; third\n"
      "[certificate vpn]\n"
      "data_dir = /data/vpn\n"
      "url = https://ca.example/vpn\n"
      "subject = /CN=vpn-SN\n"
      "challenge_password_file = " + dir_.File("challenge") + "\n";
  auto config = Parse(text);
  ASSERT_TRUE(config.ok()) << config.error().message;
  const std::string effective = FormatEffectiveConfig(*config);
  EXPECT_EQ(effective.find("top;secret"), std::string::npos) << effective;
  EXPECT_EQ(effective.find("from-file"), std::string::npos) << effective;
  EXPECT_NE(effective.find("\nchallenge_password = ********\n"), std::string::npos)
      << effective;
  EXPECT_NE(effective.find("\nchallenge_password_file = " + dir_.File("challenge") + "\n"),
            std::string::npos)
      << effective;
  EXPECT_NE(effective.find("\nsubject = /O=Example \\SN/CN=router-A1B2\n"), std::string::npos)
      << effective;
  EXPECT_NE(effective.find("\ncheck_interval = 90m\n"), std::string::npos) << effective;
  EXPECT_NE(effective.find("\nca_fingerprint = md5:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
                           "EE:FF\n"),
            std::string::npos)
      << effective;
  EXPECT_NE(effective.find("\nsuccess_script = first\n    second ; third\n"), std::string::npos)
      << effective;

  // Parsing what was printed gives the same settings, but for the mask.
  WriteFile(dir_.File("serial"), "OTHER");  // SN is already substituted
  auto again = Parse(effective);
  ASSERT_TRUE(again.ok()) << again.error().message << "\n" << effective;
  Config expected = *config;
  expected.certificates[0].challenge_password = "********";
  EXPECT_EQ(*again, expected) << effective;
  EXPECT_EQ(again->certificates[1].challenge_password, "from-file");
  EXPECT_EQ(FormatEffectiveConfig(*again), effective);
}

}  // namespace
}  // namespace scepd

namespace scepd {
namespace {

// Two bad values for one key: one of the wrong kind (text where a number
// belongs, a relative path, a control character in free text) and one of the
// right kind but out of range. `out_of_range` is null only for free text that
// has no range; `no_range` then says why.
struct KeyBadValues {
  const char* section;  // "scepd", "certificate" or "certificate vpn"
  const char* key;
  const char* wrong_type;
  const char* wrong_type_error;  // what follows "t.conf:LINE: [section] key: "
  const char* out_of_range;
  const char* out_of_range_error;
  const char* no_range;
};

const std::vector<KeyBadValues>& EveryKeysBadValues() {
  static const std::vector<KeyBadValues> rows = {
      {"scepd", "enabled", "maybe",
       "expected yes or no (or true/false, on/off, 1/0), not 'maybe'", "2",
       "expected yes or no (or true/false, on/off, 1/0), not '2'", nullptr},
      {"scepd", "data_dir", "var/data", "expected an absolute path, not 'var/data'", "",
       "expected an absolute path, not ''", nullptr},
      {"scepd", "run_dir", "run", "expected an absolute path, not 'run'", "",
       "expected an absolute path, not ''", nullptr},
      {"scepd", "check_interval", "daily",
       "'daily' is not a duration (no number; expected a whole number of seconds, "
       "or one with the unit s, m, h or d, e.g. 90, 15m, 24h, 7d)",
       "30s", "must be from 1m to 365d, not '30s'", nullptr},
      {"scepd", "log_level", "3",
       "expected trace, debug, info, warning, error, critical or off, not '3'", "verbose",
       "expected trace, debug, info, warning, error, critical or off, not 'verbose'", nullptr},
      {"scepd", "log_target", "1", "expected syslog, stderr or both, not '1'", "file",
       "expected syslog, stderr or both, not 'file'", nullptr},
      {"scepd", "serial_number", "A1\x01" "B2", "contains a control character", "A1 B2",
       "serial_number 'A1 B2' is not usable: it contains a character other than ASCII "
       "letters, digits, '-', '_', '.' and ':'",
       nullptr},
      {"scepd", "serial_number_command", "cat /x\x01", "contains a control character", nullptr,
       nullptr, "any shell command; its output is checked when SN is used"},
      {"scepd", "status_group", "adm\x01", "contains a control character",
       "no-such-group-scepd", "no such group 'no-such-group-scepd'", nullptr},
      {"scepd", "metrics_file", "scepd.prom", "expected an absolute path, not 'scepd.prom'",
       nullptr, nullptr, "any absolute path; empty means no metrics file"},
      {"certificate vpn", "data_dir", "data/vpn", "expected an absolute path, not 'data/vpn'", "",
       "expected an absolute path, not ''", nullptr},
      {"certificate", "url", "ca.example.com",
       "expected an http:// or https:// URL, not 'ca.example.com'", "http:///scep",
       "the URL 'http:///scep' has no host", nullptr},
      {"certificate", "renew_days", "12 days",
       "expected a whole number from 1 to 3650, not '12 days'", "3651",
       "expected a whole number from 1 to 3650, not '3651'", nullptr},
      {"certificate", "renew_spread", "half",
       "expected a whole number from 0 to 100, not 'half'", "101",
       "expected a whole number from 0 to 100, not '101'", nullptr},
      {"certificate", "await_result", "5m",
       "expected a whole number from 1 to 86400, not '5m'", "86401",
       "expected a whole number from 1 to 86400, not '86401'", nullptr},
      {"certificate", "max_await_result", "8h",
       "expected a whole number from 0 to 43200, not '8h'", "43201",
       "expected a whole number from 0 to 43200, not '43201'", nullptr},
      {"certificate", "legacy_ciphers", "si",
       "expected yes or no (or true/false, on/off, 1/0), not 'si'", "2",
       "expected yes or no (or true/false, on/off, 1/0), not '2'", nullptr},
      {"certificate", "key_size", "huge",
       "expected a whole number from 1024 to 16384, not 'huge'", "16392",
       "expected a whole number from 1024 to 16384, not '16392'", nullptr},
      {"certificate", "subject", "/CN=a\x01", "contains a control character", "/XX=router",
       "unknown attribute type 'XX' in component 1 ('XX=router')", nullptr},
      {"certificate", "alt_name", "DNS:a\x01", "contains a control character", "IP:300.1.1.1",
       "alternative name 1 ('IP:300.1.1.1'): not an IPv4 or IPv6 address",
       nullptr},
      {"certificate", "template", "Router\x01", "contains a control character",
       "\xF0\x9F\x98\x80",
       "'\xF0\x9F\x98\x80' is not UTF-8 that fits a BMPString (no characters beyond U+FFFF)",
       nullptr},
      {"certificate", "digital_signature", "y",
       "expected yes or no (or true/false, on/off, 1/0), not 'y'", "-1",
       "expected yes or no (or true/false, on/off, 1/0), not '-1'", nullptr},
      {"certificate", "key_encipherment", "enabled",
       "expected yes or no (or true/false, on/off, 1/0), not 'enabled'", "10",
       "expected yes or no (or true/false, on/off, 1/0), not '10'", nullptr},
      {"certificate", "server_auth", "ja",
       "expected yes or no (or true/false, on/off, 1/0), not 'ja'", "2",
       "expected yes or no (or true/false, on/off, 1/0), not '2'", nullptr},
      {"certificate", "client_auth", "",
       "expected yes or no (or true/false, on/off, 1/0), not ''", "11",
       "expected yes or no (or true/false, on/off, 1/0), not '11'", nullptr},
      {"certificate", "challenge_password", "pw\x01pw", "contains a control character",
       // 256 characters: one more than PKCS#9 allows.
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "longer than 255 characters", nullptr},
      {"certificate", "challenge_password_file", "secret.txt",
       "expected an absolute path, not 'secret.txt'", "/nonexistent/challenge",
       "cannot read '/nonexistent/challenge': No such file or directory", nullptr},
      {"certificate", "ca_fingerprint", "md5:zz",
       "'md5:zz' is not a fingerprint (hex: invalid character 'z' at position 1); expected "
       "e.g. sha256:AB:CD:... or sha1:ABCD...",
       "sha256:0102", "a sha256 fingerprint has 32 bytes, this one has 2", nullptr},
      {"certificate", "protocol", "SCEP", "expected scep, cmp or est, not 'SCEP'", "ssh",
       "expected scep, cmp or est, not 'ssh'", nullptr},
      // The CMP keys alone: a valid value is refused with protocol scep.
      {"certificate", "cmp_reference", "62\x01" "154", "contains a control character", "62154",
       "used only with protocol cmp", nullptr},
      {"certificate", "cmp_secret", "se\x01" "cret", "contains a control character", "s3cret",
       "used only with protocol cmp", nullptr},
      {"certificate", "cmp_secret_file", "secret.txt",
       "expected an absolute path, not 'secret.txt'", "/nonexistent/cmp-secret",
       "cannot read '/nonexistent/cmp-secret': No such file or directory", nullptr},
      {"certificate", "cmp_cert", "ee.crt", "expected an absolute path, not 'ee.crt'",
       "/nonexistent/ee.crt", "cannot read '/nonexistent/ee.crt': No such file or directory",
       nullptr},
      {"certificate", "cmp_key", "ee.key", "expected an absolute path, not 'ee.key'",
       "/nonexistent/ee.key", "cannot read '/nonexistent/ee.key': No such file or directory",
       nullptr},
      {"certificate", "recipient", "CN=Test CA", "no leading '/' in 'CN=Test CA'", "/CN=Test CA",
       "used only with protocol cmp", nullptr},
      {"certificate", "key_type", "dsa", "expected rsa or ec, not 'dsa'", "ec",
       "ec cannot be used with protocol scep: RFC 8894's message envelope needs an RSA key "
       "(use key_type = rsa)", nullptr},
      {"certificate", "ec_curve", "P-521", "expected P-256 or P-384, not 'P-521'", nullptr,
       nullptr, "a curve name; only key_type = ec uses it"},
      {"certificate", "ca_identifier", "Root\x01" "CA", "contains a control character", nullptr,
       nullptr, "any text; only the CA gives it meaning"},
      {"certificate", "success_script", "echo \x01", "contains a control character", nullptr,
       nullptr, "any shell commands"},
      {"certificate", "failure_script", "echo \x01", "contains a control character", nullptr,
       nullptr, "any shell commands"},
      {"certificate", "http_timeout", "2m", "expected a whole number from 1 to 3600, not '2m'",
       "3601", "expected a whole number from 1 to 3600, not '3601'", nullptr},
      {"certificate", "tls_ca_file", "ca.pem", "expected an absolute path, not 'ca.pem'",
       "/nonexistent/ca.pem", "cannot read '/nonexistent/ca.pem': No such file or directory", nullptr},
      {"certificate", "keep_old", "two", "expected a whole number from 0 to 100, not 'two'",
       "101", "expected a whole number from 0 to 100, not '101'", nullptr},
      {"certificate", "proxy", "gopher://127.0.0.1:70",
       "scheme 'gopher' is not http, https, socks5 or socks5h", "127.0.0.1",
       "expected host:port (a port number is required), not '127.0.0.1'", nullptr},
      {"certificate", "proxy_credentials_file", "creds", "set without proxy", nullptr, nullptr,
       "a path; checked with proxy (ProxyAndItsCredentialsFile)"},
      {"certificate", "est_label", "a", "only used with protocol = est", nullptr, nullptr,
       "checked with protocol = est (EstSettingsAreCheckedAtTheirLine)"},
      {"certificate", "est_username", "a", "only used with protocol = est", nullptr, nullptr,
       "checked with protocol = est (EstSettingsAreCheckedAtTheirLine)"},
      {"certificate", "est_password", "a", "only used with protocol = est", nullptr, nullptr,
       "checked with protocol = est (EstSettingsAreCheckedAtTheirLine)"},
      {"certificate", "est_password_file", "a", "only used with protocol = est", nullptr,
       nullptr, "checked with protocol = est (EstSettingsAreCheckedAtTheirLine)"},
  };
  return rows;
}

TEST_F(ConfigTest, EveryKeyRefusesAWrongTypeAndAnOutOfRangeValue) {
  // One key set to `value` in its section; the error must name line and key.
  auto expect_bad = [this](const KeyBadValues& row, const char* value, const char* error) {
    std::string text = std::string("[") + row.section + "]\n";
    int line = 2;
    if (std::string(row.section) == "certificate vpn" && std::string(row.key) != "data_dir") {
      text += "data_dir = /data/vpn\n";
      ++line;
    }
    text += std::string(row.key) + " = " + value + "\n";
    const std::string want = "t.conf:" + std::to_string(line) + ": [" + row.section + "] " +
                             row.key + ": " + error;
    EXPECT_EQ(Errors(text), want) << text;
  };
  std::vector<std::string> scepd_keys, certificate_keys;
  for (const KeyBadValues& row : EveryKeysBadValues()) {
    SCOPED_TRACE(row.key);
    (std::string(row.section) == "scepd" ? scepd_keys : certificate_keys).push_back(row.key);
    expect_bad(row, row.wrong_type, row.wrong_type_error);
    if (row.out_of_range != nullptr) {
      expect_bad(row, row.out_of_range, row.out_of_range_error);
    } else {
      EXPECT_NE(row.no_range, nullptr) << "say why the key has no range";
    }
  }
  // A key added to the parser without rows here fails this test.
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  auto parser = [](std::span<const std::string_view> keys) {
    return std::vector<std::string>(keys.begin(), keys.end());
  };
  EXPECT_EQ(sorted(scepd_keys), sorted(parser(ScepdSettingsKeys())));
  EXPECT_EQ(sorted(certificate_keys), sorted(parser(CertificateSettingsKeys())));
}

// Every key the shipped file documents is one the parser knows, and the
// other way round: the table above therefore covers the documented keys.
TEST_F(ConfigTest, ShippedFileDocumentsEveryKey) {
  const std::string text = testing::ReadFile(std::string(SCEPD_SOURCE_DIR) + "/etc/scepd.conf");
  std::vector<std::string> documented;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind(";[", 0) == 0) break;  // the commented-out example section repeats keys
    if (line.empty() || line[0] != ';' || line.size() < 2 || line[1] == ' ') continue;
    const std::size_t eq = line.find(" =");
    if (eq == std::string::npos) continue;
    documented.push_back(line.substr(1, eq - 1));
  }
  std::vector<std::string> known;
  for (std::string_view k : ScepdSettingsKeys()) known.emplace_back(k);
  for (std::string_view k : CertificateSettingsKeys()) {
    if (k != "data_dir") known.emplace_back(k);  // [certificate NAME] only, shown in its example
  }
  std::sort(documented.begin(), documented.end());
  std::sort(known.begin(), known.end());
  EXPECT_EQ(documented, known);
}

TEST_F(ConfigTest, EstSettingsAreCheckedAtTheirLine) {
  WriteFile(dir_.File("ca.pem"), "not checked here\n");
  WriteFile(dir_.File("pw"), "s3cret\n", 0600);
  const std::string head = "[certificate]\nprotocol = est\nurl = https://ca.example:8443\n";
  const std::string tls = "tls_ca_file = " + dir_.File("ca.pem") + "\n";
  // A good section: the password file is read, the secret masked in print.
  auto good = Parse(head + tls + "est_username = router\nest_password_file = " + dir_.File("pw") +
                    "\nest_label = arbitraryLabel1\nkey_type = ec\n");
  ASSERT_TRUE(good.ok()) << good.error().message;
  const CertificateSettings& c = good->certificates.at(0);
  EXPECT_EQ(c.protocol, "est");
  EXPECT_EQ(c.est_password, "s3cret");
  EXPECT_EQ(c.est_label, "arbitraryLabel1");
  const std::string printed = FormatEffectiveConfig(*good);
  EXPECT_NE(printed.find("est_password_file = " + dir_.File("pw")), std::string::npos) << printed;
  EXPECT_EQ(printed.find("s3cret"), std::string::npos) << printed;
  auto inline_pw = Parse(head + tls + "est_username = router\nest_password = s3cret\n");
  ASSERT_TRUE(inline_pw.ok());
  EXPECT_NE(FormatEffectiveConfig(*inline_pw).find("est_password = ********"), std::string::npos);
  EXPECT_EQ(FormatEffectiveConfig(*inline_pw).find("s3cret"), std::string::npos);

  EXPECT_EQ(Errors(head),
            "t.conf:1: [certificate] tls_ca_file: protocol est needs the server's TLS trusted "
            "explicitly: set tls_ca_file, or ca_fingerprint (sha256) for the RFC 7030 bootstrap");
  EXPECT_EQ(Errors(head + "ca_fingerprint = sha1:" + std::string(40, 'A') + "\n"),
            "t.conf:4: [certificate] ca_fingerprint: the EST bootstrap (no tls_ca_file) needs a "
            "sha256 fingerprint, not sha1");
  EXPECT_EQ(Errors("[certificate]\nprotocol = est\nurl = http://ca.example\n" + tls)
                .rfind("t.conf:3: [certificate] url: ", 0),
            0u);
  EXPECT_EQ(Errors(head + tls + "est_label = a/b\n").rfind("t.conf:5: [certificate] est_label: ", 0),
            0u);
  EXPECT_EQ(Errors(head + tls + "est_password = x\n"),
            "t.conf:1: [certificate] est_username: required with est_password or "
            "est_password_file");
  EXPECT_EQ(Errors(head + tls + "est_username = router\n"),
            "t.conf:5: [certificate] est_username: needs est_password or est_password_file");
  EXPECT_EQ(Errors(head + tls + "est_username = router\nest_password = x\nest_password_file = " +
                   dir_.File("pw") + "\n"),
            "t.conf:7: [certificate] est_password_file: conflicts with est_password; set only "
            "one");
  EXPECT_EQ(Errors(head + tls + "est_username = router\nest_password_file = /nonexistent/pw\n"),
            "t.conf:6: [certificate] est_password_file: cannot read '/nonexistent/pw': No "
            "such file or directory");
  EXPECT_EQ(Errors(head + tls + "key_size = 1024\n"),
            "t.conf:5: [certificate] key_size: protocol est renews with the current pair as TLS "
            "client certificate, which needs at least 2048 bits (OpenSSL's default security "
            "level)");
  WriteFile(dir_.File("two-lines"), "one\ntwo\n", 0600);
  const std::string two = Errors(head + tls + "est_username = router\nest_password_file = " +
                                 dir_.File("two-lines") + "\n");
  EXPECT_EQ(two, "t.conf:6: [certificate] est_password_file: '" + dir_.File("two-lines") +
                     "' holds a control character or more than one line");
}

TEST_F(ConfigTest, ChallengeChecksApplyToThePasswordFileAndNeverQuoteIt) {
  const std::string long_pw(300, 'x');
  WriteFile(dir_.File("long"), long_pw + "\n", 0600);
  const std::string error =
      Errors("[certificate]\nchallenge_password_file = " + dir_.File("long") + "\n");
  EXPECT_EQ(error, "t.conf:2: [certificate] challenge_password_file: '" + dir_.File("long") +
                       "': longer than 255 characters");
  WriteFile(dir_.File("latin1"), "geheim\xE4\n", 0600);
  EXPECT_EQ(Errors("[certificate]\nchallenge_password_file = " + dir_.File("latin1") + "\n"),
            "t.conf:2: [certificate] challenge_password_file: '" + dir_.File("latin1") +
                "': not valid UTF-8");
  const std::string inline_error = Errors("[certificate]\nchallenge_password = geheim\xE4\n");
  EXPECT_EQ(inline_error, "t.conf:2: [certificate] challenge_password: not valid UTF-8");
  EXPECT_EQ(inline_error.find("geheim"), std::string::npos);
}

TEST_F(ConfigTest, HttpTimeoutAndTlsCaFile) {
  WriteFile(dir_.File("https-ca.pem"), "not checked here\n");
  auto config = Parse("[certificate]\nhttp_timeout = 7\ntls_ca_file = " +
                      dir_.File("https-ca.pem") + "\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificates.at(0).http_timeout, 7);
  EXPECT_EQ(config->certificates.at(0).tls_ca_file, dir_.File("https-ca.pem"));
  auto again = Parse(FormatEffectiveConfig(*config));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *config);
  EXPECT_EQ(Parse("[certificate]\n")->certificates.at(0).http_timeout, 120);

  EXPECT_NE(Errors("[certificate]\nhttp_timeout = 0\n").find("t.conf:2: [certificate] http_timeout"),
            std::string::npos);
  EXPECT_NE(Errors("[certificate]\ntls_ca_file = relative.pem\n")
                .find("t.conf:2: [certificate] tls_ca_file: expected an absolute path"),
            std::string::npos);
  EXPECT_NE(Errors("[certificate]\ntls_ca_file = " + dir_.File("missing.pem") + "\n")
                .find("tls_ca_file: cannot read"),
            std::string::npos);
}


// Issue 21: the daemon's proxy, for every protocol; credentials only from a file.
TEST_F(ConfigTest, ProxyAndItsCredentialsFile) {
  const std::string creds = dir_.File("proxy-creds");
  WriteFile(creds, "router:pr0xy-pass\nignored second line\n", 0600);
  auto config = Parse("[certificate]\nproxy = http://127.0.0.1:3128\nproxy_credentials_file = " +
                      creds + "\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->certificates[0].proxy, "http://127.0.0.1:3128");
  EXPECT_EQ(config->certificates[0].proxy_credentials, "router:pr0xy-pass");
  const std::string effective = FormatEffectiveConfig(*config);
  EXPECT_NE(effective.find("proxy = http://127.0.0.1:3128\n"), std::string::npos) << effective;
  EXPECT_NE(effective.find("proxy_credentials_file = " + creds), std::string::npos) << effective;
  EXPECT_EQ(effective.find("pr0xy-pass"), std::string::npos) << "credentials printed";
  WipeSecrets(&*config);
  EXPECT_TRUE(config->certificates[0].proxy_credentials.empty());

  for (const char* ok : {"proxy.example:8080", "[::1]:3128", "socks5h://127.0.0.1:1080",
                         "https://proxy.example:443/"}) {
    auto c = Parse(std::string("[certificate]\nproxy = ") + ok + "\n");
    ASSERT_TRUE(c.ok()) << ok << ": " << c.error().message;
    EXPECT_EQ(c->certificates[0].proxy, ok);
  }
  EXPECT_EQ(Errors("[certificate]\nproxy = http://user:pw@127.0.0.1:3128\n"),
            "t.conf:2: [certificate] proxy: credentials do not go into the URL (they would be "
            "shown and logged); put user:password into the file named by proxy_credentials_file");
  EXPECT_EQ(Errors("[certificate]\nproxy = ftp://127.0.0.1:21\n"),
            "t.conf:2: [certificate] proxy: scheme 'ftp' is not http, https, socks5 or socks5h");
  EXPECT_EQ(Errors("[certificate]\nproxy = proxy.example\n"),
            "t.conf:2: [certificate] proxy: expected host:port (a port number is required), not "
            "'proxy.example'");
  EXPECT_EQ(Errors("[certificate]\nproxy_credentials_file = " + creds + "\n"),
            "t.conf:2: [certificate] proxy_credentials_file: set without proxy");
  WriteFile(dir_.File("no-colon"), "justauser\n", 0600);
  EXPECT_EQ(Errors("[certificate]\nproxy = 127.0.0.1:3128\nproxy_credentials_file = " +
                   dir_.File("no-colon") + "\n"),
            "t.conf:3: [certificate] proxy_credentials_file: '" + dir_.File("no-colon") +
                "' must hold user:password on its first line");
  ASSERT_EQ(::mkfifo(dir_.File("fifo").c_str(), 0600), 0);
  const std::string fifo_error = Errors("[certificate]\nproxy = 127.0.0.1:3128\n"
                                        "proxy_credentials_file = " + dir_.File("fifo") + "\n");
  EXPECT_NE(fifo_error.find("t.conf:3: [certificate] proxy_credentials_file:"), std::string::npos)
      << fifo_error;
}

}  // namespace
}  // namespace scepd

namespace scepd {
namespace {

class CmpConfigTest : public ::testing::Test {
 protected:
  std::string Errors(const std::string& text) {
    auto config = ParseConfig(text, "t.conf", sources_);
    return config.ok() ? "(loaded without error)" : config.error().message;
  }
  testing::TempDir dir_;
  SerialSources sources_;
};

TEST_F(CmpConfigTest, IrNeedsReferenceAndSecretAndTheSecretIsMaskedAndWiped) {
  const std::string secret_file = dir_.File("cmp-secret");
  testing::WriteFile(secret_file, "From-The-File-1\n", 0600);
  auto config = ParseConfig("[certificate]\nprotocol = cmp\nkey_type = ec\n"
                            "cmp_reference = 62154\ncmp_secret_file = " + secret_file +
                                "\nrecipient = /CN=Test CA\n",
                            "t.conf", sources_);
  ASSERT_TRUE(config.ok()) << config.error().message;  // ec is fine for CMP
  const CertificateSettings& c = config->certificates.at(0);
  EXPECT_EQ(c.cmp_secret, "From-The-File-1");
  EXPECT_EQ(c.recipient, "/CN=Test CA");
  const std::string printed = FormatEffectiveConfig(*config);
  EXPECT_EQ(printed.find("From-The-File-1"), std::string::npos) << printed;
  EXPECT_NE(printed.find("cmp_secret_file = " + secret_file), std::string::npos) << printed;
  WipeSecrets(&*config);
  EXPECT_TRUE(config->certificates.at(0).cmp_secret.empty());

  auto inline_secret = ParseConfig(
      "[certificate]\nprotocol = cmp\ncmp_reference = 1\ncmp_secret = Inline-Secret-2\n", "t.conf",
      sources_);
  ASSERT_TRUE(inline_secret.ok()) << inline_secret.error().message;
  const std::string masked = FormatEffectiveConfig(*inline_secret);
  EXPECT_EQ(masked.find("Inline-Secret-2"), std::string::npos) << masked;
  EXPECT_NE(masked.find("cmp_secret = "), std::string::npos) << masked;
}

TEST_F(CmpConfigTest, IncompleteCredentialsAndScepKeysNameTheirLine) {
  EXPECT_EQ(Errors("[certificate]\nprotocol = cmp\n"),
            "t.conf:2: [certificate] protocol: cmp needs cmp_reference and cmp_secret (or "
            "cmp_secret_file) for an ir, or cmp_cert and cmp_key for a cr");
  EXPECT_EQ(Errors("[certificate]\nprotocol = cmp\ncmp_reference = 62154\n"),
            "t.conf:3: [certificate] cmp_reference: set without cmp_secret or cmp_secret_file");
  EXPECT_EQ(Errors("[certificate]\nprotocol = cmp\ncmp_secret = x\n"),
            "t.conf:3: [certificate] cmp_secret: set without cmp_reference (the reference number "
            "the CA gave with the secret)");
  const std::string cert = dir_.File("auth.crt");
  testing::WriteFile(cert, "not checked here");
  EXPECT_EQ(Errors("[certificate]\nprotocol = cmp\ncmp_cert = " + cert + "\n"),
            "t.conf:3: [certificate] cmp_cert: cmp_cert and cmp_key go together: the "
            "certificate that signs a first enrollment (cr) and its key");
  EXPECT_EQ(Errors("[certificate]\nprotocol = cmp\ncmp_reference = 1\ncmp_secret = x\n"
                   "challenge_password = pw\n"),
            "t.conf:5: [certificate] challenge_password: not used with protocol cmp (use "
            "cmp_reference and cmp_secret)");
  EXPECT_EQ(Errors("[certificate]\nprotocol = cmp\ncmp_reference = 1\ncmp_secret = x\n"
                   "cmp_secret = y\n"),
            "t.conf:5: [certificate] cmp_secret: duplicate key (first set on line 4)");
}

}  // namespace
}  // namespace scepd
