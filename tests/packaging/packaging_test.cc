// The router integration files: init scripts (shellcheck, the SysV script
// driving a real scepd under dash and busybox, the procd script against stub
// procd functions), the systemd unit (systemd-analyze verify and security),
// the manual pages (rendered without warnings), the example settings (scepd
// --check-config), the licence, the bash completion, the Debian package
// (cpack of this build tree, inspected, unpacked, lintian, its purge), the
// Router App archive (layout, ELF NEEDED entries) and the OpenWrt Makefile.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"

namespace scepd::testing {
namespace {

const std::string kSource = SCEPD_SOURCE_DIR;
const std::string kBuild = SCEPD_BINARY_DIR;
const std::string kScepd = BuiltBinary("daemon/scepd");
const std::string kSscep = BuiltBinary("cli/sscep");

std::string Src(const std::string& rel) { return kSource + "/" + rel; }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Runs `sh -c SCRIPT` and returns the result (for pipelines and cd).
ProcessResult Sh(const std::string& script, const std::vector<std::string>& env = {},
                 int timeout_ms = 60000) {
  return RunProcess({"/bin/sh", "-c", script}, env, timeout_ms);
}

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") +
         "\n--- stdout\n" + r.out + "\n--- stderr\n" + r.err;
}

// ---- shell scripts ---------------------------------------------------------

TEST(InitScripts, ShellcheckClean) {
  auto r = RunProcess({"shellcheck", "-s", "sh", Src("init/scepd.sysv"), Src("init/scepd.procd"),
                       Src("init/scepd-uci"), Src("packaging/deb/postinst"),
                       Src("packaging/deb/prerm"), Src("packaging/deb/postrm")});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  auto completion = RunProcess({"shellcheck", "-s", "bash", Src("packaging/completion/scepd"),
                                Src("packaging/completion/est-client")});
  EXPECT_EQ(completion.exit_code, 0) << Describe(completion);
  auto bash = RunProcess({"shellcheck", Src("packaging/router-app.sh")});
  EXPECT_EQ(bash.exit_code, 0) << Describe(bash);
}

// Stub procd functions that print their calls; rc.common is not needed to
// source the script (its shebang line is a comment then). The UCI file, the
// generated settings and the converter are redirected into `dir`.
ProcessResult RunProcdScript(const TempDir& dir, const std::string& calls) {
  const std::string stubs = R"(
procd_open_instance() { echo "open $*"; }
procd_set_param() { echo "param $*"; }
procd_close_instance() { echo "close"; }
procd_send_signal() { echo "signal $*"; }
procd_add_reload_trigger() { echo "reload-trigger $*"; }
procd_add_raw_trigger() { echo "raw-trigger $*"; }
)";
  return Sh(stubs + ". " + ShellQuote(Src("init/scepd.procd")) + "\n" + calls,
            {"SCEPD_UCI_CONF=" + dir.File("config/scepd"),
             "SCEPD_CONF=" + dir.File("var/etc/scepd.conf"), "SCEPD_UCI=" + Src("init/scepd-uci")});
}

TEST(InitScripts, ProcdScriptSetsUpInstanceReloadAndTriggers) {
  TempDir dir("scepd-procd-");
  ASSERT_EQ(::mkdir(dir.File("config").c_str(), 0755), 0);
  WriteFile(dir.File("config/scepd"), ReadFile(Src("packaging/openwrt/files/scepd.config")));
  auto r = RunProcdScript(dir, "echo \"START=$START USE_PROCD=$USE_PROCD\"\nstart_service\n"
                               "reload_service\ncheck\nservice_triggers\n");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(Contains(r.out, "START=95 USE_PROCD=1")) << r.out;
  const std::string conf = dir.File("var/etc/scepd.conf");
  EXPECT_TRUE(Contains(r.out, "param command /usr/sbin/scepd -c " + conf + "\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "param respawn")) << r.out;
  EXPECT_TRUE(Contains(r.out, "param stderr 1")) << r.out;
  // procd's 5 s default would kill a running success script (300 s).
  EXPECT_TRUE(Contains(r.out, "param term_timeout 330\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "param file " + dir.File("config/scepd") + "\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "signal scepd * HUP")) << r.out;
  EXPECT_TRUE(Contains(r.out, "signal scepd * USR1")) << r.out;
  // "uci commit scepd; reload_config" raises config.change for scepd.
  EXPECT_TRUE(Contains(r.out, "reload-trigger scepd\n")) << r.out;
  // The settings scepd reads, converted from UCI, readable by root only.
  struct stat st {};
  ASSERT_EQ(::stat(conf.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto check = RunProcess({kScepd, "--check-config", "-c", conf});
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  EXPECT_TRUE(Contains(check.out, "data_dir = /etc/scepClient")) << check.out;
}

TEST(InitScripts, ProcdReloadConvertsTheChangedUciFileFirst) {
  TempDir dir("scepd-procd-");
  ASSERT_EQ(::mkdir(dir.File("config").c_str(), 0755), 0);
  WriteFile(dir.File("config/scepd"), "config scepd\n\toption log_level 'info'\n");
  auto start = RunProcdScript(dir, "start_service\n");
  ASSERT_EQ(start.exit_code, 0) << Describe(start);
  const std::string conf = dir.File("var/etc/scepd.conf");
  EXPECT_TRUE(Contains(ReadFile(conf), "\nlog_level = info\n"));

  // What `uci set scepd.@scepd[0].log_level=debug; uci commit scepd` leaves.
  WriteFile(dir.File("config/scepd"), "\nconfig scepd\n\toption log_level 'debug'\n");
  auto reload = RunProcdScript(dir, "reload_service\n");
  ASSERT_EQ(reload.exit_code, 0) << Describe(reload);
  EXPECT_TRUE(Contains(ReadFile(conf), "\nlog_level = debug\n"));
  EXPECT_TRUE(Contains(reload.out, "signal scepd * HUP")) << reload.out;

  // A broken edit: no signal, the last good settings stay for scepd.
  WriteFile(dir.File("config/scepd"), "config scepd\n\toption log_level 'trace\n");
  auto broken = RunProcdScript(dir, "reload_service\n");
  EXPECT_NE(broken.exit_code, 0) << Describe(broken);
  EXPECT_TRUE(Contains(broken.err, "scepd:2: quote (') not closed")) << broken.err;
  EXPECT_FALSE(Contains(broken.out, "signal")) << broken.out;
  EXPECT_TRUE(Contains(ReadFile(conf), "\nlog_level = debug\n"));
  EXPECT_FALSE(PathExists(conf + ".new"));
  auto broken_start = RunProcdScript(dir, "start_service\n");
  EXPECT_NE(broken_start.exit_code, 0) << Describe(broken_start);
  EXPECT_FALSE(Contains(broken_start.out, "open")) << broken_start.out;
}

// The SysV script against the real daemon in a scratch run_dir, under the
// shell given as parameter.
class SysvScriptTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    WriteFile(conf_, "[scepd]\nenabled = no\ndata_dir = " + dir_.File("data") +
                         "\nrun_dir = " + dir_.File("run") + "\nlog_target = stderr\n");
  }
  void TearDown() override {
    // Never leave a daemon behind, whatever failed.
    if (auto pid = TryReadFile(pid_file())) {
      const int n = std::atoi(pid->c_str());
      if (n > 0) ::kill(n, SIGKILL);
    }
  }

  ProcessResult Init(const std::string& action) {
    std::vector<std::string> argv;
    if (GetParam() == "busybox") {
      argv = {"busybox", "sh"};
    } else {
      argv = {GetParam()};
    }
    argv.push_back(Src("init/scepd.sysv"));
    argv.push_back(action);
    return RunProcess(argv, {"SCEPD_BIN=" + kScepd, "SCEPD_CONF=" + conf_,
                             "SCEPD_STOP_TIMEOUT=20"},
                      60000);
  }
  std::string pid_file() const { return dir_.File("run") + "/scepd.pid"; }

  TempDir dir_{"scepd-sysv-"};
  std::string conf_ = dir_.File("scepd.conf");
};

TEST_P(SysvScriptTest, StartStatusReloadStop) {
  auto st = Init("status");
  EXPECT_EQ(st.exit_code, 3) << Describe(st);
  EXPECT_TRUE(Contains(st.out, "not running")) << st.out;

  const auto t0 = std::chrono::steady_clock::now();
  auto start = Init("start");
  ASSERT_EQ(start.exit_code, 0) << Describe(start);
  // start does not wait for the enrollment (10 s, stretched under qemu).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(ScaledTimeout(10000)));
  ASSERT_TRUE(PathExists(pid_file())) << "start returned before the pid file was written";
  const int pid = std::atoi(ReadFile(pid_file()).c_str());
  ASSERT_GT(pid, 0);

  auto running = Init("status");
  EXPECT_EQ(running.exit_code, 0) << Describe(running);
  EXPECT_TRUE(Contains(running.out, "scepd is running (pid " + std::to_string(pid) + ")"))
      << running.out;
  EXPECT_TRUE(Contains(running.out, "Module scepClient disabled")) << running.out;

  auto again = Init("start");
  EXPECT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_TRUE(Contains(again.out, "already running")) << again.out;

  auto reload = Init("reload");
  EXPECT_EQ(reload.exit_code, 0) << Describe(reload);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(::kill(pid, 0), 0) << "scepd died on SIGHUP";

  auto stop = Init("stop");
  EXPECT_EQ(stop.exit_code, 0) << Describe(stop);
  EXPECT_NE(::kill(pid, 0), 0) << "scepd still runs after stop";
  EXPECT_FALSE(PathExists(pid_file()));

  auto stopped = Init("status");
  EXPECT_EQ(stopped.exit_code, 3) << Describe(stopped);
  auto stop_again = Init("stop");
  EXPECT_EQ(stop_again.exit_code, 0) << Describe(stop_again);
  auto reload_stopped = Init("reload");
  EXPECT_EQ(reload_stopped.exit_code, 7) << Describe(reload_stopped);
}

TEST_P(SysvScriptTest, InvalidSettingsFailStartWithLsbCode) {
  WriteFile(conf_, "[scepd]\nenabled = maybe\nrun_dir = " + dir_.File("run") + "\n");
  auto start = Init("start");
  EXPECT_EQ(start.exit_code, 6) << Describe(start);
  EXPECT_TRUE(Contains(start.out, "invalid settings")) << start.out;
  auto usage = Init("bogus");
  EXPECT_EQ(usage.exit_code, 2) << Describe(usage);
}

INSTANTIATE_TEST_SUITE_P(Shells, SysvScriptTest, ::testing::Values("/bin/sh", "busybox"));

// ---- systemd ------------------------------------------------------------------

TEST(SystemdUnit, HasTheHardeningAndReload) {
  const std::string unit = ReadFile(Src("init/scepd.service"));
  for (const char* line :
       {"Type=notify\n", "ExecStart=/usr/sbin/scepd -c /etc/scepd.conf\n",
        "ExecReload=/bin/kill -HUP $MAINPID\n", "Restart=on-failure\n", "NoNewPrivileges=yes\n",
        "ProtectSystem=strict\n", "ProtectHome=yes\n", "PrivateTmp=yes\n",
        "StateDirectory=scepd\n", "RuntimeDirectory=scepd\n", "CapabilityBoundingSet=\n",
        "SystemCallFilter=@system-service\n", "TimeoutStopSec=330s\n",
        "WantedBy=multi-user.target\n"}) {
    EXPECT_TRUE(Contains(unit, line)) << "missing: " << line;
  }
}

// The exposure level systemd-analyze gives `unit` (offline), or -1.
double SecurityExposure(const std::string& unit_file, std::string* report) {
  auto r = RunProcess({"systemd-analyze", "security", "--offline=true", unit_file},
                      {"SYSTEMD_LOG_COLOR=0", "SYSTEMD_COLORS=0"});
  *report = Describe(r);
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("Overall exposure level for [^:]+: ([0-9.]+)"))) {
    return -1;
  }
  return std::stod(m[1]);
}

// The drop-in the README and the unit's header give for the README's
// success script (scep_replace_pem /etc/settings.ipsec ...).
std::string ReadmeDropIn() {
  const std::string readme = ReadFile(Src("README.md"));
  std::smatch m;
  if (!std::regex_search(readme, m, std::regex("\n(\\[Service\\]\nReadWritePaths=[^\n]+\n)"))) {
    return "";
  }
  return m[1];
}

TEST(SystemdUnit, RatesAtMostTwoPointFiveWithAndWithoutTheScriptDropIn) {
  if (::access("/usr/bin/systemd-analyze", X_OK) != 0 &&
      ::access("/bin/systemd-analyze", X_OK) != 0) {
    GTEST_SKIP() << "systemd-analyze is not installed";
  }
  TempDir dir("scepd-unit-");
  std::string report;
  const double plain = SecurityExposure(Src("init/scepd.service"), &report);
  EXPECT_GE(plain, 0.0) << report;
  EXPECT_LE(plain, 2.5) << report;

  // With the documented drop-in merged in, as systemd would apply it.
  const std::string drop_in = ReadmeDropIn();
  ASSERT_NE(drop_in, "") << "README.md lacks the [Service] ReadWritePaths= drop-in";
  EXPECT_TRUE(Contains(ReadFile(Src("init/scepd.service")),
                       "#     " + std::regex_replace(drop_in, std::regex("\n(.)"), "\n#     $1")))
      << "the unit's header and the README give different drop-ins:\n" << drop_in;
  std::string unit = ReadFile(Src("init/scepd.service"));
  unit = std::regex_replace(unit, std::regex("\n\\[Install\\]"),
                            "\n" + drop_in.substr(drop_in.find('\n') + 1) + "\n[Install]");
  WriteFile(dir.File("scepd.service"), unit);
  const double with_drop_in = SecurityExposure(dir.File("scepd.service"), &report);
  EXPECT_GE(with_drop_in, 0.0) << report;
  EXPECT_LE(with_drop_in, 2.5) << report;
}

TEST(SystemdUnit, VerifiesWithTheBuiltBinary) {
  // systemd-analyze checks that ExecStart exists and that the
  // Documentation= pages resolve: point both at this tree.
  TempDir dir("scepd-unit-");
  std::string unit = ReadFile(Src("init/scepd.service"));
  unit = std::regex_replace(unit, std::regex("/usr/sbin/scepd"), kScepd);
  WriteFile(dir.File("scepd.service"), unit);
  ASSERT_EQ(::mkdir(dir.File("man").c_str(), 0755), 0);
  for (const char* sec : {"man5", "man8"}) {
    ASSERT_EQ(::mkdir(dir.File(std::string("man/") + sec).c_str(), 0755), 0);
  }
  WriteFile(dir.File("man/man8/scepd.8"), ReadFile(Src("docs/man/scepd.8")));
  WriteFile(dir.File("man/man5/scepd.conf.5"), ReadFile(Src("docs/man/scepd.conf.5")));
  auto r = RunProcess({"systemd-analyze", "verify", dir.File("scepd.service")},
                      {"MANPATH=" + dir.File("man"), "SYSTEMD_LOG_COLOR=0"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "") << Describe(r);
}

// The sandbox systemd builds for the unit (ProtectSystem=strict: the file
// system read-only, ReadWritePaths= bound writable on top), rebuilt with a
// user and mount namespace around the README's success script. Naming only
// the settings file is not enough, since scep_replace_pem writes the new
// file beside it; the drop-in's directory is.
TEST(SystemdUnit, ScriptDropInNamesWhatScepReplacePemWrites) {
  if (RunProcess({"unshare", "-rm", "true"}).exit_code != 0) {
    GTEST_SKIP() << "no user namespaces here (unshare -rm)";
  }
  const std::string drop_in = ReadmeDropIn();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(drop_in, m, std::regex("ReadWritePaths=([^\n ]+)")));
  ASSERT_EQ(m[1].str(), "/etc") << "the README's example writes /etc/settings.ipsec";

  TempDir dir("scepd-dropin-");
  ASSERT_EQ(::mkdir(dir.File("etc").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(dir.File("data").c_str(), 0700), 0);
  const std::string key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
  WriteFile(dir.File("data/latest.key"), key, 0600);
  WriteFile(dir.File("data/latest.crt"), "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n");
  const std::string settings = dir.File("etc/settings.ipsec");
  const std::string before = "IPSEC_ENABLED=1\nIPSEC_LOCAL_KEY=''\n";
  // `writable`: the path bound writable over the read-only directory.
  auto run = [&](const std::string& writable) {
    WriteFile(settings, before, 0600);
    const std::string etc = dir.File("etc");
    return RunProcess(
        {"unshare", "-rm", "sh", "-c",
         "set -e; mount --bind \"$1\" \"$1\"; mount -o remount,bind,ro \"$1\";"
         " mount --bind \"$2\" \"$2\"; mount -o remount,bind,rw \"$2\"; exec \"$3\" --data-dir \"$4\" \"$5\" IPSEC_LOCAL_KEY pkey",
         "sh", etc, writable, Src("scripts/scep_replace_pem"), dir.File("data"), settings});
  };
  auto file_only = run(settings);  // ReadWritePaths=/etc/settings.ipsec
  EXPECT_EQ(file_only.exit_code, 1) << Describe(file_only);
  EXPECT_EQ(ReadFile(settings), before);
  auto directory = run(dir.File("etc"));  // ReadWritePaths=/etc
  EXPECT_EQ(directory.exit_code, 0) << Describe(directory);
  EXPECT_TRUE(Contains(ReadFile(settings), "IPSEC_LOCAL_KEY='" + key)) << ReadFile(settings);
}

// ---- README --------------------------------------------------------------------

// Issue 21's order: what scepd is (three sentences), the two commands, then
// the install on Debian (systemd), OpenWrt (UCI) and as a router app, each
// with its cron line.
TEST(Readme, SaysWhatScepdIsThenTheTwoCommandsThenEachInstall) {
  const std::string readme = ReadFile(Src("README.md"));
  ASSERT_EQ(readme.rfind("# scepd\n\n", 0), 0u);
  const std::size_t intro_end = readme.find("\n\n", 9);
  std::string intro = readme.substr(9, intro_end - 9);
  // Sentences end in ". " or at the end ("RFC 8894)." etc. inside count).
  const std::regex sentence_end("\\.( |\n|$)");
  const auto sentences = std::distance(
      std::sregex_iterator(intro.begin(), intro.end(), sentence_end), std::sregex_iterator());
  EXPECT_EQ(sentences, 3) << intro;
  EXPECT_EQ(intro.rfind("scepd ", 0), 0u) << intro;
  for (const char* name : {"SCEP", "EST", "CMP", "`sscep`", "`scep-client`", "`cmp-client`",
                           "`est-client`", "Apache-2.0"}) {
    EXPECT_TRUE(Contains(intro, name)) << name << " not in the first paragraph";
  }
  // Then the two commands, before any section.
  const std::size_t demo = readme.find("\n    scripts/demo.sh", intro_end);
  const std::size_t test = readme.find("\n    scripts/test.sh", intro_end);
  const std::size_t first_section = readme.find("\n## ");
  EXPECT_LT(demo, test);
  EXPECT_LT(test, first_section);
  // Then the installs, in this order, the first section after them.
  EXPECT_EQ(readme.substr(first_section, 12), "\n## Install\n");
  std::size_t at = first_section;
  struct Install {
    const char* heading;
    std::vector<std::string> lines;  // each an indented command line of that part
  };
  const std::vector<Install> installs = {
      {"\n### Debian 12 (systemd)\n",
       {"apt install ./build/scepd_*.deb", "systemctl enable --now scepd", "journalctl -u scepd",
        "5 0 * * * root /usr/bin/check-cert.sh"}},
      {"\n### OpenWrt (UCI)\n",
       {"uci commit scepd", "reload_config",
        "echo '5 0 * * * /usr/bin/check-cert.sh' >>/etc/crontabs/root"}},
      {"\n### Router app\n",
       {"packaging/router-app.sh -B build/router -o scepClient.tar.gz",
        "5 0 * * * root /opt/scepClient/bin/check-cert.sh"}},
  };
  for (std::size_t i = 0; i < installs.size(); ++i) {
    const std::size_t begin = readme.find(installs[i].heading, at);
    ASSERT_NE(begin, std::string::npos) << installs[i].heading;
    const std::size_t end = readme.find("\n## ", begin) < readme.find("\n### ", begin + 1)
                                ? readme.find("\n## ", begin)
                                : readme.find("\n### ", begin + 1);
    const std::string part = readme.substr(begin, end - begin);
    for (const std::string& line : installs[i].lines) {
      EXPECT_TRUE(Contains(part, "\n    " + line)) << line << " not in " << installs[i].heading;
    }
    at = begin + 1;
  }
}

// ---- manual pages ---------------------------------------------------------------

const std::vector<std::string> kManPages = {"scepd.8", "scepd.conf.5", "sscep.1", "scep-client.1", "cmp-client.1", "mkrequest.1",
                                            "scep_replace_pem.1", "check-cert.sh.8", "est-client.1"};

TEST(ManPages, RenderWithoutWarnings) {
  for (const std::string& page : kManPages) {
    const std::string path = Src("docs/man/" + page);
    auto groff = RunProcess({"groff", "-man", "-ww", "-z", path});
    EXPECT_EQ(groff.exit_code, 0) << page << "\n" << Describe(groff);
    EXPECT_EQ(groff.err, "") << page;
    auto man = RunProcess({"man", "--warnings", "-l", path}, {"MANWIDTH=80"});
    EXPECT_EQ(man.exit_code, 0) << page << "\n" << Describe(man);
    EXPECT_EQ(man.err, "") << page;
    EXPECT_GT(man.out.size(), 500u) << page;
  }
}

TEST(ManPages, CarryTheProjectVersionAndCrossReference) {
  for (const std::string& page : kManPages) {
    const std::string text = ReadFile(Src("docs/man/" + page));
    EXPECT_TRUE(Contains(text, "\"scepd " SCEPD_VERSION "\"")) << page << ": .TH version";
    EXPECT_TRUE(Contains(text, ".SH \"SEE ALSO\"")) << page;
  }
  // The exit codes the references list appear in the pages.
  const std::string scepd = ReadFile(Src("docs/man/scepd.8"));
  for (const char* code : {"\n.B 64\n", "\n.B 75\n", "\n.B 78\n"}) {
    EXPECT_TRUE(Contains(scepd, code)) << code;
  }
  const std::string sscep = ReadFile(Src("docs/man/sscep.1"));
  for (const char* code : {"\n.B 89\n", "\n.B 91\n", "\n.B 93\n", "\n.B 95\n", "\n.B 97\n", "\n.B 99\n"}) {
    EXPECT_TRUE(Contains(sscep, code)) << code;
  }
  EXPECT_TRUE(Contains(sscep, ".SH \"DIFFERENCES FROM SSCEP\"\n"));
  const std::string client = ReadFile(Src("docs/man/scep-client.1"));
  for (const char* code : {"\n.B 0\n", "\n.B 1\n", "\n.B 3\n", "\n.B 95\n", "\n.B 97\n"}) {
    EXPECT_TRUE(Contains(client, code)) << code;
  }
  const std::string cmp_client = ReadFile(Src("docs/man/cmp-client.1"));
  for (const char* code : {"\n.B 0\n", "\n.B 1\n", "\n.B 2\n", "\n.B 3\n", "\n.B 4\n", "\n.B 95\n", "\n.B 97\n"}) {
    EXPECT_TRUE(Contains(cmp_client, code)) << code;
  }
  const std::string est_client = ReadFile(Src("docs/man/est-client.1"));
  for (const char* code : {"\n.B 2\n", "\n.B 3\n", "\n.B 4\n", "\n.B 95\n", "\n.B 97\n"}) {
    EXPECT_TRUE(Contains(est_client, code)) << code;
  }
}

TEST(ManPages, ConfPageNamesEveryKeyOfTheDefaultSettings) {
  // Every key of etc/scepd.conf (";key =" lines) is described in scepd.conf(5).
  const std::string conf = ReadFile(Src("etc/scepd.conf"));
  const std::string page = ReadFile(Src("docs/man/scepd.conf.5"));
  std::regex key_re("^;([a-z_]+) =", std::regex::multiline);
  int keys = 0;
  for (auto it = std::sregex_iterator(conf.begin(), conf.end(), key_re);
       it != std::sregex_iterator(); ++it) {
    ++keys;
    const std::string key = (*it)[1];
    EXPECT_TRUE(std::regex_search(page, std::regex("(^|\n)\\.BR? [^\n]*\\b" + key + "\\b")))
        << key << " is not described in scepd.conf.5";
  }
  EXPECT_GT(keys, 20);
}

// ---- example settings -------------------------------------------------------------

TEST(RouterExample, LoadsWithASerialNumber) {
  TempDir dir("scepd-router-conf-");
  std::string conf = ReadFile(Src("etc/scepd.router.conf"));
  const std::string header = "\n[scepd]\n";
  const std::size_t at = conf.find(header);
  ASSERT_NE(at, std::string::npos);
  conf.insert(at + header.size(), "serial_number = A1B2\n");
  WriteFile(dir.File("scepd.conf"), conf);
  auto r = RunProcess({kScepd, "--check-config", "-c", dir.File("scepd.conf")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(Contains(r.out, "enabled = yes")) << r.out;
  EXPECT_TRUE(Contains(r.out, "subject = /DC=org/DC=OpenXPKI/DC=Test Deployment/CN=router-A1B2"))
      << r.out;
  EXPECT_TRUE(Contains(r.out, "data_dir = /var/data/scepClient")) << r.out;
  EXPECT_TRUE(Contains(r.out, "success_script = scep_replace_pem /etc/settings.ipsec "
                              "IPSEC_LOCAL_KEY pkey IPSEC_LOCAL_CERT cert &&\n"
                              "    /etc/init.d/ipsec restart\n"))
      << r.out;
}

TEST(RouterExample, SuccessScriptIsValidShell) {
  // The script as scepd joins it (continuation lines after a newline).
  auto r = Sh("sh -n -c " + ShellQuote("scep_replace_pem /etc/settings.ipsec IPSEC_LOCAL_KEY pkey "
                                       "IPSEC_LOCAL_CERT cert &&\n/etc/init.d/ipsec restart"));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

// ---- licence and completion -----------------------------------------------------------

TEST(Licence, IsApacheTwoEverywhere) {
  const std::string licence = ReadFile(Src("LICENSE"));
  EXPECT_TRUE(Contains(licence, "Apache License\n                           Version 2.0, January 2004"));
  if (PathExists("/usr/share/common-licenses/Apache-2.0")) {
    EXPECT_EQ(licence, ReadFile("/usr/share/common-licenses/Apache-2.0"));
  }
  auto scepd = RunProcess({kScepd, "--version"});
  EXPECT_EQ(scepd.exit_code, 0) << Describe(scepd);
  EXPECT_EQ(scepd.out, "scepd " SCEPD_VERSION "\nLicense: Apache-2.0\n");
  auto sscep = RunProcess({kSscep, "--version"});
  EXPECT_EQ(sscep.exit_code, 0) << Describe(sscep);
  EXPECT_EQ(sscep.out, "scepd's sscep " SCEPD_VERSION "\nLicense: Apache-2.0\n");
  auto usage = RunProcess({kSscep});
  EXPECT_TRUE(Contains(usage.out + usage.err, "License: Apache-2.0\n")) << Describe(usage);
  // The other command lines: the Tectia-style ones (links to the multi-call
  // sscep) and est-client.
  for (const char* program : {"scep-client", "cmp-client", "est-client"}) {
    auto r = RunProcess({BuiltBinary(std::string("cli/") + program), "--version"});
    EXPECT_EQ(r.exit_code, 0) << program << "\n" << Describe(r);
    EXPECT_EQ(r.out, std::string("scepd's ") + program + " " SCEPD_VERSION "\nLicense: Apache-2.0\n");
  }
  // The shell scripts, as the build configures them for installation.
  for (const char* script : {"scripts/check-cert.sh", "scripts/scep_replace_pem", "cli/mkrequest"}) {
    const std::string name = std::string(script).substr(std::string(script).find('/') + 1);
    auto r = RunProcess({"/bin/sh", kBuild + "/" + script, "--version"});
    EXPECT_EQ(r.exit_code, 0) << script << "\n" << Describe(r);
    EXPECT_EQ(r.out, "scepd's " + name + " " SCEPD_VERSION "\nLicense: Apache-2.0\n");
  }
  EXPECT_TRUE(Contains(ReadFile(Src("packaging/openwrt/Makefile")), "\nPKG_LICENSE:=Apache-2.0\n"));
}

// Completes `line` (the cursor at its end) with packaging/completion/scepd
// in bash; returns the candidates, one a line.
std::string Complete(const std::string& line, const std::string& cwd) {
  auto r = RunProcess(
      {"bash", "-c",
       "cd " + ShellQuote(cwd) + " && . " + ShellQuote(Src("packaging/completion/scepd")) +
           " && read -ra COMP_WORDS <<<\"$1\"; case $1 in *' ') COMP_WORDS+=('');; esac;"
           " COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _scepd; printf '%s\\n' \"${COMPREPLY[@]}\"",
       "complete", line});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  return r.out;
}

TEST(Completion, ScepdOptionsFilesAndStatus) {
  TempDir dir("scepd-completion-");
  WriteFile(dir.File("router.conf"), "");
  EXPECT_EQ(Complete("scepd --che", dir.path()), "--check-config\n");
  EXPECT_EQ(Complete("scepd -c rou", dir.path()), "router.conf\n");
  EXPECT_EQ(Complete("scepd --config rou", dir.path()), "router.conf\n");
  EXPECT_EQ(Complete("scepd st", dir.path()), "status\n");
  EXPECT_EQ(Complete("scepd -c router.conf status --", dir.path()), "--json\n");
  const std::string all = Complete("scepd -", dir.path());
  for (const char* opt : {"--once\n", "--daemon\n", "--version\n", "--help\n", "-c\n"}) {
    EXPECT_TRUE(Contains(all, opt)) << opt << all;
  }
  // Every option the usage text lists is offered (--json after status).
  const std::string offered = all + Complete("scepd status -", dir.path());
  auto usage = RunProcess({kScepd, "--help"});
  ASSERT_EQ(usage.exit_code, 0) << Describe(usage);
  ASSERT_TRUE(Contains(usage.out, "--check-config")) << Describe(usage);
  std::regex long_opt("--[a-z-]+");
  for (auto it = std::sregex_iterator(usage.out.begin(), usage.out.end(), long_opt);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(Contains(offered, (*it).str() + "\n")) << (*it).str() << " is not completed";
  }
}

// Every option est-client's usage text lists is offered after some command.
TEST(Completion, EstClientOffersEveryOptionOfItsUsage) {
  TempDir dir("scepd-completion-");
  auto complete = [&](const std::string& line) {
    auto r = RunProcess(
        {"bash", "-c",
         "cd " + ShellQuote(dir.path()) + " && . " +
             ShellQuote(Src("packaging/completion/est-client")) +
             " && read -ra COMP_WORDS <<<\"$1\"; case $1 in *' ') COMP_WORDS+=('');; esac;"
             " COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _est_client; printf '%s\\n' \"${COMPREPLY[@]}\"",
         "complete", line});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r.out;
  };
  EXPECT_EQ(complete("est-client ree"), "reenroll\n");
  EXPECT_EQ(complete("est-client enroll --key-t"), "--key-type\n");
  EXPECT_EQ(complete("est-client enroll --key-type "), "rsa\nec\n");
  std::string offered = complete("est-client -");  // before the command: --help, --version
  for (const char* command : {"cacerts", "csrattrs", "enroll", "reenroll", "serverkeygen"}) {
    offered += complete(std::string("est-client ") + command + " -");
  }
  auto usage = RunProcess({BuiltBinary("cli/est-client"), "--help"});
  ASSERT_EQ(usage.exit_code, 0) << Describe(usage);
  ASSERT_TRUE(Contains(usage.out, "--pin-sha256")) << Describe(usage);
  std::regex long_opt("--[a-z0-9-]+");
  for (auto it = std::sregex_iterator(usage.out.begin(), usage.out.end(), long_opt);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(Contains(offered, (*it).str() + "\n")) << (*it).str() << " is not completed";
  }
}

// ---- OpenWrt package ---------------------------------------------------------------

TEST(OpenWrtMakefile, ReferencesExistingFiles) {
  const std::string mk = ReadFile(Src("packaging/openwrt/Makefile"));
  EXPECT_TRUE(Contains(mk, "UNTESTED")) << "the header must say it was never built";
  EXPECT_TRUE(Contains(mk, "include $(INCLUDE_DIR)/cmake.mk"));
  EXPECT_TRUE(Contains(mk, "PKG_VERSION:=" SCEPD_VERSION "\n"));
  EXPECT_TRUE(Contains(mk, "$(eval $(call BuildPackage,scepd))"));
  // Every command line: scep-client is a link to the multi-call sscep.
  EXPECT_TRUE(Contains(mk, "\t$(LN) sscep $(1)/usr/bin/scep-client\n"));
  EXPECT_TRUE(Contains(mk, "\t$(LN) sscep $(1)/usr/bin/cmp-client\n"));
  EXPECT_TRUE(Contains(mk, "/usr/bin/mkrequest $(1)/usr/bin/\n"));
  EXPECT_TRUE(Contains(mk, "/usr/bin/est-client $(1)/usr/bin/\n"));
  // ./files/X lives beside the Makefile, $(PKG_BUILD_DIR)/X in the source.
  int refs = 0;
  std::regex files_re("\\./files/([A-Za-z0-9_.-]+)");
  for (auto it = std::sregex_iterator(mk.begin(), mk.end(), files_re);
       it != std::sregex_iterator(); ++it, ++refs) {
    EXPECT_TRUE(PathExists(Src("packaging/openwrt/files/" + (*it)[1].str()))) << (*it)[0];
  }
  std::regex src_re("\\$\\(PKG_BUILD_DIR\\)/([A-Za-z0-9_./-]+)");
  for (auto it = std::sregex_iterator(mk.begin(), mk.end(), src_re);
       it != std::sregex_iterator(); ++it, ++refs) {
    EXPECT_TRUE(PathExists(Src((*it)[1].str()))) << (*it)[0];
  }
  EXPECT_GE(refs, 3);
  // Recipe lines of the install define start with a tab, as make demands.
  const std::size_t begin = mk.find("define Package/scepd/install\n");
  const std::size_t end = mk.find("endef", begin);
  ASSERT_NE(begin, std::string::npos);
  std::istringstream body(mk.substr(begin, end - begin));
  std::string line;
  std::getline(body, line);
  while (std::getline(body, line)) {
    if (!line.empty()) {
      EXPECT_EQ(line[0], '\t') << "not a recipe line: " << line;
    }
  }
}

// The release tarball the feed Makefile fetches (PKG_SOURCE): made by
// cpack's source package, everything below scepd-VERSION/, nothing built.
TEST(OpenWrtMakefile, ReleaseTarballHasWhatTheFeedBuilds) {
  const std::string mk = ReadFile(Src("packaging/openwrt/Makefile"));
  EXPECT_TRUE(Contains(mk, "\nPKG_SOURCE:=$(PKG_NAME)-$(PKG_VERSION).tar.gz\n")) << mk;
  EXPECT_TRUE(Contains(mk, "\nPKG_LICENSE_FILES:=LICENSE\n")) << mk;
  TempDir dir("scepd-source-");
  auto cpack = RunProcess({"cpack", "--config", kBuild + "/CPackSourceConfig.cmake", "-B",
                           dir.path()},
                          {}, 170000);
  ASSERT_EQ(cpack.exit_code, 0) << Describe(cpack);
  const std::string tarball = dir.File("scepd-" SCEPD_VERSION ".tar.gz");
  ASSERT_TRUE(PathExists(tarball)) << cpack.out;
  auto list = RunProcess({"tar", "-tzf", tarball});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  const std::string top = "scepd-" SCEPD_VERSION "/";
  std::istringstream lines(list.out);
  std::string line;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.rfind(top, 0), 0u) << line << " is outside " << top;
    EXPECT_FALSE(std::regex_search(line, std::regex("^[^/]+/(build[^/]*|usr|\\.git)(/|$)")))
        << line << " is build output or the repository";
  }
  for (const char* file : {"CMakeLists.txt", "LICENSE", "init/scepd.procd", "init/scepd-uci",
                           "packaging/openwrt/files/scepd.config", "etc/scepd.conf"}) {
    EXPECT_TRUE(Contains(list.out, top + file + "\n")) << file;
  }
}

// ---- Debian package ------------------------------------------------------------------

// Slow (cpack installs and compresses this whole tree, dpkg-shlibdeps): a few
// seconds here, as it reuses the already built binaries.
TEST(DebPackage, BuildsInstallsAndRuns) {
  TempDir dir("scepd-deb-");
  auto cpack = RunProcess({"cpack", "-G", "DEB", "--config", kBuild + "/CPackConfig.cmake", "-B",
                           dir.File("out")},
                          {}, 170000);
  ASSERT_EQ(cpack.exit_code, 0) << Describe(cpack);
  const std::string deb =
      dir.File("out") + "/scepd_" SCEPD_VERSION "_" +
      [] {
        if (std::string(SCEPD_TEST_DEB_ARCH) != "") return std::string(SCEPD_TEST_DEB_ARCH);
        auto arch = RunProcess({"dpkg", "--print-architecture"});
        std::string a = arch.out;
        while (!a.empty() && a.back() == '\n') a.pop_back();
        return a;
      }() + ".deb";
  ASSERT_TRUE(PathExists(deb)) << cpack.out;

  auto list = RunProcess({"dpkg-deb", "-c", deb});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  struct Entry {
    const char* mode;
    const char* path;
  };
  for (const Entry& e : std::vector<Entry>{
           {"-rwxr-xr-x", "./usr/sbin/scepd"},
           {"-rwxr-xr-x", "./usr/bin/sscep"},
           {"-rwxr-xr-x", "./usr/bin/est-client"},
           {"-rw-r--r--", "./usr/share/man/man1/est-client.1.gz"},
           {"-rw-r--r--", "./usr/share/bash-completion/completions/est-client"},
           {"-rwxr-xr-x", "./usr/bin/check-cert.sh"},
           {"-rwxr-xr-x", "./usr/bin/scep_replace_pem"},
           {"-rw-r--r--", "./etc/scepd.conf"},
           {"-rwxr-xr-x", "./etc/init.d/scepd"},
           {"-rw-r--r--", "./usr/lib/systemd/system/scepd.service"},
           {"-rw-r--r--", "./usr/share/man/man8/scepd.8.gz"},
           {"-rw-r--r--", "./usr/share/man/man5/scepd.conf.5.gz"},
           {"-rw-r--r--", "./usr/share/man/man1/sscep.1.gz"},
           {"-rw-r--r--", "./usr/share/man/man1/scep_replace_pem.1.gz"},
           {"-rw-r--r--", "./usr/share/man/man8/check-cert.sh.8.gz"},
           {"-rw-r--r--", "./usr/share/man/man1/scep-client.1.gz"},
           {"-rw-r--r--", "./usr/share/man/man1/cmp-client.1.gz"},
           {"-rw-r--r--", "./usr/share/man/man1/mkrequest.1.gz"},
           {"-rwxr-xr-x", "./usr/bin/mkrequest"},
           {"-rw-r--r--", "./usr/share/bash-completion/completions/sscep"},
           {"-rw-r--r--", "./usr/share/bash-completion/completions/scep-client"},
           {"-rw-r--r--", "./usr/share/bash-completion/completions/cmp-client"},
           {"-rw-r--r--", "./usr/share/doc/scepd/examples/scepd.router.conf"},
           {"-rwxr-xr-x", "./usr/lib/scepd/cgi-bin/scepd.cgi"},
           {"-rw-r--r--", "./usr/share/scepd/www/httpd.conf"},
           {"-rw-r--r--", "./usr/share/scepd/www/lighttpd.conf"},
           {"-rw-r--r--", "./usr/share/doc/scepd/copyright"},
           {"-rw-r--r--", "./usr/share/doc/scepd/changelog.gz"},
           {"-rw-r--r--", "./usr/share/bash-completion/completions/scepd"},
           {"-rw-r--r--", "./usr/share/lintian/overrides/scepd"},
       }) {
    std::regex re(std::string("(^|\n)") + std::regex_replace(e.mode, std::regex("[-]"), "\\-") +
                  " root/root +[0-9]+ [0-9-]+ [0-9:]+ " +
                  std::regex_replace(e.path, std::regex("[.]"), "\\.") + "\n");
    EXPECT_TRUE(std::regex_search(list.out, re)) << e.mode << " " << e.path << "\n" << list.out;
  }
  EXPECT_FALSE(Contains(list.out, "./usr/etc")) << list.out;
  // scep-client is a link to the multi-call sscep, not a second binary.
  EXPECT_TRUE(std::regex_search(list.out, std::regex("(^|\n)lrwxrwxrwx root/root +0 [0-9-]+ [0-9:]+ "
                                                     "\\./usr/bin/scep-client -> sscep\n")))
      << list.out;
  EXPECT_TRUE(std::regex_search(list.out, std::regex("(^|\n)lrwxrwxrwx root/root +0 [0-9-]+ [0-9:]+ "
                                                     "\\./usr/bin/cmp-client -> sscep\n")))
      << list.out;

  auto info = RunProcess({"dpkg-deb", "-I", deb});
  ASSERT_EQ(info.exit_code, 0) << Describe(info);
  EXPECT_TRUE(Contains(info.out, " Package: scepd\n")) << info.out;
  for (const char* dep : {"libssl3", "libcurl4"}) {
    EXPECT_TRUE(std::regex_search(info.out, std::regex(std::string(" Depends: .*") + dep)))
        << dep << "\n" << info.out;
  }
  EXPECT_EQ(std::regex_search(info.out, std::regex(" Depends: .*libinih1")),
            !SCEPD_TEST_STATIC_INIH)
      << info.out;
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    EXPECT_TRUE(std::regex_search(info.out, std::regex(std::string(" +[0-9]+ bytes, +[0-9]+ lines +\\* +") + script)))
        << script << " is not an executable maintainer script\n" << info.out;
  }
  // spdlog and fmt are dependencies exactly when they are not compiled in
  // (SCEPD_STATIC_SPDLOG, the size-optimised router build).
  for (const char* dep : {"libspdlog1.10", "libfmt9"}) {
    EXPECT_EQ(std::regex_search(info.out, std::regex(std::string(" Depends: .*") + dep)),
              !SCEPD_TEST_STATIC_SPDLOG)
        << dep << "\n" << info.out;
  }
  auto conffiles = RunProcess({"dpkg-deb", "-I", deb, "conffiles"});
  EXPECT_EQ(conffiles.exit_code, 0) << Describe(conffiles);
  EXPECT_TRUE(Contains(conffiles.out, "/etc/scepd.conf\n")) << conffiles.out;

  const std::string root = dir.File("root");
  auto x = RunProcess({"dpkg", "-x", deb, root});
  ASSERT_EQ(x.exit_code, 0) << Describe(x);
  // The packaged (stripped) binary needs libspdlog exactly when the package
  // depends on it.
  auto dynamic = RunProcess({"readelf", "-d", root + "/usr/sbin/scepd"});
  ASSERT_EQ(dynamic.exit_code, 0) << Describe(dynamic);
  EXPECT_EQ(Contains(dynamic.out, "[libspdlog.so"), !SCEPD_TEST_STATIC_SPDLOG) << dynamic.out;
  EXPECT_EQ(Contains(dynamic.out, "[libfmt.so"), !SCEPD_TEST_STATIC_SPDLOG) << dynamic.out;
  auto version = RunProcess(TargetCommand({root + "/usr/sbin/scepd", "--version"}));
  EXPECT_EQ(version.exit_code, 0) << Describe(version);
  EXPECT_EQ(version.out, "scepd " SCEPD_VERSION "\nLicense: Apache-2.0\n");
  auto usage = RunProcess(TargetCommand({root + "/usr/bin/sscep"}));
  EXPECT_EQ(usage.exit_code, 0) << Describe(usage);
  EXPECT_TRUE(Contains(usage.out, "Usage")) << Describe(usage);
  auto client = RunProcess(TargetCommand({root + "/usr/bin/scep-client", "--version"}));
  EXPECT_EQ(client.exit_code, 0) << Describe(client);
  EXPECT_EQ(client.out, "scepd's scep-client " SCEPD_VERSION "\nLicense: Apache-2.0\n");
  auto cmp = RunProcess(TargetCommand({root + "/usr/bin/cmp-client", "--version"}));
  EXPECT_EQ(cmp.exit_code, 0) << Describe(cmp);
  EXPECT_EQ(cmp.out, "scepd's cmp-client " SCEPD_VERSION "\nLicense: Apache-2.0\n");
  auto est = RunProcess(TargetCommand({root + "/usr/bin/est-client", "--version"}));
  EXPECT_EQ(est.exit_code, 0) << Describe(est);
  EXPECT_EQ(est.out, "scepd's est-client " SCEPD_VERSION "\nLicense: Apache-2.0\n");
  for (const char* script : {"check-cert.sh", "scep_replace_pem", "mkrequest"}) {
    auto r = RunProcess({"/bin/sh", root + "/usr/bin/" + script, "--version"});
    EXPECT_EQ(r.exit_code, 0) << script << "\n" << Describe(r);
    EXPECT_EQ(r.out, std::string("scepd's ") + script + " " SCEPD_VERSION "\nLicense: Apache-2.0\n");
  }
  auto check = RunProcess(
      TargetCommand({root + "/usr/sbin/scepd", "--check-config", "-c", root + "/etc/scepd.conf"}));
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  auto man = RunProcess({"man", "--warnings", "-l", root + "/usr/share/man/man8/scepd.8.gz"},
                        {"MANWIDTH=80"});
  EXPECT_EQ(man.exit_code, 0) << Describe(man);
  EXPECT_TRUE(Contains(man.out, "scepd")) << Describe(man);
  // The Debian settings keep state and runtime files where the FHS (and the
  // unit's StateDirectory=/RuntimeDirectory=) put them.
  EXPECT_TRUE(Contains(check.out, "data_dir = /var/lib/scepd\n")) << check.out;
  EXPECT_TRUE(Contains(check.out, "run_dir = /run/scepd\n")) << check.out;
  const std::string unit = ReadFile(root + "/usr/lib/systemd/system/scepd.service");
  EXPECT_TRUE(Contains(unit, "StateDirectory=scepd\n") && Contains(unit, "RuntimeDirectory=scepd\n"));
  // The machine-readable copyright names the licence.
  const std::string copyright = ReadFile(root + "/usr/share/doc/scepd/copyright");
  EXPECT_EQ(copyright.rfind("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n", 0), 0u);
  EXPECT_TRUE(Contains(copyright, "\nFiles: *\n")) << copyright;
  EXPECT_TRUE(Contains(copyright, "\nLicense: Apache-2.0\n")) << copyright;
  EXPECT_TRUE(Contains(copyright, "/usr/share/common-licenses/Apache-2.0")) << copyright;

  // lintian (Debian 12's): no error and no warning. The one override is
  // check-cert.sh's name (the Router App's cron interface).
  if (::access("/usr/bin/lintian", X_OK) != 0) {
    GTEST_SKIP() << "lintian is not installed (scripts/lib/install-deps.sh installs it)";
  }
  auto lintian = RunProcess({"lintian", "--tag-display-limit", "0", "--show-overrides", deb},
                            {"LANG=C.UTF-8"}, 170000);
  EXPECT_EQ(lintian.exit_code, 0) << Describe(lintian);
  EXPECT_FALSE(std::regex_search(lintian.out, std::regex("(^|\n)[EW]: "))) << Describe(lintian);
  // Only its note that it runs as root (as the test suite does here).
  EXPECT_EQ(std::regex_replace(lintian.err, std::regex("running with root privileges is not "
                                                       "recommended!\n"), ""),
            "")
      << Describe(lintian);
  std::regex overridden("(^|\n)O: ([^\n]+)");
  for (auto it = std::sregex_iterator(lintian.out.begin(), lintian.out.end(), overridden);
       it != std::sregex_iterator(); ++it) {
    EXPECT_EQ((*it)[2].str(),
              "scepd: script-with-language-extension [usr/bin/check-cert.sh]")
        << "an override beyond the documented one";
  }
}

TEST(DebPackage, PurgeRemovesWhatThePackageCreatedOnly) {
  // postrm purge against a scratch root (dpkg's DPKG_ROOT), with the
  // init system helpers replaced by stubs that log their calls.
  TempDir dir("scepd-purge-");
  const std::string root = dir.File("root");
  for (const char* d : {"/root", "/root/var", "/root/var/lib", "/root/var/lib/scepd",
                        "/root/var/lib/other", "/root/run", "/root/run/scepd", "/root/etc",
                        "/root/var/data", "/root/var/data/scepClient", "/bin"}) {
    ASSERT_EQ(::mkdir((dir.path() + d).c_str(), 0755), 0) << d;
  }
  WriteFile(root + "/var/lib/scepd/latest.key", "key", 0600);
  WriteFile(root + "/var/lib/scepd/ca.crt-0", "ca");
  WriteFile(root + "/run/scepd/status", "status");
  WriteFile(root + "/var/lib/other/keep", "other package");
  WriteFile(root + "/var/data/scepClient/latest.key", "a data_dir set by hand", 0600);
  WriteFile(root + "/etc/scepd.challenge", "secret", 0600);
  for (const char* tool : {"deb-systemd-helper", "update-rc.d", "systemctl"}) {
    WriteFile(dir.File(std::string("bin/") + tool),
              std::string("#!/bin/sh\necho \"") + tool + " $*\" >>" + dir.File("calls") + "\n",
              0755);
  }
  const std::vector<std::string> env = {"DPKG_ROOT=" + root,
                                        "PATH=" + dir.File("bin") + ":/usr/bin:/bin"};
  auto remove = RunProcess({"/bin/sh", Src("packaging/deb/postrm"), "remove"}, env);
  ASSERT_EQ(remove.exit_code, 0) << Describe(remove);
  EXPECT_TRUE(PathExists(root + "/var/lib/scepd/latest.key")) << "remove keeps the keys";
  auto purge = RunProcess({"/bin/sh", Src("packaging/deb/postrm"), "purge"}, env);
  ASSERT_EQ(purge.exit_code, 0) << Describe(purge);
  EXPECT_FALSE(PathExists(root + "/var/lib/scepd"));
  EXPECT_FALSE(PathExists(root + "/run/scepd"));
  EXPECT_TRUE(PathExists(root + "/var/lib/other/keep"));
  EXPECT_TRUE(PathExists(root + "/var/data/scepClient/latest.key"));
  EXPECT_TRUE(PathExists(root + "/etc/scepd.challenge"));
  EXPECT_TRUE(PathExists(root + "/var/lib") && PathExists(root + "/run"));
  const std::string calls = ReadFile(dir.File("calls"));
  EXPECT_TRUE(Contains(calls, "deb-systemd-helper purge scepd.service\n")) << calls;
  // Under DPKG_ROOT nothing touches the running system's init.
  EXPECT_FALSE(Contains(calls, "update-rc.d")) << calls;
  EXPECT_FALSE(Contains(calls, "systemctl")) << calls;
}

// ---- Router App archive ----------------------------------------------------------------

TEST(RouterApp, ArchiveHasTheSeedLayout) {
  TempDir dir("scepd-router-app-");
  const std::string archive = dir.File("scepClient.tar.gz");
  // A development tree links inih, spdlog and libstdc++ as shared
  // libraries; the router builds (SCEPD_SIZE_OPT) link them in.
  const bool self_contained =
      SCEPD_TEST_STATIC_SPDLOG && SCEPD_TEST_STATIC_INIH && SCEPD_TEST_STATIC_LIBSTDCXX;
  std::vector<std::string> argv = {Src("packaging/router-app.sh"), "-B", kBuild, "-o", archive};
  if (!self_contained) argv.push_back("--any-libraries");
  auto build = RunProcess(argv, {}, 120000);
  ASSERT_EQ(build.exit_code, 0) << Describe(build);
  auto list = RunProcess({"tar", "-tvzf", archive});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  for (const char* path :
       {"opt/scepClient/bin/scepd", "opt/scepClient/bin/sscep", "opt/scepClient/bin/est-client",
        "opt/scepClient/bin/check-cert.sh",
        "opt/scepClient/bin/scep_replace_pem", "opt/scepClient/bin/mkrequest",
        "opt/scepClient/etc/init",
        "opt/scepClient/www/cgi-bin/scepd.cgi"}) {
    EXPECT_TRUE(std::regex_search(list.out, std::regex(std::string("-rwxr-xr-x 0/0 .* ") + path +
                                                      "\n")))
        << path << "\n" << list.out;
  }
  for (const char* path : {"opt/scepClient/etc/scepd.conf", "opt/scepClient/etc/scepd.router.conf",
                           "opt/scepClient/www/httpd.conf", "opt/scepClient/www/lighttpd.conf"}) {
    EXPECT_TRUE(std::regex_search(list.out, std::regex(std::string("-rw-r--r-- 0/0 .* ") + path +
                                                      "\n")))
        << path << "\n" << list.out;
  }

  // scep-client (the Tectia command line) is the same program as sscep.
  EXPECT_TRUE(Contains(list.out, " opt/scepClient/bin/scep-client -> sscep\n")) << list.out;
  EXPECT_TRUE(Contains(list.out, " opt/scepClient/bin/cmp-client -> sscep\n")) << list.out;

  const std::string root = dir.File("root");
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  auto x = RunProcess({"tar", "-C", root, "-xzf", archive});
  ASSERT_EQ(x.exit_code, 0) << Describe(x);
  const std::string app = root + "/opt/scepClient";
  auto version = RunProcess(TargetCommand({app + "/bin/scepd", "--version"}));
  EXPECT_EQ(version.out, "scepd " SCEPD_VERSION "\nLicense: Apache-2.0\n") << Describe(version);
  auto check = RunProcess(
      TargetCommand({app + "/bin/scepd", "--check-config", "-c", app + "/etc/scepd.conf"}));
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  // Seed 003's directories, not the Debian package's.
  EXPECT_TRUE(Contains(check.out, "data_dir = /var/data/scepClient\n")) << check.out;
  EXPECT_TRUE(Contains(check.out, "run_dir = /var/run/scepClient\n")) << check.out;
  // The init script and the scripts default to the app's own settings.
  const std::string init = ReadFile(app + "/etc/init");
  EXPECT_TRUE(Contains(init, "SCEPD_BIN=${SCEPD_BIN:-/opt/scepClient/bin/scepd}")) << init;
  EXPECT_TRUE(Contains(init, "SCEPD_CONF=${SCEPD_CONF:-/opt/scepClient/etc/scepd.conf}"));
  EXPECT_TRUE(Contains(ReadFile(app + "/bin/check-cert.sh"),
                       "${SCEPD_CONF:-/opt/scepClient/etc/scepd.conf}"));
  EXPECT_TRUE(Contains(ReadFile(app + "/bin/scep_replace_pem"),
                       "${SCEPD_CONF:-/opt/scepClient/etc/scepd.conf}"));
  // The web server examples point at the app; the pages find its settings.
  EXPECT_TRUE(Contains(ReadFile(app + "/www/httpd.conf"),
                       "SCEPD_CONFIG=/opt/scepClient/etc/scepd.conf busybox httpd"));
  EXPECT_TRUE(Contains(ReadFile(app + "/www/lighttpd.conf"), "/opt/scepClient/www/cgi-bin/"));
  auto page = RunProcess(TargetCommand({app + "/www/cgi-bin/scepd.cgi"}),
                         {"REQUEST_METHOD=GET", "QUERY_STRING=page=config", "SCEPD_CONFIG="});
  EXPECT_TRUE(Contains(page.out, "<code>/opt/scepClient/etc/scepd.conf</code>") ||
              Contains(page.out, "<code>" + app + "/etc/scepd.conf</code>"))
      << Describe(page);
  auto sc = RunProcess({"shellcheck", "-s", "sh", app + "/etc/init"});
  EXPECT_EQ(sc.exit_code, 0) << Describe(sc);
  EXPECT_EQ(ReadFile(app + "/LICENSE"), ReadFile(Src("LICENSE")));

  // Every ELF file's NEEDED entries: only what a firmware provides (libc,
  // the dynamic linker, e.g. mipsel's ld.so.1, libcrypto; libcurl is loaded
  // on first use), plus, in a development
  // tree, exactly the libraries it was configured to link shared.
  std::string firmware = "libc\\.so|libm\\.so|libdl\\.so|libpthread\\.so|librt\\.so|"
                         "ld-linux[^ ]*\\.so|ld\\.so|ld-musl[^ ]*\\.so|libcrypto\\.so|libcurl\\.so";
  if (!SCEPD_TEST_STATIC_INIH) firmware += "|libinih\\.so";
  if (!SCEPD_TEST_STATIC_SPDLOG) firmware += "|libspdlog\\.so|libfmt\\.so";
  if (!SCEPD_TEST_STATIC_LIBSTDCXX) firmware += "|libstdc\\+\\+\\.so|libgcc_s\\.so";
  if (SCEPD_TEST_SANITIZED) firmware += "|libasan\\.so|libubsan\\.so";
  const std::regex allowed("^(" + firmware + ")");
  auto files = Sh("find " + ShellQuote(root) + " -type f");
  std::istringstream paths(files.out);
  std::string path;
  int elf_files = 0;
  while (std::getline(paths, path)) {
    if (ReadFile(path).compare(0, 4, "\x7f" "ELF") != 0) continue;
    ++elf_files;
    auto dynamic = RunProcess({"readelf", "-d", path});
    ASSERT_EQ(dynamic.exit_code, 0) << Describe(dynamic);
    std::regex needed_re("\\(NEEDED\\)[^\\[]*\\[([^\\]]+)\\]");
    int needed = 0;
    for (auto it = std::sregex_iterator(dynamic.out.begin(), dynamic.out.end(), needed_re);
         it != std::sregex_iterator(); ++it, ++needed) {
      EXPECT_TRUE(std::regex_search((*it)[1].str(), allowed))
          << path << " needs " << (*it)[1] << ", which a router's firmware lacks";
    }
    EXPECT_GT(needed, 0) << path << ": no NEEDED entries read\n" << dynamic.out;
  }
  EXPECT_EQ(elf_files, 4) << "scepd, sscep, est-client and www/cgi-bin/scepd.cgi";
  EXPECT_TRUE(Contains(build.out, "router-app: the binaries need ")) << build.out;
}

TEST(RouterApp, RefusesALibraryTheFirmwareLacks) {
  if (SCEPD_TEST_STATIC_SPDLOG && SCEPD_TEST_STATIC_INIH && SCEPD_TEST_STATIC_LIBSTDCXX) {
    GTEST_SKIP() << "this build links every such library in (ArchiveHasTheSeedLayout checks it)";
  }
  TempDir dir("scepd-router-app-");
  auto build = RunProcess({Src("packaging/router-app.sh"), "-B", kBuild, "-o",
                           dir.File("scepClient.tar.gz")}, {}, 120000);
  EXPECT_EQ(build.exit_code, 1) << Describe(build);
  EXPECT_TRUE(std::regex_search(build.err, std::regex("needs lib[a-z+_]+\\.so[.0-9]*, which a router's firmware lacks")))
      << Describe(build);
  EXPECT_FALSE(PathExists(dir.File("scepClient.tar.gz")));
}

}  // namespace
}  // namespace scepd::testing
