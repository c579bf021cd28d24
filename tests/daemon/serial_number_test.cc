#include "daemon/serial_number.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "daemon/config.h"
#include "tests/support/process.h"

namespace scepd {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(SubstituteSerialTest, ReplacesStandaloneTokens) {
  EXPECT_EQ(SubstituteSerial("/CN=router-SN", "A1B2"), "/CN=router-A1B2");
  EXPECT_EQ(SubstituteSerial("SN", "A1B2"), "A1B2");
  EXPECT_EQ(SubstituteSerial("SN.example.com", "A1B2"), "A1B2.example.com");
  EXPECT_EQ(SubstituteSerial("/CN=SN", "A1B2"), "/CN=A1B2");
  EXPECT_EQ(SubstituteSerial("SN-SN", "X"), "X-X");
  EXPECT_EQ(SubstituteSerial("/CN=SN/O=x_SN", "X"), "/CN=X/O=x_X");
  EXPECT_EQ(SubstituteSerial("DNS:SN.lan,IP:10.0.0.1", "X"), "DNS:X.lan,IP:10.0.0.1");
}

TEST(SubstituteSerialTest, LeavesSnInsideWordsAlone) {
  EXPECT_EQ(SubstituteSerial("/CN=SNMP", "X"), "/CN=SNMP");
  EXPECT_EQ(SubstituteSerial("/CN=ASN", "X"), "/CN=ASN");
  EXPECT_EQ(SubstituteSerial("/CN=SN2", "X"), "/CN=SN2");
  EXPECT_EQ(SubstituteSerial("/CN=2SN", "X"), "/CN=2SN");
  EXPECT_EQ(SubstituteSerial("/CN=SNSN", "X"), "/CN=SNSN");
  EXPECT_EQ(SubstituteSerial("/CN=sn", "X"), "/CN=sn");
  EXPECT_EQ(SubstituteSerial("", "X"), "");
}

TEST(SubstituteSerialTest, BackslashSnIsLiteral) {
  EXPECT_EQ(SubstituteSerial("/CN=router-\\SN", "X"), "/CN=router-SN");
  EXPECT_EQ(SubstituteSerial("\\SN-SN", "X"), "SN-X");
  // Other escapes pass through for the subject parser, and an escaped
  // backslash does not protect the SN after it.
  EXPECT_EQ(SubstituteSerial("/O=a\\/b/CN=SN", "X"), "/O=a\\/b/CN=X");
  EXPECT_EQ(SubstituteSerial("/CN=a\\\\SN", "X"), "/CN=a\\\\X");
  EXPECT_EQ(SubstituteSerial("/CN=a\\\\\\SN", "X"), "/CN=a\\\\SN");
  EXPECT_EQ(SubstituteSerial("end\\", "X"), "end\\");
}

TEST(SubstituteSerialTest, UsesWildcard) {
  EXPECT_TRUE(UsesSerialWildcard("/CN=router-SN"));
  EXPECT_TRUE(UsesSerialWildcard("SN"));
  EXPECT_FALSE(UsesSerialWildcard("/CN=SNMP"));
  EXPECT_FALSE(UsesSerialWildcard("/CN=router-\\SN"));
  EXPECT_FALSE(UsesSerialWildcard(""));
}

TEST(SubstituteSerialTest, EscapeIsTheInverse) {
  for (const char* text : {"/CN=SN", "SN-SN", "/CN=SNMP", "a\\\\SN", "/O=a\\/b", "SNSN", ""}) {
    const std::string escaped = EscapeSerialWildcard(text);
    EXPECT_EQ(SubstituteSerial(escaped, "Q"), text) << text << " -> " << escaped;
    EXPECT_FALSE(UsesSerialWildcard(escaped)) << escaped;
  }
  EXPECT_EQ(EscapeSerialWildcard("/CN=router-SN"), "/CN=router-\\SN");
}

class FindSerialNumberTest : public ::testing::Test {
 protected:
  FindSerialNumberTest() {
    sources_.files = {dir_.File("device-tree"), dir_.File("product_serial"),
                      dir_.File("board_serial")};
  }

  TempDir dir_;
  SerialSources sources_;
  DaemonSettings settings_;
};

TEST_F(FindSerialNumberTest, ConfiguredSerialWins) {
  WriteFile(dir_.File("device-tree"), "DT1234");
  settings_.serial_number = "CONF-42";
  settings_.serial_number_command = "echo CMD";
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_TRUE(serial.ok()) << serial.error().message;
  EXPECT_EQ(*serial, "CONF-42");
}

TEST_F(FindSerialNumberTest, ConfiguredSerialMustBeAToken) {
  settings_.serial_number = "A/B";
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_FALSE(serial.ok());
  EXPECT_EQ(serial.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(serial.error().message,
            "serial_number 'A/B' is not usable: it contains a character other than ASCII "
            "letters, digits, '-', '_', '.' and ':'");
}

TEST_F(FindSerialNumberTest, CommandOutputIsTrimmed) {
  WriteFile(dir_.File("device-tree"), "DT1234");
  settings_.serial_number_command = "printf '  \\n  R1234567 \\n\\n'";
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_TRUE(serial.ok()) << serial.error().message;
  EXPECT_EQ(*serial, "R1234567");
}

TEST_F(FindSerialNumberTest, FailingCommandReportsStatusAndStderr) {
  settings_.serial_number_command = "echo partial; echo 'no such device' >&2; exit 3";
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_FALSE(serial.ok());
  EXPECT_EQ(serial.error().code, ErrorCode::kIo);
  EXPECT_EQ(serial.error().message,
            "serial_number_command: exited with status 3: no such device");
}

TEST_F(FindSerialNumberTest, CommandPrintingGarbageOrNothing) {
  settings_.serial_number_command = "echo 'two words'";
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_FALSE(serial.ok());
  EXPECT_EQ(serial.error().message,
            "serial_number_command printed 'two words', which is not a usable serial "
            "number: it contains a character other than ASCII letters, digits, '-', '_', "
            "'.' and ':'");
  settings_.serial_number_command = "true";
  serial = FindSerialNumber(settings_, sources_);
  ASSERT_FALSE(serial.ok());
  EXPECT_EQ(serial.error().message,
            "serial_number_command printed '', which is not a usable serial number: it is "
            "empty");
}

TEST_F(FindSerialNumberTest, CommandOutputIsBounded) {
  settings_.serial_number_command = "head -c 100000 /dev/zero | tr '\\0' A";
  sources_.max_command_output = 64;
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_FALSE(serial.ok());
  EXPECT_EQ(serial.error().message, "serial_number_command: printed more than 64 bytes");
}

TEST_F(FindSerialNumberTest, SlowCommandTimesOut) {
  settings_.serial_number_command = "sleep 30";
  sources_.command_timeout_ms = 200;
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_FALSE(serial.ok());
  EXPECT_EQ(serial.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(serial.error().message, "serial_number_command: timed out after 200 ms");
}

TEST_F(FindSerialNumberTest, MissingShell) {
  settings_.serial_number_command = "echo X";
  sources_.shell = dir_.File("no-shell");
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_FALSE(serial.ok());
  EXPECT_EQ(serial.error().code, ErrorCode::kIo);
  EXPECT_NE(serial.error().message.find("serial_number_command: "), std::string::npos)
      << serial.error().message;
}

TEST_F(FindSerialNumberTest, DeviceTreeWithTrailingNul) {
  WriteFile(dir_.File("device-tree"), std::string("1A2B3C4D\0", 9));
  WriteFile(dir_.File("product_serial"), "DMI-1\n");
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_TRUE(serial.ok()) << serial.error().message;
  EXPECT_EQ(*serial, "1A2B3C4D");
}

TEST_F(FindSerialNumberTest, SkipsMissingEmptyAndPlaceholderFiles) {
  // device-tree missing, product_serial a BIOS placeholder.
  WriteFile(dir_.File("product_serial"), "To be filled by O.E.M.\n");
  WriteFile(dir_.File("board_serial"), "BOARD-77\n");
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_TRUE(serial.ok()) << serial.error().message;
  EXPECT_EQ(*serial, "BOARD-77");

  for (const char* placeholder :
       {"Default string\n", "0\n", "None\n", "00000000\n", "not specified\n", "\n", ""}) {
    WriteFile(dir_.File("board_serial"), placeholder);
    EXPECT_FALSE(FindSerialNumber(settings_, sources_).ok()) << "'" << placeholder << "'";
  }
}

TEST_F(FindSerialNumberTest, UnreadableFileIsSkipped) {
  WriteFile(dir_.File("device-tree"), "SECRET", 0000);
  WriteFile(dir_.File("board_serial"), "B-1");
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_TRUE(serial.ok()) << serial.error().message;
  // root reads mode-0000 files; either way a serial is found.
  EXPECT_TRUE(*serial == "B-1" || *serial == "SECRET") << *serial;
}

TEST_F(FindSerialNumberTest, FifoOrOversizedFileIsSkippedWithoutHanging) {
  // Nobody writes to the FIFO: a blocking open would wait for ever.
  ASSERT_EQ(::mkfifo(dir_.File("device-tree").c_str(), 0600), 0);
  WriteFile(dir_.File("product_serial"), std::string(5000, ' ') + "PADDED-1");
  WriteFile(dir_.File("board_serial"), "B-2\n");
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_TRUE(serial.ok()) << serial.error().message;
  EXPECT_EQ(*serial, "B-2");
}

TEST_F(FindSerialNumberTest, NothingFoundSaysHowToSetIt) {
  auto serial = FindSerialNumber(settings_, sources_);
  ASSERT_FALSE(serial.ok());
  EXPECT_EQ(serial.error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(serial.error().message,
            "no serial number found: none of " + dir_.File("device-tree") + ", " +
                dir_.File("product_serial") + ", " + dir_.File("board_serial") +
                " holds a usable one; set serial_number (the serial itself) or "
                "serial_number_command (a command printing it) in [scepd]");
}

}  // namespace
}  // namespace scepd
