// `scepd status` as monitoring and the pages read it: one exit code per
// situation, one JSON document that a JSON parser accepts, a settings error
// said as such, a refused reload shown, run_dir readable by status_group
// whatever the umask, and the metrics file in Prometheus' text format.

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>

#include "daemon/metrics_file.h"
#include "daemon/status_file.h"
#include "tests/support/built_binary.h"
#include "tests/support/process.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");
constexpr char kPython[] = "/usr/bin/python3";

// Runs a python3 snippet with `input` on stdin; its stdout.
ProcessResult Python(const std::string& script, const std::string& input) {
  return RunProcess({kPython, "-c", script}, {}, 20000, input);
}


unsigned ModeFollowingLinks(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

class StatusCommandTest : public ::testing::Test {
 protected:
  std::string run() const { return dir_.File("run"); }
  std::string conf() const { return dir_.File("scepd.conf"); }

  void WriteConfig(bool enabled, const std::string& extra_global = "") {
    WriteFile(conf(), std::string("[scepd]\nenabled = ") + (enabled ? "yes" : "no") +
                          "\nrun_dir = " + run() + "\ndata_dir = " + dir_.File("data") +
                          "\nlog_target = stderr\n" + extra_global +
                          "[certificate]\nurl = http://127.0.0.1:1/scep\nsubject = /CN=router\n");
  }
  // A daemon's status as this version writes it.
  void WriteReport(const StatusReport& r) {
    ::mkdir(run().c_str(), 0755);
    ASSERT_TRUE(WriteStatus(run(), r).ok());
  }
  StatusReport Enrolled() const {
    StatusReport r;
    r.cert = CertState::kEnrolled;
    r.state = "idle";
    r.serial = "05";
    r.subject = "/CN=router";
    const std::int64_t now = std::time(nullptr);
    r.not_before = now - 86400;
    r.not_after = now + 90 * 86400;
    r.renewal_window = now + 60 * 86400;
    r.last_result = "success";
    return r;
  }
  // Holds the pid file's lock as a running daemon does.
  void PretendDaemonRuns() {
    ::mkdir(run().c_str(), 0755);
    lock_fd_ = ::open((run() + "/scepd.pid").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(lock_fd_, 0);
    ASSERT_EQ(::flock(lock_fd_, LOCK_EX | LOCK_NB), 0);
    std::string pid = std::to_string(::getpid()) + "\n";
    ASSERT_EQ(::write(lock_fd_, pid.data(), pid.size()), static_cast<ssize_t>(pid.size()));
  }
  void TearDown() override {
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }
  int Status() { return RunProcess({kScepd, "-c", conf(), "status"}).exit_code; }

  TempDir dir_;
  int lock_fd_ = -1;
};

TEST_F(StatusCommandTest, EveryExitCodeIsReachedAndDocumentedInHelp) {
  WriteConfig(true);
  PretendDaemonRuns();
  StatusReport r = Enrolled();
  WriteReport(r);
  EXPECT_EQ(Status(), 0);

  r.renewal_window = std::time(nullptr) - 60;  // inside the window
  WriteReport(r);
  EXPECT_EQ(Status(), 1);

  r = Enrolled();
  r.state = "polling";
  r.module = ModuleState::kRunning;
  r.cert = CertState::kReEnrollment;
  WriteReport(r);
  EXPECT_EQ(Status(), 2);

  r = Enrolled();
  r.state = "backoff";
  r.last_result = "error";
  r.last_error = "connection refused";
  r.failures = 2;
  WriteReport(r);
  EXPECT_EQ(Status(), 3);

  r = StatusReport();
  r.state = "backoff";
  r.last_result = "error";
  WriteReport(r);
  EXPECT_EQ(Status(), 4);

  WriteReport(Enrolled());
  ::close(lock_fd_);
  lock_fd_ = -1;
  auto not_running = RunProcess({kScepd, "-c", conf(), "status"});
  EXPECT_EQ(not_running.exit_code, 5);
  EXPECT_NE(not_running.err.find("the daemon is not running"), std::string::npos);
  EXPECT_EQ(not_running.out, "Module scepClient not running\nCertificate enrolled 05\n");

  WriteConfig(false);
  RemoveTree(run());
  EXPECT_EQ(Status(), 6);

  // No status files and a data_dir this reader may not open: unknown, not
  // "not enrolled". Root may open anything: ask as nobody.
  WriteConfig(true);
  PretendDaemonRuns();
  if (::geteuid() == 0) {
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(conf().c_str(), 0644), 0);
    ASSERT_EQ(::mkdir(dir_.File("data").c_str(), 0700), 0);
    auto unknown = RunProcess({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               kScepd, "-c", conf(), "status"});
    EXPECT_EQ(unknown.exit_code, 7) << unknown.out << unknown.err;
  } else {
    ASSERT_EQ(::mkdir(dir_.File("data").c_str(), 0), 0);
    EXPECT_EQ(Status(), 7);
  }

  auto help = RunProcess({kScepd, "--help"});
  for (const char* code : {"  0 every", "  1 renewing", "  2 pending", "3 last attempt failed",
                           "  4 not enrolled", "5 daemon not running", "6 automation disabled",
                           "  7 status unreadable", "78 settings invalid"}) {
    EXPECT_NE(help.out.find(code), std::string::npos) << code << " in\n" << help.out;
  }
  const std::string man = ReadFile(std::string(SCEPD_SOURCE_DIR) + "/docs/man/scepd.8");
  for (const char* code : {"renewing", "pending", "not enrolled", "daemon not running",
                           "settings invalid", "status_group"}) {
    EXPECT_NE(man.find(code), std::string::npos) << code << " in scepd.8";
  }
}

TEST_F(StatusCommandTest, ASettingsErrorIsSaidAsSuchWithItsLineNeverAsDisabled) {
  WriteConfig(true);
  PretendDaemonRuns();
  WriteReport(Enrolled());
  WriteFile(conf(), ReadFile(conf()) + "key_size = huge\n");
  auto r = RunProcess({kScepd, "-c", conf(), "status"});
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("settings invalid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(conf() + ":9: [certificate] key_size"), std::string::npos) << r.err;
  // run_dir still comes from the valid lines: the daemon's truth is shown.
  EXPECT_NE(r.out.find("Certificate enrolled 05"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("disabled"), std::string::npos) << r.out;
}

TEST_F(StatusCommandTest, JsonIsOneDocumentWithEveryPromisedMember) {
  WriteFile(conf(), "[scepd]\nenabled = yes\nrun_dir = " + run() + "\ndata_dir = " +
                        dir_.File("data") + "\n[certificate]\nurl = http://127.0.0.1:1/scep\n"
                        "subject = /CN=router\n[certificate vpn]\ndata_dir = " + dir_.File("vpn") +
                        "\nurl = http://127.0.0.1:1/scep\nsubject = /CN=vpn \"quoted\"\n");
  PretendDaemonRuns();
  StatusReport a = Enrolled();
  StatusReport b = Enrolled();
  b.name = "vpn";
  b.serial = "0A";
  b.subject = "/CN=vpn \"quoted\"";
  WriteReport(a);
  WriteReport(b);
  auto r = RunProcess({kScepd, "-c", conf(), "status", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto parsed = Python(
      "import json,sys\n"
      "d=json.load(sys.stdin)\n"
      "assert d['schema']==1, d\n"
      "for k in ['generated','generated_epoch','settings_valid','daemon','certificates']:\n"
      "  assert k in d, k\n"
      "assert d['daemon']['running'] is True and d['daemon']['pid']>0, d['daemon']\n"
      "assert 'last_reload' in d['daemon']\n"
      "assert len(d['certificates'])==2\n"
      "for c in d['certificates']:\n"
      "  for k in ['name','protocol','state','serial','subject','issuer','not_before','not_after',\n"
      "            'renewal_window','next_check','last_attempt','last_result','last_error',\n"
      "            'ca_not_after','failures']:\n"
      "    assert k in c, k\n"
      "print(d['certificates'][1]['subject'])\n",
      r.out);
  EXPECT_EQ(parsed.exit_code, 0) << parsed.err << r.out;
  EXPECT_EQ(parsed.out, "/CN=vpn \"quoted\"\n");
}

// The real daemon: a refused SIGHUP in the status, run_dir for the group.
class StatusDaemonTest : public StatusCommandTest, public ::testing::WithParamInterface<int> {};

TEST_P(StatusDaemonTest, RunDirIsGroupReadableWhateverTheUmaskAndARefusedReloadShows) {
  // A group that is not the test's own, when we may give files to it.
  std::string group_name;
  if (::geteuid() == 0) {
    const group* g = ::getgrnam("nogroup");
    if (g == nullptr) g = ::getgrnam("daemon");
    ASSERT_NE(g, nullptr);
    group_name = g->gr_name;
  } else {
    const group* g = ::getgrgid(::getgid());
    ASSERT_NE(g, nullptr);
    group_name = g->gr_name;
  }
  const std::string metrics = dir_.File("scepd.prom");
  WriteConfig(false, "status_group = " + group_name + "\nmetrics_file = " + metrics + "\n");
  char mask[8];
  std::snprintf(mask, sizeof(mask), "%03o", GetParam());
  BackgroundProcess daemon;
  ASSERT_TRUE(daemon.Start({"/bin/sh", "-c", std::string("umask ") + mask + "; exec " +
                                                 ShellQuote(kScepd) + " -c " + ShellQuote(conf())},
                           dir_.File("scepd.log")));
  ASSERT_TRUE(WaitFor([&] { return PathExists(run() + "/scepd.json") && PathExists(run() + "/status.json"); }))
      << ReadFile(dir_.File("scepd.log"));
  struct stat st;
  ASSERT_EQ(::stat(run().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_gid, ::getgrnam(group_name.c_str())->gr_gid);
  for (const char* f : {"status", "status.json", "scepd.json", "scepd.pid"}) {
    EXPECT_EQ(ModeFollowingLinks(run() + "/" + f), 0644u) << f;
  }
  auto ok = RunProcess({kScepd, "-c", conf(), "status", "--json"});
  EXPECT_EQ(ok.exit_code, 6) << ok.out;  // automation off

  // The daemon's metrics file: readable by node_exporter, read by
  // Prometheus' own parser, and saying what the status says.
  ASSERT_TRUE(WaitFor([&] { return PathExists(metrics); })) << ReadFile(dir_.File("scepd.log"));
  EXPECT_EQ(ModeFollowingLinks(metrics), 0644u);
  auto families = Python(
      "import sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "s={(x.name,x.labels.get('state')):x.value for f in text_string_to_metric_families("
      "sys.stdin.read()) for x in f.samples}\n"
      "assert s[('scepd_certificate_state','disabled')]==1, s\n"
      "assert s[('scepd_certificate_state','idle')]==0, s\n"
      "assert s[('scepd_certificate_enrolled',None)]==0, s\n"
      "assert s[('scepd_certificate_consecutive_failures',None)]==0, s\n"
      "print('ok')\n",
      ReadFile(metrics));
  EXPECT_EQ(families.out, "ok\n") << families.err << ReadFile(metrics);
  struct stat metrics_before;
  ASSERT_EQ(::stat(metrics.c_str(), &metrics_before), 0);
  EXPECT_NE(ok.out.find("\"running\": true"), std::string::npos) << ok.out;

  // A reload with an error is refused; the status says so, with the line.
  WriteFile(conf(), ReadFile(conf()) + "renew_days = many\n");
  const std::string before = ReadFile(run() + "/scepd.json");
  ASSERT_TRUE(daemon.Signal(SIGHUP));
  ASSERT_TRUE(WaitFor([&] { return ReadFile(run() + "/scepd.json") != before; }));
  auto refused = RunProcess({kScepd, "-c", conf(), "status", "--json"});
  EXPECT_EQ(refused.exit_code, 78);
  auto parsed = Python(
      "import json,sys\nd=json.load(sys.stdin)\n"
      "r=d['daemon']['last_reload']\n"
      "assert d['settings_valid'] is False\n"
      "assert r['result']=='refused', r\n"
      "print(r['error'])\n",
      refused.out);
  EXPECT_EQ(parsed.exit_code, 0) << parsed.err << refused.out;
  EXPECT_NE(parsed.out.find(conf() + ":"), std::string::npos) << parsed.out;
  EXPECT_NE(parsed.out.find("renew_days"), std::string::npos) << parsed.out;
  // Nothing a metric says changed: the file was not rewritten (each write
  // is a rename of a new file), and no temporary file is left beside it.
  struct stat metrics_after;
  ASSERT_EQ(::stat(metrics.c_str(), &metrics_after), 0);
  EXPECT_EQ(metrics_after.st_ino, metrics_before.st_ino);
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name == "scepd.prom" || name.find("prom") == std::string::npos) << name;
  }
  ASSERT_TRUE(daemon.Signal(SIGTERM));
  EXPECT_EQ(daemon.Wait(20000), std::optional<int>(0));
}

INSTANTIATE_TEST_SUITE_P(Umask, StatusDaemonTest, ::testing::Values(0000, 0022, 0077));

TEST(MetricsFileTest, PrometheusParserReadsEveryFamily) {
  StatusReport a;
  a.state = "idle";
  a.serial = "05";
  a.not_before = 1700000000;
  a.not_after = 1800000000;
  a.renewal_window = 1797408000;
  a.ca_not_after = 1900000000;
  a.last_success = 1750000000;
  StatusReport b;
  b.name = "vpn \"x\"\\";
  b.state = "backoff";
  b.failures = 3;
  const std::string text = FormatMetrics({a, b});
  auto parsed = Python(
      "import sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "for f in text_string_to_metric_families(sys.stdin.read()):\n"
      "  for s in f.samples:\n"
      "    print(s.name, ','.join(k+'='+v for k,v in sorted(s.labels.items())), int(s.value))\n",
      text);
  ASSERT_EQ(parsed.exit_code, 0) << parsed.err << text;
  for (const char* line : {
           "scepd_certificate_not_after_timestamp_seconds name= 1800000000\n",
           "scepd_certificate_renewal_window_timestamp_seconds name= 1797408000\n",
           "scepd_certificate_last_success_timestamp_seconds name= 1750000000\n",
           "scepd_certificate_consecutive_failures name=vpn \"x\"\\ 3\n",
           "scepd_ca_not_after_timestamp_seconds name= 1900000000\n",
           "scepd_certificate_state name=,state=idle 1\n",
           "scepd_certificate_state name=vpn \"x\"\\,state=backoff 1\n",
           "scepd_certificate_state name=vpn \"x\"\\,state=idle 0\n",
           "scepd_certificate_enrolled name= 1\n"}) {
    EXPECT_NE(parsed.out.find(line), std::string::npos) << line << " in\n" << parsed.out;
  }
}

}  // namespace
}  // namespace scepd::testing
