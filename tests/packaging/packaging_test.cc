// The router integration files: init scripts (shellcheck, the SysV script
// driving a real scepd under dash and busybox, the procd script against stub
// procd functions), the systemd unit (systemd-analyze verify), the manual
// pages (rendered without warnings), the example settings (scepd
// --check-config), the Debian package (cpack of this build tree, inspected
// and unpacked), the Router App archive and the OpenWrt Makefile's
// references.

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
                       Src("packaging/deb/postinst"), Src("packaging/deb/prerm")});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  auto bash = RunProcess({"shellcheck", Src("packaging/router-app.sh")});
  EXPECT_EQ(bash.exit_code, 0) << Describe(bash);
}

TEST(InitScripts, ProcdScriptSetsUpInstanceReloadAndTriggers) {
  // Stub procd functions that print their calls; rc.common is not needed to
  // source the script (its shebang line is a comment then).
  const std::string stubs = R"(
procd_open_instance() { echo "open $*"; }
procd_set_param() { echo "param $*"; }
procd_close_instance() { echo "close"; }
procd_send_signal() { echo "signal $*"; }
procd_add_reload_trigger() { echo "reload-trigger $*"; }
procd_add_raw_trigger() { echo "raw-trigger $*"; }
)";
  auto r = Sh(stubs + ". " + ShellQuote(Src("init/scepd.procd")) +
              "\necho \"START=$START USE_PROCD=$USE_PROCD\"\nstart_service\nreload_service\n"
              "check\nservice_triggers\n");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(Contains(r.out, "START=95 USE_PROCD=1")) << r.out;
  EXPECT_TRUE(Contains(r.out, "param command /usr/sbin/scepd -c /etc/scepd.conf\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "param respawn")) << r.out;
  EXPECT_TRUE(Contains(r.out, "param stderr 1")) << r.out;
  EXPECT_TRUE(Contains(r.out, "param file /etc/scepd.conf")) << r.out;
  EXPECT_TRUE(Contains(r.out, "signal scepd * HUP")) << r.out;
  EXPECT_TRUE(Contains(r.out, "signal scepd * USR1")) << r.out;
  EXPECT_TRUE(Contains(r.out, "reload-trigger scepd")) << r.out;
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
       {"Type=simple\n", "ExecStart=/usr/sbin/scepd -c /etc/scepd.conf\n",
        "ExecReload=/bin/kill -HUP $MAINPID\n", "Restart=on-failure\n", "NoNewPrivileges=yes\n",
        "ProtectSystem=strict\n", "ProtectHome=yes\n", "PrivateTmp=yes\n",
        "RuntimeDirectory=scepClient\n", "ReadWritePaths=/var/data/scepClient\n",
        "WantedBy=multi-user.target\n"}) {
    EXPECT_TRUE(Contains(unit, line)) << "missing: " << line;
  }
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

// ---- manual pages ---------------------------------------------------------------

const std::vector<std::string> kManPages = {"scepd.8", "scepd.conf.5", "sscep.1",
                                            "scep_replace_pem.1", "check-cert.sh.8",
                                            "est-client.1"};

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
  for (const char* code : {"\n.B 89\n", "\n.B 91\n", "\n.B 93\n", "\n.B 95\n", "\n.B 97\n"}) {
    EXPECT_TRUE(Contains(sscep, code)) << code;
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

TEST(OpenWrtDefaults, Load) {
  auto r = RunProcess(
      {kScepd, "--check-config", "-c", Src("packaging/openwrt/files/scepd.conf")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(Contains(r.out, "enabled = no")) << r.out;
  // /var is a tmpfs on OpenWrt: keys must live on flash.
  EXPECT_TRUE(Contains(r.out, "data_dir = /etc/")) << r.out;
}

// ---- OpenWrt package ---------------------------------------------------------------

TEST(OpenWrtMakefile, ReferencesExistingFiles) {
  const std::string mk = ReadFile(Src("packaging/openwrt/Makefile"));
  EXPECT_TRUE(Contains(mk, "UNTESTED")) << "the header must say it was never built";
  EXPECT_TRUE(Contains(mk, "include $(INCLUDE_DIR)/cmake.mk"));
  EXPECT_TRUE(Contains(mk, "PKG_VERSION:=" SCEPD_VERSION "\n"));
  EXPECT_TRUE(Contains(mk, "$(eval $(call BuildPackage,scepd))"));
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
           {"-rwxr-xr-x", "./usr/bin/check-cert.sh"},
           {"-rwxr-xr-x", "./usr/bin/scep_replace_pem"},
           {"-rw-r--r--", "./etc/scepd.conf"},
           {"-rwxr-xr-x", "./etc/init.d/scepd"},
           {"-rw-r--r--", "./usr/lib/systemd/system/scepd.service"},
           {"-rw-r--r--", "./usr/share/man/man8/scepd.8"},
           {"-rw-r--r--", "./usr/share/man/man5/scepd.conf.5"},
           {"-rw-r--r--", "./usr/share/man/man1/sscep.1"},
           {"-rw-r--r--", "./usr/share/man/man1/scep_replace_pem.1"},
           {"-rw-r--r--", "./usr/share/man/man8/check-cert.sh.8"},
           {"-rw-r--r--", "./usr/share/doc/scepd/examples/scepd.router.conf"},
       }) {
    std::regex re(std::string("(^|\n)") + std::regex_replace(e.mode, std::regex("[-]"), "\\-") +
                  " root/root +[0-9]+ [0-9-]+ [0-9:]+ " +
                  std::regex_replace(e.path, std::regex("[.]"), "\\.") + "\n");
    EXPECT_TRUE(std::regex_search(list.out, re)) << e.mode << " " << e.path << "\n" << list.out;
  }
  EXPECT_FALSE(Contains(list.out, "./usr/etc")) << list.out;

  auto info = RunProcess({"dpkg-deb", "-I", deb});
  ASSERT_EQ(info.exit_code, 0) << Describe(info);
  EXPECT_TRUE(Contains(info.out, " Package: scepd\n")) << info.out;
  for (const char* dep : {"libssl3", "libcurl4", "libinih1"}) {
    EXPECT_TRUE(std::regex_search(info.out, std::regex(std::string(" Depends: .*") + dep)))
        << dep << "\n" << info.out;
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
  EXPECT_EQ(version.out, "scepd " SCEPD_VERSION "\n");
  auto usage = RunProcess(TargetCommand({root + "/usr/bin/sscep"}));
  EXPECT_EQ(usage.exit_code, 1) << Describe(usage);
  EXPECT_TRUE(Contains(usage.out + usage.err, "Usage")) << Describe(usage);
  auto check = RunProcess(
      TargetCommand({root + "/usr/sbin/scepd", "--check-config", "-c", root + "/etc/scepd.conf"}));
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  auto man = RunProcess({"man", "--warnings", "-l", root + "/usr/share/man/man8/scepd.8"},
                        {"MANWIDTH=80"});
  EXPECT_EQ(man.exit_code, 0) << Describe(man);
}

// ---- Router App archive ----------------------------------------------------------------

TEST(RouterApp, ArchiveHasTheSeedLayout) {
  TempDir dir("scepd-router-app-");
  const std::string archive = dir.File("scepClient.tar.gz");
  auto build = RunProcess({Src("packaging/router-app.sh"), "-B", kBuild, "-o", archive}, {},
                          120000);
  ASSERT_EQ(build.exit_code, 0) << Describe(build);
  auto list = RunProcess({"tar", "-tvzf", archive});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  for (const char* path :
       {"opt/scepClient/bin/scepd", "opt/scepClient/bin/sscep", "opt/scepClient/bin/check-cert.sh",
        "opt/scepClient/bin/scep_replace_pem", "opt/scepClient/etc/init"}) {
    EXPECT_TRUE(std::regex_search(list.out, std::regex(std::string("-rwxr-xr-x 0/0 .* ") + path +
                                                      "\n")))
        << path << "\n" << list.out;
  }
  for (const char* path : {"opt/scepClient/etc/scepd.conf", "opt/scepClient/etc/scepd.router.conf"}) {
    EXPECT_TRUE(std::regex_search(list.out, std::regex(std::string("-rw-r--r-- 0/0 .* ") + path +
                                                      "\n")))
        << path << "\n" << list.out;
  }

  const std::string root = dir.File("root");
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  auto x = RunProcess({"tar", "-C", root, "-xzf", archive});
  ASSERT_EQ(x.exit_code, 0) << Describe(x);
  const std::string app = root + "/opt/scepClient";
  auto version = RunProcess(TargetCommand({app + "/bin/scepd", "--version"}));
  EXPECT_EQ(version.out, "scepd " SCEPD_VERSION "\n") << Describe(version);
  auto check = RunProcess(
      TargetCommand({app + "/bin/scepd", "--check-config", "-c", app + "/etc/scepd.conf"}));
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  // The init script and the scripts default to the app's own settings.
  const std::string init = ReadFile(app + "/etc/init");
  EXPECT_TRUE(Contains(init, "SCEPD_BIN=${SCEPD_BIN:-/opt/scepClient/bin/scepd}")) << init;
  EXPECT_TRUE(Contains(init, "SCEPD_CONF=${SCEPD_CONF:-/opt/scepClient/etc/scepd.conf}"));
  EXPECT_TRUE(Contains(ReadFile(app + "/bin/check-cert.sh"),
                       "${SCEPD_CONF:-/opt/scepClient/etc/scepd.conf}"));
  EXPECT_TRUE(Contains(ReadFile(app + "/bin/scep_replace_pem"),
                       "${SCEPD_CONF:-/opt/scepClient/etc/scepd.conf}"));
  auto sc = RunProcess({"shellcheck", "-s", "sh", app + "/etc/init"});
  EXPECT_EQ(sc.exit_code, 0) << Describe(sc);
}

}  // namespace
}  // namespace scepd::testing
