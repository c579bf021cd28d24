#include "core/scep/scep_session_steps.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_pki.h"

namespace scepd::scep {
namespace {

using testing::CachedKey;
using testing::CertSpec;
using testing::MakeCert;
using testing::MakeTestCa;
using testing::TestCa;

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

CaCaps WithRenewal() {
  CaCaps caps;
  caps.Set(Capability::kRenewal);
  return caps;
}

ossl::Ptr<X509_REQ> Request(EVP_PKEY* key) {
  CsrSpec spec;
  spec.subject = "/CN=router-1";
  auto csr = BuildCsr(spec, key, "SHA256");
  EXPECT_TRUE(csr.ok()) << csr.error().message;
  return csr.ok() ? std::move(*csr) : nullptr;
}

std::string SubjectOf(X509* cert) {
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
  return buf;
}

TEST(ScepSessionStepsTest, FirstEnrollmentIsAPkcsReqSignedByANewSelfSignedCertificate) {
  auto key = CachedKey(0);
  auto csr = Request(key.get());
  ASSERT_TRUE(csr);
  // Renewal in the caps does not matter without a current certificate.
  auto env = ChooseEnvelope(WithRenewal(), csr.get(), key.get(), {}, "SHA256", kNow);
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->type, MessageType::kPKCSReq);
  EXPECT_TRUE(env->made_self_signed);
  ASSERT_TRUE(env->signer_cert);
  EXPECT_EQ(SubjectOf(env->signer_cert.get()), "/CN=router-1");
  EXPECT_EQ(X509_check_issued(env->signer_cert.get(), env->signer_cert.get()), X509_V_OK);
  auto id = TransactionIdFor(key.get());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(env->transaction_id, *id);
}

TEST(ScepSessionStepsTest, ResumedFirstEnrollmentReusesItsSelfSignedCertificate) {
  auto key = CachedKey(0);
  auto csr = Request(key.get());
  ASSERT_TRUE(csr);
  CertSpec spec;
  spec.subject = "/CN=made earlier";
  auto earlier = MakeCert(spec, key.get(), nullptr, key.get());
  EnvelopeSigner signer;
  signer.self_signed = earlier.get();
  auto env = ChooseEnvelope(WithRenewal(), csr.get(), key.get(), signer, "SHA256", kNow);
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->type, MessageType::kPKCSReq);
  EXPECT_FALSE(env->made_self_signed);
  EXPECT_EQ(env->signer_cert.get(), earlier.get());
}

TEST(ScepSessionStepsTest, RenewalIsSignedByTheCurrentCertificate) {
  const TestCa ca = MakeTestCa();
  auto old_key = CachedKey(1);
  CertSpec spec;
  spec.subject = "/CN=router-1";
  auto current = MakeCert(spec, old_key.get(), ca.cert.get(), ca.key.get());
  auto new_key = CachedKey(0);
  auto csr = Request(new_key.get());
  ASSERT_TRUE(csr);
  EnvelopeSigner signer;
  signer.renewal_cert = current.get();

  auto env = ChooseEnvelope(WithRenewal(), csr.get(), new_key.get(), signer, "SHA256", kNow);
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->type, MessageType::kRenewalReq);
  EXPECT_EQ(env->signer_cert.get(), current.get());
  EXPECT_FALSE(env->made_self_signed);
  auto id = TransactionIdFor(new_key.get());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(env->transaction_id, *id);

  // A CA without Renewal gets a PKCSReq, still signed with the current pair.
  env = ChooseEnvelope(CaCaps{}, csr.get(), new_key.get(), signer, "SHA256", kNow);
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->type, MessageType::kPKCSReq);
  EXPECT_EQ(env->signer_cert.get(), current.get());
}

TEST(ScepSessionStepsTest, KeyThatIsNotTheRequestsIsRefused) {
  auto key = CachedKey(0);
  auto other = CachedKey(1);
  auto csr = Request(key.get());
  ASSERT_TRUE(csr);
  auto env = ChooseEnvelope(CaCaps{}, csr.get(), other.get(), {}, "SHA256", kNow);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(env.error().message.find("self-signed certificate"), std::string::npos)
      << env.error().message;
}

TEST(ScepSessionStepsTest, StoredChainLeavesTheRaCertificatesOut) {
  const TestCa ca = MakeTestCa();
  auto ra_key = CachedKey(2);
  CertSpec spec;
  spec.subject = "/CN=RA";
  spec.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
  auto ra = MakeCert(spec, ra_key.get(), ca.cert.get(), ca.key.get());
  std::vector<ossl::Ptr<X509>> all;
  all.push_back(ossl::UpRef(ra.get()));
  all.push_back(ossl::UpRef(ca.cert.get()));
  auto roles = SelectCaRoles(std::move(all));
  ASSERT_TRUE(roles.ok()) << roles.error().message;
  ASSERT_EQ(roles->ra.size(), 1u);

  auto chain = StoredChain(*roles);
  ASSERT_EQ(chain.size(), 1u);
  EXPECT_EQ(X509_cmp(chain[0].get(), ca.cert.get()), 0);

  // Without an RA the whole answer is the chain.
  std::vector<ossl::Ptr<X509>> only_ca;
  only_ca.push_back(ossl::UpRef(ca.cert.get()));
  roles = SelectCaRoles(std::move(only_ca));
  ASSERT_TRUE(roles.ok()) << roles.error().message;
  EXPECT_EQ(StoredChain(*roles).size(), 1u);
}

TEST(ScepSessionStepsTest, MessageTypeForFollowsTheRenewalCapability) {
  EXPECT_EQ(MessageTypeFor(WithRenewal(), true), MessageType::kRenewalReq);
  EXPECT_EQ(MessageTypeFor(WithRenewal(), false), MessageType::kPKCSReq);
  EXPECT_EQ(MessageTypeFor(CaCaps{}, true), MessageType::kPKCSReq);
}

}  // namespace
}  // namespace scepd::scep
