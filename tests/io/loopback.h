#pragma once
// Loopback plumbing for the io tests: a cpp-httplib server on its own thread,
// a raw TCP server whose connection handler the test writes (for servers that
// misbehave on purpose), a port nobody listens on and a temporary directory.
// Everything listens on 127.0.0.1 or ::1 only, every wait is bounded, and
// every server stops in its destructor.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include <httplib.h>

#include "io/unique_fd.h"

namespace scepd::io_testing {

// A listening TCP socket on `host` ("127.0.0.1" or "::1") with a kernel-
// chosen port; an invalid UniqueFd (port 0) when that fails.
inline UniqueFd ListenOn(const std::string& host, int* port, int backlog = 8) {
  *port = 0;
  const bool v6 = host.find(':') != std::string::npos;
  UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return UniqueFd();
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (v6) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) != 1) return UniqueFd();
    len = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = AF_INET;
    if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) return UniqueFd();
    len = sizeof(sockaddr_in);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) return UniqueFd();
  if (::listen(fd.get(), backlog) != 0) return UniqueFd();
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return UniqueFd();
  *port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                   : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

// A port on 127.0.0.1 that nothing listens on (bound, then released; on
// loopback nobody else takes it in the moments a test needs).
inline int UnusedPort() {
  int port = 0;
  UniqueFd fd = ListenOn("127.0.0.1", &port);
  return port;
}

// Writes everything unless the peer goes away; no SIGPIPE.
inline bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads a request head (through the blank line), giving up after `timeout`
// or 64 KiB. Returns what was read, complete or not.
inline std::string ReadRequestHead(int fd, std::chrono::milliseconds timeout) {
  std::string head;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<std::size_t>(n));
  }
  return head;
}

// A TCP server on loopback whose connections are handled, one at a time, by
// `handler(fd, stopping)` on a server thread. The handler must return soon
// after `stopping` turns true. Without a handler the socket only listens:
// the kernel completes handshakes but nobody ever reads or answers.
class RawServer {
 public:
  using Handler = std::function<void(int fd, const std::atomic<bool>& stopping)>;

  explicit RawServer(Handler handler = nullptr, const std::string& host = "127.0.0.1")
      : listener_(ListenOn(host, &port_)) {
    if (listener_.get() >= 0 && handler) {
      thread_ = std::thread([this, h = std::move(handler)] { Serve(h); });
    }
  }
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;
  ~RawServer() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

  bool ok() const noexcept { return listener_.get() >= 0; }
  int port() const noexcept { return port_; }
  int connections() const noexcept { return connections_; }

 private:
  void Serve(const Handler& handler) {
    while (!stopping_) {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn.get() < 0) continue;
      ++connections_;
      handler(conn.get(), stopping_);
    }
  }

  int port_ = 0;
  UniqueFd listener_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// Runs a configured httplib server (plain or SSL) on a loopback port until
// destruction. ok() is false when it could not bind or did not come up.
class HttplibRunner {
 public:
  explicit HttplibRunner(httplib::Server& server, const std::string& host = "127.0.0.1")
      : server_(server) {
    port_ = server_.bind_to_any_port(host);
    if (port_ <= 0) return;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Wait (bounded) until it accepts, so stop() in the destructor cannot
    // race a listen loop that has not started yet.
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    running_ = server_.is_running();
  }
  HttplibRunner(const HttplibRunner&) = delete;
  HttplibRunner& operator=(const HttplibRunner&) = delete;
  ~HttplibRunner() {
    if (thread_.joinable()) {
      // listen_after_bind sets is_running only once inside; stop until it
      // has returned.
      for (int i = 0; i < 500 && !server_.is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      server_.stop();
      thread_.join();
    }
  }

  bool ok() const noexcept { return running_; }
  int port() const noexcept { return port_; }

 private:
  httplib::Server& server_;
  int port_ = 0;
  bool running_ = false;
  std::thread thread_;
};

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                          "/scepd-io-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

}  // namespace scepd::io_testing
