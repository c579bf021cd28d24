// core/cmp/cmp_enroller: the CMP back end of the enrollment seam, against
// OpenSSL's own CMP server (tests/support/cmp_server.h) on 127.0.0.1 and
// with certificates made here (IssuerChain).

#include "core/cmp/cmp_enroller.h"

#include <gtest/gtest.h>

#include <variant>

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

constexpr char kSubject[] = "/CN=router-1";

class CmpEnrollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = testing::MakeTestCa("/CN=Test CA");
    key_ = testing::CachedKey(1);
    srv_key_ = testing::CachedKey(2);
    CertSpec spec;
    spec.subject = kSubject;
    spec.serial = 5;
    cert_ = testing::MakeCert(spec, key_.get(), ca_.cert.get(), ca_.key.get());
    CertSpec srv;
    srv.subject = "/CN=CMP server";
    srv.serial = 7;
    srv_cert_ = testing::MakeCert(srv, srv_key_.get(), ca_.cert.get(), ca_.key.get());
    Write("ca.crt", ca_.cert.get());
    Write("ee.crt", cert_.get());
    Write("srv.crt", srv_cert_.get());
    testing::WriteFile(dir_.File("srv.key"), *ossl::PrivateKeyToPem(srv_key_.get()), 0600);
    transport_ = LoopbackTransport();
  }

  void Write(const std::string& name, X509* cert) {
    testing::WriteFile(dir_.File(name), *ossl::CertToPem(cert));
  }

  CmpEnrollerOptions Options(bool mac) {
    CmpEnrollerOptions o;
    o.url = server_.url();
    o.recipient = "/CN=Test CA";
    if (mac) {
      o.reference = "62154";
      o.secret = "ssh";
    }
    o.live = &live_;
    o.live_prefix = "test\n";
    return o;
  }

  CsrSpec Spec() {
    CsrSpec s;
    s.subject = kSubject;
    s.challenge_password = "never-sent";
    return s;
  }

  testing::TempDir dir_{"scepd-cmp-enroller-"};
  testing::TestCa ca_;
  ossl::Ptr<EVP_PKEY> key_, srv_key_;
  ossl::Ptr<X509> cert_, srv_cert_;
  std::unique_ptr<CurlTransport> transport_;
  testing::OpenSslCmpServer server_{dir_.path()};
  CmpLiveSessions live_;
};

TEST_F(CmpEnrollerTest, IssuerChainFollowsIssuersAndLeavesOutTheServerCertificate) {
  auto sub_key = testing::CachedKey(3);
  CertSpec sub_spec;
  sub_spec.subject = "/CN=Sub CA";
  sub_spec.serial = 9;
  sub_spec.is_ca = true;
  auto sub = testing::MakeCert(sub_spec, sub_key.get(), ca_.cert.get(), ca_.key.get());
  CertSpec ee_spec;
  ee_spec.subject = kSubject;
  ee_spec.serial = 10;
  auto ee = testing::MakeCert(ee_spec, key_.get(), sub.get(), sub_key.get());
  std::vector<ossl::Ptr<X509>> received;
  received.push_back(ossl::UpRef(srv_cert_.get()));
  received.push_back(ossl::UpRef(ca_.cert.get()));
  received.push_back(ossl::UpRef(sub.get()));
  auto chain = IssuerChain(ee.get(), received);
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(X509_cmp(chain[0].get(), sub.get()), 0);
  EXPECT_EQ(X509_cmp(chain[1].get(), ca_.cert.get()), 0);
  // Without the issuer: nothing (the server's own certificate is no CA of ours).
  std::vector<ossl::Ptr<X509>> only_server;
  only_server.push_back(ossl::UpRef(srv_cert_.get()));
  EXPECT_TRUE(IssuerChain(ee.get(), only_server).empty());
}

TEST_F(CmpEnrollerTest, FirstEnrollmentNeedsCredentialsAndTheCookieSaysNotResumable) {
  CmpEnrollerOptions none;
  none.url = "http://127.0.0.1:1/pkix/";
  CmpEnroller without(*transport_, std::move(none));
  auto refused = without.Prepare(ossl::UpRef(key_.get()), Spec(), nullptr, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);

  CmpEnroller with(*transport_, Options(true));
  auto t = with.Prepare(ossl::UpRef(key_.get()), Spec(), nullptr, 0);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->cookie.at("request"), "ir");
  EXPECT_EQ(t->cookie.at("resumable"), "no");
  EXPECT_EQ(with.RequestName(*t), "ir");
  // CMP authenticates otherwise: the challenge password is not in the request.
  EXPECT_EQ(X509_REQ_get_attr_by_NID(t->request.get(), NID_pkcs9_challengePassword, -1), -1);
  // Nothing known before the first answer: the CA comes with it.
  auto ca = with.FetchCaCertificates();
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ(ca->ca, nullptr);
  EXPECT_TRUE(with.ca_comes_with_answer());
}

TEST_F(CmpEnrollerTest, PollWithoutTheLiveSessionStartsOver) {
  CmpEnroller enroller(*transport_, Options(true));
  auto t = enroller.Prepare(ossl::UpRef(key_.get()), Spec(), nullptr, 0);
  ASSERT_TRUE(t.ok()) << t.error().message;
  auto out = enroller.Poll(*t, nullptr);
  auto* over = std::get_if<enroll::StartOver>(&out);
  ASSERT_NE(over, nullptr);
  EXPECT_NE(over->reason.find("in memory only"), std::string::npos) << over->reason;
}

TEST_F(CmpEnrollerTest, WaitingSessionIsPolledByTheNextAttemptsEnroller) {
  std::string error;
  ASSERT_TRUE(server_.Start({"-srv_ref", "62154", "-srv_secret", "pass:ssh", "-rsp_cert",
                             "ee.crt", "-rsp_capubs", "ca.crt", "-poll_count", "3",
                             "-check_after", "1"},
                            &error))
      << error;
  std::unique_ptr<enroll::Transaction> t;
  {
    CmpEnroller first(*transport_, Options(true));
    auto prepared = first.Prepare(ossl::UpRef(key_.get()), Spec(), nullptr, 0);
    ASSERT_TRUE(prepared.ok()) << prepared.error().message;
    t = std::make_unique<enroll::Transaction>(std::move(*prepared));
    auto out = first.Submit(*t, nullptr);
    auto* pending = std::get_if<enroll::Pending>(&out);
    ASSERT_NE(pending, nullptr) << out.index();
    EXPECT_EQ(pending->retry_after, 1);
  }
  // Each attempt has its own enroller and transport; the session goes on.
  enroll::Outcome out = enroll::Pending{};
  for (int attempt = 0; attempt < 5 && std::holds_alternative<enroll::Pending>(out); ++attempt) {
    auto transport = LoopbackTransport();
    CmpEnroller next(*transport, Options(true));
    out = next.Poll(*t, nullptr);
  }
  auto* issued = std::get_if<enroll::Issued>(&out);
  ASSERT_NE(issued, nullptr) << out.index();
  EXPECT_EQ(X509_cmp(issued->cert.get(), cert_.get()), 0);
  ASSERT_EQ(issued->chain.size(), 1u);
  EXPECT_EQ(X509_cmp(issued->chain[0].get(), ca_.cert.get()), 0);
  // Done: nothing is kept.
  EXPECT_EQ(live_.Take("test\n" + t->id), nullptr);
}

TEST_F(CmpEnrollerTest, RefusedKurMayFallBackOnlyWithFirstEnrollmentCredentials) {
  std::string error;
  ASSERT_TRUE(server_.Start({"-srv_cert", "srv.crt", "-srv_key", "srv.key", "-srv_trusted",
                             "ca.crt", "-rsp_cert", "ee.crt", "-pkistatus", "2", "-failure", "2",
                             "-statusstring", "policy says no"},
                            &error))
      << error;
  enroll::CurrentPair current{cert_.get(), key_.get()};
  for (bool mac : {true, false}) {
    SCOPED_TRACE(mac ? "with reference and secret" : "without");
    CmpEnrollerOptions o = Options(mac);
    o.known_chain.push_back(ossl::UpRef(ca_.cert.get()));
    CmpEnroller enroller(*transport_, std::move(o));
    auto new_key = testing::CachedKey(4);
    auto t = enroller.Prepare(std::move(new_key), Spec(), &current, 0);
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t->cookie.at("request"), "kur");
    auto out = enroller.Submit(*t, &current);
    auto* rejected = std::get_if<enroll::Rejected>(&out);
    ASSERT_NE(rejected, nullptr) << out.index();
    EXPECT_EQ(rejected->code, "badRequest");
    EXPECT_NE(rejected->reason.find("policy says no"), std::string::npos) << rejected->reason;
    EXPECT_EQ(rejected->may_enroll_anew, mac);
  }
}

}  // namespace
}  // namespace scepd::cmp
