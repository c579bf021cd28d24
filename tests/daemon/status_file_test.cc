#include "daemon/status_file.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace scepd {
namespace {

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

TEST(StatusLinesTest, EveryCombinationWordForWord) {
  const std::pair<ModuleState, const char*> modules[] = {
      {ModuleState::kDisabled, "Module scepClient disabled\n"},
      {ModuleState::kRunning, "Module scepClient running\n"},
      {ModuleState::kNotRunning, "Module scepClient not running\n"},
  };
  const std::pair<CertState, const char*> certs[] = {
      {CertState::kNotEnrolled, "Certificate not enrolled\n"},
      {CertState::kEnrollment, "Certificate enrollment\n"},
      {CertState::kReEnrollment, "Certificate re-enrollment\n"},
      {CertState::kEnrolled, "Certificate enrolled 5F3A0C19D2E4B7A1\n"},
  };
  for (const auto& [module, module_line] : modules) {
    for (const auto& [cert, cert_line] : certs) {
      StatusReport report;
      report.module = module;
      report.cert = cert;
      report.serial = "5F3A0C19D2E4B7A1";
      EXPECT_EQ(FormatStatusLines(report), std::string(module_line) + cert_line);
    }
  }
}

TEST(StatusLinesTest, DefaultsAndOddSerials) {
  EXPECT_EQ(FormatStatusLines(StatusReport{}),
            "Module scepClient not running\nCertificate not enrolled\n");
  StatusReport report;
  report.cert = CertState::kEnrolled;
  EXPECT_EQ(FormatStatusLines(report), "Module scepClient not running\nCertificate enrolled\n");
  report.serial = "AB\nModule scepClient running";
  EXPECT_EQ(FormatStatusLines(report),
            "Module scepClient not running\nCertificate enrolled AB?Module scepClient running\n");
}

TEST(StatusJsonTest, AllFieldsWithTimesAsStringsAndNumbers) {
  StatusReport report;
  report.module = ModuleState::kRunning;
  report.cert = CertState::kReEnrollment;
  report.name = "vpn";
  report.state = "polling";
  report.serial = "0A1B";
  report.subject = "/CN=router-A1B2/O=Example";
  report.not_before = 1795348800;  // 2026-11-22T12:00:00Z
  report.not_after = 1826884800;   // 2027-11-22T12:00:00Z
  report.days_left = 12;
  report.last_attempt = 0;
  report.last_result = "pending";
  report.next_check = 2147483648;  // one past the 32-bit time_t limit
  report.ca_caps = "AES,POSTPKIOperation,Renewal,SHA-256";
  report.cipher = "aes256";
  report.digest = "sha256";
  report.transaction_id = "3F2A";
  report.issuer = "/CN=Example CA";
  report.renewal_window = 1824292800;  // renew_days 30
  report.ca_not_after = 2147483648;
  report.last_success = 1795348800;
  report.failures = 2;
  EXPECT_EQ(FormatStatusJson(report),
            "{\n"
            "  \"name\": \"vpn\",\n"
            "  \"module\": \"running\",\n"
            "  \"certificate\": \"re-enrollment\",\n"
            "  \"state\": \"polling\",\n"
            "  \"serial\": \"0A1B\",\n"
            "  \"subject\": \"/CN=router-A1B2/O=Example\",\n"
            "  \"not_before\": \"2026-11-22T12:00:00Z\",\n"
            "  \"not_before_epoch\": 1795348800,\n"
            "  \"not_after\": \"2027-11-22T12:00:00Z\",\n"
            "  \"not_after_epoch\": 1826884800,\n"
            "  \"days_left\": 12,\n"
            "  \"last_attempt\": \"1970-01-01T00:00:00Z\",\n"
            "  \"last_attempt_epoch\": 0,\n"
            "  \"last_result\": \"pending\",\n"
            "  \"last_error\": \"\",\n"
            "  \"fail_info\": \"\",\n"
            "  \"next_check\": \"2038-01-19T03:14:08Z\",\n"
            "  \"next_check_epoch\": 2147483648,\n"
            "  \"ca_caps\": \"AES,POSTPKIOperation,Renewal,SHA-256\",\n"
            "  \"cipher\": \"aes256\",\n"
            "  \"digest\": \"sha256\",\n"
            "  \"transaction_id\": \"3F2A\",\n"
            "  \"protocol\": \"scep\",\n"
            "  \"issuer\": \"/CN=Example CA\",\n"
            "  \"renewal_window\": \"2027-10-23T12:00:00Z\",\n"
            "  \"renewal_window_epoch\": 1824292800,\n"
            "  \"ca_not_after\": \"2038-01-19T03:14:08Z\",\n"
            "  \"ca_not_after_epoch\": 2147483648,\n"
            "  \"last_success\": \"2026-11-22T12:00:00Z\",\n"
            "  \"last_success_epoch\": 1795348800,\n"
            "  \"failures\": 2\n"
            "}\n");
}

TEST(StatusJsonTest, MissingOptionalsAreNull) {
  StatusReport report;
  report.module = ModuleState::kDisabled;
  report.days_left = -3;  // expired: negative, not null
  const std::string json = FormatStatusJson(report);
  EXPECT_NE(json.find("\"module\": \"disabled\",\n"), std::string::npos);
  EXPECT_NE(json.find("\"certificate\": \"not enrolled\",\n"), std::string::npos);
  for (const char* key : {"not_before", "not_after", "last_attempt", "next_check"}) {
    EXPECT_NE(json.find("\"" + std::string(key) + "\": null,\n"), std::string::npos) << key;
    EXPECT_NE(json.find("\"" + std::string(key) + "_epoch\": null,\n"), std::string::npos)
        << key;
  }
  EXPECT_NE(json.find("\"days_left\": -3,\n"), std::string::npos);
  EXPECT_NE(json.find("\"name\": \"\",\n"), std::string::npos);
}

TEST(StatusJsonTest, StringsAreEscaped) {
  StatusReport report;
  report.last_result = "failure";
  using namespace std::string_literals;
  report.last_error = "CA said \"no\" \\ path C:\\x\n\ttab\x01\x1f\x7f end\0nul"s;
  report.fail_info = "badRequest";
  report.subject = "/CN=Jörg Ünicode €𝄞";  // valid UTF-8 stays as it is
  report.ca_caps = "bad \xff byte, \xc3 cut, \xed\xa0\x80 surrogate, \xe0\x80\xaf overlong";
  const std::string json = FormatStatusJson(report);
  EXPECT_NE(json.find("\"last_error\": \"CA said \\\"no\\\" \\\\ path C:\\\\x\\u000a\\u0009tab"
                      "\\u0001\\u001f\\u007f end\\u0000nul\",\n"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"subject\": \"/CN=Jörg Ünicode €𝄞\",\n"), std::string::npos) << json;
  EXPECT_NE(json.find("\"ca_caps\": \"bad \\ufffd byte, \\ufffd cut, \\ufffd\\ufffd\\ufffd "
                      "surrogate, \\ufffd\\ufffd\\ufffd overlong\",\n"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"fail_info\": \"badRequest\",\n"), std::string::npos);
  // No raw control character anywhere: one member per line.
  for (char c : json) {
    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 && c != '\n') << static_cast<int>(c);
  }
}

TEST(StatusJsonTest, TimesFarFromNow) {
  StatusReport report;
  report.not_before = -1;
  report.not_after = 253402300799;  // 9999-12-31T23:59:59Z (X.509 "no well-defined expiry")
  const std::string json = FormatStatusJson(report);
  EXPECT_NE(json.find("\"not_before\": \"1969-12-31T23:59:59Z\",\n"), std::string::npos) << json;
  EXPECT_NE(json.find("\"not_before_epoch\": -1,\n"), std::string::npos);
  EXPECT_NE(json.find("\"not_after\": \"9999-12-31T23:59:59Z\",\n"), std::string::npos) << json;
}

TEST(StatusFilePathTest, NamedCertificatesGetTheirOwnFiles) {
  EXPECT_EQ(StatusFilePath("/var/run/scepClient", ""), "/var/run/scepClient/status");
  EXPECT_EQ(StatusFilePath("/var/run/scepClient/", ""), "/var/run/scepClient/status");
  EXPECT_EQ(StatusFilePath("/var/run/scepClient", "vpn"), "/var/run/scepClient/status-vpn");
}

TEST(WriteStatusTest, WritesBothFilesAtomicallyAndReplacesThem) {
  testing::TempDir dir("scepd-status-");
  StatusReport report;
  report.module = ModuleState::kRunning;
  report.cert = CertState::kEnrollment;
  ASSERT_TRUE(WriteStatus(dir.path(), report).ok());
  EXPECT_EQ(testing::ReadFile(dir.File("status")),
            "Module scepClient running\nCertificate enrollment\n");
  EXPECT_EQ(testing::ReadFile(dir.File("status.json")), FormatStatusJson(report));

  report.module = ModuleState::kNotRunning;
  report.cert = CertState::kEnrolled;
  report.serial = "01F2";
  Status again = WriteStatus(dir.path(), report);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(testing::ReadFile(dir.File("status")),
            "Module scepClient not running\nCertificate enrolled 01F2\n");
  EXPECT_EQ(testing::ReadFile(dir.File("status.json")), FormatStatusJson(report));
  // Replaced, not appended to, and no temporary file left behind.
  EXPECT_EQ(DirEntries(dir.path()), (std::vector<std::string>{"status", "status.json"}));
  struct stat st {};
  ASSERT_EQ(::stat(dir.File("status").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  ASSERT_EQ(::stat(dir.File("status.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST(WriteStatusTest, NamedCertificateFiles) {
  testing::TempDir dir("scepd-status-");
  StatusReport unnamed, vpn;
  vpn.name = "vpn";
  vpn.cert = CertState::kEnrolled;
  vpn.serial = "AA";
  ASSERT_TRUE(WriteStatus(dir.path(), unnamed).ok());
  ASSERT_TRUE(WriteStatus(dir.path(), vpn).ok());
  EXPECT_EQ(DirEntries(dir.path()), (std::vector<std::string>{"status", "status-vpn",
                                                              "status-vpn.json",
                                                              "status.json"}));
  EXPECT_EQ(testing::ReadFile(dir.File("status-vpn")),
            "Module scepClient not running\nCertificate enrolled AA\n");
  EXPECT_NE(testing::ReadFile(dir.File("status-vpn.json")).find("\"name\": \"vpn\""),
            std::string::npos);
  EXPECT_EQ(testing::ReadFile(dir.File("status")),
            "Module scepClient not running\nCertificate not enrolled\n");
}

TEST(WriteStatusTest, MissingDirectoryIsAnIoErrorNamingIt) {
  testing::TempDir dir("scepd-status-");
  const std::string missing = dir.File("no-such-dir");
  Status s = WriteStatus(missing, StatusReport{});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find(missing + "/status"), std::string::npos) << s.error().message;
  EXPECT_FALSE(testing::PathExists(missing));
}

TEST(WriteStatusTest, NameThatWouldLeaveTheDirectoryIsRejected) {
  testing::TempDir dir("scepd-status-");
  StatusReport report;
  report.name = "../escape";
  Status s = WriteStatus(dir.path(), report);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(DirEntries(dir.path()).empty());
}

}  // namespace
}  // namespace scepd
