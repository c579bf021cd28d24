// est_test_server DIR [SECONDS]: the test EST server (est_server.h) as a
// process, for bench/protocols.sh. Writes DIR/ca.pem (the issuing CA, also
// the TLS server certificate's issuer) and then DIR/port (atomically), and
// serves on 127.0.0.1 until SIGINT or SIGTERM, or SECONDS (default 3600)
// have passed: it never outlives its caller by much. On SIGUSR1 it prints
// "est_test_server: R requests, E enrollments" (so far) on stderr.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <string>

#include "tests/est_server/est_server.h"
#include "tests/support/process.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: est_test_server DIR [SECONDS]\n");
    return 64;
  }
  const std::string dir = argv[1];
  const long seconds = argc == 3 ? std::strtol(argv[2], nullptr, 10) : 3600;  // NOLINT
  if (seconds <= 0) {
    std::fprintf(stderr, "est_test_server: SECONDS must be a positive number\n");
    return 64;
  }
  // Blocked before the server's threads start, so they inherit the mask and
  // only sigtimedwait below takes the signals.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  scepd::testing::EstServer server;
  if (!server.ok()) {
    std::fprintf(stderr, "est_test_server: the server did not start\n");
    return 1;
  }
  scepd::testing::WriteFile(dir + "/ca.pem", server.ca_pem());
  scepd::testing::WriteFile(dir + "/port.tmp", std::to_string(server.port()) + "\n");
  if (std::rename((dir + "/port.tmp").c_str(), (dir + "/port").c_str()) != 0) {
    std::perror("est_test_server: rename port.tmp");
    return 1;
  }
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    const timespec limit{static_cast<time_t>(left.count() / 1000000000),
                         static_cast<long>(left.count() % 1000000000)};  // NOLINT(runtime/int)
    const int sig = sigtimedwait(&stop, nullptr, &limit);
    if (sig < 0 && errno == EINTR) continue;
    std::fprintf(stderr, "est_test_server: %d requests, %d enrollments\n", server.requests(),
                 server.enrollments());
    if (sig != SIGUSR1) break;  // SIGINT, SIGTERM or the time limit
  }
  return 0;
}
