#pragma once
// Tells the service manager (systemd, Type=notify) what the daemon is doing:
// "READY=1" once it serves, "RELOADING=1" while it re-reads its settings,
// "STOPPING=1" when it shuts down. The protocol is one datagram per message
// on the AF_UNIX socket named by $NOTIFY_SOCKET (sd_notify(3)); no libsystemd.
// Outside systemd (procd, SysV, a shell) there is no socket and every call
// does nothing.

#include <string>
#include <string_view>

#include "core/result.h"

namespace scepd {

class ServiceNotifier {
 public:
  // No socket: Notify() succeeds without sending anything.
  ServiceNotifier() = default;
  // `socket_path` as in $NOTIFY_SOCKET: a file system path, or "@name" for
  // an abstract socket. An empty path disables the notifier.
  explicit ServiceNotifier(std::string socket_path) : path_(std::move(socket_path)) {}

  // Takes $NOTIFY_SOCKET and removes it from the environment, so that the
  // success and failure scripts (and what they start) do not inherit it.
  static ServiceNotifier FromEnvironment();

  bool enabled() const noexcept { return !path_.empty(); }

  // Sends `state` ("READY=1", or several "KEY=VALUE" lines) as one datagram.
  // Fails (kIo, naming the socket) when the path is too long or unusable or
  // the send fails; the daemon logs that and carries on.
  Status Notify(std::string_view state) const;

 private:
  std::string path_;
};

// "RELOADING=1" with the MONOTONIC_USEC= stamp systemd asks for with it.
std::string ReloadingState();

}  // namespace scepd
