#pragma once
// The project's fault-injecting SCEP CA (tests/responder, `scep_responder`)
// as a process on 127.0.0.1: started with chosen flags, stopped on
// destruction. Its state directory survives restarts of the same instance.

#include <string>
#include <vector>

#include "tests/support/process.h"

namespace scepd::testing {

class ResponderProcess {
 public:
  // `state_dir` keeps the CA and transactions; empty = a fresh temp dir.
  explicit ResponderProcess(std::string state_dir = "");
  ~ResponderProcess();
  ResponderProcess(const ResponderProcess&) = delete;
  ResponderProcess& operator=(const ResponderProcess&) = delete;

  // Starts with `flags` (see `scep_responder --help`) and waits, bounded, for
  // the port file. A restart reuses the state directory and the port.
  bool Start(const std::vector<std::string>& flags = {});
  void Stop();

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/scep"; }
  int port() const noexcept { return port_; }
  const std::string& state_dir() const noexcept { return state_dir_; }
  std::string ca_cert_path() const { return state_dir_ + "/ca.crt"; }
  std::string request_log_path() const { return state_dir_ + "/requests.jsonl"; }
  std::string log_path() const { return state_dir_ + "/responder.log"; }
  // Lines of the request log that contain `needle`.
  int CountRequests(const std::string& needle) const;

 private:
  TempDir temp_;
  std::string state_dir_;
  int port_ = 0;
  BackgroundProcess process_;
};

}  // namespace scepd::testing
