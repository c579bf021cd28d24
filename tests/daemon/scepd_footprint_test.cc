// The idle daemon's footprint: libcurl and the libraries it brings are
// loaded only when scepd first talks to a CA (io/curl_library.h), so a
// daemon that starts with a valid certificate never maps them. Checked on
// the real binary through /proc/PID/maps (under qemu-user, the emulator's
// maps list the target libraries it mapped the same way).

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/scep_server.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");

std::string Config(const TempDir& dir, const ScepServer& ca, int renew_days) {
  return "[scepd]\nenabled = yes\n"
         "data_dir = " + dir.File("data") + "\n"
         "run_dir = " + dir.File("run") + "\n"
         "log_target = stderr\n"
         "[certificate]\n"
         "url = " + ca.url() + "\n"
         "subject = /O=scepd test/CN=footprint\n"
         "challenge_password = secret\n"
         "key_size = 1024\n"
         "renew_days = " + std::to_string(renew_days) + "\n";
}

// Waits (bounded) until the log has `text`; false if scepd exits first.
bool WaitForLog(BackgroundProcess& d, const std::string& log, const std::string& text) {
  const int limit = ScaledTimeout(60000);
  for (int waited = 0; waited < limit; waited += 20) {
    if (TryReadFile(log).value_or("").find(text) != std::string::npos) return true;
    if (!d.Running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool MapsLibcurl(int pid) {
  return ReadFile("/proc/" + std::to_string(pid) + "/maps").find("/libcurl.so") !=
         std::string::npos;
}

// Starts the daemon on `conf`, waits for its log line `text`, tells whether
// it has libcurl mapped at that point, and stops it (exit 0 expected).
bool LibcurlMappedAt(const std::string& conf, const std::string& log, const std::string& text) {
  BackgroundProcess d;
  EXPECT_TRUE(d.Start({kScepd, "-c", conf}, log));
  EXPECT_TRUE(WaitForLog(d, log, text)) << ReadFile(log);
  const bool mapped = MapsLibcurl(d.pid());
  EXPECT_TRUE(d.Signal(SIGTERM));
  EXPECT_EQ(d.Wait(30000), 0) << ReadFile(log);
  return mapped;
}

TEST(ScepdFootprint, IdleDaemonNeverLoadsLibcurlUntilItTalksToTheCa) {
#ifndef SCEPD_TEST_CURL_DLOPEN
  GTEST_SKIP() << "built with SCEPD_CURL_DLOPEN=OFF: libcurl is linked in";
#endif
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  TempDir dir;
  const std::string conf = dir.File("scepd.conf");
  WriteFile(conf, Config(dir, ca, 30));
  const ProcessResult enrolled = RunProcess({kScepd, "-c", conf, "--once"});
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;

  // Valid certificate: a decision, then sleep, with no libcurl mapped.
  EXPECT_FALSE(LibcurlMappedAt(conf, dir.File("idle.log"), "next check at"))
      << "an idle daemon mapped libcurl";
  // Renewal due at start: libcurl is loaded for the exchange.
  WriteFile(conf, Config(dir, ca, 3650));
  EXPECT_TRUE(LibcurlMappedAt(conf, dir.File("renew.log"), "installed, valid until"))
      << "renewed without libcurl mapped?";
}

}  // namespace
}  // namespace scepd::testing
