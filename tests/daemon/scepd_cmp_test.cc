// scepd with protocol = cmp end to end: the real binary against OpenSSL's
// own CMP server (`openssl cmp -port`, tests/support/cmp_server.h) on
// 127.0.0.1. The mock issues nothing: it answers with a fixed certificate,
// so each test makes that certificate for the key it puts into
// data_dir/.next.key (the key made ahead, which the daemon takes). Renewals
// in a row need certificates for new keys: the test CMP server that issues
// (tests/cmp_server) serves them.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "core/ossl.h"
#include "tests/cmp_server/issuing_cmp_server.h"
#include "tests/support/built_binary.h"
#include "tests/support/cmp_server.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/scepd_conf.h"
#include "tests/support/test_pki.h"
#include "tests/support/tinyproxy.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");
constexpr char kSubject[] = "/O=scepd test/CN=router-A1B2";  // the conf's, SN = A1B2
constexpr char kSecret[] = "pbm-Secret-4711";

// Answers every request on 127.0.0.1 with HTTP 200, the CMP content type
// and bytes that are no PKIMessage, until destroyed.
class GarbageServer {
 public:
  GarbageServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(fd_, 8) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "garbage server: no socket";
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~GarbageServer() {
    stop_ = true;
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/pkix/"; }
  int requests() const { return requests_; }

 private:
  void Serve() {
    while (!stop_) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      timeval tv{2, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string got;
      char buf[4096];
      // The headers, then Content-Length bytes (bounded by the timeout).
      for (;;) {
        const ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
        const auto end = got.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        const auto cl = got.find("Content-Length: ");
        const std::size_t want = cl == std::string::npos ? 0 : std::stoul(got.substr(cl + 16));
        if (got.size() >= end + 4 + want) break;
      }
      ++requests_;
      const std::string body = "\x30\x82\x7f\xffthis is not a PKIMessage";
      const std::string rsp = "HTTP/1.0 200 OK\r\nContent-Type: application/pkixcmp\r\n"
                              "Content-Length: " + std::to_string(body.size()) +
                              "\r\nConnection: close\r\n\r\n" + body;
      (void)!write(c, rsp.data(), rsp.size());
      close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
};

class ScepdCmpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = MakeTestCa("/CN=Test CA");
    srv_key_ = CachedKey(3);
    CertSpec srv;
    srv.subject = "/CN=CMP server";
    srv.serial = 7;
    srv_cert_ = MakeCert(srv, srv_key_.get(), ca_.cert.get(), ca_.key.get());
    WriteFile(dir_.File("ca.crt"), *ossl::CertToPem(ca_.cert.get()));
    WriteFile(dir_.File("srv.crt"), *ossl::CertToPem(srv_cert_.get()));
    WriteFile(dir_.File("srv.key"), *ossl::PrivateKeyToPem(srv_key_.get()), 0600);
    ASSERT_EQ(mkdir(data().c_str(), 0700), 0);
  }

  std::string data() const { return dir_.File("data"); }
  std::string conf() const { return dir_.File("scepd.conf"); }

  void WriteConfig(const std::string& url, const std::string& secret = kSecret,
                   const std::string& recipient = "/CN=Test CA") {
    ScepdConf c;
    c.data_dir = data();
    c.run_dir = dir_.File("run");
    c.url = url;
    c.challenge = "";
    c.certificate_lines = "protocol = cmp\n"
                          "cmp_reference = 62154\n"
                          "cmp_secret = " + secret + "\n"
                          "recipient = " + recipient + "\n"
                          "renew_days = 30\n"
                          "await_result = 1\n"
                          "success_script = env > " + dir_.File("success.env") + "\n"
                          "failure_script = env > " + dir_.File("failure.env") + "; exit 3\n";
    WriteScepdConf(conf(), c);
  }

  // The certificate the mock will answer with, for `key`, in dir/`name`.
  ossl::Ptr<X509> Issue(const std::string& name, EVP_PKEY* key, long serial,  // NOLINT
                        int days) {
    CertSpec spec;
    spec.subject = kSubject;
    spec.serial = serial;
    spec.not_after = std::time(nullptr) + days * 86400;
    auto cert = MakeCert(spec, key, ca_.cert.get(), ca_.key.get());
    WriteFile(dir_.File(name), *ossl::CertToPem(cert.get()));
    return cert;
  }

  void PlaceNextKey(EVP_PKEY* key) {
    WriteFile(data() + "/.next.key", *ossl::PrivateKeyToPem(key), 0600);
  }

  std::vector<std::string> MacServer(const std::string& rsp_cert) {
    return {"-srv_ref", "62154", "-srv_secret", std::string("pass:") + kSecret,
            "-rsp_cert", rsp_cert, "-rsp_extracerts", "ca.crt", "-rsp_capubs", "ca.crt"};
  }

  bool Installed(X509* expected) {
    auto text = TryReadFile(data() + "/latest.crt");
    if (!text) return false;
    auto got = ossl::CertFromPem(*text, "latest.crt");
    return got.ok() && X509_cmp(got->get(), expected) == 0;
  }

  ProcessResult Once() { return RunProcess({kScepd, "-c", conf(), "--once"}, {}, 120000); }

  TempDir dir_;
  TestCa ca_;
  ossl::Ptr<EVP_PKEY> srv_key_;
  ossl::Ptr<X509> srv_cert_;
};

TEST_F(ScepdCmpTest, EnrollsWithIrAndPbmThenRenewsWithKurWhilePolling) {
  auto key1 = CachedKey(1);
  auto cert1 = Issue("ee1.crt", key1.get(), 10, 10);  // inside renew_days: the next run renews
  std::string error;
  {
    OpenSslCmpServer server(dir_.path());
    ASSERT_TRUE(server.Start(MacServer("ee1.crt"), &error)) << error;
    WriteConfig(server.url());
    PlaceNextKey(key1.get());
    auto r = Once();
    ASSERT_EQ(r.exit_code, 0) << r.err << server.log();
    EXPECT_NE(r.err.find("sending ir"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(kSecret), std::string::npos) << "the secret reached the log";
    EXPECT_TRUE(Installed(cert1.get()));
    // The chain from caPubs/extraCerts: the CA, once.
    auto ca0 = ossl::CertFromPem(ReadFile(data() + "/ca.crt-0"), "ca.crt-0");
    ASSERT_TRUE(ca0.ok());
    EXPECT_EQ(X509_cmp(ca0->get(), ca_.cert.get()), 0);
    EXPECT_FALSE(PathExists(data() + "/ca.crt-1"));
    const std::string env = ReadFile(dir_.File("success.env"));
    EXPECT_NE(env.find("SCEP_PROTOCOL=cmp"), std::string::npos) << env;
    EXPECT_EQ(env.find(kSecret), std::string::npos) << "the secret reached the script";
  }
  // The renewal: a kur signed with the current pair, answered `waiting`
  // twice (the mock wants the old certificate's issuer and serial in it).
  auto key2 = CachedKey(2);
  auto cert2 = Issue("ee2.crt", key2.get(), 10, 60);
  OpenSslCmpServer server(dir_.path());
  ASSERT_TRUE(server.Start({"-srv_cert", "srv.crt", "-srv_key", "srv.key", "-srv_trusted",
                            "ca.crt", "-rsp_cert", "ee2.crt", "-rsp_extracerts", "ca.crt",
                            "-poll_count", "3", "-check_after", "1"},
                           &error))
      << error;
  WriteConfig(server.url());
  PlaceNextKey(key2.get());
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err << server.log();
  EXPECT_NE(r.err.find("sending kur"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("PENDING"), std::string::npos) << r.err;
  EXPECT_TRUE(Installed(cert2.get()));
  EXPECT_NE(ReadFile(dir_.File("success.env")).find("renewed"), std::string::npos);
  EXPECT_FALSE(PathExists(data() + "/.pending/state"));
  ExpectReliabilityRow("cmp.renew-polling", r.err + ReadFile(dir_.File("success.env")));
}

TEST_F(ScepdCmpTest, WrongSecretFailsClearlyWritesNothingAndRunsTheFailureScript) {
  auto key1 = CachedKey(1);
  Issue("ee1.crt", key1.get(), 10, 60);
  OpenSslCmpServer server(dir_.path());
  std::string error;
  ASSERT_TRUE(server.Start(MacServer("ee1.crt"), &error)) << error;
  WriteConfig(server.url(), "Not-The-Secret-99");
  PlaceNextKey(key1.get());
  auto r = Once();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("wrong reference number or secret"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Not-The-Secret-99"), std::string::npos) << "the secret reached the log";
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));
  EXPECT_FALSE(PathExists(data() + "/latest.key"));
  EXPECT_FALSE(PathExists(data() + "/ca.crt-0"));
  const std::string env = ReadFile(dir_.File("failure.env"));
  EXPECT_NE(env.find("SCEP_PROTOCOL=cmp"), std::string::npos) << env;
  EXPECT_NE(env.find("wrong reference number or secret"), std::string::npos) << env;
  EXPECT_EQ(env.find("Not-The-Secret-99"), std::string::npos);
  ExpectReliabilityRow("cmp.wrong-secret", r.err + env);
}

TEST_F(ScepdCmpTest, ServerAnsweringGarbageIsAFailureAndWritesNothing) {
  GarbageServer server;
  WriteConfig(server.url());
  auto r = Once();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_GE(server.requests(), 1);
  EXPECT_NE(r.err.find("not a DER PKIMessage"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));
  const std::string env = ReadFile(dir_.File("failure.env"));
  EXPECT_NE(env.find("not a DER PKIMessage"), std::string::npos);
  ExpectReliabilityRow("cmp.garbage", r.err + env);
}

TEST_F(ScepdCmpTest, CertificateForAnotherKeyIsRefusedAndNothingInstalled) {
  auto key1 = CachedKey(1);
  Issue("ee1.crt", key1.get(), 10, 60);
  OpenSslCmpServer server(dir_.path());
  std::string error;
  ASSERT_TRUE(server.Start(MacServer("ee1.crt"), &error)) << error;
  WriteConfig(server.url());
  PlaceNextKey(CachedKey(4).get());  // the request's key; the mock answers for key 1
  auto r = Once();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));
  EXPECT_FALSE(PathExists(data() + "/ca.crt-0"));
  const std::string env = ReadFile(dir_.File("failure.env"));
  ExpectReliabilityRow("cmp.issued-other-key", r.err + env);
}

TEST_F(ScepdCmpTest, CaFromTheAnswerMustMatchTheFingerprint) {
  auto key1 = CachedKey(1);
  Issue("ee1.crt", key1.get(), 10, 60);
  OpenSslCmpServer server(dir_.path());
  std::string error;
  ASSERT_TRUE(server.Start(MacServer("ee1.crt"), &error)) << error;
  WriteConfig(server.url());
  WriteFile(conf(), ReadFile(conf()) + "ca_fingerprint = sha256:" + std::string(62, '0') + "ab\n");
  PlaceNextKey(key1.get());
  auto r = Once();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("not installed"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));
  EXPECT_FALSE(PathExists(data() + "/ca.crt-0"));
  EXPECT_FALSE(PathExists(data() + "/.pending/state"));
  ExpectReliabilityRow("cmp.pinned-ca-mismatch", r.err + ReadFile(dir_.File("failure.env")));
}

TEST_F(ScepdCmpTest, RestartWhilePendingStartsOver) {
  auto key1 = CachedKey(1);
  auto cert1 = Issue("ee1.crt", key1.get(), 10, 60);
  std::string error, state_text, old_server_url;
  {
    OpenSslCmpServer server(dir_.path());
    auto args = MacServer("ee1.crt");
    args.insert(args.end(), {"-poll_count", "50", "-check_after", "1"});
    ASSERT_TRUE(server.Start(args, &error)) << error;
    old_server_url = server.url();
    WriteConfig(server.url());
    PlaceNextKey(key1.get());
    BackgroundProcess d;
    ASSERT_TRUE(d.Start({kScepd, "-c", conf()}, dir_.File("scepd1.log")));
    const std::string state = data() + "/.pending/state";
    ASSERT_TRUE(WaitFor([&] {
      const std::string text = TryReadFile(state).value_or("");
      const auto at = text.find("\npolls=");
      return at != std::string::npos && text.compare(at, 9, "\npolls=0\n") != 0;
    }, 30000)) << TryReadFile(state).value_or("(no state file)");
    d.Signal(SIGKILL);
    d.Wait(30000);
    state_text = ReadFile(state);
    EXPECT_NE(state_text.find("cookie.resumable=no"), std::string::npos) << state_text;
  }
  // Another server (the old one's waiting transaction died with the
  // client); the same key is made ahead again so its answer fits.
  OpenSslCmpServer server(dir_.path());
  ASSERT_TRUE(server.Start(MacServer("ee1.crt"), &error)) << error;
  WriteConfig(server.url());
  PlaceNextKey(key1.get());
  // The same CA, come back on another port: the saved transaction names the
  // URL it was sent to (a transaction for another URL is set aside as not
  // ours, hardening.pending-state), so it is told the new one.
  const std::string state = data() + "/.pending/state";
  const std::string old_url = "\nurl=" + old_server_url + "\n";
  std::string moved = ReadFile(state);
  const auto at = moved.find(old_url);
  ASSERT_NE(at, std::string::npos) << moved;
  moved.replace(at, old_url.size(), "\nurl=" + server.url() + "\n");
  WriteFile(state, moved, 0600);
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err << server.log();
  EXPECT_NE(r.err.find("cannot be polled by this process"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sending ir"), std::string::npos) << r.err;
  EXPECT_TRUE(Installed(cert1.get()));
  ExpectReliabilityRow("cmp.restart-pending", state_text + r.err);
}

TEST_F(ScepdCmpTest, RenewsTwiceInARowWithKurAgainstAServerThatIssues) {
  IssuingCmpServer server;  // certificates live a day: every run renews
  ASSERT_TRUE(server.ok());
  WriteConfig(server.url(), "cmp-test-secret", "/O=CMP Test/CN=CMP Test CA");
  WriteFile(conf(), ReadFile(conf()) + "key_size = 1024\n");  // three keys: keep them quick
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err << server.log();
  EXPECT_NE(r.err.find("sending ir"), std::string::npos) << r.err;
  std::vector<std::string> serials = {LinkTarget(data() + "/latest.crt")};
  std::string observed;
  for (int renewal = 1; renewal <= 2; ++renewal) {
    SCOPED_TRACE("renewal " + std::to_string(renewal));
    // The key for it was made ahead of time by the run before.
    ASSERT_TRUE(PathExists(data() + "/.next.key"));
    auto next_key = ossl::PrivateKeyFromPem(ReadFile(data() + "/.next.key"), ".next.key");
    ASSERT_TRUE(next_key.ok());
    // The second kur is answered `waiting`, then its first pollReq too
    // (OpenSSL polls once at once): one PENDING, a second pollReq issues.
    if (renewal == 2) server.SetWaiting(2);
    r = Once();
    ASSERT_EQ(r.exit_code, 0) << r.err << server.log();
    EXPECT_NE(r.err.find("sending kur"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("made ahead of time"), std::string::npos) << r.err;
    const std::string crt = LinkTarget(data() + "/latest.crt");
    EXPECT_EQ(std::count(serials.begin(), serials.end(), crt), 0) << crt << " again";
    serials.push_back(crt);
    auto cert = ossl::CertFromPem(ReadFile(data() + "/" + crt), crt);
    ASSERT_TRUE(cert.ok());
    EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert->get()), next_key->get()), 1)
        << "not the key made ahead";
    EXPECT_EQ(X509_verify(cert->get(), X509_get0_pubkey(server.ca_cert())), 1);
    const std::string env = ReadFile(dir_.File("success.env"));
    EXPECT_NE(env.find("SCEP_EVENT=renewed"), std::string::npos) << env;
    observed += r.err + env;
  }
  EXPECT_NE(r.err.find("PENDING"), std::string::npos) << r.err;
  EXPECT_EQ(server.count("ir"), 1);
  EXPECT_EQ(server.count("kur"), 2);
  EXPECT_EQ(server.count("pollReq"), 2);
  EXPECT_EQ(server.issued(), 3);
  EXPECT_FALSE(PathExists(data() + "/.pending/state"));
  ExpectReliabilityRow("cmp.renew-twice", observed);
}

// Issue 22: the legacy provider (single DES for SCEP CAs) is loaded only
// for SCEP: a CMP renewal in the running daemon never maps it, while it
// does map libcurl (what shows that the maps were read after an exchange).
TEST_F(ScepdCmpTest, ACmpRenewalInTheDaemonLeavesTheLegacyProviderUnloaded) {
  IssuingCmpServer server;  // certificates live a day: every start renews
  ASSERT_TRUE(server.ok());
  WriteConfig(server.url(), "cmp-test-secret", "/O=CMP Test/CN=CMP Test CA");
  WriteFile(conf(), ReadFile(conf()) + "key_size = 1024\n");
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err << server.log();
  const std::string log = dir_.File("daemon.log");
  BackgroundProcess d;
  ASSERT_TRUE(d.Start({kScepd, "-c", conf()}, log));
  bool installed = false;
  for (int waited = 0; waited < 60000 && !installed && d.Running(); waited += 20) {
    installed = TryReadFile(log).value_or("").find("installed, valid until") != std::string::npos;
    if (!installed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(installed) << ReadFile(log) << server.log();
  const std::string maps = ReadFile("/proc/" + std::to_string(d.pid()) + "/maps");
  EXPECT_NE(maps.find("/libcurl.so"), std::string::npos) << maps;
  EXPECT_EQ(maps.find("/legacy.so"), std::string::npos) << maps;
  EXPECT_TRUE(d.Signal(SIGTERM));
  EXPECT_EQ(d.Wait(30000), 0) << ReadFile(log);
  EXPECT_EQ(server.count("kur"), 1);
}

// Issue 21: protocol = cmp goes through the proxy setting like SCEP and EST,
// with the credentials from their file (tinyproxy answers 407 without them).
TEST_F(ScepdCmpTest, ProxySettingCarriesTheCmpRequests) {
  IssuingCmpServer server;
  ASSERT_TRUE(server.ok());
  Tinyproxy proxy;
  proxy.RequireCredentials("gw", "pr0xy-pass");
  std::string error;
  ASSERT_TRUE(proxy.Start(dir_.path(), &error)) << error;
  WriteConfig(server.url(), "cmp-test-secret", "/O=CMP Test/CN=CMP Test CA");
  const std::string base = ReadFile(conf()) + "key_size = 1024\nproxy = " + proxy.address() + "\n";
  WriteFile(conf(), base);
  auto refused = Once();
  EXPECT_NE(refused.exit_code, 0) << refused.err;
  // tinyproxy answers 407 and closes while the POST body is still coming:
  // libcurl sees either the 407 or the connection reset.
  EXPECT_NE(refused.err.find("via proxy " + proxy.address()), std::string::npos) << refused.err;
  EXPECT_EQ(server.count("ir"), 0) << "the request went around the proxy";
  EXPECT_FALSE(PathExists(data() + "/latest.crt"));

  WriteFile(dir_.File("proxy-creds"), "gw:pr0xy-pass\n", 0600);
  WriteFile(conf(), base + "proxy_credentials_file = " + dir_.File("proxy-creds") + "\n");
  auto r = Once();
  ASSERT_EQ(r.exit_code, 0) << r.err << server.log();
  EXPECT_EQ(server.count("ir"), 1);
  EXPECT_TRUE(PathExists(data() + "/latest.crt"));
  EXPECT_EQ(r.err.find("pr0xy-pass"), std::string::npos) << "proxy credentials logged";
  proxy.Stop();
  EXPECT_NE(proxy.Log().find("POST " + server.url()), std::string::npos) << proxy.Log();
}

}  // namespace
}  // namespace scepd::testing
