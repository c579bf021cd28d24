#pragma once
// OpenSSL's own CMP server (`openssl cmp -port P ...`, the mock that
// answers with a fixed -rsp_cert) on a free port for one test: started in
// the test's directory (so its file arguments may be relative), its output
// in `dir`/cmp-server.log, stopped by the destructor.

#include <string>
#include <vector>

#include "tests/support/process.h"

namespace scepd::testing {

class CmpMockServer {
 public:
  // Starts `openssl cmp -port P` followed by `args` in `dir` and waits
  // (bounded, ScaledTimeout) until it accepts connections on 127.0.0.1;
  // retries on another port if it exits first (the port was taken). False,
  // with its output in *error, if it never listens.
  bool Start(const std::string& dir, const std::vector<std::string>& args, std::string* error);
  void Stop() { process_.Stop(); }

  int port() const noexcept { return port_; }
  // "http://127.0.0.1:P/pkix/".
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/pkix/"; }
  std::string Log() const;

 private:
  BackgroundProcess process_;
  std::string log_;
  int port_ = 0;
};

}  // namespace scepd::testing
