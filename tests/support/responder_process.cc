#include "tests/support/responder_process.h"

#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "tests/support/built_binary.h"

namespace scepd::testing {

namespace {
const std::string kBinary = BuiltBinary("tests/responder/scep_responder");
}

ResponderProcess::ResponderProcess(std::string state_dir)
    : temp_("scepd-responder-"), state_dir_(state_dir.empty() ? temp_.path() : state_dir) {}

ResponderProcess::~ResponderProcess() { Stop(); }

bool ResponderProcess::Start(const std::vector<std::string>& flags) {
  Stop();
  // The log lives in the state directory: it must exist before the start.
  ::mkdir(state_dir_.c_str(), 0700);
  const std::string port_file = temp_.File("port");
  ::unlink(port_file.c_str());
  std::vector<std::string> argv = {kBinary, "--port", std::to_string(port_), "--port-file",
                                   port_file, "--state-dir", state_dir_, "--log-requests",
                                   request_log_path(), "--key-bits", "1024"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  if (!process_.Start(argv, log_path())) return false;
  // Bounded: a fresh state directory makes four RSA keys (CA, RA signing,
  // RA encryption, next CA; 1024 bits unless `flags` ask otherwise, since
  // RSA-2048 ones took 20 s or more under qemu-mipsel on a busy machine).
  // 120 s, well inside the tests' 300 s.
  for (int i = 0; i < ScaledTimeout(120000) / 50; ++i) {
    if (auto text = TryReadFile(port_file); text && !text->empty()) {
      port_ = std::stoi(*text);
      return true;
    }
    if (!process_.Running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void ResponderProcess::Stop() {
  if (process_.Running()) process_.Stop();
}

int ResponderProcess::CountRequests(const std::string& needle) const {
  auto text = TryReadFile(request_log_path());
  if (!text) return 0;
  int n = 0;
  std::size_t pos = 0;
  while (pos < text->size()) {
    auto nl = text->find('\n', pos);
    if (nl == std::string::npos) nl = text->size();
    if (text->substr(pos, nl - pos).find(needle) != std::string::npos) ++n;
    pos = nl + 1;
  }
  return n;
}

}  // namespace scepd::testing
