// CurlTransport against real servers on loopback: cpp-httplib for well-
// behaved HTTP and HTTPS, raw sockets for the ones that stall, trickle, never
// answer or play proxy. Timeouts here are short (2 s) so the suite stays fast.

#include "io/curl_transport.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/ossl.h"
#include "tests/io/loopback.h"
#include "tests/support/reliability_doc.h"

namespace scepd {
namespace {

using io_testing::HttplibRunner;
using io_testing::RawServer;
using io_testing::ReadRequestHead;
using io_testing::TempDir;
using io_testing::UnusedPort;
using io_testing::WriteAll;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

double SecondsSince(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

std::unique_ptr<CurlTransport> MakeTransport(TransportOptions options = {}) {
  auto transport = CurlTransport::Create(std::move(options));
  EXPECT_TRUE(transport.ok()) << transport.error().message;
  return transport.ok() ? std::move(transport).value() : nullptr;
}

HttpRequest Get(const std::string& url) {
  HttpRequest request;
  request.url = url;
  return request;
}

// Sleeps up to `total` in short slices, returning early once `stopping`.
void SleepUnlessStopping(const std::atomic<bool>& stopping, milliseconds total) {
  const auto end = steady_clock::now() + total;
  while (!stopping && steady_clock::now() < end) std::this_thread::sleep_for(milliseconds(20));
}

// A self-signed EC certificate for IP 127.0.0.1 (subjectAltName, which is
// what libcurl checks), and its key.
struct ServerIdentity {
  ossl::Ptr<EVP_PKEY> key;
  ossl::Ptr<X509> cert;
};

ServerIdentity MakeServerIdentity(long serial) {  // NOLINT(runtime/int)
  ServerIdentity id;
  id.key.reset(EVP_EC_gen("P-256"));
  id.cert.reset(X509_new());
  X509* cert = id.cert.get();
  if (!id.key || !cert) return id;
  X509_NAME* name = X509_get_subject_name(cert);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ossl::Ptr<X509_EXTENSION> san(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1"));
  const bool ok =
      X509_set_version(cert, X509_VERSION_3) == 1 &&
      ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) == 1 &&
      X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert), 86400) != nullptr &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1,
                                 0) == 1 &&
      X509_set_issuer_name(cert, name) == 1 && X509_set_pubkey(cert, id.key.get()) == 1 &&
      san != nullptr && X509_add_ext(cert, san.get(), -1) == 1 &&
      X509_sign(cert, id.key.get(), EVP_sha256()) > 0;
  if (!ok) id.cert.reset();
  return id;
}

bool WritePem(X509* cert, const std::string& path) {
  ossl::Ptr<BIO> bio(BIO_new_file(path.c_str(), "w"));
  return bio && PEM_write_bio_X509(bio.get(), cert) == 1;
}

constexpr char kPkiMessage[] = "application/x-pki-message";

// A well-behaved server with one route per case, fresh for every test.
class CurlTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/scep", [this](const httplib::Request& req, httplib::Response& res) {
      ++scep_gets_;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        last_query_operation_ = req.get_param_value("operation");
        remote_ports_.push_back(req.remote_port);
      }
      res.set_content("hello", "Application/X-PKI-Message; charset=x");
    });
    server_.Post("/scep", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        posted_body_ = req.body;
        posted_type_ = req.get_header_value("Content-Type");
        posted_expect_ = req.get_header_value("Expect");
      }
      res.set_content("ok", kPkiMessage);
    });
    server_.Get("/fail", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("boom", "text/plain");
    });
    server_.Get("/moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/scep");
    });
    server_.Get("/sized", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(std::string(std::stoul(req.get_param_value("n")), 'b'), kPkiMessage);
    });
    // Streams up to 64 MiB in chunks without a Content-Length, counting what
    // it managed to hand over before the client hung up.
    server_.Get("/endless", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider(
          kPkiMessage,
          [this](std::size_t, httplib::DataSink& sink) {
            const std::string chunk(16 * 1024, 'e');
            for (int i = 0; i < kEndlessChunks; ++i) {
              if (!sink.write(chunk.data(), chunk.size())) break;
              ++endless_chunks_sent_;
            }
            endless_done_ = true;
            return false;
          });
    });
    server_.set_tcp_nodelay(true);  // no Nagle pauses between head and body
    runner_ = std::make_unique<HttplibRunner>(server_);
    ASSERT_TRUE(runner_->ok()) << "cannot start the loopback HTTP server";
    base_ = "http://127.0.0.1:" + std::to_string(runner_->port());
  }

  void TearDown() override { runner_.reset(); }

  static constexpr int kEndlessChunks = 4096;
  httplib::Server server_;
  std::unique_ptr<HttplibRunner> runner_;
  std::string base_;
  std::mutex mutex_;
  std::string last_query_operation_;
  std::vector<int> remote_ports_;
  std::string posted_body_;
  std::string posted_type_;
  std::string posted_expect_;
  std::atomic<int> scep_gets_{0};
  std::atomic<int> endless_chunks_sent_{0};
  std::atomic<bool> endless_done_{false};
};

TEST_F(CurlTransportTest, GetReturnsBodyAndNormalisedContentType) {
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  auto response = transport->Send(Get(base_ + "/scep?operation=GetCACaps&message=x"));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "application/x-pki-message");
  EXPECT_EQ(ToString(response->body), "hello");
  std::lock_guard<std::mutex> lock(mutex_);
  EXPECT_EQ(last_query_operation_, "GetCACaps");
}

TEST_F(CurlTransportTest, PostSendsBodyByteExactWithContentType) {
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  HttpRequest request;
  request.method = HttpRequest::Method::kPost;
  request.url = base_ + "/scep?operation=PKIOperation";
  request.content_type = kPkiMessage;
  // Every byte value, NULs included, and large enough that libcurl would
  // otherwise ask for "Expect: 100-continue".
  for (int i = 0; i < 300 * 256; ++i) request.body.push_back(static_cast<std::uint8_t>(i % 256));
  auto response = transport->Send(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(ToString(response->body), "ok");
  std::lock_guard<std::mutex> lock(mutex_);
  EXPECT_EQ(posted_body_, ToString(request.body));
  EXPECT_EQ(posted_type_, kPkiMessage);
  EXPECT_EQ(posted_expect_, "");
}

TEST_F(CurlTransportTest, EmptyPostIsSentAsEmptyBody) {
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  HttpRequest request;
  request.method = HttpRequest::Method::kPost;
  request.url = base_ + "/scep";
  auto response = transport->Send(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  std::lock_guard<std::mutex> lock(mutex_);
  EXPECT_EQ(posted_body_, "");
  EXPECT_EQ(posted_type_, "application/octet-stream");
}

TEST_F(CurlTransportTest, ErrorStatusesAreResponses) {
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  auto failed = transport->Send(Get(base_ + "/fail"));
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(failed->content_type, "text/plain");
  EXPECT_EQ(ToString(failed->body), "boom");

  auto missing = transport->Send(Get(base_ + "/nowhere"));
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_EQ(missing->status, 404);
}

TEST_F(CurlTransportTest, RedirectIsReturnedNotFollowed) {
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  auto response = transport->Send(Get(base_ + "/moved"));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(scep_gets_, 0);
}

TEST_F(CurlTransportTest, ReusesTheConnectionBetweenRequests) {
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  ASSERT_TRUE(transport->Send(Get(base_ + "/scep")).ok());
  HttpRequest post;
  post.method = HttpRequest::Method::kPost;
  post.url = base_ + "/scep";
  post.body = ToBytes("x");
  ASSERT_TRUE(transport->Send(post).ok());
  ASSERT_TRUE(transport->Send(Get(base_ + "/scep")).ok());
  std::lock_guard<std::mutex> lock(mutex_);
  ASSERT_EQ(remote_ports_.size(), 2u);
  EXPECT_EQ(remote_ports_[0], remote_ports_[1]);
}

TEST_F(CurlTransportTest, BodyAtTheCapIsAccepted) {
  TransportOptions options;
  options.max_response_bytes = 1000;
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  auto response = transport->Send(Get(base_ + "/sized?n=1000"));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body.size(), 1000u);
}

TEST_F(CurlTransportTest, BodyOverTheCapIsAnHttpError) {
  TransportOptions options;
  options.max_response_bytes = 1000;
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  auto response = transport->Send(Get(base_ + "/sized?n=1001"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kHttp);
  EXPECT_NE(response.error().message.find("larger than 1000 bytes"), std::string::npos)
      << response.error().message;
}

TEST_F(CurlTransportTest, EndlessBodyIsCutOffEarly) {
  TransportOptions options;
  options.max_response_bytes = 64 * 1024;
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  const auto start = steady_clock::now();
  auto response = transport->Send(Get(base_ + "/endless"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kHttp) << response.error().message;
  EXPECT_LT(SecondsSince(start), 2.0);
  transport.reset();  // closes the connection, so the server's writes fail
  for (int i = 0; i < 200 && !endless_done_; ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_TRUE(endless_done_);
  // Whatever the kernel buffered aside, far from the whole 64 MiB was taken.
  EXPECT_LT(endless_chunks_sent_, kEndlessChunks);
}

TEST_F(CurlTransportTest, ConnectionRefusedIsNetworkError) {
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  const int port = UnusedPort();
  auto response = transport->Send(Get("http://127.0.0.1:" + std::to_string(port) + "/scep"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork);
  EXPECT_NE(response.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << response.error().message;
}

TEST_F(CurlTransportTest, UnresolvableNameIsNetworkError) {
  TransportOptions options;
  options.connect_timeout_s = 5;
  options.total_timeout_s = 5;
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  auto response = transport->Send(Get("http://nonexistent.invalid/scep"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork) << response.error().message;
  EXPECT_NE(response.error().message.find("nonexistent.invalid"), std::string::npos)
      << response.error().message;
}

TEST_F(CurlTransportTest, OnlyHttpAndHttpsAreSpoken) {
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  auto response = transport->Send(Get("ftp://127.0.0.1:" + std::to_string(UnusedPort()) + "/x"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << response.error().message;
}

TEST(CurlTransportCreateTest, RejectsBadOptions) {
  TransportOptions no_timeout;
  no_timeout.total_timeout_s = 0;
  auto a = CurlTransport::Create(no_timeout);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::kInvalidArgument);

  TransportOptions no_cap;
  no_cap.max_response_bytes = 0;
  auto b = CurlTransport::Create(no_cap);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);

  TransportOptions missing_bundle;
  missing_bundle.ca_bundle = "/nonexistent/ca.pem";
  auto c = CurlTransport::Create(missing_bundle);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kIo);
  EXPECT_NE(c.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

TEST(CurlTransportCreateTest, DefaultUserAgentNamesScepd) {
  EXPECT_EQ(TransportOptions().user_agent, "scepd/" SCEPD_VERSION);
}

// --- Servers that misbehave -------------------------------------------------

TEST(CurlTransportTimeoutTest, ServerThatNeverAnswersTimesOut) {
  RawServer silent;  // listens; the kernel accepts, nobody reads or answers
  ASSERT_TRUE(silent.ok());
  TransportOptions options;
  options.total_timeout_s = 2;
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  const auto start = steady_clock::now();
  auto response =
      transport->Send(Get("http://127.0.0.1:" + std::to_string(silent.port()) + "/scep"));
  const double elapsed = SecondsSince(start);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kTimeout) << response.error().message;
  EXPECT_NE(response.error().message.find("no answer from 127.0.0.1"), std::string::npos)
      << response.error().message;
  EXPECT_NE(response.error().message.find("within 2 s"), std::string::npos);
  EXPECT_GT(elapsed, 1.5);
  EXPECT_LT(elapsed, 4.0);
}

TEST(CurlTransportTimeoutTest, ByteASecondServerEndsByTheTotalTimeout) {
  RawServer trickle([](int fd, const std::atomic<bool>& stopping) {
    ReadRequestHead(fd, milliseconds(2000));
    if (!WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                      "Content-Length: 100\r\n\r\n")) {
      return;
    }
    for (int i = 0; i < 20 && !stopping; ++i) {
      if (!WriteAll(fd, "x")) return;
      SleepUnlessStopping(stopping, milliseconds(1000));
    }
  });
  ASSERT_TRUE(trickle.ok());
  TransportOptions options;
  options.total_timeout_s = 2;
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  const auto start = steady_clock::now();
  auto response =
      transport->Send(Get("http://127.0.0.1:" + std::to_string(trickle.port()) + "/scep"));
  const double elapsed = SecondsSince(start);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kTimeout) << response.error().message;
  EXPECT_NE(response.error().message.find("incomplete answer from 127.0.0.1"), std::string::npos)
      << response.error().message;
  EXPECT_LT(elapsed, 4.0);
}

TEST(CurlTransportTimeoutTest, StalledTransferEndsBeforeTheTotalTimeout) {
  // Headers, then silence: caught by the under-1-byte/s rule after the
  // connect timeout (1 s), long before the 10 s total.
  RawServer stall([](int fd, const std::atomic<bool>& stopping) {
    ReadRequestHead(fd, milliseconds(2000));
    if (!WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")) return;
    SleepUnlessStopping(stopping, milliseconds(10000));
  });
  ASSERT_TRUE(stall.ok());
  TransportOptions options;
  options.connect_timeout_s = 1;
  options.total_timeout_s = 10;
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  const auto start = steady_clock::now();
  auto response =
      transport->Send(Get("http://127.0.0.1:" + std::to_string(stall.port()) + "/scep"));
  const double elapsed = SecondsSince(start);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kTimeout) << response.error().message;
  EXPECT_NE(response.error().message.find("stalled"), std::string::npos)
      << response.error().message;
  EXPECT_LT(elapsed, 4.0);
}

// --- IPv6 ----------------------------------------------------------------------

TEST(CurlTransportIpv6Test, BracketedLiteralWorks) {
  httplib::Server server;
  server.Get("/scep", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("six", "text/plain");
  });
  int probe_port = 0;
  if (io_testing::ListenOn("::1", &probe_port).get() < 0) {
    GTEST_SKIP() << "no IPv6 loopback on this machine";
  }
  HttplibRunner runner(server, "::1");
  if (!runner.ok()) GTEST_SKIP() << "cannot serve on [::1]";
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  auto response =
      transport->Send(Get("http://[::1]:" + std::to_string(runner.port()) + "/scep"));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(ToString(response->body), "six");
}

// --- Proxy ---------------------------------------------------------------------

// A one-trick HTTP proxy: records the request line and answers itself.
class FakeProxy {
 public:
  FakeProxy()
      : server_([this](int fd, const std::atomic<bool>&) {
          const std::string head = ReadRequestHead(fd, milliseconds(2000));
          {
            std::lock_guard<std::mutex> lock(mutex_);
            request_line_ = head.substr(0, head.find("\r\n"));
            head_ = head;
          }
          WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                       "Content-Length: 7\r\nConnection: close\r\n\r\nproxied");
        }) {}
  bool ok() const { return server_.ok(); }
  int port() const { return server_.port(); }
  std::string request_line() {
    std::lock_guard<std::mutex> lock(mutex_);
    return request_line_;
  }
  std::string head() {
    std::lock_guard<std::mutex> lock(mutex_);
    return head_;
  }

 private:
  std::mutex mutex_;
  std::string request_line_;
  std::string head_;
  RawServer server_;  // last: its thread stops before the members it uses go
};

class CurlTransportProxyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CurlTransportProxyTest, RequestGoesThroughTheProxyInAbsoluteForm) {
  FakeProxy proxy;
  ASSERT_TRUE(proxy.ok());
  TransportOptions options;
  options.proxy = GetParam() + "127.0.0.1:" + std::to_string(proxy.port());
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  // Nobody listens on the target: only the proxy can have answered.
  const std::string target =
      "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/scep?operation=GetCACaps";
  auto response = transport->Send(Get(target));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(ToString(response->body), "proxied");
  EXPECT_EQ(proxy.request_line(), "GET " + target + " HTTP/1.1");
}

INSTANTIATE_TEST_SUITE_P(HostPortAndUrl, CurlTransportProxyTest,
                         ::testing::Values(std::string(), std::string("http://")),
                         [](const auto& param_info) {
                           return param_info.param.empty() ? std::string("HostPort")
                                                     : std::string("Url");
                         });

// Issue 14 point 14: proxy credentials without putting them in the proxy
// URL (which sscep gets on its command line).
TEST(CurlTransportProxyCredentialsTest, CredentialsGoToTheProxyOnly) {
  FakeProxy proxy;
  ASSERT_TRUE(proxy.ok());
  TransportOptions options;
  options.proxy = "127.0.0.1:" + std::to_string(proxy.port());
  options.proxy_credentials = "pxuser:pxpass";
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  const std::string target =
      "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/scep?operation=GetCACaps";
  auto response = transport->Send(Get(target));
  ASSERT_TRUE(response.ok()) << response.error().message;
  const std::string head = proxy.head();
  EXPECT_NE(head.find("Proxy-Authorization: Basic cHh1c2VyOnB4cGFzcw=="), std::string::npos)
      << head;
  testing::ExpectReliabilityRow("hardening.proxy-credentials",
                                head + "\nproxy URL " + options.proxy);
}

TEST(CurlTransportProxyErrorTest, DeadProxyIsNetworkErrorNamingIt) {
  TransportOptions options;
  const int proxy_port = UnusedPort();
  options.proxy = "http://user:secret@127.0.0.1:" + std::to_string(proxy_port);
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  auto response = transport->Send(Get("http://127.0.0.1:9/scep"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork);
  const std::string& message = response.error().message;
  EXPECT_NE(message.find("via proxy 127.0.0.1:" + std::to_string(proxy_port)), std::string::npos)
      << message;
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
}

// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_old_ = std::getenv(name) != nullptr;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (had_old_) {
      ::setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::string old_;
  bool had_old_ = false;
};

TEST_F(CurlTransportTest, ProxyEnvironmentIsIgnoredUnlessAskedFor) {
  FakeProxy proxy;
  ASSERT_TRUE(proxy.ok());
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  ScopedEnv http_proxy("http_proxy", proxy_url.c_str());
  ScopedEnv no_proxy("no_proxy", nullptr);
  ScopedEnv no_proxy_upper("NO_PROXY", nullptr);

  auto direct = MakeTransport();
  ASSERT_TRUE(direct);
  auto response = direct->Send(Get(base_ + "/scep"));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(ToString(response->body), "hello");
  EXPECT_EQ(proxy.request_line(), "");

  TransportOptions from_env;
  from_env.proxy_from_env = true;
  auto proxied = MakeTransport(from_env);
  ASSERT_TRUE(proxied);
  response = proxied->Send(Get(base_ + "/scep"));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(ToString(response->body), "proxied");
  EXPECT_EQ(proxy.request_line(), "GET " + base_ + "/scep HTTP/1.1");
}

// --- HTTPS ---------------------------------------------------------------------

class CurlTransportTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    ours_ = MakeServerIdentity(1);
    other_ = MakeServerIdentity(2);
    ASSERT_TRUE(ours_.cert && other_.cert) << "cannot make test certificates";
    ours_pem_ = dir_.path() + "/server.pem";
    other_pem_ = dir_.path() + "/other.pem";
    ASSERT_TRUE(WritePem(ours_.cert.get(), ours_pem_));
    ASSERT_TRUE(WritePem(other_.cert.get(), other_pem_));
    // httplib takes its own references to the certificate and key.
    server_ = std::make_unique<httplib::SSLServer>(ours_.cert.get(), ours_.key.get());
    ASSERT_TRUE(server_->is_valid());
    server_->Get("/scep", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("secure", kPkiMessage);
    });
    runner_ = std::make_unique<HttplibRunner>(*server_);
    ASSERT_TRUE(runner_->ok());
    url_ = "https://127.0.0.1:" + std::to_string(runner_->port()) + "/scep";
  }
  void TearDown() override {
    runner_.reset();
    server_.reset();
  }

  Result<HttpResponse> SendWith(TransportOptions options) {
    auto transport = MakeTransport(std::move(options));
    if (!transport) return MakeError(ErrorCode::kInternal, "no transport");
    return transport->Send(Get(url_));
  }

  TempDir dir_;
  ServerIdentity ours_;
  ServerIdentity other_;
  std::string ours_pem_;
  std::string other_pem_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::unique_ptr<HttplibRunner> runner_;
  std::string url_;
};

TEST_F(CurlTransportTlsTest, TrustedByCaBundle) {
  TransportOptions options;
  options.ca_bundle = ours_pem_;
  auto response = SendWith(options);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(ToString(response->body), "secure");
}

TEST_F(CurlTransportTlsTest, UntrustedCertificateIsNetworkError) {
  TransportOptions options;
  options.ca_bundle = other_pem_;
  auto response = SendWith(options);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork);
  EXPECT_NE(response.error().message.find("certificate"), std::string::npos)
      << response.error().message;
  EXPECT_NE(response.error().message.find("127.0.0.1"), std::string::npos);
}

TEST_F(CurlTransportTlsTest, SystemBundleDoesNotTrustSelfSigned) {
  auto response = SendWith(TransportOptions());
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork) << response.error().message;
  EXPECT_NE(response.error().message.find("certificate"), std::string::npos)
      << response.error().message;
}

TEST_F(CurlTransportTlsTest, VerificationCanBeTurnedOff) {
  TransportOptions options;
  options.verify_tls = false;
  auto response = SendWith(options);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(ToString(response->body), "secure");
}

// --- WaitForConnectivity -------------------------------------------------------

TEST(CurlTransportConnectivityTest, ListeningPortSucceedsAtOnce) {
  RawServer listening;
  ASSERT_TRUE(listening.ok());
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  const auto start = steady_clock::now();
  // https: only TCP is tried, so a plain listener is enough.
  auto status = transport->WaitForConnectivity(
      "https://127.0.0.1:" + std::to_string(listening.port()) + "/scep?x=1", 5);
  EXPECT_TRUE(status.ok()) << status.error().message;
  EXPECT_LT(SecondsSince(start), 1.0);
}

TEST(CurlTransportConnectivityTest, ClosedPortFailsAfterTheGivenTime) {
  auto transport = MakeTransport();
  ASSERT_TRUE(transport);
  const int port = UnusedPort();
  const auto start = steady_clock::now();
  auto status =
      transport->WaitForConnectivity("http://127.0.0.1:" + std::to_string(port) + "/scep", 2);
  const double elapsed = SecondsSince(start);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kNetwork) << status.error().message;
  EXPECT_NE(status.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << status.error().message;
  EXPECT_GT(elapsed, 1.5);
  EXPECT_LT(elapsed, 3.5);
}

TEST(CurlTransportConnectivityTest, ProbesTheProxyWhenOneIsSet) {
  RawServer proxy;
  ASSERT_TRUE(proxy.ok());
  TransportOptions options;
  options.proxy = "127.0.0.1:" + std::to_string(proxy.port());
  auto transport = MakeTransport(options);
  ASSERT_TRUE(transport);
  auto status = transport->WaitForConnectivity(
      "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/scep", 0);
  EXPECT_TRUE(status.ok()) << status.error().message;
}

}  // namespace
}  // namespace scepd
