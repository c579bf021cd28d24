#include "io/service_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace scepd {

ServiceNotifier ServiceNotifier::FromEnvironment() {
  const char* value = std::getenv("NOTIFY_SOCKET");
  std::string path = value != nullptr ? value : "";
  ::unsetenv("NOTIFY_SOCKET");
  return ServiceNotifier(std::move(path));
}

Status ServiceNotifier::Notify(std::string_view state) const {
  if (path_.empty()) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // '@' names an abstract socket: a leading NUL byte, the rest not
  // terminated (the address length says where it ends).
  if (path_.size() >= sizeof(addr.sun_path) || (path_[0] != '/' && path_[0] != '@')) {
    return MakeError(ErrorCode::kIo, "NOTIFY_SOCKET '" + path_ +
                                         "' is neither an absolute path nor @name (or too long)");
  }
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (path_[0] == '@') addr.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size() +
                                          (path_[0] == '@' ? 0 : 1));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return MakeError(ErrorCode::kIo, std::string("notify socket: ") + std::strerror(errno));
  }
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr), len);
  const int send_errno = errno;
  ::close(fd);
  if (sent < 0 || static_cast<std::size_t>(sent) != state.size()) {
    return MakeError(ErrorCode::kIo, "cannot notify the service manager at " + path_ + ": " +
                                         (sent < 0 ? std::strerror(send_errno) : "short send"));
  }
  return {};
}

std::string ReloadingState() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000LL + now.tv_nsec / 1000;
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
}

}  // namespace scepd
