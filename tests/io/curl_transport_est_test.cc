// The additions EST needs in the libcurl transport: HTTP/1.0 answers,
// Retry-After and WWW-Authenticate, the full Content-Type, further request
// headers and HTTP Basic credentials, against a raw server on loopback.

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>

#include "core/bytes.h"
#include "io/curl_transport.h"
#include "tests/io/loopback.h"

namespace scepd {
namespace {

using io_testing::RawServer;
using io_testing::ReadRequestHead;
using io_testing::WriteAll;

TEST(CurlTransportEst, Http10AnswerWithTheHeadersEstNeeds) {
  std::mutex mu;
  std::string seen;
  RawServer server([&](int fd, const std::atomic<bool>&) {
    const std::string head = ReadRequestHead(fd, std::chrono::milliseconds(5000));
    {
      std::lock_guard<std::mutex> lock(mu);
      seen = head;
    }
    WriteAll(fd,
             "HTTP/1.0 202 Accepted\r\nRetry-After:  Sun, 06 Nov 1994 08:49:37 GMT \r\n"
             "www-authenticate: Basic realm=\"x\"\r\n"
             "Content-Type: Application/PKCS7-MIME; smime-type=certs-only\r\n"
             "Content-Length: 2\r\nConnection: close\r\n\r\nok");
  });
  ASSERT_TRUE(server.ok());
  auto transport = CurlTransport::Create({});
  ASSERT_TRUE(transport.ok());
  HttpRequest request;
  request.method = HttpRequest::Method::kPost;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/.well-known/est/simpleenroll";
  request.content_type = "application/pkcs10";
  request.headers.emplace_back("Content-Transfer-Encoding", "base64");
  request.basic_user = "estuser";
  request.basic_password = "s3cret";
  request.body = ToBytes("MIIB");
  auto response = (*transport)->Send(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 202);
  EXPECT_EQ(response->http_version, "HTTP/1.0");
  EXPECT_EQ(response->retry_after, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(response->www_authenticate, "Basic realm=\"x\"");
  EXPECT_EQ(response->content_type, "application/pkcs7-mime");
  EXPECT_EQ(response->content_type_header, "Application/PKCS7-MIME; smime-type=certs-only");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_NE(seen.find("\r\nContent-Transfer-Encoding: base64\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\r\nAuthorization: Basic " + Base64Encode(ToBytes("estuser:s3cret")) + "\r\n"),
            std::string::npos)
      << seen;

  // A header with a line break is refused before anything is sent.
  request.headers.emplace_back("X-Bad", "a\r\nInjected: yes");
  auto refused = (*transport)->Send(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace scepd
