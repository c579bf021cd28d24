#include "tests/support/scepd_conf.h"

#include "tests/support/process.h"

namespace scepd::testing {

std::string ScepdConfText(const ScepdConf& c) {
  std::string out = "[scepd]\nenabled = yes\n";
  out += "data_dir = " + c.data_dir + "\n";
  out += "run_dir = " + c.run_dir + "\n";
  if (!c.log_level.empty()) out += "log_level = " + c.log_level + "\n";
  out += "log_target = stderr\n";
  if (!c.serial_number.empty()) out += "serial_number = " + c.serial_number + "\n";
  out += c.scepd_lines;
  out += "[certificate]\n";
  out += "url = " + c.url + "\n";
  out += "subject = " + c.subject + "\n";
  if (!c.challenge.empty()) out += "challenge_password = " + c.challenge + "\n";
  out += c.certificate_lines;
  return out;
}

void WriteScepdConf(const std::string& path, const ScepdConf& conf) {
  WriteFile(path, ScepdConfText(conf));
}

}  // namespace scepd::testing
