#include "tests/support/cmp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace scepd::testing {

bool LoopbackPortAccepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

bool OpenSslCmpServer::Start(const std::vector<std::string>& args, std::string* error) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = FreeLoopbackPort();
    std::vector<std::string> argv = {"openssl", "cmp", "-port", std::to_string(port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!server_.Start(argv, dir_ + "/cmp-server.log", {}, dir_, error)) return false;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(ScaledTimeout(5000));
    while (std::chrono::steady_clock::now() < deadline && server_.Running()) {
      if (LoopbackPortAccepts(port_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    server_.Stop();
  }
  *error = "openssl cmp server did not start: " + log();
  return false;
}

std::string OpenSslCmpServer::log() const {
  return TryReadFile(dir_ + "/cmp-server.log").value_or("");
}

}  // namespace scepd::testing
