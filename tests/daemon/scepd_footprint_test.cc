// The idle daemon's footprint. libcurl and the libraries it brings are
// loaded only when scepd first talks to a CA (io/curl_library.h), so a
// daemon that starts with a valid certificate never maps them. Checked on
// the real binary through /proc/PID/maps (under qemu-user, the emulator's
// maps list the target libraries it mapped the same way).

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
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

// A CA on loopback and a certificate enrolled by `scepd --once` in `dir_`,
// with the settings in `conf_` (renew_days 30: valid for the next start).
class ScepdFootprint : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.Start());
    WriteFile(conf_, Config(dir_, ca_, 30));
    const ProcessResult enrolled = RunProcess({kScepd, "-c", conf_, "--once"});
    ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;
  }

  ScepServer ca_;
  TempDir dir_;
  const std::string conf_ = dir_.File("scepd.conf");
};

TEST_F(ScepdFootprint, IdleDaemonNeverLoadsLibcurlUntilItTalksToTheCa) {
#ifndef SCEPD_TEST_CURL_DLOPEN
  GTEST_SKIP() << "built with SCEPD_CURL_DLOPEN=OFF: libcurl is linked in";
#endif
  // Valid certificate: a decision, then sleep, with no libcurl mapped.
  EXPECT_FALSE(LibcurlMappedAt(conf_, dir_.File("idle.log"), "next check at"))
      << "an idle daemon mapped libcurl";
  // Renewal due at start: libcurl is loaded for the exchange.
  WriteFile(conf_, Config(dir_, ca_, 3650));
  EXPECT_TRUE(LibcurlMappedAt(conf_, dir_.File("renew.log"), "installed, valid until"))
      << "renewed without libcurl mapped?";
}

// KiB resident in `pid`'s private read-only file mappings (program and
// library code and constants) that hold no page of the process's own, from
// /proc/PID/smaps; `detail` gets one line per mapping counted.
long CleanFileResidentKb(int pid, std::string* detail) {  // NOLINT(runtime/int)
  const std::string smaps = ReadFile("/proc/" + std::to_string(pid) + "/smaps");
  long total = 0;  // NOLINT(runtime/int)
  bool counted = false;
  std::string header;
  long rss = 0;  // NOLINT(runtime/int)
  std::size_t pos = 0;
  while (pos < smaps.size()) {
    std::size_t end = smaps.find('\n', pos);
    if (end == std::string::npos) end = smaps.size();
    const std::string line = smaps.substr(pos, end - pos);
    pos = end + 1;
    char perms[5] = {};
    int path_at = 0;
    unsigned long a = 0, b = 0;  // NOLINT(runtime/int)
    if (std::sscanf(line.c_str(), "%lx-%lx %4s %*s %*s %*s %n", &a, &b, perms, &path_at) == 3 &&
        path_at > 0) {
      counted = perms[1] == '-' && perms[3] == 'p' && line[static_cast<std::size_t>(path_at)] == '/';
      header = line;
      continue;
    }
    long kb = 0;  // NOLINT(runtime/int)
    if (std::sscanf(line.c_str(), "Rss: %ld kB", &kb) == 1) rss = kb;
    // Anonymous comes after Rss: relocated data is the process's own.
    if (counted && std::sscanf(line.c_str(), "Anonymous: %ld kB", &kb) == 1 && kb == 0 &&
        rss > 0) {
      total += rss;
      *detail += std::to_string(rss) + " KiB  " + header + "\n";
    }
  }
  return total;
}

// Before sleeping the idle daemon gives back the code pages its check
// touched (io/resident_pages.h); a check on SIGUSR1 maps back what it needs
// and works as before.
TEST_F(ScepdFootprint, IdleDaemonReleasesItsCodePagesAndStillChecks) {
  std::string settings = Config(dir_, ca_, 30);
  settings.insert(settings.find("log_target"), "log_level = debug\n");
  WriteFile(conf_, settings);

  const std::string log = dir_.File("idle.log");
  BackgroundProcess d;
  ASSERT_TRUE(d.Start({kScepd, "-c", conf_}, log));
  ASSERT_TRUE(WaitForLog(d, log, "idle: releasing")) << ReadFile(log);
  if (!RunningUnderEmulator()) {
    // What the check touched is several MiB (libcrypto, libstdc++, libc,
    // scepd); what the sleeping daemon keeps mapped is a few hundred KiB.
    long kb = 0;  // NOLINT(runtime/int)
    std::string detail;
    for (int waited = 0; waited < ScaledTimeout(5000); waited += 50) {
      detail.clear();
      kb = CleanFileResidentKb(d.pid(), &detail);
      if (kb < 1024) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_LT(kb, 1024) << "KiB of program and library pages still resident:\n" << detail;
  }
  ASSERT_TRUE(d.Signal(SIGUSR1));
  auto decided_again = [&] {
    const std::string text = ReadFile(log);
    const std::size_t at = text.find("SIGUSR1: checking now");
    return at != std::string::npos && text.find(" valid: ", at) != std::string::npos &&
           text.find("next check at", at) != std::string::npos;
  };
  for (int waited = 0; waited < ScaledTimeout(30000) && !decided_again(); waited += 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(decided_again()) << ReadFile(log);
  EXPECT_TRUE(d.Signal(SIGTERM));
  EXPECT_EQ(d.Wait(30000), 0) << ReadFile(log);
}

}  // namespace
}  // namespace scepd::testing
