#include "core/csr.h"

#include <gtest/gtest.h>
#include <openssl/objects.h>

#include <string>
#include <vector>

#include "core/cert_info.h"
#include "core/subject.h"
#include "tests/support/test_pki.h"

namespace scepd {
namespace {

constexpr std::int64_t kNow = 1700000000;  // 2023-11-14T22:13:20Z

std::string Text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string OidText(const ASN1_OBJECT* obj) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof(buf), obj, 1);
  return buf;
}

ossl::Ptr<X509_REQ> MustBuild(const CsrSpec& spec, EVP_PKEY* key,
                              const std::string& digest = "SHA256") {
  auto r = BuildCsr(spec, key, digest);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? std::move(r).value() : ossl::Ptr<X509_REQ>();
}

// The requested extensions, empty when the request has no extensionRequest.
ossl::X509ExtensionStack Extensions(X509_REQ* req) {
  ossl::X509ExtensionStack exts(X509_REQ_get_extensions(req));
  if (!exts) exts.reset(sk_X509_EXTENSION_new_null());
  return exts;
}

const X509_EXTENSION* FindExtension(const STACK_OF(X509_EXTENSION) * exts, const char* oid) {
  ossl::Ptr<ASN1_OBJECT> obj(OBJ_txt2obj(oid, 0));
  const int i = X509v3_get_ext_by_OBJ(exts, obj.get(), -1);
  return i < 0 ? nullptr : X509v3_get_ext(exts, i);
}

std::vector<std::string> EkuOids(const STACK_OF(X509_EXTENSION) * exts) {
  std::vector<std::string> out;
  ossl::Ptr<EXTENDED_KEY_USAGE> eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509V3_get_d2i(exts, NID_ext_key_usage, nullptr, nullptr)));
  if (!eku) return out;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    out.push_back(OidText(sk_ASN1_OBJECT_value(eku.get(), i)));
  }
  return out;
}

CsrSpec FullSpec() {
  CsrSpec spec;
  spec.subject = "/DC=org/DC=OpenXPKI/DC=Test Deployment/CN=router-1234";
  spec.alt_names = "DNS:router.example.com,IP:192.0.2.7,email:ops@example.com";
  spec.template_name = "IPSecRouter";
  spec.digital_signature = true;
  spec.key_encipherment = true;
  spec.server_auth = true;
  spec.client_auth = true;
  spec.extra_ekus = {"codeSigning", "1.3.6.1.5.5.7.3.17"};
  spec.challenge_password = "s3cret-(pass)";
  return spec;
}

TEST(CsrTest, BuildsSignedRequestWithEverythingAsked) {
  auto key = testing::CachedKey(0);
  auto req = MustBuild(FullSpec(), key.get());
  ASSERT_TRUE(req);

  EXPECT_EQ(X509_REQ_verify(req.get(), key.get()), 1);
  EXPECT_EQ(X509_REQ_get_version(req.get()), X509_REQ_VERSION_1);
  EXPECT_EQ(EVP_PKEY_eq(X509_REQ_get0_pubkey(req.get()), key.get()), 1);
  EXPECT_EQ(X509_REQ_get_signature_nid(req.get()), NID_sha256WithRSAEncryption);
  EXPECT_EQ(FormatSubject(X509_REQ_get_subject_name(req.get())),
            "/DC=org/DC=OpenXPKI/DC=Test Deployment/CN=router-1234");

  auto exts = Extensions(req.get());
  ASSERT_EQ(sk_X509_EXTENSION_num(exts.get()), 4);

  // subjectAltName
  ossl::Ptr<GENERAL_NAMES> san(static_cast<GENERAL_NAMES*>(
      X509V3_get_d2i(exts.get(), NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(san);
  ASSERT_EQ(sk_GENERAL_NAME_num(san.get()), 3);
  EXPECT_EQ(sk_GENERAL_NAME_value(san.get(), 0)->type, GEN_DNS);
  EXPECT_EQ(Text(sk_GENERAL_NAME_value(san.get(), 0)->d.dNSName), "router.example.com");
  EXPECT_EQ(sk_GENERAL_NAME_value(san.get(), 1)->type, GEN_IPADD);
  EXPECT_EQ(Text(sk_GENERAL_NAME_value(san.get(), 1)->d.iPAddress),
            std::string("\xC0\x00\x02\x07", 4));
  EXPECT_EQ(Text(sk_GENERAL_NAME_value(san.get(), 2)->d.rfc822Name), "ops@example.com");

  // keyUsage: critical, exactly digitalSignature (bit 0) + keyEncipherment (bit 2).
  int critical = 0;
  ossl::Ptr<ASN1_STRING> ku(static_cast<ASN1_BIT_STRING*>(
      X509V3_get_d2i(exts.get(), NID_key_usage, &critical, nullptr)));
  ASSERT_TRUE(ku);
  EXPECT_EQ(critical, 1);
  for (int bit = 0; bit < 9; ++bit) {
    EXPECT_EQ(ASN1_BIT_STRING_get_bit(ku.get(), bit), bit == 0 || bit == 2 ? 1 : 0) << bit;
  }

  // extendedKeyUsage
  EXPECT_EQ(EkuOids(exts.get()),
            (std::vector<std::string>{"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2",
                                      "1.3.6.1.5.5.7.3.3", "1.3.6.1.5.5.7.3.17"}));

  // Certificate template name: the extension value is a DER BMPString.
  const X509_EXTENSION* tmpl = FindExtension(exts.get(), "1.3.6.1.4.1.311.20.2");
  ASSERT_NE(tmpl, nullptr);
  EXPECT_EQ(X509_EXTENSION_get_critical(tmpl), 0);
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(const_cast<X509_EXTENSION*>(tmpl));
  const unsigned char* p = ASN1_STRING_get0_data(data);
  ossl::Ptr<ASN1_STRING> bmp(d2i_ASN1_BMPSTRING(nullptr, &p, ASN1_STRING_length(data)));
  ASSERT_TRUE(bmp);
  EXPECT_EQ(ASN1_STRING_type(bmp.get()), V_ASN1_BMPSTRING);
  const std::string utf16be("\0I\0P\0S\0e\0c\0R\0o\0u\0t\0e\0r", 22);
  EXPECT_EQ(Text(bmp.get()), utf16be);

  // challengePassword: a PrintableString holding the password.
  const int idx = X509_REQ_get_attr_by_NID(req.get(), NID_pkcs9_challengePassword, -1);
  ASSERT_GE(idx, 0);
  X509_ATTRIBUTE* attr = X509_REQ_get_attr(req.get(), idx);
  ASSERT_EQ(X509_ATTRIBUTE_count(attr), 1);
  ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attr, 0);
  ASSERT_EQ(value->type, V_ASN1_PRINTABLESTRING);
  EXPECT_EQ(Text(value->value.printablestring), "s3cret-(pass)");
}

TEST(CsrTest, SurvivesDerRoundTrip) {
  auto key = testing::CachedKey(0);
  auto req = MustBuild(FullSpec(), key.get());
  ASSERT_TRUE(req);
  auto der = ossl::CsrToDer(req.get());
  ASSERT_TRUE(der.ok());
  auto again = ossl::CsrFromPemOrDer(*der, "request");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(X509_REQ_verify(again->get(), key.get()), 1);
  EXPECT_EQ(sk_X509_EXTENSION_num(Extensions(again->get()).get()), 4);
}

TEST(CsrTest, MinimalSpecHasNoExtensionsOrAttributes) {
  auto key = testing::CachedKey(1);
  CsrSpec spec;
  spec.subject = "/CN=only";
  auto req = MustBuild(spec, key.get());
  ASSERT_TRUE(req);
  EXPECT_EQ(X509_REQ_verify(req.get(), key.get()), 1);
  EXPECT_EQ(X509_REQ_get_attr_count(req.get()), 0);
  EXPECT_EQ(X509_REQ_get_attr_by_NID(req.get(), NID_ext_req, -1), -1);
  EXPECT_EQ(X509_REQ_get_attr_by_NID(req.get(), NID_pkcs9_challengePassword, -1), -1);
}

TEST(CsrTest, AddsOnlyTheExtensionsAsked) {
  auto key = testing::CachedKey(1);
  CsrSpec spec;
  spec.subject = "/CN=client";
  spec.client_auth = true;
  spec.extra_ekus = {"clientAuth", "TLS Web Client Authentication"};  // duplicates collapse
  auto req = MustBuild(spec, key.get());
  ASSERT_TRUE(req);
  auto exts = Extensions(req.get());
  ASSERT_EQ(sk_X509_EXTENSION_num(exts.get()), 1);
  EXPECT_EQ(EkuOids(exts.get()), (std::vector<std::string>{"1.3.6.1.5.5.7.3.2"}));

  spec = CsrSpec{};
  spec.subject = "/CN=ku";
  spec.key_encipherment = true;
  req = MustBuild(spec, key.get());
  ASSERT_TRUE(req);
  exts = Extensions(req.get());
  ASSERT_EQ(sk_X509_EXTENSION_num(exts.get()), 1);
  ossl::Ptr<ASN1_STRING> ku(static_cast<ASN1_BIT_STRING*>(
      X509V3_get_d2i(exts.get(), NID_key_usage, nullptr, nullptr)));
  ASSERT_TRUE(ku);
  EXPECT_EQ(ASN1_BIT_STRING_get_bit(ku.get(), 0), 0);
  EXPECT_EQ(ASN1_BIT_STRING_get_bit(ku.get(), 2), 1);
}

TEST(CsrTest, NonPrintableChallengePasswordIsUtf8String) {
  auto key = testing::CachedKey(1);
  for (const std::string password : {"p\xC3\xA4ss", "user@pw", "under_score"}) {
    CsrSpec spec;
    spec.subject = "/CN=x";
    spec.challenge_password = password;
    auto req = MustBuild(spec, key.get());
    ASSERT_TRUE(req);
    const int idx = X509_REQ_get_attr_by_NID(req.get(), NID_pkcs9_challengePassword, -1);
    ASSERT_GE(idx, 0);
    ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(X509_REQ_get_attr(req.get(), idx), 0);
    ASSERT_EQ(value->type, V_ASN1_UTF8STRING) << password;
    EXPECT_EQ(Text(value->value.utf8string), password);
  }
}

TEST(CsrTest, HonoursDigest) {
  auto key = testing::CachedKey(1);
  CsrSpec spec;
  spec.subject = "/CN=x";
  auto req = MustBuild(spec, key.get(), "sha512");
  ASSERT_TRUE(req);
  EXPECT_EQ(X509_REQ_get_signature_nid(req.get()), NID_sha512WithRSAEncryption);
  EXPECT_EQ(X509_REQ_verify(req.get(), key.get()), 1);
}

struct BadSpec {
  CsrSpec spec;
  std::string digest;
  std::string expected;
};

TEST(CsrTest, ErrorsNameTheField) {
  std::vector<BadSpec> cases;
  auto add = [&](auto change, std::string expected, std::string digest = "SHA256") {
    CsrSpec spec;
    spec.subject = "/CN=x";
    change(spec);
    cases.push_back(BadSpec{spec, std::move(digest), std::move(expected)});
  };
  add([](CsrSpec& s) { s.subject = ""; }, "subject: empty");
  add([](CsrSpec& s) { s.subject = "/CN=x/XX=y"; },
      "subject: unknown attribute type 'XX' in component 2 ('XX=y')");
  add([](CsrSpec& s) { s.alt_names = "DNS:a,IP:300.1.1.1"; },
      "alt_name: alternative name 2 ('IP:300.1.1.1'): not an IPv4 or IPv6 address");
  add([](CsrSpec& s) { s.extra_ekus = {"serverAuth", "fooAuth"}; },
      "extended key usage 'fooAuth': unknown name or OID");
  add([](CsrSpec& s) { s.extra_ekus = {""}; }, "extended key usage '': unknown name or OID");
  add([](CsrSpec& s) { s.extra_ekus = {"AES-128-OCB"}; },
      "extended key usage 'AES-128-OCB': unknown name or OID");
  add([](CsrSpec& s) { s.template_name = "smile \xF0\x9F\x98\x80"; }, "template_name: ");
  add([](CsrSpec& s) { s.challenge_password = "bad \xFF utf8"; },
      "challenge_password: not valid UTF-8");
  add([](CsrSpec& s) { s.challenge_password = std::string(256, 'a'); },
      "challenge_password: longer than 255 characters");
  add([](CsrSpec&) {}, "digest 'nope'", "nope");

  auto key = testing::CachedKey(1);
  for (const BadSpec& c : cases) {
    auto r = BuildCsr(c.spec, key.get(), c.digest);
    ASSERT_FALSE(r.ok()) << c.expected;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.expected;
    EXPECT_EQ(r.error().message.find(c.expected), 0u)
        << "message " << r.error().message << "\nexpected prefix " << c.expected;
  }
  CsrSpec ok;
  ok.subject = "/CN=x";
  auto no_key = BuildCsr(ok, nullptr);
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.error().code, ErrorCode::kInvalidArgument);
}

TEST(SelfSignedCertTest, MirrorsTheRequest) {
  auto key = testing::CachedKey(0);
  auto req = MustBuild(FullSpec(), key.get());
  ASSERT_TRUE(req);
  auto cert = MakeSelfSignedCert(req.get(), key.get(), "SHA256", kNow);
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  X509* c = cert->get();

  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(c), X509_REQ_get_subject_name(req.get())), 0);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c), X509_REQ_get_subject_name(req.get())), 0);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(c), key.get()), 1);
  EXPECT_EQ(X509_verify(c, key.get()), 1);
  EXPECT_EQ(X509_get_signature_nid(c), NID_sha256WithRSAEncryption);
  EXPECT_EQ(X509_get_version(c), X509_VERSION_3);

  auto not_before = NotBefore(c);
  auto not_after = NotAfter(c);
  ASSERT_TRUE(not_before.ok() && not_after.ok());
  EXPECT_EQ(*not_before, kNow - 3600);
  EXPECT_EQ(*not_after, kNow + 86400);

  std::int64_t serial = 0;
  ASSERT_EQ(ASN1_INTEGER_get_int64(&serial, X509_get0_serialNumber(c)), 1);
  EXPECT_GT(serial, 0);
  auto second = MakeSelfSignedCert(req.get(), key.get(), "SHA256", kNow);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(SerialHex(second->get()), SerialHex(c)) << "serials are random";
}

TEST(SelfSignedCertTest, HandlesDatesPast2038) {
  auto key = testing::CachedKey(0);
  CsrSpec spec;
  spec.subject = "/CN=future";
  auto req = MustBuild(spec, key.get());
  ASSERT_TRUE(req);
  const std::int64_t now = 4102444800;  // 2100-01-01T00:00:00Z
  auto cert = MakeSelfSignedCert(req.get(), key.get(), "SHA256", now);
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  EXPECT_EQ(*NotBefore(cert->get()), now - 3600);
  EXPECT_EQ(*NotAfter(cert->get()), now + 86400);
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notAfter(cert->get())), V_ASN1_GENERALIZEDTIME);
}

TEST(SelfSignedCertTest, RejectsMismatchedKeyBadDigestAndTime) {
  auto key = testing::CachedKey(0);
  auto other = testing::CachedKey(1);
  CsrSpec spec;
  spec.subject = "/CN=x";
  auto req = MustBuild(spec, key.get());
  ASSERT_TRUE(req);

  auto mismatched = MakeSelfSignedCert(req.get(), other.get(), "SHA256", kNow);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(mismatched.error().message.find("does not match"), std::string::npos);

  auto bad_digest = MakeSelfSignedCert(req.get(), key.get(), "whirl", kNow);
  ASSERT_FALSE(bad_digest.ok());
  EXPECT_NE(bad_digest.error().message.find("digest 'whirl'"), std::string::npos);

  auto bad_time = MakeSelfSignedCert(req.get(), key.get(), "SHA256", INT64_MAX);
  ASSERT_FALSE(bad_time.ok());
  EXPECT_NE(bad_time.error().message.find("out of range"), std::string::npos);

  EXPECT_FALSE(MakeSelfSignedCert(nullptr, key.get(), "SHA256", kNow).ok());
}

}  // namespace
}  // namespace scepd
