#pragma once
// microsocks (Debian package) as a SOCKS 5 proxy on a free 127.0.0.1 port
// for one test; its output (one "connected to HOST:PORT" line per
// connection it carried) in `dir`/microsocks.log.

#include <string>

#include "tests/support/process.h"

namespace scepd::testing {

class Microsocks {
 public:
  // Starts it and waits (bounded, ScaledTimeout) until it accepts
  // connections. False, with the reason in *error, otherwise.
  bool Start(const std::string& dir, std::string* error);
  // Stops it (bounded) so that its log is complete.
  void Stop() { process_.Stop(); }
  int port() const noexcept { return port_; }
  std::string Log() const;

 private:
  BackgroundProcess process_;
  std::string log_;
  int port_ = 0;
};

}  // namespace scepd::testing
