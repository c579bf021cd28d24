#include "tests/support/cmp_mock_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace scepd::testing {
namespace {

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool CmpMockServer::Start(const std::string& dir, const std::vector<std::string>& args,
                          std::string* error) {
  log_ = dir + "/cmp-server.log";
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = FreeLoopbackPort();
    std::vector<std::string> argv = {"openssl", "cmp", "-port", std::to_string(port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!process_.Start(argv, log_, {}, dir, error)) return false;
    const int limit_ms = ScaledTimeout(5000);
    for (int waited = 0; waited < limit_ms && process_.Running(); waited += 20) {
      if (Accepts(port_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    process_.Stop();
  }
  if (error != nullptr) *error = "openssl cmp server did not start: " + Log();
  return false;
}

std::string CmpMockServer::Log() const { return TryReadFile(log_).value_or(""); }

}  // namespace scepd::testing
