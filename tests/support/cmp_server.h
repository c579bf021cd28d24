#pragma once
// OpenSSL's own CMP server (`openssl cmp -port P ...`, the mock of
// ../shared notes "cmp-est.md") on 127.0.0.1, started on a free port with
// its working directory and log in `dir`, stopped by the destructor.

#include <string>
#include <vector>

#include "tests/support/process.h"

namespace scepd::testing {

// Whether something accepts TCP connections on 127.0.0.1:`port` now.
bool LoopbackPortAccepts(int port);

class OpenSslCmpServer {
 public:
  explicit OpenSslCmpServer(std::string dir) : dir_(std::move(dir)) {}
  ~OpenSslCmpServer() { Stop(); }

  // Starts `openssl cmp -port P` + `args` (file names relative to dir) and
  // waits, bounded, until it listens; a few ports are tried. False (and the
  // log in `error`) if it does not come up.
  bool Start(const std::vector<std::string>& args, std::string* error);
  void Stop() { server_.Stop(); }
  bool Running() { return server_.Running(); }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/pkix/"; }
  // The server's log (it names each request's first line and its errors).
  std::string log() const;

 private:
  std::string dir_;
  BackgroundProcess server_;
  int port_ = -1;
};

}  // namespace scepd::testing
