// The pages in a real browser: headless Chromium (Debian's chromium) against
// busybox httpd on 127.0.0.1 running scepd.cgi, with the real daemon and the
// real CA (micromdm scepserver). tests/web/browser_driver.py drives the
// browser over the DevTools protocol and fails on a missing element, a
// JavaScript or console error, or a page that does not change as it should.
// Screenshots go to BUILD/tests/web-artifacts/ (docs/img/status.png is its
// status-renewed.png).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/scep_server.h"

namespace scepd::testing {
namespace {

constexpr char kChromium[] = "/usr/bin/chromium";
constexpr char kBusybox[] = "/bin/busybox";
constexpr char kPython[] = "/usr/bin/python3";



TEST(BrowserTest, ConfigureApplyStatusAndRenewNowInChromium) {
  if (::access(kChromium, X_OK) != 0) {
    GTEST_SKIP() << kChromium << " is not installed (Debian package chromium)";
  }
  if (RunningUnderEmulator()) GTEST_SKIP() << "a browser under qemu-user is too slow";
  ASSERT_EQ(::access(kBusybox, X_OK), 0) << "busybox is a build dependency";
  TempDir dir;
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  const std::string conf = dir.File("scepd.conf"), run = dir.File("run"), data = dir.File("data");
  WriteFile(conf,
            "; written by the browser test\n"
            "[scepd]\n"
            "enabled = yes\n"
            "data_dir = " + data + "\n"
            "run_dir = " + run + "\n"
            "log_target = stderr\n"
            "log_level = debug\n"
            "serial_number = A1B2\n"
            "metrics_file = " + dir.File("scepd.prom") + "\n"
            "\n"
            "[certificate]\n"
            "url = " + ca.url() + "\n"
            "subject = /O=scepd test/CN=router-SN\n"
            "alt_name = DNS:router-SN.example\n"
            "challenge_password = secret\n"
            "; a comment the pages must keep\n",
            0600);
  BackgroundProcess daemon;
  ASSERT_TRUE(daemon.Start({BuiltBinary("daemon/scepd"), "-c", conf}, dir.File("scepd.log")));
  ASSERT_TRUE(WaitFor([&] {
    auto s = TryReadFile(run + "/status");
    return s && s->find("Certificate enrolled") != std::string::npos;
  }, 60000)) << ReadFile(dir.File("scepd.log"));

  // The pages: busybox httpd serving cgi-bin/scepd.cgi, its environment
  // (SCEPD_CONFIG) passed on to the program.
  const std::string www = dir.File("www");
  ASSERT_EQ(::mkdir(www.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((www + "/cgi-bin").c_str(), 0755), 0);
  ASSERT_EQ(::symlink(BuiltBinary("web/scepd.cgi").c_str(), (www + "/cgi-bin/scepd.cgi").c_str()), 0);
  BackgroundProcess httpd;
  int port = -1;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port = FreeLoopbackPort();
    ASSERT_TRUE(httpd.Start({kBusybox, "httpd", "-f", "-p", "127.0.0.1:" + std::to_string(port),
                             "-h", www},
                            dir.File("httpd.log"), {"SCEPD_CONFIG=" + conf}));
    if (WaitFor([&] { return LoopbackHttpGet(port, "/cgi-bin/scepd.cgi").status == 200; }, 3000)) {
      break;
    }
    httpd.Stop();  // the port was taken meanwhile: another one
  }
  ASSERT_TRUE(httpd.Running()) << ReadFile(dir.File("httpd.log"));

  const std::string artifacts = std::string(SCEPD_BINARY_DIR) + "/tests/web-artifacts";
  const auto started = std::chrono::steady_clock::now();
  auto drive = RunProcess({kPython, std::string(SCEPD_SOURCE_DIR) + "/tests/web/browser_driver.py",
                           "http://127.0.0.1:" + std::to_string(port) + "/cgi-bin/scepd.cgi", conf,
                           run, artifacts},
                          {}, 120000);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - started).count();
  std::printf("browser scenario: %lld s\n%s", static_cast<long long>(seconds), drive.out.c_str());
  EXPECT_EQ(drive.exit_code, 0) << drive.out << drive.err << "\nscepd log:\n"
                                << ReadFile(dir.File("scepd.log"));
  EXPECT_LT(seconds, 60);

  // What the browser did is on disk and in the daemon.
  const std::string settings = ReadFile(conf);
  EXPECT_NE(settings.find("renew_days = 45\n"), std::string::npos) << settings;
  EXPECT_NE(settings.find("; a comment the pages must keep\n"), std::string::npos) << settings;
  EXPECT_NE(settings.find("challenge_password = secret\n"), std::string::npos) << settings;
  EXPECT_EQ(Mode(conf), 0600u);
  EXPECT_NE(ReadFile(run + "/status"), "Module scepClient not running\nCertificate enrolled 02\n");
  // Keys stay in data_dir (0700, keys 0600); run_dir holds public files only.
  EXPECT_EQ(Mode(data), 0700u);
  for (const char* f : {"cert.pem", "ca.pem", "status", "status.json", "scepd.json"}) {
    const std::string text = ReadFile(run + "/" + f);
    EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos) << f;
  }
  // The metrics file the daemon keeps, read by Prometheus' own parser.
  auto metrics = RunProcess(
      {kPython, "-c",
       "import sys\nfrom prometheus_client.parser import text_string_to_metric_families\n"
       "n={s.name:s.value for f in text_string_to_metric_families(open(sys.argv[1]).read()) "
       "for s in f.samples if s.labels.get('state') in (None,'idle')}\n"
       "assert n['scepd_certificate_enrolled']==1, n\n"
       "assert n['scepd_certificate_state']==1, n\n"
       "assert n['scepd_certificate_not_after_timestamp_seconds']-45*86400=="
       "n['scepd_certificate_renewal_window_timestamp_seconds'], n\n"
       "assert n['scepd_ca_not_after_timestamp_seconds']>0, n\n"
       "assert n['scepd_certificate_last_success_timestamp_seconds']>0, n\n"
       "print('metrics ok')\n",
       dir.File("scepd.prom")});
  EXPECT_EQ(metrics.exit_code, 0) << metrics.out << metrics.err << ReadFile(dir.File("scepd.prom"));
  for (const char* shot : {"config.png", "config-error.png", "config-protocol-error.png",
                           "config-applied.png", "status.png",
                           "status-renewed.png"}) {
    EXPECT_GT(ReadFile(artifacts + "/" + shot).size(), 1000u) << shot;
  }
  ASSERT_TRUE(daemon.Signal(SIGTERM));
  EXPECT_EQ(daemon.Wait(20000), std::optional<int>(0));
}

}  // namespace
}  // namespace scepd::testing
