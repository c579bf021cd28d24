// Issue 14, "trust nothing": a hostile or unlucky data_dir, run_dir and
// settings, and a second process on the same data_dir, through the real
// scepd and (where an enrollment is needed) the real CA (micromdm
// scepserver on 127.0.0.1). docs/reliability.md, section "Hardening",
// lists what was tried; docs/daemon.md the policies.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "core/ossl.h"

#include "core/clock.h"
#include "daemon/daemon.h"
#include "io/process_hook_runner.h"
#include "io/system_clock.h"
#include "tests/core/fake_clock.h"
#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/responder_process.h"
#include "tests/support/scep_server.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");

// How often `what` occurs in `text`.
std::size_t Occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class HardeningTest : public ::testing::Test {
 protected:
  std::string data() const { return dir_.File("data"); }
  std::string run() const { return dir_.File("run"); }
  std::string conf() const { return dir_.File("scepd.conf"); }

  // Settings; `daemon_extra` lines go into [scepd], `extra` into [certificate].
  void WriteConfig(const std::string& url, const std::string& extra = "",
                   const std::string& daemon_extra = "", bool enabled = true,
                   const std::string& data_dir = "", const std::string& run_dir = "") {
    WriteFile(conf(),
              "[scepd]\n"
              "enabled = " + std::string(enabled ? "yes" : "no") + "\n"
              "data_dir = " + (data_dir.empty() ? data() : data_dir) + "\n"
              "run_dir = " + (run_dir.empty() ? run() : run_dir) + "\n"
              "log_level = debug\n"
              "log_target = stderr\n"
              "serial_number = A1B2\n" + daemon_extra +
              "[certificate]\n"
              "url = " + url + "\n"
              "subject = /O=scepd test/CN=router-SN\n"
              "await_result = 1\n" +
              (extra.find("challenge_password") == std::string::npos
                   ? std::string("challenge_password = secret\n")
                   : std::string()) +
              extra);
  }

  ProcessResult Once(int timeout_ms = 60000) {
    return RunProcess({kScepd, "-c", conf(), "--once"}, {}, timeout_ms);
  }

  TempDir dir_;
};

// ---------------------------------------------------------------------------
// Point 2: the pid file.

TEST_F(HardeningTest, PidFileThatIsALinkOrAFifoIsRefused) {
  WriteConfig("http://127.0.0.1:1/scep", "", "", /*enabled=*/false);
  ASSERT_EQ(::mkdir(run().c_str(), 0755), 0);
  const std::string victim = dir_.File("victim");
  WriteFile(victim, "precious\n", 0644);
  std::string observed;
  struct Case {
    const char* name;
    std::function<void()> plant;
  };
  const std::string pid = run() + "/scepd.pid";
  const std::string dangling = dir_.File("created-through-link");
  for (const Case& c : std::vector<Case>{
           {"link", [&] { ASSERT_EQ(::symlink(victim.c_str(), pid.c_str()), 0); }},
           {"dangling link", [&] { ASSERT_EQ(::symlink(dangling.c_str(), pid.c_str()), 0); }},
           {"fifo", [&] { ASSERT_EQ(::mkfifo(pid.c_str(), 0644), 0); }},
       }) {
    SCOPED_TRACE(c.name);
    ::unlink(pid.c_str());
    c.plant();
    auto r = RunProcess({kScepd, "-c", conf()}, {}, 20000);
    EXPECT_FALSE(r.timed_out) << "scepd hung on a " << c.name << " pid file";
    EXPECT_EQ(r.exit_code, 1) << r.err;
    observed += std::string(c.name) + ": exit " + std::to_string(r.exit_code) + " " + r.err + "\n";
  }
  EXPECT_EQ(ReadFile(victim), "precious\n");
  EXPECT_FALSE(PathExists(dangling));
  observed += "victim " + std::string(ReadFile(victim) == "precious\n" ? "unchanged" : "CHANGED") +
              ", link target " + (PathExists(dangling) ? "CREATED" : "not created") + "\n";
  EXPECT_NE(observed.find("is a symbolic link; refused"), std::string::npos) << observed;
  EXPECT_NE(observed.find("is not a regular file; refused"), std::string::npos) << observed;
  ExpectReliabilityRow("hardening.pid-file-link", observed);
}

// ---------------------------------------------------------------------------
// Point 4: data_dir, run_dir, .pending as links or another user's.

TEST_F(HardeningTest, DirectoriesThatAreLinksOrForeignAreRefused) {
  const std::string elsewhere = dir_.File("elsewhere");
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(elsewhere.c_str(), 01777), 0);
  std::string observed;

  // data_dir a link to a sticky shared directory.
  ASSERT_EQ(::symlink(elsewhere.c_str(), data().c_str()), 0);
  WriteConfig("http://127.0.0.1:1/scep");
  auto r = Once();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(Mode(elsewhere), 01777u) << "the link's target was chmod'ed";
  observed += "data_dir link: exit " + std::to_string(r.exit_code) + " " + r.err + "\n";
  ASSERT_EQ(::unlink(data().c_str()), 0);

  // run_dir a link.
  RemoveTree(run());
  ASSERT_EQ(::symlink(elsewhere.c_str(), run().c_str()), 0);
  r = Once();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(PathExists(elsewhere + "/scepd.pid"));
  EXPECT_FALSE(PathExists(elsewhere + "/status"));
  observed += "run_dir link: exit " + std::to_string(r.exit_code) + " " + r.err + "\n";
  ASSERT_EQ(::unlink(run().c_str()), 0);

  // .pending a link: the new key would be written outside data_dir.
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  ASSERT_EQ(::mkdir(data().c_str(), 0700), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), (data() + "/.pending").c_str()), 0);
  r = Once(120000);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(PathExists(elsewhere + "/state"));
  EXPECT_EQ(Mode(elsewhere), 01777u);
  observed += ".pending link: exit " + std::to_string(r.exit_code) + " " + r.err + "\n";
  ASSERT_EQ(::unlink((data() + "/.pending").c_str()), 0);

  // data_dir owned by another user.
  ASSERT_EQ(::chown(data().c_str(), 65534, 65534), 0);
  r = Once();
  EXPECT_NE(r.exit_code, 0);
  observed += "foreign data_dir: exit " + std::to_string(r.exit_code) + " " + r.err + "\n";
  ExpectReliabilityRow("hardening.dir-links", observed);
}

// ---------------------------------------------------------------------------
// Point 3: FIFOs where files are read; SIGTERM while something blocks.

TEST_F(HardeningTest, FifoInPlaceOfAFileIsNamedAndNeverHangs) {
  std::string observed;
  // challenge_password_file, even for --check-config.
  const std::string fifo = dir_.File("challenge.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  WriteConfig("http://127.0.0.1:1/scep", "challenge_password_file = " + fifo + "\n");
  auto r = RunProcess({kScepd, "-c", conf(), "--check-config"}, {}, 20000);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 78) << r.err;
  observed += "challenge fifo: exit " + std::to_string(r.exit_code) + " " + r.err + "\n";

  // latest.crt and ca.crt-0 as FIFOs in an otherwise empty data_dir.
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  for (const char* name : {"latest.crt", "ca.crt-0"}) {
    SCOPED_TRACE(name);
    RemoveTree(data());
    ASSERT_EQ(::mkdir(data().c_str(), 0700), 0);
    ASSERT_EQ(::mkfifo((data() + "/" + name).c_str(), 0600), 0);
    r = Once(120000);
    EXPECT_FALSE(r.timed_out) << "scepd hung on a FIFO at " << name;
    observed += std::string(name) + " fifo: exit " + std::to_string(r.exit_code) + " " + r.err + "\n";
  }
  ExpectReliabilityRow("hardening.fifo", observed);
}

TEST_F(HardeningTest, SigtermEndsTheDaemonWhileAScriptBlocks) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  const std::string marker = dir_.File("script.pid");
  const std::string script = dir_.File("success.sh");
  WriteFile(script, "#!/bin/sh\necho $$ >" + marker + ".tmp\nmv " + marker + ".tmp " + marker +
                        "\nexec sleep 600\n",
            0755);
  WriteConfig(ca.url(), "success_script = " + script + "\n");
  const std::string log = dir_.File("scepd.log");
  BackgroundProcess d;
  ASSERT_TRUE(d.Start({kScepd, "-c", conf()}, log));
  ASSERT_TRUE(WaitFor([&] { return PathExists(marker); }, 120000)) << ReadFile(log);
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(d.Signal(SIGTERM));
  auto code = d.Wait(20000);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - sent)
          .count();
  const std::string script_pid = ReadFile(marker);
  if (!script_pid.empty()) ::kill(std::stoi(script_pid), SIGKILL);
  ASSERT_TRUE(code.has_value()) << "scepd still running 20 s after SIGTERM\n" << ReadFile(log);
  EXPECT_LE(seconds, 15);
  const std::string observed = ReadFile(log) + "\nexit " + std::to_string(*code) +
                               (seconds <= 15 ? " within 15 s" : " too late");
  ExpectReliabilityRow("hardening.sigterm-bounded", observed);
}

// ---------------------------------------------------------------------------
// Point 10: --once and the daemon's lock.

TEST_F(HardeningTest, OnceRefusesWhileTheLockIsHeld) {
  WriteConfig("http://127.0.0.1:1/scep");
  std::string observed;
  // Another --once (or anything) holding the lock.
  ASSERT_EQ(::mkdir(run().c_str(), 0755), 0);
  {
    const std::string pid = run() + "/scepd.pid";
    int fd = ::open(pid.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    auto r = Once();
    ::close(fd);
    EXPECT_EQ(r.exit_code, 75) << r.err;
    EXPECT_FALSE(PathExists(data() + "/.pending")) << "--once worked without the lock";
    observed += "lock held: exit " + std::to_string(r.exit_code) + " " + r.err + "\n";
  }
  // A running daemon (automation off, so it only holds the lock).
  WriteConfig("http://127.0.0.1:1/scep", "", "", /*enabled=*/false);
  BackgroundProcess d;
  const std::string log = dir_.File("daemon.log");
  ASSERT_TRUE(d.Start({kScepd, "-c", conf()}, log));
  ASSERT_TRUE(WaitFor([&] { return ReadFile(log).find(" started (") != std::string::npos; }));
  WriteConfig("http://127.0.0.1:1/scep");
  auto r = Once();
  EXPECT_EQ(r.exit_code, 75) << r.err;
  observed += "daemon running: exit " + std::to_string(r.exit_code) + " " + r.err + "\n";
  d.Stop();
  // Nobody holds it: --once says so, runs, and leaves no pid file behind.
  r = Once();
  observed += "free: exit " + std::to_string(r.exit_code) + " " + r.err + "\n";
  EXPECT_FALSE(PathExists(run() + "/scepd.pid"));
  ExpectReliabilityRow("hardening.once-lock", observed);
}

// ---------------------------------------------------------------------------
// Point 12: exit 0 only with a usable certificate.

TEST_F(HardeningTest, OnceWithAClockIn1970AndNoCertificateFails) {
  WriteConfig("http://127.0.0.1:1/scep");
  FakeClock clock(86400);  // 2 January 1970
  SystemRandom random;
  ProcessHookRunner hooks;
  DaemonOptions options;
  options.config_path = conf();
  options.build_time = 1764547200;  // 1 December 2025
  Daemon daemon(options, clock, random, hooks);
  ASSERT_TRUE(daemon.Load().ok());
  const int code = daemon.RunOnce();
  EXPECT_EQ(code, 1);
  const std::string status = ReadFile(run() + "/status");
  ExpectReliabilityRow("hardening.once-exit-code",
                       "exit " + std::to_string(code) + "\n" + status);
}

// ---------------------------------------------------------------------------
// Point 14: credentials in URLs.

TEST_F(HardeningTest, CheckConfigMasksUrlCredentials) {
  WriteConfig("http://scepuser:Url-Pass-77@127.0.0.1:1/scep");
  auto r = RunProcess({kScepd, "-c", conf(), "--check-config"}, {}, 20000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("Url-Pass-77"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("scepuser"), std::string::npos) << r.out;
  ExpectReliabilityRow("hardening.url-credentials",
                       r.out + (r.out.find("Url-Pass-77") == std::string::npos
                                    ? "\npassword not shown"
                                    : "\npassword SHOWN"));
}

// ---------------------------------------------------------------------------
// Point 13: secrets in memory and in core files.

// How often each needle occurs in the writable memory of process `pid`
// (heap, anonymous mappings, stacks), read through /proc/PID/mem as root.
std::vector<std::size_t> CountInMemory(pid_t pid, const std::vector<std::string>& needles) {
  std::vector<std::size_t> counts(needles.size(), 0);
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  const int mem = ::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (mem < 0 || !maps) {
    ADD_FAILURE() << "cannot read the memory of pid " << pid;
    if (mem >= 0) ::close(mem);
    return counts;
  }
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range, perms;
    fields >> range >> perms;
    if (perms.size() < 2 || perms[0] != 'r' || perms[1] != 'w') continue;
    const std::size_t dash = range.find('-');
    const std::uint64_t begin = std::stoull(range.substr(0, dash), nullptr, 16);
    const std::uint64_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (end - begin > (256u << 20)) continue;  // ASan's shadow, nothing of ours
    std::string chunk(end - begin, '\0');
    const ssize_t n = ::pread(mem, chunk.data(), chunk.size(), static_cast<off_t>(begin));
    if (n <= 0) continue;
    chunk.resize(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < needles.size(); ++i) {
      for (auto at = chunk.find(needles[i]); at != std::string::npos;
           at = chunk.find(needles[i], at + 1)) {
        ++counts[i];
        if (std::getenv("SCEPD_TEST_MEM_CONTEXT") != nullptr) {  // where a copy sits
          const std::size_t from = at >= 64 ? at - 64 : 0;
          std::string context;
          for (std::size_t k = from; k < std::min(chunk.size(), at + 80); ++k) {
            const auto ch = static_cast<unsigned char>(chunk[k]);
            context += ch >= 0x20 && ch < 0x7f ? static_cast<char>(ch) : '.';
          }
          std::fprintf(stderr, "needle %zu in %s +0x%zx: %s\n", i, line.c_str(), at, context.c_str());
        }
      }
    }
  }
  ::close(mem);
  return counts;
}

// The DER encodings of the private key in PEM file `path`: PKCS#1
// (RSAPrivateKey) and PKCS#8.
std::vector<std::string> KeyDers(const std::string& path) {
  const std::string pem = ReadFile(path);
  ossl::Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ossl::Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return {};
  std::vector<std::string> out;
  unsigned char* der = nullptr;
  int n = i2d_PrivateKey(key.get(), &der);  // RSA: PKCS#1
  if (n > 0) out.emplace_back(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  der = nullptr;
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, decltype(&PKCS8_PRIV_KEY_INFO_free)> p8(
      EVP_PKEY2PKCS8(key.get()), &PKCS8_PRIV_KEY_INFO_free);
  n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &der) : 0;
  if (n > 0) out.emplace_back(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

// ---------------------------------------------------------------------------
// Point 7: a first enrollment may install a certificate not valid yet, but
// --once does not call that a success.

TEST_F(HardeningTest, OnceFailsWhenTheFirstCertificateIsNotValidYet) {
  ResponderProcess ca(dir_.File("ca"));
  ASSERT_TRUE(ca.Start({"--key-bits", "1024", "--not-before-days", "30"}))
      << TryReadFile(ca.log_path()).value_or("");
  WriteConfig(ca.url(), "key_size = 1024\n");
  auto r = Once();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(PathExists(data() + "/latest.crt")) << r.err;
  ExpectReliabilityRow("hardening.not-yet-valid-once",
                       "scepd --once exits " + std::to_string(r.exit_code) + "\n" + r.err);
}

// ---------------------------------------------------------------------------
// Point 11: a failed hand-off is a state, and --once says so.

TEST_F(HardeningTest, OnceExitsTwoWhenTheSuccessScriptFails) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  const std::string runs = dir_.File("success.runs");
  WriteConfig(ca.url(), "key_size = 1024\nsuccess_script = echo run >> " + runs +
                            "; exit 1\nfailure_script = echo \"$SCEP_EVENT\" > " +
                            dir_.File("failure.event") + "\n");
  auto r = Once();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(PathExists(data() + "/latest.crt")) << "the pair stays installed";
  const std::string json = ReadFile(run() + "/status.json");
  EXPECT_NE(json.find("\"handoff-failed\""), std::string::npos) << json;
  EXPECT_EQ(ReadFile(dir_.File("failure.event")), "handoff-failed\n");
  std::string observed = "scepd --once exits " + std::to_string(r.exit_code) + "\n" + r.err +
                         json + "SCEP_EVENT=" + ReadFile(dir_.File("failure.event"));
  ExpectReliabilityRow("hardening.handoff-once", observed);
}

TEST_F(HardeningTest, NoOldKeyOrChallengeInMemoryAfterARenewalAndNoCoreFile) {
  const std::string challenge = "Mem-Chal-7Qx2-never-kept";
  ScepServer::Options options;
  options.challenge = challenge;
  ScepServer ca(options);
  ASSERT_TRUE(ca.Start());
  // renew_days beyond the CA's 365-day validity: every check renews.
  WriteConfig(ca.url(), "challenge_password = " + challenge + "\nrenew_days = 3650\nkey_size = 1024\n");
  const std::string log = dir_.File("scepd.log");
  // Core files allowed (and written to the working directory, when
  // core_pattern is "core"): scepd itself must refuse to leave one.
  const std::string core_dir = dir_.File("cores");
  ASSERT_EQ(::mkdir(core_dir.c_str(), 0700), 0);
  BackgroundProcess d;
  ASSERT_TRUE(d.Start({"prlimit", "--core=unlimited", kScepd, "-c", conf()}, log, {}, core_dir));
  auto installed = [&] { return Occurrences(ReadFile(log), " installed, valid until"); };
  ASSERT_TRUE(WaitFor([&] { return installed() >= 1; }, 120000)) << ReadFile(log);
  const std::string old_serial = LinkTarget(data() + "/latest.key");
  const std::vector<std::string> old_key = KeyDers(data() + "/" + old_serial);
  ASSERT_EQ(old_key.size(), 2u);
  ASSERT_TRUE(d.Signal(SIGUSR1));
  ASSERT_TRUE(WaitFor([&] { return installed() >= 2; }, 120000)) << ReadFile(log);
  ASSERT_NE(LinkTarget(data() + "/latest.key"), old_serial);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // back to idle
  // The challenge as a request carries it (PrintableString or UTF8String)
  // must be gone; as text it may remain only in the settings the next
  // enrollment needs: the certificate job's copy (the daemon wiped its own
  // once the job was made).
  const std::string len(1, static_cast<char>(challenge.size()));
  const auto counts = CountInMemory(
      d.pid(), {old_key[0], old_key[1], "\x13" + len + challenge, "\x0c" + len + challenge, challenge});
  constexpr std::size_t kSettingsCopies = 1;
  const std::string limits = ReadFile("/proc/" + std::to_string(d.pid()) + "/limits");
  std::string core_limit;
  for (std::istringstream in(limits); std::getline(in, core_limit);) {
    if (core_limit.rfind("Max core file size", 0) == 0) break;
  }
  // A crash: SIGSEGV's default action dumps core, when the process is dumpable.
  ASSERT_TRUE(d.Signal(SIGSEGV));
  auto code = d.Wait(20000);
  ASSERT_TRUE(code.has_value());
  const bool cored = RunProcess({"sh", "-c", "ls " + core_dir + " | grep -q core"}).exit_code == 0;
  EXPECT_FALSE(cored) << "a core file was written";
  EXPECT_EQ(counts[0], 0u) << "the old key's PKCS#1 DER is in memory";
  EXPECT_EQ(counts[1], 0u) << "the old key's PKCS#8 DER is in memory";
  EXPECT_EQ(counts[2] + counts[3], 0u) << "a request holding the challenge is in memory";
  EXPECT_LE(counts[4], kSettingsCopies) << "the challenge is in memory beyond the settings";
  EXPECT_NE(core_limit.find(" 0 "), std::string::npos) << core_limit;
  const std::string observed =
      "old key PKCS#1 DER found " + std::to_string(counts[0]) + " times, PKCS#8 DER " +
      std::to_string(counts[1]) + " times, challenge in a request " +
      std::to_string(counts[2] + counts[3]) + " times, as text " + std::to_string(counts[4]) +
      " times" + (counts[4] <= kSettingsCopies ? " (at most the job's 1 copy)" : "") + "\n" + core_limit + "\nSIGSEGV exit " + std::to_string(*code) + "\n" +
      (cored ? "core file written" : "no core file written");
  ExpectReliabilityRow("hardening.secrets-in-memory", observed);
}

// The Daemon keeps no secret of its own, so nothing can compare an old
// challenge with a new one; a reload must still apply a change of the
// challenge alone, and leave the old one nowhere in memory.
TEST_F(HardeningTest, ReloadChangingOnlyTheChallengeIsAppliedAndTheOldOneWiped) {
  const std::string old_challenge = "Old-Chal-4Rw9-reloaded";
  const std::string new_challenge = "New-Chal-8Kp3-reloaded";
  ScepServer::Options options;
  options.challenge = new_challenge;  // the CA refuses the old one
  ScepServer ca(options);
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url(), "challenge_password = " + old_challenge + "\nkey_size = 1024\n");
  const std::string before = ReadFile(conf());
  const std::string log = dir_.File("scepd.log");
  BackgroundProcess d;
  ASSERT_TRUE(d.Start({kScepd, "-c", conf()}, log));
  ASSERT_TRUE(WaitFor([&] { return Occurrences(ReadFile(log), "(failure 1 in a row)") >= 1; },
                      120000))
      << ReadFile(log);
  ASSERT_FALSE(PathExists(data() + "/latest.crt"));

  // The web UI's Apply: the challenge, and nothing else, changes.
  std::string after = before;
  after.replace(after.find(old_challenge), old_challenge.size(), new_challenge);
  WriteFile(conf(), after);
  ASSERT_TRUE(d.Signal(SIGHUP));
  ASSERT_TRUE(WaitFor([&] { return Occurrences(ReadFile(log), " installed, valid until") >= 1; },
                      120000))
      << ReadFile(log);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // back to idle
  const auto counts = CountInMemory(d.pid(), {old_challenge, new_challenge});
  d.Stop();
  EXPECT_EQ(counts[0], 0u) << "the old challenge is still in memory";
  EXPECT_LE(counts[1], 1u) << "the new challenge is in memory beyond the job's copy";
  const std::string observed =
      ReadFile(log) + "\nold challenge in memory " + std::to_string(counts[0]) +
      " times, new challenge " + std::to_string(counts[1]) + " times" +
      (counts[1] <= 1 ? " (at most the job's 1 copy)" : "");
  ExpectReliabilityRow("hardening.reload-challenge", observed);
}

}  // namespace
}  // namespace scepd::testing
