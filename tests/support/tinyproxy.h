#pragma once
// tinyproxy (Debian package) as an HTTP proxy on a free 127.0.0.1 port for
// one test: its settings file and its log live in the test's directory, and
// its log shows each request it carried ("GET http://127.0.0.1:P/...").

#include <string>

#include "tests/support/process.h"

namespace scepd::testing {

class Tinyproxy {
 public:
  // Before Start: the proxy answers 407 to every request that lacks these
  // Basic credentials (tinyproxy's BasicAuth).
  void RequireCredentials(const std::string& user, const std::string& password) {
    basic_auth_ = "BasicAuth " + user + " " + password + "\n";
  }

  // Writes `dir`/tinyproxy.conf, starts tinyproxy in the foreground and
  // waits (bounded, ScaledTimeout) until it accepts connections. False, with
  // the reason in *error, if it cannot be started or never listens.
  bool Start(const std::string& dir, std::string* error);

  // Stops it (SIGTERM, then SIGKILL; bounded) so that its log is complete.
  void Stop();

  int port() const noexcept { return port_; }
  // "127.0.0.1:PORT", the form sscep -p and scepd's proxy setting take.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // What it logged so far; empty if nothing.
  std::string Log() const;

 private:
  BackgroundProcess process_;
  std::string dir_;
  int port_ = 0;
  std::string basic_auth_;
};

}  // namespace scepd::testing
