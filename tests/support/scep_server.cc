#include "tests/support/scep_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <mutex>
#include <thread>
#include <utility>

namespace scepd::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStartAttempts = 5;       // fresh ports tried when one is taken
constexpr int kReadyTimeoutMs = 10000;  // per attempt
constexpr int kProbeIntervalMs = 50;

std::string ScepServerBinary() {
  const char* env = std::getenv("SCEPD_SCEPSERVER");
  return (env != nullptr && *env != '\0') ? env : "scepserver";
}

const char* const kMissingHint =
    " (micromdm scepserver is a required test dependency: apt-get install scep, "
    "or run scripts/test.sh which installs it)";

// Creates a CA depot at `depot` with `scepserver ca -init`; false and a test
// failure if that fails.
bool InitDepot(const std::string& depot) {
  ProcessResult r = RunProcess({ScepServerBinary(), "ca", "-init", "-depot", depot, "-keySize",
                                "2048", "-years", "10", "-organization", "scepd test CA"},
                               {}, 60000);
  if (r.exit_code != 0 || !PathExists(depot + "/ca.pem") || !PathExists(depot + "/ca.key")) {
    ADD_FAILURE() << "scepserver ca -init failed (exit " << r.exit_code << "): " << r.err
                  << r.out << kMissingHint;
    return false;
  }
  return true;
}

// One initialized depot per test process, removed at exit; instances copy
// it. A just-initialized depot holds only ca.pem and ca.key: serial and
// index.txt appear once the server runs, so copies start with serial 2 and
// an empty index like a fresh CA.
class TemplateDepot {
 public:
  ~TemplateDepot() { RemoveTree(dir_); }

  // The template depot path, created on first use; "" on failure.
  std::string Get() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!depot_.empty()) return depot_;
    if (dir_.empty()) dir_ = MakeTempDir("scepd-ca-template-");
    if (dir_.empty()) return "";
    std::string depot = dir_ + "/depot";
    RemoveTree(depot);
    if (!InitDepot(depot)) return "";
    depot_ = depot;
    return depot_;
  }

 private:
  std::mutex mu_;
  std::string dir_;
  std::string depot_;
};

TemplateDepot& Template() {
  static TemplateDepot instance;
  return instance;
}

bool CopyDepot(const std::string& from, const std::string& to) {
  if (::mkdir(to.c_str(), 0755) != 0) {
    ADD_FAILURE() << "mkdir " << to << ": " << std::strerror(errno);
    return false;
  }
  for (const char* name : {"ca.pem", "ca.key"}) {
    std::optional<std::string> content = TryReadFile(from + "/" + name);
    if (!content) {
      ADD_FAILURE() << "template depot lacks " << name;
      return false;
    }
    WriteFile(to + "/" + name, *content, 0400);  // scepserver's own modes
  }
  return true;
}

bool Contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

HttpResponse LoopbackHttpGet(int port, const std::string& target, int timeout_ms) {
  HttpResponse response;
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto millis_left = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(left.count() > 0 ? left.count() : 0);
  };
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return response;
  struct Closer {
    int sock;
    ~Closer() { ::close(sock); }
  } closer{fd};

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return response;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, millis_left()) != 1) return response;
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
      return response;
    }
  }
  const std::string request =
      "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) +
      "\r\nUser-Agent: scepd-test\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, millis_left()) != 1) return response;
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return response;
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int left = millis_left();
    if (left == 0 || ::poll(&p, 1, left) != 1) return response;  // timed out
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return response;
    }
    raw.append(buf, static_cast<std::size_t>(n));
    if (raw.size() > (16u << 20)) return response;  // not a probe answer
  }
  std::size_t header_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos || raw.size() < 12) {
    return response;
  }
  int status = std::atoi(raw.substr(9, 3).c_str());
  if (status < 100 || status > 599) return response;
  response.status = status;
  response.headers = raw.substr(0, header_end);
  response.body = raw.substr(header_end + 4);
  return response;
}

ScepServer::ScepServer() : ScepServer(Options{}) {}

ScepServer::ScepServer(Options options) : options_(std::move(options)) {}

ScepServer::~ScepServer() {
  Stop();
  const char* keep = std::getenv("SCEPD_KEEP_TEST_DIRS");
  if (keep == nullptr || *keep == '\0') RemoveTree(dir_);
}

std::string ScepServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/scep";
}

bool ScepServer::running() { return process_.Running(); }

bool ScepServer::PrepareDir() {
  if (!dir_.empty()) return true;  // a restart keeps the depot
  std::string dir = MakeTempDir("scepd-ca-");
  if (dir.empty()) return false;
  dir_ = dir;
  if (options_.fresh_ca) return InitDepot(depot_dir());
  std::string templ = Template().Get();
  return !templ.empty() && CopyDepot(templ, depot_dir());
}

// The -csrverifierexec program: the caller's as is, or a generated wrapper
// around capture_csr.sh (scepserver cannot pass arguments to it).
std::string ScepServer::VerifierPath() {
  if (options_.capture_csr_to.empty()) return options_.csr_verifier_exec;
  const std::string script = std::string(SCEPD_SOURCE_DIR) + "/tests/support/capture_csr.sh";
  std::string wrapper = "#!/bin/sh\n# Generated by ScepServer: capture the CSR, then verify.\nexec /bin/sh " +
                        ShellQuote(script) + " " + ShellQuote(options_.capture_csr_to);
  if (!options_.csr_verifier_exec.empty()) wrapper += " " + ShellQuote(options_.csr_verifier_exec);
  wrapper += "\n";
  const std::string path = dir_ + "/csr-verifier.sh";
  WriteFile(path, wrapper, 0755);
  return path;
}

bool ScepServer::Start() {
  if (process_.Running()) {
    ADD_FAILURE() << "ScepServer::Start: already running on port " << port_;
    return false;
  }
  if (!PrepareDir()) return false;
  const std::string verifier = VerifierPath();

  std::string last_log;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    port_ = FreeLoopbackPort();
    if (port_ < 0) return false;
    std::vector<std::string> argv = {ScepServerBinary(),
                                     "-depot", depot_dir(),
                                     "-port", std::to_string(port_),
                                     "-allowrenew", std::to_string(options_.allowrenew_days),
                                     "-crtvalid", std::to_string(options_.crtvalid_days)};
    if (!options_.challenge.empty()) {
      argv.insert(argv.end(), {"-challenge", options_.challenge});
    }
    if (!verifier.empty()) argv.insert(argv.end(), {"-csrverifierexec", verifier});
    if (options_.debug) argv.push_back("-debug");

    std::string error;
    if (!process_.Start(argv, log_path(), {}, dir_, &error)) {
      ADD_FAILURE() << "cannot start scepserver: " << error << kMissingHint;
      return false;
    }
    const Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(kReadyTimeoutMs);
    while (Clock::now() < deadline && process_.Running()) {
      HttpResponse caps = LoopbackHttpGet(port_, "/scep?operation=GetCACaps", 1000);
      // Alive after the answer: the answer came from our server, not from
      // another process that holds the port while ours failed to bind.
      if (caps.status == 200 && process_.Running()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(kProbeIntervalMs));
    }
    process_.Stop();
    last_log = TryReadFile(log_path()).value_or("");
    if (!Contains(last_log, "address already in use")) break;
  }
  ADD_FAILURE() << "scepserver did not come up on 127.0.0.1:" << port_ << "; log:\n" << last_log;
  port_ = -1;
  return false;
}

void ScepServer::Stop() { process_.Stop(); }

}  // namespace scepd::testing
