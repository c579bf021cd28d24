#include "tests/support/microsocks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace scepd::testing {
namespace {

bool Listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool Microsocks::Start(const std::string& dir, std::string* error) {
  log_ = dir + "/microsocks.log";
  port_ = FreeLoopbackPort();
  if (!process_.Start({"microsocks", "-i", "127.0.0.1", "-p", std::to_string(port_)}, log_, {}, dir,
                      error)) {
    return false;
  }
  const int limit_ms = ScaledTimeout(5000);
  for (int waited = 0; waited < limit_ms; waited += 50) {
    if (Listening(port_)) return true;
    if (!process_.Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (error != nullptr) *error = "microsocks did not listen on port " + std::to_string(port_) + ": " + Log();
  return false;
}

std::string Microsocks::Log() const { return TryReadFile(log_).value_or(""); }

}  // namespace scepd::testing
