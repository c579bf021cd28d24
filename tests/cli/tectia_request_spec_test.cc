// The request of the Tectia command lines (cli/tectia/request_spec.h): the
// template certificate's fields, each overridden by -s, -u and -U.

#include "cli/tectia/request_spec.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "core/key.h"
#include "core/subject.h"

namespace scepd::tectia {
namespace {

// A certificate with `spec`'s subject and extensions, self-signed by `key`.
ossl::Ptr<X509> TemplateCert(const CsrSpec& spec, EVP_PKEY* key) {
  auto name = ParseSubject(spec.subject);
  auto exts = BuildRequestExtensions(spec);
  EXPECT_TRUE(name.ok() && exts.ok());
  ossl::Ptr<X509> cert(X509_new());
  EXPECT_EQ(X509_set_version(cert.get(), 2), 1);
  EXPECT_EQ(X509_set_subject_name(cert.get(), name->get()), 1);
  EXPECT_EQ(X509_set_issuer_name(cert.get(), name->get()), 1);
  EXPECT_EQ(X509_set_pubkey(cert.get(), key), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  for (int i = 0; i < sk_X509_EXTENSION_num(exts->get()); ++i) {
    EXPECT_EQ(X509_add_ext(cert.get(), sk_X509_EXTENSION_value(exts->get(), i), -1), 1);
  }
  EXPECT_GT(X509_sign(cert.get(), key, EVP_sha256()), 0);
  return cert;
}

class TectiaRequestSpec : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = GenerateRsaKey(2048);
    ASSERT_TRUE(key.ok());
    key_ = std::move(*key);
    CsrSpec t;
    t.subject = "/C=FI/O=Example Oy/CN=gw1";
    t.alt_names = "DNS:gw1.example.org,IP:192.0.2.1";
    t.key_usage_bits = (1u << 0) | (1u << 2);  // digitalSignature, keyEncipherment
    t.extra_ekus = {"1.3.6.1.5.5.7.3.1"};
    template_ = TemplateCert(t, key_.get());
  }
  ossl::Ptr<EVP_PKEY> key_;
  ossl::Ptr<X509> template_;
};

TEST_F(TectiaRequestSpec, TheTemplatesFieldsWhenNothingOverrides) {
  auto spec = RequestSpec(RequestOptions{}, template_.get());
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->subject, "/C=FI/O=Example Oy/CN=gw1");
  EXPECT_EQ(spec->alt_names, "DNS:gw1.example.org,IP:192.0.2.1");
  EXPECT_EQ(spec->key_usage_bits, (1u << 0) | (1u << 2));
  EXPECT_EQ(spec->extra_ekus, std::vector<std::string>{"1.3.6.1.5.5.7.3.1"});
}

TEST_F(TectiaRequestSpec, EachOptionOverridesItsFieldOnly) {
  RequestOptions names_only;
  names_only.subject = ";dns=other.example.org";  // names, no subject: the template's subject stays
  auto a = RequestSpec(names_only, template_.get());
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->subject, "/C=FI/O=Example Oy/CN=gw1");
  EXPECT_EQ(a->alt_names, "DNS:other.example.org");
  EXPECT_EQ(a->key_usage_bits, (1u << 0) | (1u << 2));

  RequestOptions usages;
  usages.subject = "C=SE,CN=gw2";  // a subject, no names: the template's names stay
  usages.key_usage = "keyAgreement";
  usages.ext_key_usage = "clientAuth;1.2.3.4";
  auto b = RequestSpec(usages, template_.get());
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->subject, "/C=SE/CN=gw2");
  EXPECT_EQ(b->alt_names, "DNS:gw1.example.org,IP:192.0.2.1");
  EXPECT_EQ(b->key_usage_bits, 1u << 4);
  EXPECT_EQ(b->extra_ekus, (std::vector<std::string>{"1.3.6.1.5.5.7.3.2", "1.2.3.4"}));
}

TEST_F(TectiaRequestSpec, WithoutTemplateAndBadLists) {
  RequestOptions o;
  o.subject = "C=FI,CN=x;email=ops@example.org";
  auto spec = RequestSpec(o, nullptr);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->subject, "/C=FI/CN=x");
  EXPECT_EQ(spec->alt_names, "email:ops@example.org");
  EXPECT_EQ(spec->key_usage_bits, 0u);
  EXPECT_TRUE(spec->extra_ekus.empty());
  auto none = RequestSpec(RequestOptions{}, nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->subject, "");  // the command says whether it needs one
  RequestOptions bad;
  bad.key_usage = "signing";
  auto b = RequestSpec(bad, template_.get());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("'signing'"), std::string::npos) << b.error().message;
}

}  // namespace
}  // namespace scepd::tectia
