// scepd under systemd's Type=notify: what it sends to $NOTIFY_SOCKET when it
// is ready, reloads on SIGHUP and stops on SIGTERM (io/service_notifier.h),
// received on a real AF_UNIX datagram socket.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/built_binary.h"
#include "tests/support/notify_socket.h"
#include "tests/support/process.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");

TEST(ScepdNotify, ReadyReloadingReadyStopping) {
  TempDir dir("scepd-notify-");
  WriteFile(dir.File("scepd.conf"), "[scepd]\nenabled = no\ndata_dir = " + dir.File("data") +
                                        "\nrun_dir = " + dir.File("run") +
                                        "\nlog_target = stderr\n");
  NotifySocket socket(dir.File("notify"));
  ASSERT_TRUE(socket.bound());
  BackgroundProcess scepd;
  ASSERT_TRUE(scepd.Start({kScepd, "-c", dir.File("scepd.conf")}, dir.File("log"),
                          {"NOTIFY_SOCKET=" + dir.File("notify")}));
  const int wait = ScaledTimeout(10000);
  EXPECT_EQ(socket.Receive(wait), "READY=1") << ReadFile(dir.File("log"));
  // Ready means the pid file is there (the SysV script and check-cert.sh
  // rely on it).
  EXPECT_TRUE(PathExists(dir.File("run/scepd.pid")));

  ASSERT_TRUE(scepd.Signal(SIGHUP));
  const std::string reloading = socket.Receive(wait);
  EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
  EXPECT_EQ(socket.Receive(wait), "READY=1");

  ASSERT_TRUE(scepd.Signal(SIGTERM));
  EXPECT_EQ(socket.Receive(wait), "STOPPING=1");
  EXPECT_EQ(scepd.Wait(wait), 0) << ReadFile(dir.File("log"));
  EXPECT_EQ(socket.Receive(200), "<none>") << "one message per state";
}

TEST(ScepdNotify, AnUnreachableSocketIsLoggedNotFatal) {
  TempDir dir("scepd-notify-");
  WriteFile(dir.File("scepd.conf"), "[scepd]\nenabled = no\ndata_dir = " + dir.File("data") +
                                        "\nrun_dir = " + dir.File("run") +
                                        "\nlog_target = stderr\n");
  BackgroundProcess scepd;
  ASSERT_TRUE(scepd.Start({kScepd, "-c", dir.File("scepd.conf")}, dir.File("log"),
                          {"NOTIFY_SOCKET=" + dir.File("absent")}));
  const std::string expected = "cannot notify the service manager at " + dir.File("absent");
  std::string log;
  for (int waited = 0; waited < ScaledTimeout(10000); waited += 50) {
    log = TryReadFile(dir.File("log")).value_or("");
    if (log.find(expected) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(log.find(expected), std::string::npos) << log;
  EXPECT_TRUE(scepd.Running());
  ASSERT_TRUE(scepd.Signal(SIGTERM));
  EXPECT_EQ(scepd.Wait(ScaledTimeout(10000)), 0);
}

}  // namespace
}  // namespace scepd::testing
