// core/cmp against OpenSSL's own CMP server (`openssl cmp -port`), started
// and stopped by each test on 127.0.0.1, through the real CurlTransport.
// The mock issues nothing: it answers with a fixed -rsp_cert, so each test
// makes that certificate from the client's key first.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/bytes.h"
#include "core/cmp/cmp_client.h"
#include "core/ossl.h"
#include "io/curl_transport.h"
#include "tests/cmp/loopback_transport.h"
#include "tests/support/cmp_server.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"

namespace scepd::cmp {
namespace {

using testing::CertSpec;
using testing::LoopbackTransport;
using testing::TempDir;

std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EXPECT_EQ(X509_digest(cert, EVP_sha256(), md, &n), 1);
  return HexEncode(std::span<const std::uint8_t>(md, n), ':');
}

class CmpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = testing::MakeTestCa("/CN=Test CA");
    key_ = testing::CachedKey(1);
    srv_key_ = testing::CachedKey(2);
    CertSpec old_spec;
    old_spec.subject = "/CN=router-1";
    old_spec.serial = 5;
    old_cert_ = testing::MakeCert(old_spec, key_.get(), ca_.cert.get(), ca_.key.get());
    CertSpec new_spec = old_spec;
    new_spec.serial = 6;
    new_cert_ = testing::MakeCert(new_spec, key_.get(), ca_.cert.get(), ca_.key.get());
    CertSpec srv_spec;
    srv_spec.subject = "/CN=CMP server";
    srv_spec.serial = 7;
    srv_cert_ = testing::MakeCert(srv_spec, srv_key_.get(), ca_.cert.get(), ca_.key.get());
    Write("ca.crt", ca_.cert.get());
    Write("new.crt", new_cert_.get());
    Write("old.crt", old_cert_.get());
    Write("srv.crt", srv_cert_.get());
    testing::WriteFile(dir_.File("srv.key"), *ossl::PrivateKeyToPem(srv_key_.get()), 0600);

    transport_ = LoopbackTransport();
    ASSERT_NE(transport_, nullptr);
  }

  void Write(const std::string& name, X509* cert) {
    testing::WriteFile(dir_.File(name), *ossl::CertToPem(cert));
  }

  // Starts the mock with `args` on a free port; waits (bounded) until it listens.
  void StartServer(std::vector<std::string> args) {
    std::string error;
    ASSERT_TRUE(server_.Start(args, &error)) << error;
    port_ = server_.port();
  }

  std::vector<std::string> MacServer() {
    return {"-srv_ref", "62154", "-srv_secret", "pass:ssh", "-rsp_cert", "new.crt",
            "-rsp_extracerts", "ca.crt", "-rsp_capubs", "ca.crt"};
  }
  std::vector<std::string> SignatureServer(const std::string& rsp_cert = "new.crt") {
    return {"-srv_cert", "srv.crt", "-srv_key", "srv.key", "-srv_trusted", "ca.crt",
            "-rsp_cert", rsp_cert, "-rsp_extracerts", "ca.crt"};
  }

  CmpOptions Options() {
    CmpOptions o;
    o.url = "http://127.0.0.1:" + std::to_string(port_) + "/pkix/";
    o.recipient = "/CN=Test CA";
    return o;
  }

  Result<std::unique_ptr<CmpSession>> MacSession(CmpOptions o, std::string secret = "ssh") {
    MacProtection mac{"62154", std::move(secret)};
    auto s = CmpSession::Create(*transport_, std::move(o), &mac, nullptr);
    EXPECT_TRUE(mac.secret.empty()) << "secret not wiped";
    return s;
  }
  Result<std::unique_ptr<CmpSession>> SignedSession(CmpOptions o) {
    o.ca_cert = ca_.cert.get();
    SignatureProtection sig{old_cert_.get(), key_.get()};
    return CmpSession::Create(*transport_, std::move(o), nullptr, &sig);
  }
  NewCertRequest Ir() {
    NewCertRequest r;
    r.type = Request::kIr;
    r.new_key = key_.get();
    r.subject = "/CN=router-1";
    return r;
  }

  TempDir dir_{"scepd-cmp-"};
  testing::TestCa ca_;
  ossl::Ptr<EVP_PKEY> key_, srv_key_;
  ossl::Ptr<X509> old_cert_, new_cert_, srv_cert_;
  std::unique_ptr<CurlTransport> transport_;
  testing::OpenSslCmpServer server_{dir_.path()};
  int port_ = -1;
};

TEST_F(CmpServerTest, IrWithPbmIssuesCertificateWithChain) {
  StartServer(MacServer());
  auto session = MacSession(Options());
  ASSERT_TRUE(session) << session.error().message;
  auto out = (*session)->Start(Ir());
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->kind, Outcome::Kind::kIssued) << out->status_text;
  EXPECT_EQ(X509_cmp(out->cert.get(), new_cert_.get()), 0);
  ASSERT_EQ(out->chain.size(), 1u);  // caPubs and extraCerts: the same CA, once
  EXPECT_EQ(X509_cmp(out->chain[0].get(), ca_.cert.get()), 0);
}

TEST_F(CmpServerTest, IrWithWrongSecretFailsClearly) {
  StartServer(MacServer());
  auto session = MacSession(Options(), "not-the-secret");
  ASSERT_TRUE(session) << session.error().message;
  auto out = (*session)->Start(Ir());
  ASSERT_FALSE(out) << "issued with a wrong secret";
  EXPECT_EQ(out.error().code, ErrorCode::kVerify) << out.error().message;
  EXPECT_NE(out.error().message.find("wrong reference number or secret"), std::string::npos)
      << out.error().message;
}

TEST_F(CmpServerTest, IssuedCertificateMustCarryOurKey) {
  StartServer(MacServer());
  auto session = MacSession(Options());
  ASSERT_TRUE(session) << session.error().message;
  NewCertRequest r = Ir();
  auto other = testing::CachedKey(3);
  r.new_key = other.get();  // the mock still answers with a certificate for key 1
  auto out = (*session)->Start(r);
  ASSERT_FALSE(out) << "a certificate for another key came back as an outcome";
  EXPECT_EQ(out.error().code, ErrorCode::kVerify) << out.error().message;
  EXPECT_NE(out.error().message.find("failed OpenSSL's checks"), std::string::npos) << out.error().message;
}

TEST_F(CmpServerTest, CrWithCertificateAuthentication) {
  StartServer(SignatureServer());
  auto session = SignedSession(Options());
  ASSERT_TRUE(session) << session.error().message;
  NewCertRequest r = Ir();
  r.type = Request::kCr;
  auto out = (*session)->Start(r);
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->kind, Outcome::Kind::kIssued) << out->status_text;
  EXPECT_EQ(X509_cmp(out->cert.get(), new_cert_.get()), 0);
}

TEST_F(CmpServerTest, SignedAnswerFromUntrustedServerIsRefused) {
  StartServer(SignatureServer());
  CmpOptions o = Options();
  auto other_ca = testing::MakeTestCa("/CN=Other CA", 4);
  SignatureProtection sig{old_cert_.get(), key_.get()};
  o.ca_cert = other_ca.cert.get();
  auto session = CmpSession::Create(*transport_, o, nullptr, &sig);
  ASSERT_TRUE(session) << session.error().message;
  NewCertRequest r = Ir();
  r.type = Request::kCr;
  auto out = (*session)->Start(r);
  EXPECT_FALSE(out);
}

TEST_F(CmpServerTest, KurPollsWhileWaitingThenIssues) {
  // The kur answer must carry the old certificate's issuer and serial.
  StartServer([&] {
    auto a = SignatureServer("old.crt");
    // OpenSSL's first try sends the kur and, on `waiting`, its first
    // pollReq: three polls on the server give two pending outcomes here.
    a.insert(a.end(), {"-poll_count", "3", "-check_after", "1"});
    return a;
  }());
  auto session = SignedSession(Options());
  ASSERT_TRUE(session) << session.error().message;
  NewCertRequest r;
  r.type = Request::kKur;  // same key, subject from the current certificate
  auto out = (*session)->Start(r);
  ASSERT_TRUE(out) << out.error().message;
  int polls = 0;
  while (out && out->kind == Outcome::Kind::kPending && polls < 5) {
    EXPECT_EQ(out->check_after_s, 1);
    ++polls;
    out = (*session)->Poll();
  }
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->kind, Outcome::Kind::kIssued) << out->status_text;
  EXPECT_EQ(polls, 2);
  EXPECT_EQ(X509_cmp(out->cert.get(), old_cert_.get()), 0);
  EXPECT_FALSE((*session)->Poll()) << "nothing pending after issuance";
}

TEST_F(CmpServerTest, RevokeAndGeneralMessage) {
  // The mock revokes only the certificate it would issue.
  StartServer(SignatureServer("old.crt"));
  auto session = SignedSession(Options());
  ASSERT_TRUE(session) << session.error().message;
  auto rr = (*session)->Revoke(nullptr, 1);
  ASSERT_TRUE(rr) << rr.error().message;
  EXPECT_EQ(rr->kind, Outcome::Kind::kAccepted) << rr->status_text;
  // Another certificate is refused, with the server's reason.
  auto other = SignedSession(Options());
  ASSERT_TRUE(other);
  auto refused = (*other)->Revoke(new_cert_.get(), 1);
  ASSERT_TRUE(refused) << refused.error().message;
  EXPECT_EQ(refused->kind, Outcome::Kind::kRejected);
  auto session2 = SignedSession(Options());
  ASSERT_TRUE(session2);
  auto genm = (*session2)->GeneralMessage();
  ASSERT_TRUE(genm) << genm.error().message;
  EXPECT_EQ(genm->kind, Outcome::Kind::kAccepted);
}

TEST_F(CmpServerTest, UnprotectedErrorRefusedUnlessAllowed) {
  auto args = MacServer();
  args.insert(args.end(), {"-pkistatus", "2", "-failure", "2", "-statusstring",
                           "policy says\nno", "-send_unprot_err"});
  StartServer(args);
  {
    auto session = MacSession(Options());
    ASSERT_TRUE(session);
    auto out = (*session)->Start(Ir());
    ASSERT_FALSE(out) << "unprotected answer accepted without permission";
    EXPECT_EQ(out.error().code, ErrorCode::kVerify) << out.error().message;
    EXPECT_NE(out.error().message.find("without protection"), std::string::npos)
        << out.error().message;
  }
  CmpOptions o = Options();
  o.allow_unprotected_errors = true;
  auto session = MacSession(o);
  ASSERT_TRUE(session);
  auto out = (*session)->Start(Ir());
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->kind, Outcome::Kind::kRejected);
  EXPECT_EQ(out->fail_info, 1u << 2);
  EXPECT_NE(out->status_text.find("badRequest"), std::string::npos) << out->status_text;
  // The server's text, cleaned: the line break does not reach a log line.
  EXPECT_NE(out->status_text.find("policy says no"), std::string::npos) << out->status_text;
  EXPECT_EQ(out->status_text.find('\n'), std::string::npos);
}

TEST_F(CmpServerTest, PinnedCaMismatchRefusesTheAnswer) {
  StartServer(MacServer());
  auto other_ca = testing::MakeTestCa("/CN=Other CA", 4);
  CmpOptions o = Options();
  o.pinned_sha256 = Fingerprint(other_ca.cert.get());
  auto session = MacSession(o);
  ASSERT_TRUE(session) << session.error().message;
  auto out = (*session)->Start(Ir());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kVerify) << out.error().message;
  EXPECT_NE(out.error().message.find("pinned"), std::string::npos) << out.error().message;

  // The right pin: issued.
  o.pinned_sha256 = Fingerprint(ca_.cert.get());
  auto ok_session = MacSession(o);
  ASSERT_TRUE(ok_session);
  auto issued = (*ok_session)->Start(Ir());
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_EQ(issued->kind, Outcome::Kind::kIssued);
}

TEST_F(CmpServerTest, GivenCaNotMatchingPinIsRefusedBeforeSending) {
  auto other_ca = testing::MakeTestCa("/CN=Other CA", 4);
  CmpOptions o;
  o.url = "http://127.0.0.1:9/pkix/";
  o.ca_cert = ca_.cert.get();
  o.pinned_sha256 = Fingerprint(other_ca.cert.get());
  MacProtection mac{"1", "secret"};
  auto s = CmpSession::Create(*transport_, o, &mac, nullptr);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kVerify);
  EXPECT_TRUE(mac.secret.empty());
}

constexpr int kCertConfBody = 24;  // RFC 4210 PKIBody certConf [24]

// Passes every request on and notes its PKIBody type.
struct RecordingTransport : Transport {
  explicit RecordingTransport(Transport& inner) : inner_(inner) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    const unsigned char* p = request.body.data();
    ossl::Ptr<OSSL_CMP_MSG> msg(d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(request.body.size())));
    body_types.push_back(msg ? OSSL_CMP_MSG_get_bodytype(msg.get()) : -1);
    return inner_.Send(request);
  }
  Transport& inner_;
  std::vector<int> body_types;
};

TEST_F(CmpServerTest, DecliningTheCertificateSendsARejectingCertConf) {
  StartServer(MacServer());
  RecordingTransport recorder(*transport_);
  CmpOptions o = Options();
  o.implicit_confirm = false;
  int asked = 0;
  o.accept = [&](X509* cert) {
    ++asked;
    EXPECT_EQ(X509_cmp(cert, new_cert_.get()), 0);
    return false;
  };
  MacProtection mac{"62154", "ssh"};
  auto session = CmpSession::Create(recorder, o, &mac, nullptr);
  ASSERT_TRUE(session) << session.error().message;
  auto out = (*session)->Start(Ir());
  ASSERT_FALSE(out) << "a declined certificate came back as an outcome";
  EXPECT_EQ(asked, 1);
  EXPECT_NE(out.error().message.find("declined"), std::string::npos) << out.error().message;
  ASSERT_EQ(recorder.body_types.size(), 2u);
  EXPECT_EQ(recorder.body_types[0], OSSL_CMP_IR);
  EXPECT_EQ(recorder.body_types[1], kCertConfBody);

  // Accepting: the same exchange ends with the certificate.
  o.accept = [](X509*) { return true; };
  MacProtection mac2{"62154", "ssh"};
  auto again = CmpSession::Create(*transport_, o, &mac2, nullptr);
  ASSERT_TRUE(again);
  auto issued = (*again)->Start(Ir());
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_EQ(issued->kind, Outcome::Kind::kIssued);
}

TEST_F(CmpServerTest, PublicKeyOnlyRequestNeedsAnotherPopo) {
  StartServer(SignatureServer());
  auto session = SignedSession(Options());
  ASSERT_TRUE(session);
  NewCertRequest r = Ir();
  r.type = Request::kCr;
  r.public_key_only = true;
  auto out = (*session)->Start(r);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
}

TEST(CmpUnitTest, ParseCmpResponseChecksStatusTypeAndDer) {
  HttpResponse r;
  r.status = 500;
  r.content_type = "text/html";
  r.body = ToBytes("<h1>oops\x01</h1>");
  auto a = ParseCmpResponse(r);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::kHttp);
  EXPECT_NE(a.error().message.find("HTTP 500: oops\\x01"), std::string::npos) << a.error().message;
  r.status = 200;
  auto b = ParseCmpResponse(r);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("content type"), std::string::npos);
  r.content_type = "application/pkixcmp";
  r.body = {0x30, 0x03, 0x02, 0x01, 0x02};
  auto c = ParseCmpResponse(r);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kParse);
}

TEST(CmpUnitTest, FailInfoNames) {
  EXPECT_EQ(FailInfoNames(0), "");
  EXPECT_EQ(FailInfoNames((1u << 2) | (1u << 9)), "badRequest, badPOP");
  EXPECT_EQ(FailInfoNames(1u << 26), "duplicateCertReq");
  EXPECT_EQ(FailInfoNames(1u << 30), "bit30");
}

TEST(CmpUnitTest, CreateChecksOptionsAndWipesSecret) {
  struct NoTransport : Transport {
    Result<HttpResponse> Send(const HttpRequest&) override {
      return MakeError(ErrorCode::kNetwork, "unused");
    }
  } transport;
  CmpOptions o;
  o.url = "ftp://x/";
  MacProtection mac{"1", "secret"};
  auto a = CmpSession::Create(transport, o, &mac, nullptr);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(mac.secret.empty());
  o.url = "http://127.0.0.1/";
  o.pinned_sha256 = "abc";
  MacProtection mac2{"1", "secret"};
  EXPECT_FALSE(CmpSession::Create(transport, o, &mac2, nullptr));
  o.pinned_sha256.clear();
  EXPECT_FALSE(CmpSession::Create(transport, o, nullptr, nullptr));
}

TEST(CmpUnitTest, TransportErrorIsReported) {
  struct Refusing : Transport {
    int calls = 0;
    bool closed = false;
    Result<HttpResponse> Send(const HttpRequest& r) override {
      ++calls;
      closed = r.close_connection && r.content_type == "application/pkixcmp";
      return MakeError(ErrorCode::kNetwork, "connection refused by test");
    }
  } transport;
  CmpOptions o;
  o.url = "http://127.0.0.1/pkix/";
  MacProtection mac{"1", "secret"};
  auto s = CmpSession::Create(transport, o, &mac, nullptr);
  ASSERT_TRUE(s) << s.error().message;
  auto key = testing::CachedKey(1);
  NewCertRequest r;
  r.new_key = key.get();
  r.subject = "/CN=x";
  auto out = (*s)->Start(r);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kNetwork);
  EXPECT_NE(out.error().message.find("connection refused by test"), std::string::npos);
  EXPECT_EQ(transport.calls, 1);
  EXPECT_TRUE(transport.closed);
}

}  // namespace
}  // namespace scepd::cmp
