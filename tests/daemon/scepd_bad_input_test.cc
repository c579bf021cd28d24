// scepd against bad input, through the real binary and the real CA (micromdm
// scepserver on 127.0.0.1): broken settings at start, under --check-config
// and at a SIGHUP reload; a damaged data directory; a full and a read-only
// disk. Each must give an error naming the place, and lose nothing.
// docs/reliability.md, section "Bad input", lists what was tried.

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/scep_server.h"
#include "tests/support/scepd_conf.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");



std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// What a directory holds, entry by entry: content and mode of regular files
// (read as root, whatever the mode), targets of links. "Nothing lost" means
// every entry of an earlier snapshot is still there, unchanged.
struct Entry {
  std::string content;
  unsigned mode = 0;
  std::string link;
  bool operator==(const Entry&) const = default;
};

std::map<std::string, Entry> Snapshot(const std::string& dir) {
  std::map<std::string, Entry> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    Entry entry;
    entry.mode = st.st_mode & 07777;
    if (S_ISLNK(st.st_mode)) {
      entry.link = LinkTarget(path);
    } else if (S_ISREG(st.st_mode)) {
      entry.content = TryReadFile(path).value_or("(unreadable)");
    } else {
      continue;
    }
    out[name] = entry;
  }
  ::closedir(d);
  return out;
}

// Temporary files a write left behind (".NAME.tmp.PID"), in dir and .pending.
std::vector<std::string> TempFiles(const std::string& dir) {
  std::vector<std::string> found;
  for (const std::string& d : {dir, dir + "/.pending"}) {
    for (const auto& [name, entry] : Snapshot(d)) {
      if (name.find(".tmp.") != std::string::npos) found.push_back(d + "/" + name);
    }
  }
  return found;
}

class BadInputTest : public ::testing::Test {
 protected:
  std::string data() const { return data_; }
  std::string run() const { return dir_.File("run"); }
  std::string conf() const { return dir_.File("scepd.conf"); }

  // The settings; `extra` lines go into [certificate].
  void WriteConfig(const std::string& url, const std::string& extra = "") {
    ScepdConf c;
    c.data_dir = data();
    c.run_dir = run();
    c.url = url;
    c.certificate_lines = "await_result = 1\n" + extra;
    WriteScepdConf(conf(), c);
  }

  // scepd --once, after the words of `prefix` (e.g. setpriv ...).
  ProcessResult Once(std::vector<std::string> argv = {}) {
    for (const std::string& a : {kScepd, std::string("-c"), conf(), std::string("--once")}) {
      argv.push_back(a);
    }
    return RunProcess(argv, {}, 180000);
  }

  TempDir dir_;
  std::string data_ = dir_.File("data");
};

// ---------------------------------------------------------------------------
// Settings

TEST_F(BadInputTest, BadSettingsAreListedByCheckConfigAndRefusedAtStart) {
  const std::string c = conf();
  WriteFile(c,
            "[scepd]\n"                                 // 1
            "enabled = yes\n"                           // 2
            "data_dir = " + data() + "\n"               // 3
            "run_dir = " + run() + "\n"                 // 4
            "check_interval = often\n"                  // 5
            "log_target = stderr\n"                     // 6
            "colour = blue\n"                           // 7
            "[certificate]\n"                           // 8
            "renew_days = 0\n"                          // 9
            "renew_days = 10\n"                         // 10
            "subject = CN=router\n"                     // 11
            "alt_name = IP:300.1.1.1\n"                 // 12
            "challenge_password = Zq9-never-shown\n"    // 13
            "[scepd]\n");                               // 14
  const std::vector<std::string> want = {
      c + ":5: [scepd] check_interval: 'often' is not a duration",
      c + ":7: [scepd] colour: unknown key",
      c + ":8: [certificate] url: required when enabled = yes",
      c + ":9: [certificate] renew_days: expected a whole number from 1 to 3650, not '0'",
      c + ":10: [certificate] renew_days: duplicate key (first set on line 9)",
      c + ":11: [certificate] subject: ",
      c + ":12: [certificate] alt_name: ",
      c + ":14: [scepd]: duplicate section (first on line 1)",
  };
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{kScepd, "-c", c, "--check-config"},
        std::vector<std::string>{kScepd, "-c", c}, std::vector<std::string>{kScepd, "-c", c, "-d"},
        std::vector<std::string>{kScepd, "-c", c, "--once"}}) {
    SCOPED_TRACE(argv.back());
    auto r = RunProcess(argv, {}, 60000);
    EXPECT_EQ(r.exit_code, 78) << r.err;
    for (const std::string& line : want) EXPECT_NE(r.err.find(line), std::string::npos) << line;
    EXPECT_EQ(r.err.find("Zq9-never-shown"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("Zq9-never-shown"), std::string::npos) << r.out;
    EXPECT_FALSE(PathExists(data())) << "nothing is created from bad settings";
    EXPECT_FALSE(PathExists(run()));
    ExpectReliabilityRow("daemon.bad-settings", "exit " + std::to_string(r.exit_code) + "\n" + r.err);
  }
}

TEST_F(BadInputTest, BadSettingsOnSighupKeepTheRunningOnes) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  const std::string log = dir_.File("scepd.log");
  BackgroundProcess d;
  ASSERT_TRUE(d.Start({kScepd, "-c", conf()}, log));
  ASSERT_TRUE(WaitFor([&] { return LinkTarget(data() + "/latest.crt") == "02.crt"; }))
      << ReadFile(log);
  ASSERT_TRUE(WaitFor([&] { return Count(ReadFile(log), " installed, valid until") >= 1; })) << ReadFile(log);
  const auto before = Snapshot(data());

  // The web UI writes settings that would renew at once, with one mistake.
  const std::string good = ReadFile(conf());
  WriteFile(conf(), good + "renew_days = 400\nkey_size = 2048 bits\n");
  ASSERT_TRUE(d.Signal(SIGHUP));
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(log).find("settings not reloaded, keeping the old ones") != std::string::npos;
  })) << ReadFile(log);
  // Still running on the old settings: a check now finds the pair valid.
  const std::size_t valid_before = Count(ReadFile(log), " valid: ");
  ASSERT_TRUE(d.Signal(SIGUSR1));
  ASSERT_TRUE(WaitFor([&] { return Count(ReadFile(log), " valid: ") > valid_before; }))
      << ReadFile(log);
  EXPECT_TRUE(d.Running());
  EXPECT_EQ(Snapshot(data()), before) << "nothing renewed, nothing changed";
  const std::string seen = ReadFile(log);
  EXPECT_NE(seen.find(conf() + ":14: [certificate] key_size: expected a whole number from 1024 "
                               "to 16384, not '2048 bits'"),
            std::string::npos)
      << seen;
  ExpectReliabilityRow("daemon.bad-reload", seen);

  // Corrected, the next reload takes effect (renew_days 400 renews).
  WriteFile(conf(), good + "renew_days = 400\n");
  ASSERT_TRUE(d.Signal(SIGHUP));
  ASSERT_TRUE(WaitFor([&] { return LinkTarget(data() + "/latest.crt") == "03.crt"; }))
      << ReadFile(log);
  ASSERT_TRUE(d.Signal(SIGTERM));
  EXPECT_EQ(d.Wait(20000), std::optional<int>(0));
}

// ---------------------------------------------------------------------------
// A damaged data directory

struct Damage {
  const char* id;  // reliability row
  // Damages the data directory of an enrolled pair (02); returns the names
  // it changed (left out of the "unchanged" comparison).
  std::function<std::vector<std::string>(const std::string& data)> apply;
  bool as_nobody = false;       // run scepd as an unprivileged user
  const char* log_mentions;     // file name the log must name, relative to data
  const char* active_after;     // latest.crt afterwards: "03.crt" re-enrolled, "02.crt" kept
};

std::vector<std::string> Replace(const std::string& data, const std::string& name,
                                 const std::function<void(const std::string&)>& make) {
  ::unlink((data + "/" + name).c_str());
  make(data + "/" + name);
  return {name};
}

TEST_F(BadInputTest, DamagedDataDirIsNamedAndNothingGoodIsLost) {
  const std::vector<Damage> cases = {
      {"daemon.garbage-latest-crt",
       [](const std::string& data) {
         return Replace(data, "latest.crt",
                        [](const std::string& p) { WriteFile(p, "not a certificate\n"); });
       },
       false, "latest.crt", "03.crt"},
      {"daemon.dangling-latest-crt",
       [](const std::string& data) {
         return Replace(data, "latest.crt", [](const std::string& p) {
           EXPECT_EQ(::symlink("05.crt", p.c_str()), 0);
         });
       },
       false, "latest.crt", "03.crt"},
      {"daemon.dangling-latest-key",
       [](const std::string& data) {
         return Replace(data, "latest.key", [](const std::string& p) {
           EXPECT_EQ(::symlink("05.key", p.c_str()), 0);
         });
       },
       false, nullptr, "02.crt"},
      {"daemon.key-mismatch",
       [](const std::string& data) {
         auto key = RunProcess({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                                "rsa_keygen_bits:1024", "-out", data + "/02.key"});
         EXPECT_EQ(key.exit_code, 0) << key.err;
         EXPECT_EQ(::chmod((data + "/02.key").c_str(), 0600), 0);
         return std::vector<std::string>{};  // the foreign key must stay as it is
       },
       false, "latest.key", "03.crt"},
      {"daemon.unreadable-key",
       [](const std::string& data) {
         EXPECT_EQ(::chmod((data + "/02.key").c_str(), 0), 0);
         return std::vector<std::string>{};
       },
       true, "latest.key", "03.crt"},
      {"daemon.garbage-ca-crt",
       [](const std::string& data) {
         WriteFile(data + "/ca.crt-0", "-----BEGIN CERTIFICATE-----\ngarbage\n");
         return std::vector<std::string>{"ca.crt-0"};
       },
       false, "ca.crt-0", "02.crt"},
      {"daemon.corrupt-pending",
       [](const std::string& data) {
         EXPECT_EQ(::mkdir((data + "/.pending").c_str(), 0700) == 0 || errno == EEXIST, true);
         WriteFile(data + "/.pending/state", "version=1\ntransaction_id=\x01\n", 0600);
         return std::vector<std::string>{};
       },
       false, ".pending/state", "02.crt"},
  };
  for (const Damage& c : cases) {
    SCOPED_TRACE(c.id);
    TempDir case_dir;
    data_ = case_dir.File("data");
    ScepServer ca;
    ASSERT_TRUE(ca.Start());
    WriteConfig(ca.url());
    auto first = Once();
    ASSERT_EQ(first.exit_code, 0) << first.err;
    ASSERT_EQ(LinkTarget(data() + "/latest.crt"), "02.crt");

    std::vector<std::string> prefix;
    if (c.as_nobody) {
      // Root reads anything: an unreadable file needs an unprivileged run.
      for (const std::string& p : {case_dir.path(), dir_.path()}) {
        auto chown = RunProcess({"chown", "-R", "65534:65534", p});
        ASSERT_EQ(chown.exit_code, 0) << chown.err;
      }
      prefix = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
    }
    const std::string pending_garbage = "version=1\ntransaction_id=\x01\n";
    std::vector<std::string> changed = c.apply(data());
    auto before = Snapshot(data());
    for (const std::string& name : changed) before.erase(name);

    auto r = Once(prefix);
    const std::string observed = "exit " + std::to_string(r.exit_code) + "\n" + r.err +
                                 "\nlatest.crt -> " + LinkTarget(data() + "/latest.crt") +
                                 "\nlatest.key -> " + LinkTarget(data() + "/latest.key") + "\n";
    EXPECT_EQ(r.exit_code, 0) << observed;
    if (c.log_mentions != nullptr) {
      EXPECT_NE(r.err.find(data() + "/" + c.log_mentions), std::string::npos) << r.err;
    }
    EXPECT_EQ(LinkTarget(data() + "/latest.crt"), c.active_after) << observed;
    // Every file that was there and not damaged is still there, unchanged
    // (the links may have moved on to a new pair).
    const auto after = Snapshot(data());
    for (const auto& [name, entry] : before) {
      if (name == "latest.crt" || name == "latest.key") continue;
      auto it = after.find(name);
      ASSERT_NE(it, after.end()) << name << " was removed";
      EXPECT_EQ(it->second, entry) << name << " was changed";
    }
    EXPECT_TRUE(TempFiles(data()).empty());
    auto verify = RunProcess({"openssl", "verify", "-CAfile", ca.ca_cert_path(),
                              data() + "/latest.crt"});
    EXPECT_EQ(verify.exit_code, 0) << verify.err;
    if (std::string(c.id) == "daemon.garbage-ca-crt") {
      EXPECT_EQ(ReadFile(data() + "/ca.crt-0"), ReadFile(ca.ca_cert_path())) << "repaired";
    }
    if (std::string(c.id) == "daemon.corrupt-pending") {
      EXPECT_EQ(ReadFile(data() + "/.pending/state.corrupt"), pending_garbage) << "kept aside";
      EXPECT_FALSE(PathExists(data() + "/.pending/state"));
    }
    if (std::string(c.id) == "daemon.dangling-latest-key") {
      EXPECT_EQ(LinkTarget(data() + "/latest.key"), "02.key") << "re-pointed";
    }
    ExpectReliabilityRow(c.id, observed);
    if (c.as_nobody) {
      // run_dir is shared by the cases; scepd refuses one that another
      // user owns (docs/daemon.md, "Trusting nothing"): give it back.
      auto chown = RunProcess({"chown", "-R", "0:0", dir_.path()});
      ASSERT_EQ(chown.exit_code, 0) << chown.err;
    }
  }
}

// ---------------------------------------------------------------------------
// A full disk and a read-only one, in a private mount namespace (unshare -m)
// so that nothing is mounted on the host.

bool CanUnshareMounts() {
  auto r = RunProcess({"unshare", "-m", "--propagation", "private", "sh", "-c",
                       "mount -t tmpfs -o size=64k tmpfs /mnt"});
  return r.exit_code == 0;
}

TEST_F(BadInputTest, FullDiskFailsNamingThePathKeepsThePairAndRetriesOnceThereIsSpace) {
  if (!CanUnshareMounts()) GTEST_SKIP() << "no private mount namespace (needs root)";
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  // data_dir on a directory that the script covers with a small tmpfs.
  const std::string disk = dir_.File("disk");
  ASSERT_EQ(::mkdir(disk.c_str(), 0755), 0);
  data_ = disk + "/data";
  WriteConfig(ca.url());
  ASSERT_EQ(Once().exit_code, 0);
  const std::string seed = dir_.File("seed");
  ASSERT_EQ(RunProcess({"cp", "-a", data(), seed}).exit_code, 0);
  WriteConfig(ca.url(), "renew_days = 400\n");  // renew at once

  const std::string out = dir_.File("out");
  ASSERT_EQ(::mkdir(out.c_str(), 0755), 0);
  const std::string log = out + "/scepd.log";
  // Inside the namespace: a 256 KiB tmpfs, the enrolled pair copied in, a
  // filler taking the rest; the daemon tries to renew and fails; the filler
  // goes, SIGUSR1 retries, the renewal succeeds.
  const std::string script =
      "set -u\n"
      "mount -t tmpfs -o size=256k,mode=0755 tmpfs " + ShellQuote(disk) + " || exit 90\n"
      "cp -a " + ShellQuote(seed) + " " + ShellQuote(data()) + " || exit 91\n"
      "dd if=/dev/zero of=" + ShellQuote(disk + "/filler") + " bs=4k 2>/dev/null\n"
      "cp -a " + ShellQuote(data()) + " " + ShellQuote(out + "/before") + "\n"
      "\"$0\" -c " + ShellQuote(conf()) + " > " + ShellQuote(log) + " 2>&1 &\n"
      "pid=$!\n"
      "n=0; until grep -q 'failure 1 in a row' " + ShellQuote(log) +
      "; do n=$((n+1)); [ $n -gt 1200 ] && break; sleep 0.1; done\n"
      "cp -a " + ShellQuote(data()) + " " + ShellQuote(out + "/full") + "\n"
      "rm -f " + ShellQuote(disk + "/filler") + "\n"
      "kill -USR1 $pid\n"
      "n=0; until grep -q 'installed, valid until' " + ShellQuote(log) +
      "; do n=$((n+1)); [ $n -gt 1200 ] && break; sleep 0.1; done\n"
      "kill -TERM $pid; wait $pid; echo \"daemon exit $?\"\n"
      "cp -a " + ShellQuote(data()) + " " + ShellQuote(out + "/after") + "\n";
  auto r = RunProcess({"unshare", "-m", "--propagation", "private", "sh", "-c", script, kScepd},
                      {}, 300000);
  const std::string seen = ReadFile(log);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << seen;
  EXPECT_NE(r.out.find("daemon exit 0"), std::string::npos) << r.out;
  EXPECT_NE(seen.find(data() + "/"), std::string::npos) << seen;
  EXPECT_NE(seen.find("No space left on device"), std::string::npos) << seen;
  // While full: the pair is exactly as before, nothing half-written.
  EXPECT_EQ(Snapshot(out + "/full"), Snapshot(out + "/before"));
  EXPECT_TRUE(TempFiles(out + "/full").empty());
  // Space back: the retry renewed, the old pair is kept.
  EXPECT_EQ(LinkTarget(out + "/after/latest.crt"), "03.crt") << seen;
  EXPECT_EQ(Snapshot(out + "/after")["02.key"], Snapshot(out + "/before")["02.key"]);
  EXPECT_TRUE(TempFiles(out + "/after").empty());
  ExpectReliabilityRow("daemon.disk-full", seen + "\nlatest.crt -> " +
                                               LinkTarget(out + "/after/latest.crt") + "\n");
  EXPECT_TRUE(TryReadFile(disk + "/filler") == std::nullopt) << "the tmpfs leaked to the host";
}

TEST_F(BadInputTest, ReadOnlyDataDirFailsNamingThePathAndKeepsThePair) {
  if (!CanUnshareMounts()) GTEST_SKIP() << "no private mount namespace (needs root)";
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  WriteConfig(ca.url());
  ASSERT_EQ(Once().exit_code, 0);
  WriteConfig(ca.url(), "renew_days = 400\n");
  const auto before = Snapshot(data());
  const std::string script =
      "mount --bind " + ShellQuote(data()) + " " + ShellQuote(data()) + " &&"
      " mount -o remount,bind,ro " + ShellQuote(data()) + " || exit 90\n"
      "exec \"$0\" -c " + ShellQuote(conf()) + " --once\n";
  auto r = RunProcess({"unshare", "-m", "--propagation", "private", "sh", "-c", script, kScepd},
                      {}, 180000);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(data() + "/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  EXPECT_EQ(Snapshot(data()), before) << "nothing changed";
  // Writable again (outside the namespace it always was): the renewal works.
  auto again = Once();
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(LinkTarget(data() + "/latest.crt"), "03.crt");
  ExpectReliabilityRow("daemon.read-only-data-dir",
                       "exit " + std::to_string(r.exit_code) + "\n" + r.err);
}

}  // namespace
}  // namespace scepd::testing
