#include "core/server_text.h"

#include <gtest/gtest.h>

namespace scepd {
namespace {

TEST(CleanServerTextTest, EscapesControlsAndNonAsciiAndBoundsTheLength) {
  EXPECT_EQ(CleanServerText("plain text: ok"), "plain text: ok");
  EXPECT_EQ(CleanServerText("a\nb\r\tc"), "a\\x0ab\\x0d\\x09c");
  EXPECT_EQ(CleanServerText("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(CleanServerText("back\\slash"), "back\\\\slash");
  EXPECT_EQ(CleanServerText("\xc2\x9b" "2J"), "\\xc2\\x9b2J");  // C1 CSI in UTF-8
  EXPECT_EQ(CleanServerText(std::string(200, 'x'), 10), std::string(10, 'x') + "...");
  EXPECT_EQ(CleanServerText("abcdefgh\n", 10), "abcdefgh...");  // an escape is not split
  EXPECT_EQ(CleanServerText(std::string(160, 'y')), std::string(160, 'y'));
}

}  // namespace
}  // namespace scepd
