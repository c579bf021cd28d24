#include "io/service_notifier.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/support/notify_socket.h"
#include "tests/support/process.h"

namespace scepd {
namespace {

using scepd::testing::NotifySocket;
using scepd::testing::TempDir;

TEST(ServiceNotifier, SendsEachStateAsOneDatagram) {
  TempDir dir("scepd-notify-");
  const std::string path = dir.File("notify");
  NotifySocket socket(path);
  ASSERT_TRUE(socket.bound());
  ServiceNotifier notifier(path);
  EXPECT_TRUE(notifier.enabled());
  ASSERT_TRUE(notifier.Notify("READY=1").ok());
  ASSERT_TRUE(notifier.Notify("STOPPING=1").ok());
  EXPECT_EQ(socket.Receive(), "READY=1");
  EXPECT_EQ(socket.Receive(), "STOPPING=1");
}

TEST(ServiceNotifier, ReachesAnAbstractSocket) {
  const std::string name = "@scepd-notify-test-" + std::to_string(::getpid());
  NotifySocket socket(name);
  ASSERT_TRUE(socket.bound());
  ASSERT_TRUE(ServiceNotifier(name).Notify(ReloadingState()).ok());
  const std::string got = socket.Receive();
  EXPECT_EQ(got.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << got;
  EXPECT_GT(std::atoll(got.c_str() + std::strlen("RELOADING=1\nMONOTONIC_USEC=")), 0);
}

TEST(ServiceNotifier, WithoutSocketDoesNothing) {
  ServiceNotifier none;
  EXPECT_FALSE(none.enabled());
  EXPECT_TRUE(none.Notify("READY=1").ok());
}

TEST(ServiceNotifier, NamesTheSocketItCannotReach) {
  TempDir dir("scepd-notify-");
  auto missing = ServiceNotifier(dir.File("absent")).Notify("READY=1");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(dir.File("absent")), std::string::npos)
      << missing.error().message;
  auto relative = ServiceNotifier("run/notify").Notify("READY=1");
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.error().message.find("run/notify"), std::string::npos);
}

TEST(ServiceNotifier, TakesTheSocketOutOfTheEnvironment) {
  TempDir dir("scepd-notify-");
  const std::string path = dir.File("notify");
  NotifySocket socket(path);
  ASSERT_TRUE(socket.bound());
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ServiceNotifier notifier = ServiceNotifier::FromEnvironment();
  EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr) << "scripts would inherit it";
  ASSERT_TRUE(notifier.Notify("READY=1").ok());
  EXPECT_EQ(socket.Receive(), "READY=1");
}

}  // namespace
}  // namespace scepd
