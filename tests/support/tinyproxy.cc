#include "tests/support/tinyproxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace scepd::testing {
namespace {

// True when something accepts TCP connections on 127.0.0.1:port.
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

bool Tinyproxy::Start(const std::string& dir, std::string* error) {
  dir_ = dir;
  port_ = FreeLoopbackPort();
  WriteFile(dir + "/tinyproxy.conf",
            "Port " + std::to_string(port_) +
                "\nListen 127.0.0.1\nTimeout 30\nLogLevel Info\nLogFile \"" + dir +
                "/tinyproxy.log\"\nAllow 127.0.0.1\nMaxClients 10\n" + basic_auth_);
  if (!process_.Start({"tinyproxy", "-d", "-c", dir + "/tinyproxy.conf"}, dir + "/tinyproxy.out",
                      {}, dir, error)) {
    return false;
  }
  const int limit_ms = ScaledTimeout(10000);
  for (int waited = 0; waited < limit_ms; waited += 50) {
    if (Listening(port_)) return true;
    if (!process_.Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (error != nullptr) {
    *error = "tinyproxy did not listen on " + address() + ": " +
             TryReadFile(dir + "/tinyproxy.out").value_or("") + Log();
  }
  return false;
}

void Tinyproxy::Stop() { process_.Stop(); }

std::string Tinyproxy::Log() const {
  return TryReadFile(dir_ + "/tinyproxy.log").value_or("");
}

}  // namespace scepd::testing
