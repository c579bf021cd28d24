// Smoke tests for the test support itself: child processes (RunProcess,
// BackgroundProcess) and the micromdm scepserver fixture. If these fail,
// every end-to-end test would fail for the wrong reason.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "core/ossl.h"
#include "tests/support/process.h"
#include "tests/support/scep_server.h"

namespace scepd::testing {
namespace {

using std::chrono::steady_clock;

long long MillisSince(steady_clock::time_point start) {  // NOLINT(runtime/int)
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - start)
      .count();
}

TEST(RunProcessTest, CapturesOutputAndExitCode) {
  ProcessResult r = RunProcess({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.timed_out);
}

TEST(RunProcessTest, PassesEnvironmentCwdAndStdin) {
  TempDir dir;
  std::string big(1 << 20, 'x');  // more than a pipe buffer both ways
  ProcessResult r = RunProcess({"sh", "-c", "pwd >&2; printf '%s' \"$SCEPD_T\"; cat"},
                               {"SCEPD_T=v=1;"}, 60000, big, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "v=1;" + big);
  EXPECT_EQ(r.err, dir.path() + "\n");
}

TEST(RunProcessTest, ChildIgnoringStdinDoesNotKillUs) {
  std::string big(1 << 20, 'y');
  ProcessResult r = RunProcess({"sh", "-c", "exec 0<&-; exit 4"}, {}, 60000, big);
  EXPECT_EQ(r.exit_code, 4);
}

TEST(RunProcessTest, MissingProgramIs127) {
  ProcessResult r = RunProcess({"scepd-no-such-program"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("scepd-no-such-program"), std::string::npos) << r.err;
}

TEST(RunProcessTest, TimeoutKills) {
  auto start = steady_clock::now();
  ProcessResult r = RunProcess({"sleep", "30"}, {}, 300);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_LT(MillisSince(start), 5000);
}

TEST(RunProcessTest, GrandchildHoldingPipesDoesNotHang) {
  auto start = steady_clock::now();
  ProcessResult r = RunProcess({"sh", "-c", "sleep 3 & echo started"}, {}, 20000);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "started\n");
  EXPECT_FALSE(r.timed_out);
  EXPECT_LT(MillisSince(start), 2500);
}

TEST(BackgroundProcessTest, LogsAndStopsWithSigint) {
  TempDir dir;
  BackgroundProcess p;
  std::string error;
  ASSERT_TRUE(p.Start({"sh", "-c",
                       "trap 'echo got-int; exit 7' INT; echo started; "
                       "i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done"},
                      dir.File("log"), {}, "", &error))
      << error;
  EXPECT_GT(p.pid(), 0);
  EXPECT_TRUE(p.Running());
  EXPECT_FALSE(p.Wait(100).has_value());
  auto start = steady_clock::now();
  while (ReadFile(dir.File("log")).find("started") == std::string::npos &&
         MillisSince(start) < 5000) {
    usleep(10000);
  }
  EXPECT_EQ(p.Stop(), 7);
  EXPECT_EQ(ReadFile(dir.File("log")), "started\ngot-int\n");
  EXPECT_FALSE(p.Running());
  EXPECT_EQ(p.pid(), -1);
}

TEST(BackgroundProcessTest, SignalAndWait) {
  TempDir dir;
  BackgroundProcess p;
  ASSERT_TRUE(p.Start({"sleep", "30"}, dir.File("log")));
  EXPECT_TRUE(p.Signal(SIGTERM));
  EXPECT_EQ(p.Wait(5000), 128 + SIGTERM);
  EXPECT_EQ(p.Wait(0), 128 + SIGTERM);  // remembered once reaped
  EXPECT_FALSE(p.Signal(SIGTERM));
}

TEST(BackgroundProcessTest, StartFailsForMissingProgram) {
  TempDir dir;
  BackgroundProcess p;
  std::string error;
  EXPECT_FALSE(p.Start({"scepd-no-such-program"}, dir.File("log"), {}, "", &error));
  EXPECT_NE(error.find("scepd-no-such-program"), std::string::npos) << error;
}

TEST(FileHelpersTest, WriteReadModeAndRemove) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    ASSERT_FALSE(path.empty());
    WriteFile(dir.File("f"), std::string("a\0b", 3), 0600);
    EXPECT_EQ(ReadFile(dir.File("f")), std::string("a\0b", 3));
    EXPECT_EQ(RunProcess({"stat", "-c", "%a", dir.File("f")}).out, "600\n");
    EXPECT_FALSE(TryReadFile(dir.File("missing")).has_value());
    ASSERT_EQ(RunProcess({"mkdir", "-p", dir.File("a/b/c")}).exit_code, 0);
    WriteFile(dir.File("a/b/c/g"), "x", 0400);
  }
  EXPECT_FALSE(PathExists(path));
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
}

// ---- the scepserver fixture ----

bool CanBindLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::listen(fd, 1) == 0;
  ::close(fd);
  return ok;
}

TEST(ScepServerFixtureTest, TwoServersAnswerGetCACapsAndStopFreesPort) {
  ScepServer a;
  ScepServer b;
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  EXPECT_NE(a.port(), b.port());
  EXPECT_EQ(a.url(), "http://127.0.0.1:" + std::to_string(a.port()) + "/scep");
  for (ScepServer* s : {&a, &b}) {
    HttpResponse caps = LoopbackHttpGet(s->port(), "/scep?operation=GetCACaps");
    EXPECT_EQ(caps.status, 200) << caps.headers;
    EXPECT_NE(caps.body.find("POSTPKIOperation"), std::string::npos) << caps.body;
    EXPECT_NE(caps.body.find("Renewal"), std::string::npos) << caps.body;
    EXPECT_NE(ReadFile(s->ca_cert_path()).find("BEGIN CERTIFICATE"), std::string::npos);
    EXPECT_TRUE(PathExists(s->ca_key_path()));
    EXPECT_NE(s->depot_dir(), "");
  }
  // Instances share the per-process template CA but not their depots.
  EXPECT_EQ(ReadFile(a.ca_cert_path()), ReadFile(b.ca_cert_path()));
  EXPECT_NE(a.depot_dir(), b.depot_dir());

  const int port = a.port();
  a.Stop();
  EXPECT_FALSE(a.running());
  EXPECT_EQ(LoopbackHttpGet(port, "/scep?operation=GetCACaps", 500).status, 0);
  EXPECT_TRUE(CanBindLoopback(port));
  EXPECT_NE(ReadFile(a.log_path()).find("listening"), std::string::npos);
  // b is unaffected.
  EXPECT_EQ(LoopbackHttpGet(b.port(), "/scep?operation=GetCACaps").status, 200);
}

TEST(ScepServerFixtureTest, FreshCaDiffers) {
  ScepServer::Options options;
  options.fresh_ca = true;
  ScepServer fresh(options);
  ScepServer shared;
  ASSERT_TRUE(fresh.Start());
  ASSERT_TRUE(shared.Start());
  EXPECT_NE(ReadFile(fresh.ca_cert_path()), ReadFile(shared.ca_cert_path()));
}

// Enrolls with micromdm's own scepclient (same package), so this checks the
// fixture without depending on the project's client.
ProcessResult Enroll(const ScepServer& server, const TempDir& dir, const std::string& cn) {
  return RunProcess({"scepclient", "-server-url", server.url(), "-private-key",
                     dir.File(cn + ".key"), "-certificate", dir.File(cn + ".crt"), "-keySize",
                     "2048", "-cn", cn, "-challenge", "secret"},
                    {}, 60000, "", dir.path());
}

TEST(ScepServerFixtureTest, CapturesCsrAndAppliesVerifier) {
  TempDir dir;
  const std::string refuse = dir.File("refuse-second.sh");
  // Accept the first request, refuse any later one.
  WriteFile(refuse, "#!/bin/sh\ncat >/dev/null\n[ ! -e \"$0.seen\" ] || exit 1\n: > \"$0.seen\"\n",
            0755);
  ScepServer::Options options;
  options.capture_csr_to = dir.File("csr.der");
  options.csr_verifier_exec = refuse;
  ScepServer server(options);
  ASSERT_TRUE(server.Start());

  ProcessResult first = Enroll(server, dir, "captured-one");
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err << ReadFile(server.log_path());
  std::string der = ReadFile(dir.File("csr.der"));
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::Ptr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  ASSERT_TRUE(req) << "captured file is not a DER CSR (" << der.size() << " bytes)";
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName, cn,
                            sizeof cn);
  EXPECT_STREQ(cn, "captured-one");
  EXPECT_EQ(ReadFile(dir.File("csr.der.1")), der);

  ProcessResult second = Enroll(server, dir, "captured-two");
  EXPECT_NE(second.exit_code, 0) << "verifier refusal should fail the enrollment";
  EXPECT_TRUE(PathExists(dir.File("csr.der.2")));
  EXPECT_FALSE(PathExists(dir.File("captured-two.crt")));
}

}  // namespace
}  // namespace scepd::testing
