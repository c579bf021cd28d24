// GET-CHAIN's order (cli/scep_client_chain.h) for CAs below a root: RA
// certificates, the issuing CA, its issuers up to the root, whatever order
// the CA sent them in.

#include "cli/scep_client_chain.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <vector>

#include "tests/support/test_pki.h"

namespace scepd::cli {
namespace {

using testing::CachedKey;
using testing::CertSpec;
using testing::MakeCert;

CertSpec Ca(const char* subject) {
  CertSpec s;
  s.subject = subject;
  s.is_ca = true;
  s.key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
  return s;
}

class ScepClientChain : public ::testing::Test {
 protected:
  void SetUp() override {
    root_key_ = CachedKey(0);
    mid_key_ = CachedKey(1);
    issuing_key_ = CachedKey(2);
    ra_key_ = CachedKey(3);
    root_ = MakeCert(Ca("/CN=Root"), root_key_.get(), nullptr, nullptr);
    mid_ = MakeCert(Ca("/CN=Intermediate"), mid_key_.get(), root_.get(), root_key_.get());
    issuing_ = MakeCert(Ca("/CN=Issuing"), issuing_key_.get(), mid_.get(), mid_key_.get());
    CertSpec ra;
    ra.subject = "/CN=RA";
    ra.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
    ra_ = MakeCert(ra, ra_key_.get(), issuing_.get(), issuing_key_.get());
  }

  // What a CA sends, in this order, sorted into roles as the client does.
  scep::CaCertificates Received(const std::vector<X509*>& certs) {
    std::vector<ossl::Ptr<X509>> owned;
    for (X509* c : certs) owned.push_back(ossl::UpRef(c));
    auto ca = scep::SelectCaRoles(std::move(owned));
    EXPECT_TRUE(ca.ok()) << ca.error().message;
    return std::move(*ca);
  }

  ossl::Ptr<EVP_PKEY> root_key_, mid_key_, issuing_key_, ra_key_;
  ossl::Ptr<X509> root_, mid_, issuing_, ra_;
};

TEST_F(ScepClientChain, RaThenIssuingCaUpToTheRootInAnyOrderReceived) {
  const std::vector<X509*> want = {ra_.get(), issuing_.get(), mid_.get(), root_.get()};
  for (const std::vector<X509*>& sent : {std::vector<X509*>{root_.get(), ra_.get(), mid_.get(), issuing_.get()},
                                         std::vector<X509*>{ra_.get(), issuing_.get(), mid_.get(), root_.get()},
                                         std::vector<X509*>{mid_.get(), issuing_.get(), root_.get(), ra_.get()}}) {
    scep::CaCertificates ca = Received(sent);
    CaChain chain = OrderCaChain(ca);
    ASSERT_EQ(chain.certs.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(X509_cmp(chain.certs[i], want[i]), 0) << i;
    }
    EXPECT_EQ(chain.ra_count, 1u);
    EXPECT_TRUE(chain.complete);
  }
}

TEST_F(ScepClientChain, WithoutTheRootTheChainEndsIncomplete) {
  scep::CaCertificates ca = Received({issuing_.get(), mid_.get()});
  CaChain chain = OrderCaChain(ca);
  ASSERT_EQ(chain.certs.size(), 2u);
  EXPECT_EQ(X509_cmp(chain.certs[0], issuing_.get()), 0);
  EXPECT_EQ(X509_cmp(chain.certs[1], mid_.get()), 0);
  EXPECT_EQ(chain.ra_count, 0u);
  EXPECT_FALSE(chain.complete);
  // One self-signed CA on its own: complete at once.
  scep::CaCertificates root_only = Received({root_.get()});
  CaChain single = OrderCaChain(root_only);
  ASSERT_EQ(single.certs.size(), 1u);
  EXPECT_TRUE(single.complete);
}

}  // namespace
}  // namespace scepd::cli
