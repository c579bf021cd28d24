#pragma once
// The scepd.conf the end-to-end tests start scepd with. One writer, so a
// setting every test needs (e.g. `protocol =`) is added in one place; each
// test passes only what it varies. Line order is fixed (tests name lines in
// expected messages):
//   [scepd]  enabled, data_dir, run_dir, log_level, log_target = stderr,
//            serial_number, then scepd_lines
//   [certificate]  url, subject, challenge_password, then certificate_lines

#include <string>

namespace scepd::testing {

struct ScepdConf {
  std::string data_dir;
  std::string run_dir;
  std::string log_level = "debug";      // "" leaves the line out
  std::string serial_number = "A1B2";   // "" leaves the line out
  std::string scepd_lines;              // more "key = value\n" lines for [scepd]
  std::string url;
  std::string subject = "/O=scepd test/CN=router-SN";
  std::string challenge = "secret";     // "" leaves the line out
  std::string certificate_lines;        // more lines (or sections) after [certificate]
};

// The file's text.
std::string ScepdConfText(const ScepdConf& conf);

// Writes it to `path` (mode 0644); a test failure if it cannot.
void WriteScepdConf(const std::string& path, const ScepdConf& conf);

}  // namespace scepd::testing
