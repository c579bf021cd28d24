#pragma once
// A real SCEP CA for tests: micromdm's `scepserver` (Debian package `scep`)
// on a free loopback port, with its own depot in a temporary directory. See
// /work/shared/notes/scep-servers.md for what this server does and does not
// do (no PENDING, no GetCert/GetCRL, DES-only replies, SHA-1 signatures).
//
// The binary is a required test dependency (scripts/test.sh installs it):
// when it is missing Start() fails the test loudly instead of skipping. Set
// SCEPD_SCEPSERVER to use another binary than the one in PATH.

#include <string>

#include "tests/support/process.h"

namespace scepd::testing {

// A response from LoopbackHttpGet.
struct HttpResponse {
  int status = 0;        // HTTP status code; 0 if there was no valid answer
  std::string headers;   // the raw header block, status line included
  std::string body;
};

// A blocking HTTP/1.0 GET of `target` (e.g. "/scep?operation=GetCACaps") to
// 127.0.0.1:port, for readiness probes and smoke tests: no dependency on the
// project's transport. Returns status 0 when the connection fails, the
// answer is malformed or timeout_ms passes. No test failure is recorded.
HttpResponse LoopbackHttpGet(int port, const std::string& target, int timeout_ms = 2000);

class ScepServer {
 public:
  struct Options {
    std::string challenge = "secret";  // -challenge; "" runs without one
    int crtvalid_days = 365;           // -crtvalid
    int allowrenew_days = 0;           // -allowrenew; 0 = always allow renewal
    // -csrverifierexec: a program given the DER CSR on stdin; exit 0 issues,
    // anything else answers FAILURE badRequest. Must be an executable path.
    std::string csr_verifier_exec;
    bool debug = false;  // -debug: more detail in log_path()
    // If set, every CSR the server receives is written to this path (the
    // latest) and to path.1, path.2, ... in arrival order, before
    // csr_verifier_exec (if any) decides. Uses tests/support/capture_csr.sh.
    std::string capture_csr_to;
    // A new CA key and certificate for this instance. By default instances
    // share one CA per test process (a copied template depot), which keeps
    // the suite fast; ask for a fresh one to test "the CA changed".
    bool fresh_ca = false;
  };

  ScepServer();
  explicit ScepServer(Options options);
  // Stops the server and removes its directory (kept when the environment
  // variable SCEPD_KEEP_TEST_DIRS is non-empty).
  ~ScepServer();
  ScepServer(const ScepServer&) = delete;
  ScepServer& operator=(const ScepServer&) = delete;

  // Creates the depot, starts the server on a free port (retrying on a port
  // clash) and waits up to 10 s for GetCACaps to answer. Returns false and
  // records a test failure, with the server log, if it does not come up:
  // use ASSERT_TRUE(server.Start()). Calling it again after Stop() restarts
  // the server on the same depot (and a new port).
  bool Start();

  // Stops the server (SIGINT, then SIGTERM/SIGKILL); keeps the directory so
  // the test can still look at the depot and log. Safe to call twice.
  void Stop();

  bool running();

  // "http://127.0.0.1:<port>/scep", the only path micromdm serves.
  std::string url() const;
  int port() const noexcept { return port_; }
  const std::string& dir() const noexcept { return dir_; }
  std::string depot_dir() const { return dir_ + "/depot"; }
  // The CA certificate (PEM) and key (PEM, encrypted with an empty
  // password as micromdm writes it) in the depot.
  std::string ca_cert_path() const { return depot_dir() + "/ca.pem"; }
  std::string ca_key_path() const { return depot_dir() + "/ca.key"; }
  // scepserver's stdout and stderr.
  std::string log_path() const { return dir_ + "/scepserver.log"; }
  const Options& options() const noexcept { return options_; }

 private:
  bool PrepareDir();
  std::string VerifierPath();

  Options options_;
  std::string dir_;
  int port_ = -1;
  BackgroundProcess process_;
};

}  // namespace scepd::testing
