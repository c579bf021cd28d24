// The SCEP client against a scripted CA behind a fake Transport: every check
// the client makes on a CertRep, and how it talks HTTP.

#include "core/scep/client.h"
#include "core/scep/scep_enroller.h"

#include <gtest/gtest.h>

#include <functional>
#include <variant>

#include "core/csr.h"
#include "core/scep/certs_only.h"
#include "core/scep/pki_message.h"
#include "core/server_text.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/test_pki.h"

namespace scepd::scep {
namespace {

using testing::CachedKey;

// A CA that answers requests in-process. `tweak` edits the CertRep before
// it is signed; `issue_key` chooses whose key the issued cert carries.
class FakeCa : public Transport {
 public:
  FakeCa() : ca_(testing::MakeTestCa()) {}

  Result<HttpResponse> Send(const HttpRequest& req) override {
    requests.push_back(req);
    if (raw_reply) return *raw_reply;
    if (req.url.find("operation=GetCACaps") != std::string::npos) {
      return HttpResponse{200, "text/plain", ToBytes(caps_text)};
    }
    if (req.url.find("operation=GetCACert") != std::string::npos) {
      auto der = ossl::CertToDer(ca_.cert.get());
      return HttpResponse{200, "application/x-x509-ca-cert", *der};
    }
    Bytes der;
    if (req.method == HttpRequest::Method::kPost) {
      der = req.body;
    } else {
      auto pos = req.url.find("&message=");
      std::string enc = req.url.substr(pos + 9), dec;
      for (std::size_t i = 0; i < enc.size(); ++i) {
        if (enc[i] == '%') {
          dec += static_cast<char>(std::stoi(enc.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          dec += enc[i];
        }
      }
      der = *Base64Decode(dec);
    }
    auto msg = ParsePkiMessage(der, {});
    EXPECT_TRUE(msg.ok()) << msg.error().message;
    last_type = msg->attributes.message_type;
    last_digest = msg->digest;
    auto plain = OpenEnvelope(msg->envelope, ca_.key.get(), ca_.cert.get());
    EXPECT_TRUE(plain.ok()) << plain.error().message;

    PkiAttributes rep;
    rep.message_type = MessageType::kCertRep;
    rep.transaction_id = msg->attributes.transaction_id;
    rep.sender_nonce = *MakeNonce();
    rep.recipient_nonce = msg->attributes.sender_nonce;
    rep.pki_status = status;
    if (status == PkiStatus::kFailure) rep.fail_info = fail_info;
    std::optional<Bytes> content;
    if (status == PkiStatus::kSuccess) {
      ossl::Ptr<EVP_PKEY> subject_key;
      if (msg->attributes.message_type == MessageType::kPKCSReq ||
          msg->attributes.message_type == MessageType::kRenewalReq) {
        auto req_csr = ossl::CsrFromPemOrDer(*plain, "csr");
        subject_key = ossl::UpRef(X509_REQ_get0_pubkey(req_csr->get()));
        last_csr_subject = X509_NAME_oneline(X509_REQ_get_subject_name(req_csr->get()), buf, 256);
      } else {
        subject_key = CachedKey(0);
      }
      if (issue_other_key) subject_key = CachedKey(6);
      testing::CertSpec spec;
      spec.subject = "/CN=issued";
      spec.serial = 42;
      issued = testing::MakeCert(spec, subject_key.get(), ca_.cert.get(), ca_.key.get());
      X509* certs[] = {issued.get(), ca_.cert.get()};
      ossl::Ptr<X509_CRL> crl(X509_CRL_new());
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_.cert.get()));
      ossl::Ptr<ASN1_TIME> now(ASN1_TIME_set(nullptr, std::time(nullptr)));
      X509_CRL_set1_lastUpdate(crl.get(), now.get());
      X509_CRL_sign(crl.get(), ca_.key.get(), EVP_sha256());
      X509_CRL* crls[] = {crl.get()};
      content = *BuildCertsOnly(certs, msg->attributes.message_type == MessageType::kGetCRL
                                           ? std::span<X509_CRL* const>(crls)
                                           : std::span<X509_CRL* const>());
    }
    if (tweak) tweak(rep);
    EnvelopeSpec env{{msg->signer.get()}, "DES-EDE3-CBC"};
    SignerSpec signer{ca_.cert.get(), ca_.key.get(), "SHA1", {}};
    ossl::Ptr<EVP_PKEY> other;
    ossl::Ptr<X509> other_cert;
    if (sign_with_other) {
      other = CachedKey(5);
      testing::CertSpec spec;
      spec.subject = "/CN=intruder";
      other_cert = testing::MakeCert(spec, other.get(), nullptr, nullptr);
      signer = SignerSpec{other_cert.get(), other.get(), "SHA256", {}};
    }
    auto out = BuildPkiMessage(rep, content, env, signer);
    EXPECT_TRUE(out.ok()) << out.error().message;
    return HttpResponse{200, "application/x-pki-message", *out};
  }

  testing::TestCa ca_;
  std::string caps_text = "POSTPKIOperation\nSHA-256\nAES\nRenewal";
  PkiStatus status = PkiStatus::kSuccess;
  FailInfo fail_info = FailInfo::kBadRequest;
  bool issue_other_key = false;
  bool sign_with_other = false;
  std::function<void(PkiAttributes&)> tweak;
  std::optional<HttpResponse> raw_reply;
  std::vector<HttpRequest> requests;
  MessageType last_type = MessageType::kCertRep;
  std::string last_digest, last_csr_subject;
  ossl::Ptr<X509> issued;
  char buf[256];
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = CachedKey(0);
    CsrSpec spec;
    spec.subject = "/CN=router-1";
    spec.challenge_password = "secret";
    csr_ = std::move(*BuildCsr(spec, key_.get()));
    self_signed_ = std::move(*MakeSelfSignedCert(csr_.get(), key_.get(), "SHA256", std::time(nullptr)));
  }

  Client MakeClient(bool fetch = true) {
    Client c(ca_, ClientOptions{"http://127.0.0.1:1/scep", "", {}});
    if (fetch) {
      EXPECT_TRUE(c.GetCaCaps().ok());
      EXPECT_TRUE(c.GetCaCert().ok());
    }
    return c;
  }

  EnrollRequest Request() {
    EnrollRequest r;
    r.csr = csr_.get();
    r.key = key_.get();
    r.signer_cert = self_signed_.get();
    r.signer_key = key_.get();
    r.transaction_id = *TransactionIdFor(key_.get());
    return r;
  }

  FakeCa ca_;
  ossl::Ptr<EVP_PKEY> key_;
  ossl::Ptr<X509_REQ> csr_;
  ossl::Ptr<X509> self_signed_;
};

TEST_F(ClientTest, EnrollSuccessReturnsOurCertificate) {
  Client c = MakeClient();
  auto rep = c.Enroll(Request());
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->status, PkiStatus::kSuccess);
  ASSERT_TRUE(rep->issued);
  EXPECT_EQ(X509_cmp(rep->issued.get(), ca_.issued.get()), 0);
  EXPECT_EQ(rep->certs.size(), 2u);
  EXPECT_EQ(ca_.last_type, MessageType::kPKCSReq);
  EXPECT_EQ(ca_.last_csr_subject, "/CN=router-1");
  // POST because the CA advertises POSTPKIOperation; strongest digest.
  EXPECT_EQ(ca_.requests.back().method, HttpRequest::Method::kPost);
  EXPECT_EQ(ca_.requests.back().content_type, "application/x-pki-message");
  EXPECT_EQ(ca_.requests.back().url, "http://127.0.0.1:1/scep?operation=PKIOperation");
  EXPECT_EQ(ca_.last_digest, "SHA256");
}

TEST_F(ClientTest, UsesGetWithPercentEncodedBase64WithoutPostCapability) {
  ca_.caps_text = "SHA-1\nDES3";
  Client c = MakeClient();
  auto rep = c.Enroll(Request());
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  const HttpRequest& r = ca_.requests.back();
  EXPECT_EQ(r.method, HttpRequest::Method::kGet);
  auto pos = r.url.find("operation=PKIOperation&message=");
  ASSERT_NE(pos, std::string::npos);
  std::string message = r.url.substr(pos + 31);
  EXPECT_EQ(message.find_first_of("+/="), std::string::npos) << "must be percent-encoded";
  EXPECT_EQ(ca_.last_digest, "SHA1");
}

TEST_F(ClientTest, TransactionIdIsTheKeyHashAndStableAcrossPolls) {
  Client c = MakeClient();
  ca_.status = PkiStatus::kPending;
  EnrollRequest r = Request();
  EXPECT_EQ(r.transaction_id.size(), 64u);
  auto first = c.Enroll(r);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->status, PkiStatus::kPending);
  EXPECT_EQ(first->transaction_id, r.transaction_id);
  ca_.status = PkiStatus::kSuccess;
  auto second = c.Poll(r);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(ca_.last_type, MessageType::kCertPoll);
  EXPECT_EQ(second->status, PkiStatus::kSuccess);
  EXPECT_EQ(second->transaction_id, r.transaction_id);
  // A different key gives a different transaction.
  auto other = CachedKey(1);
  EXPECT_NE(*TransactionIdFor(other.get()), r.transaction_id);
}

TEST_F(ClientTest, EachFailInfoIsAnOutcomeNotAnError) {
  Client c = MakeClient();
  ca_.status = PkiStatus::kFailure;
  for (FailInfo f : {FailInfo::kBadAlg, FailInfo::kBadMessageCheck, FailInfo::kBadRequest,
                     FailInfo::kBadTime, FailInfo::kBadCertId}) {
    ca_.fail_info = f;
    auto rep = c.Enroll(Request());
    ASSERT_TRUE(rep.ok()) << rep.error().message;
    EXPECT_EQ(rep->status, PkiStatus::kFailure);
    EXPECT_EQ(rep->fail_info, f);
    EXPECT_NE(rep->Describe().find(FailInfoName(f)), std::string::npos) << rep->Describe();
  }
  ca_.tweak = [](PkiAttributes& a) { a.fail_info_text = "challenge password wrong"; };
  auto rep = c.Enroll(Request());
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->Describe(),
            "FAILURE: badCertId (no certificate matches the given criteria): challenge password wrong");
}

// Issue 14 point 8: a signed failInfoText is the CA's free text; it goes to
// logs, status files and SCEP_ERROR, so it leaves the client cleaned.
TEST_F(ClientTest, FailInfoTextAndTransactionIdAreCleaned) {
  Client c = MakeClient();
  ca_.status = PkiStatus::kFailure;
  const std::string hostile = "no\n2026-12-06 [info] renewed: certificate 99 installed\x1b[2J" +
                              std::string(1000, 'A');
  ca_.tweak = [&](PkiAttributes& a) { a.fail_info_text = hostile; };
  auto rep = c.Enroll(Request());
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  ASSERT_TRUE(rep->fail_info_text.has_value());
  const std::string text = *rep->fail_info_text;
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_LE(text.size(), kServerTextMax + 3);
  const std::string described = rep->Describe();
  EXPECT_EQ(described.find('\n'), std::string::npos);
  ca_.status = PkiStatus::kSuccess;
  ca_.tweak = [](PkiAttributes& a) { a.transaction_id = "X\r\nforged line"; };
  auto bad = c.Enroll(Request());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.find('\n'), std::string::npos) << bad.error().message;
  testing::ExpectReliabilityRow("hardening.server-text",
                       described + "\n" + bad.error().message);
}

// Issue 14 point 9: RFC 8894 section 3.5.2, an empty GetCACaps answer is a
// CA without capabilities, not a failure.
TEST_F(ClientTest, EmptyGetCaCapsMeansNoCapabilities) {
  Client c(ca_, ClientOptions{"http://127.0.0.1:1/scep", "", {}});
  ca_.caps_text = "";
  auto caps = c.GetCaCaps();
  ASSERT_TRUE(caps.ok()) << caps.error().message;
  EXPECT_EQ(caps->ToString(), "");
  ASSERT_TRUE(c.GetCaCert().ok());
  auto rep = c.Enroll(Request());
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->status, PkiStatus::kSuccess);
  EXPECT_EQ(ca_.requests.back().method, HttpRequest::Method::kGet);
  testing::ExpectReliabilityRow("hardening.empty-cacaps",
                       std::string("GetCACaps ok, no capabilities, ") +
                           (ca_.requests.back().method == HttpRequest::Method::kGet ? "GET" : "POST") +
                           " PKIOperation, " + PkiStatusName(rep->status));
}

TEST_F(ClientTest, WrongTransactionIdIsRejected) {
  Client c = MakeClient();
  ca_.tweak = [](PkiAttributes& a) { a.transaction_id = "SOMEONE-ELSE"; };
  auto rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().code, ErrorCode::kVerify);
  EXPECT_NE(rep.error().message.find("transactionID 'SOMEONE-ELSE' is not ours"), std::string::npos)
      << rep.error().message;
}

TEST_F(ClientTest, WrongOrMissingRecipientNonceIsRejected) {
  Client c = MakeClient();
  ca_.tweak = [](PkiAttributes& a) { a.recipient_nonce = Bytes(16, 0xEE); };
  auto rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().message.find("recipientNonce EEEE"), std::string::npos) << rep.error().message;
  ca_.tweak = [](PkiAttributes& a) { a.recipient_nonce.reset(); };
  rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().message.find("no recipientNonce"), std::string::npos);
}

TEST_F(ClientTest, ReplySignedByAnotherKeyIsRejected) {
  Client c = MakeClient();
  ca_.sign_with_other = true;
  auto rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().code, ErrorCode::kVerify);
  EXPECT_NE(rep.error().message.find("reply rejected"), std::string::npos) << rep.error().message;
}

TEST_F(ClientTest, CertificateForAnotherKeyIsRejected) {
  Client c = MakeClient();
  ca_.issue_other_key = true;
  auto rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().message.find("none for our public key"), std::string::npos)
      << rep.error().message;
}

TEST_F(ClientTest, WrongMessageTypeAndMissingStatusAreProtocolErrors) {
  Client c = MakeClient();
  ca_.tweak = [](PkiAttributes& a) { a.message_type = MessageType::kPKCSReq; };
  auto rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().message.find("not a CertRep"), std::string::npos);
  ca_.tweak = [](PkiAttributes& a) { a.pki_status.reset(); };
  rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().message.find("no pkiStatus"), std::string::npos);
}

TEST_F(ClientTest, HttpErrorsAndHtmlPagesAreReportedWithAnExcerpt) {
  Client c = MakeClient();
  ca_.raw_reply = HttpResponse{500, "text/plain", ToBytes("not implemented\n")};
  auto rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().code, ErrorCode::kHttp);
  EXPECT_EQ(rep.error().message, "PKIOperation PKCSReq: server answered HTTP 500: not implemented");
  ca_.raw_reply = HttpResponse{
      200, "text/html", ToBytes("<html><head><title>Proxy</title></head><body>Access denied</body></html>")};
  rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().message,
            "PKIOperation PKCSReq: server answered with an HTML page: Proxy Access denied");
  ca_.raw_reply = HttpResponse{200, "application/x-pki-message", {}};
  rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().message.find("empty body"), std::string::npos);
  ca_.raw_reply = HttpResponse{200, "application/x-pki-message", Bytes{0x30, 0x82, 0x01}};
  rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().code, ErrorCode::kParse);
}

TEST_F(ClientTest, GetCertAndGetCrl) {
  Client c = MakeClient();
  ossl::Ptr<ASN1_INTEGER> serial(ASN1_INTEGER_new());
  ASN1_INTEGER_set(serial.get(), 42);
  auto rep = c.GetCert(self_signed_.get(), key_.get(), serial.get());
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(ca_.last_type, MessageType::kGetCert);
  ASSERT_TRUE(rep->issued);
  EXPECT_EQ(ASN1_INTEGER_get(X509_get0_serialNumber(rep->issued.get())), 42);
  ASN1_INTEGER_set(serial.get(), 43);
  EXPECT_FALSE(c.GetCert(self_signed_.get(), key_.get(), serial.get()).ok());

  auto crl = c.GetCrl(self_signed_.get(), key_.get());
  ASSERT_TRUE(crl.ok()) << crl.error().message;
  EXPECT_EQ(ca_.last_type, MessageType::kGetCRL);
  EXPECT_EQ(crl->crls.size(), 1u);
}

TEST_F(ClientTest, PkiOperationNeedsTheCaCertificate) {
  Client c = MakeClient(false);
  auto rep = c.Enroll(Request());
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.error().code, ErrorCode::kInvalidArgument);
}

TEST(BodyExcerptTest, StripsTagsAndFoldsWhitespace) {
  EXPECT_EQ(BodyExcerpt(ToBytes("<h1>Error</h1>\n\n  <p>Bad\tthing</p>")), "Error Bad thing");
  std::string long_text(500, 'x');
  EXPECT_EQ(BodyExcerpt(ToBytes(long_text), 10), "xxxxxxxxxx...");
  EXPECT_EQ(BodyExcerpt(Bytes{0x01, 'a'}), "\\x01a");
}

// The SCEP back end of the enrollment seam (core/scep/scep_enroller.h) over
// the same fake CA: which request it builds and sends, and how it words the
// CA's answers for the daemon.
ScepEnrollerOptions EnrollerOptions() {
  ScepEnrollerOptions o;
  o.client = ClientOptions{"http://127.0.0.1:1/scep", "", {}};
  return o;
}

TEST_F(ClientTest, ScepEnrollerFirstEnrollmentIsAPkcsReqAndIssuedHasTheChain) {
  ScepEnroller e(ca_, EnrollerOptions());
  auto ca = e.FetchCaCertificates();
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  EXPECT_EQ(X509_cmp(ca->ca.get(), ca_.ca_.cert.get()), 0);
  ASSERT_EQ(ca->chain.size(), 1u);
  EXPECT_EQ(e.facts().digest, "SHA256");
  CsrSpec spec;
  spec.subject = "/CN=router-1";
  auto t = e.Prepare(CachedKey(1), spec, nullptr, std::time(nullptr));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(t->renewal);
  EXPECT_EQ(t->cookie.at("message_type"), "19");
  EXPECT_EQ(t->id, *TransactionIdFor(t->key.get()));
  EXPECT_EQ(e.RequestName(*t), "PKCSReq");
  enroll::Outcome out = e.Submit(*t, nullptr);
  auto* issued = std::get_if<enroll::Issued>(&out);
  ASSERT_NE(issued, nullptr);
  EXPECT_EQ(X509_cmp(issued->cert.get(), ca_.issued.get()), 0);
  ASSERT_EQ(issued->chain.size(), 1u);
  EXPECT_EQ(ca_.last_type, MessageType::kPKCSReq);
}

TEST_F(ClientTest, ScepEnrollerRenewalRefusalPendingAndAMissingSigner) {
  ScepEnroller e(ca_, EnrollerOptions());
  ASSERT_TRUE(e.FetchCaCertificates().ok());
  CsrSpec spec;
  spec.subject = "/CN=router-1";
  enroll::CurrentPair current{self_signed_.get(), key_.get()};
  auto t = e.Prepare(CachedKey(1), spec, &current, std::time(nullptr));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->renewal);
  EXPECT_EQ(t->cookie.at("message_type"), "17") << "the CA offers Renewal";
  EXPECT_EQ(e.RequestName(*t), "RenewalReq");

  ca_.status = PkiStatus::kFailure;
  enroll::Outcome out = e.Submit(*t, &current);
  auto* rejected = std::get_if<enroll::Rejected>(&out);
  ASSERT_NE(rejected, nullptr);
  EXPECT_EQ(rejected->code, "badRequest");
  EXPECT_TRUE(rejected->may_enroll_anew) << "a refused renewal may fall back";
  EXPECT_EQ(ca_.last_type, MessageType::kRenewalReq);

  ca_.status = PkiStatus::kPending;
  out = e.Poll(*t, &current);
  auto* pending = std::get_if<enroll::Pending>(&out);
  ASSERT_NE(pending, nullptr);
  EXPECT_EQ(pending->cookie, t->cookie);
  EXPECT_EQ(ca_.last_type, MessageType::kCertPoll);

  // The CertRep is encrypted to the pair that signed the request: without
  // it the transaction cannot go on.
  const std::size_t sent = ca_.requests.size();
  out = e.Poll(*t, nullptr);
  EXPECT_NE(std::get_if<enroll::StartOver>(&out), nullptr);
  EXPECT_EQ(ca_.requests.size(), sent) << "nothing sent";
}

TEST_F(ClientTest, ScepEnrollerRenewsWithAPkcsReqWhenTheCaCannotRenew) {
  ca_.caps_text = "POSTPKIOperation\nSHA-256\nAES";
  ScepEnroller e(ca_, EnrollerOptions());
  ASSERT_TRUE(e.FetchCaCertificates().ok());
  CsrSpec spec;
  spec.subject = "/CN=router-1";
  enroll::CurrentPair current{self_signed_.get(), key_.get()};
  auto t = e.Prepare(CachedKey(1), spec, &current, std::time(nullptr));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->renewal);
  EXPECT_EQ(t->cookie.at("message_type"), "19");
  enroll::Outcome out = e.Submit(*t, &current);
  EXPECT_NE(std::get_if<enroll::Issued>(&out), nullptr);
  EXPECT_EQ(ca_.last_type, MessageType::kPKCSReq);
  EXPECT_EQ(MessageTypeFor(CaCaps{}, true), MessageType::kPKCSReq);
}

}  // namespace
}  // namespace scepd::scep
