// The EST back end of the enrollment seam against canned answers: which
// request it sends with which credentials, and how each answer maps onto
// the seam's outcomes. (The daemon end to end: tests/est/scepd_est_test.cc.)

#include "core/est/est_enroller.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/scep/certs_only.h"
#include "tests/support/test_pki.h"

namespace scepd::est {
namespace {

using testing::CachedKey;
using testing::MakeCert;
using testing::MakeTestCa;

// Answers from a queue; keeps what was sent.
class CannedTransport : public Transport {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    sent.push_back(request);
    if (answers.empty()) return MakeError(ErrorCode::kNetwork, "no answer queued");
    HttpResponse r = std::move(answers.front());
    answers.pop_front();
    return r;
  }
  std::deque<HttpResponse> answers;
  std::vector<HttpRequest> sent;
};

HttpResponse CertsAnswer(std::vector<X509*> certs) {
  auto p7 = scep::BuildCertsOnly(certs);
  EXPECT_TRUE(p7.ok());
  HttpResponse r;
  r.status = 200;
  r.content_type = "application/pkcs7-mime";
  r.content_type_header = "application/pkcs7-mime; smime-type=certs-only";
  const std::string b64 = Base64Encode(*p7);
  r.body.assign(b64.begin(), b64.end());
  return r;
}

class EstEnrollerTest : public ::testing::Test {
 protected:
  EstEnrollerTest() : root_(MakeTestCa("/CN=Root", 7)), key_(CachedKey(1)) {
    testing::CertSpec spec;
    spec.subject = "/CN=Issuing";
    spec.is_ca = true;
    spec.serial = 2;
    sub_key_ = CachedKey(2);
    sub_ = MakeCert(spec, sub_key_.get(), root_.cert.get(), root_.key.get());
  }

  EstEnrollerOptions Options() {
    EstEnrollerOptions o;
    o.url = "https://est.example:8443";
    o.label = "routers";
    o.username = "router1";
    o.password = "pw-123";
    o.now = [] { return std::int64_t{1700000000}; };
    return o;
  }

  enroll::Transaction Prepared(EstEnroller& e, const enroll::CurrentPair* current) {
    CsrSpec spec;
    spec.subject = "/CN=router1";
    auto t = e.Prepare(CachedKey(3), spec, current, 0);
    EXPECT_TRUE(t.ok()) << t.error().message;
    return std::move(*t);
  }

  testing::TestCa root_;
  ossl::Ptr<EVP_PKEY> key_, sub_key_;
  ossl::Ptr<X509> sub_;
  CannedTransport transport_;
};

TEST_F(EstEnrollerTest, CaCertsPicksTheIssuingCaAndKeepsTheChain) {
  // The root first, as many servers send it: the issuing CA is the one that
  // issued none of the others.
  transport_.answers.push_back(CertsAnswer({root_.cert.get(), sub_.get()}));
  EstEnroller e(transport_, Options());
  auto ca = e.FetchCaCertificates();
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  EXPECT_EQ(X509_cmp(ca->ca.get(), sub_.get()), 0);
  ASSERT_EQ(ca->chain.size(), 2u);
  EXPECT_EQ(X509_cmp(ca->chain[0].get(), sub_.get()), 0);
  EXPECT_EQ(X509_cmp(ca->chain[1].get(), root_.cert.get()), 0);
  ASSERT_EQ(transport_.sent.size(), 1u);
  EXPECT_EQ(transport_.sent[0].url, "https://est.example:8443/.well-known/est/routers/cacerts");
  EXPECT_EQ(transport_.sent[0].basic_user, "") << "/cacerts needs no credentials";
}

TEST_F(EstEnrollerTest, FirstEnrollmentSendsBasicAndMapsEveryAnswer) {
  transport_.answers.push_back(CertsAnswer({sub_.get()}));
  EstEnroller e(transport_, Options());
  ASSERT_TRUE(e.FetchCaCertificates().ok());
  enroll::Transaction t = Prepared(e, nullptr);
  EXPECT_EQ(t.cookie.at("operation"), "simpleenroll");
  EXPECT_EQ(e.RequestName(t), "simpleenroll");

  HttpResponse pending;
  pending.status = 202;
  pending.retry_after = "30";
  transport_.answers.push_back(pending);
  auto o1 = e.Submit(t, nullptr);
  ASSERT_TRUE(std::holds_alternative<enroll::Pending>(o1));
  EXPECT_EQ(std::get<enroll::Pending>(o1).retry_after, 30);
  EXPECT_EQ(std::get<enroll::Pending>(o1).cookie, t.cookie);
  const HttpRequest& sent = transport_.sent.back();
  EXPECT_EQ(sent.url, "https://est.example:8443/.well-known/est/routers/simpleenroll");
  EXPECT_EQ(sent.basic_user, "router1");
  EXPECT_EQ(sent.client_cert_pem, "");

  HttpResponse refused;
  refused.status = 401;
  refused.www_authenticate = "Basic realm=\"est\"";
  transport_.answers.push_back(refused);
  auto o2 = e.Poll(t, nullptr);
  ASSERT_TRUE(std::holds_alternative<enroll::Rejected>(o2));
  EXPECT_EQ(std::get<enroll::Rejected>(o2).code, "authentication");
  EXPECT_NE(std::get<enroll::Rejected>(o2).reason.find("realm"), std::string::npos);
  EXPECT_FALSE(std::get<enroll::Rejected>(o2).may_enroll_anew);

  testing::CertSpec spec;
  spec.subject = "/CN=router1";
  spec.serial = 9;
  auto issued_cert = MakeCert(spec, t.key.get(), sub_.get(), sub_key_.get());
  transport_.answers.push_back(CertsAnswer({issued_cert.get()}));
  auto o3 = e.Poll(t, nullptr);
  ASSERT_TRUE(std::holds_alternative<enroll::Issued>(o3));
  EXPECT_EQ(X509_cmp(std::get<enroll::Issued>(o3).cert.get(), issued_cert.get()), 0);
  ASSERT_EQ(std::get<enroll::Issued>(o3).chain.size(), 1u);

  // A certificate for another key is not ours: a trust failure.
  auto other = MakeCert(spec, key_.get(), sub_.get(), sub_key_.get());
  transport_.answers.push_back(CertsAnswer({other.get()}));
  auto o4 = e.Poll(t, nullptr);
  ASSERT_TRUE(std::holds_alternative<enroll::Failed>(o4));
  EXPECT_EQ(std::get<enroll::Failed>(o4).kind, enroll::FailureKind::kTrust);
}

TEST_F(EstEnrollerTest, RenewalAuthenticatesWithTheCurrentPairOnly) {
  transport_.answers.push_back(CertsAnswer({sub_.get()}));
  EstEnroller e(transport_, Options());
  ASSERT_TRUE(e.FetchCaCertificates().ok());
  testing::CertSpec spec;
  spec.subject = "/CN=router1";
  auto current_cert = MakeCert(spec, key_.get(), sub_.get(), sub_key_.get());
  enroll::CurrentPair current{current_cert.get(), key_.get()};
  enroll::Transaction t = Prepared(e, &current);
  EXPECT_TRUE(t.renewal);
  EXPECT_EQ(t.cookie.at("operation"), "simplereenroll");
  HttpResponse forbidden;
  forbidden.status = 403;
  transport_.answers.push_back(forbidden);
  auto o = e.Submit(t, &current);
  ASSERT_TRUE(std::holds_alternative<enroll::Rejected>(o));
  EXPECT_TRUE(std::get<enroll::Rejected>(o).may_enroll_anew);
  const HttpRequest& sent = transport_.sent.back();
  EXPECT_EQ(sent.url, "https://est.example:8443/.well-known/est/routers/simplereenroll");
  EXPECT_EQ(sent.basic_user, "");
  EXPECT_NE(sent.client_cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(sent.client_key_pem.find("PRIVATE KEY"), std::string::npos);
  // Resumed after the current pair is gone, or with a damaged cookie: start over.
  EXPECT_TRUE(std::holds_alternative<enroll::StartOver>(e.Poll(t, nullptr)));
  t.cookie.clear();
  EXPECT_TRUE(std::holds_alternative<enroll::StartOver>(e.Poll(t, &current)));
}

TEST_F(EstEnrollerTest, BootstrapTrustsOnlyThePinnedCertificate) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ASSERT_EQ(X509_digest(root_.cert.get(), EVP_sha256(), md, &len), 1);
  std::vector<std::string> anchors;
  CannedTransport provisional, anchored;
  auto options = Options();
  options.bootstrap_sha256.assign(md, md + len);
  options.make_transport = [&](const std::string& anchor) -> Result<std::unique_ptr<Transport>> {
    anchors.push_back(anchor);
    auto t = std::make_unique<CannedTransport>();
    t->answers.push_back(CertsAnswer({root_.cert.get(), sub_.get()}));
    return std::unique_ptr<Transport>(std::move(t));
  };
  EstEnroller e(transport_, options);
  auto ca = e.FetchCaCertificates();
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  EXPECT_EQ(X509_cmp(ca->ca.get(), root_.cert.get()), 0) << "the pinned CA is the one trusted";
  ASSERT_EQ(anchors.size(), 2u);
  EXPECT_EQ(anchors[0], "") << "the provisional contact";
  auto pem = ossl::CertToPem(root_.cert.get());
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(anchors[1], *pem) << "then the pinned certificate alone";
  EXPECT_TRUE(transport_.sent.empty());

  // A pin no certificate has: refused, and no second contact.
  anchors.clear();
  options.bootstrap_sha256.assign(32, 0xAB);
  EstEnroller wrong(transport_, options);
  auto refused = wrong.FetchCaCertificates();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kVerify);
  EXPECT_EQ(anchors.size(), 1u);
}

}  // namespace
}  // namespace scepd::est
