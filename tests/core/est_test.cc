// core/est: URLs, Retry-After, enrollment outcomes, csrattrs and the
// serverkeygen multipart answer, from hand-made answers.

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

#include "core/bytes.h"
#include "core/csr.h"
#include "core/est/csr_attrs.h"
#include "core/est/encrypted_key.h"
#include "core/est/est_outcome.h"
#include "core/est/est_request.h"
#include "core/est/est_url.h"
#include "core/est/server_keygen.h"
#include "core/scep/certs_only.h"
#include "tests/support/test_pki.h"

namespace scepd::est {
namespace {

using scepd::testing::CachedKey;
using scepd::testing::CertSpec;
using scepd::testing::MakeCert;
using scepd::testing::MakeTestCa;

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// The example of RFC 7030 section 4.5.2.
constexpr char kRfcCsrAttrs[] =
    "MEEGCSqGSIb3DQEJBzASBgcqhkjOPQIBMQcGBSuBBAAiMBYGCSqGSIb3DQEJDjEJ"
    "BgcrBgEBAQEWBggqhkjOPQQDAw==";

TEST(EstUrl, AddsTheWellKnownPrefixAndLabel) {
  EXPECT_EQ(*OperationUrl("https://ca.example:8443", "", Operation::kCaCerts),
            "https://ca.example:8443/.well-known/est/cacerts");
  EXPECT_EQ(*OperationUrl("https://ca.example/.well-known/est/", "", Operation::kSimpleEnroll),
            "https://ca.example/.well-known/est/simpleenroll");
  EXPECT_EQ(*OperationUrl("https://[::1]:9", "routers", Operation::kSimpleReenroll),
            "https://[::1]:9/.well-known/est/routers/simplereenroll");
  EXPECT_EQ(*OperationUrl("https://h", "x", Operation::kCsrAttrs),
            "https://h/.well-known/est/x/csrattrs");
  EXPECT_EQ(*OperationUrl("https://h", "", Operation::kServerKeygen),
            "https://h/.well-known/est/serverkeygen");
}

TEST(EstUrl, RefusesWhatIsNotAnEstBase) {
  for (const char* bad : {"http://h", "https://", "https://u:p@h", "https://h/other",
                          "https://h?x=1", "ftp://h"}) {
    auto url = OperationUrl(bad, "", Operation::kCaCerts);
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(OperationUrl("https://h", "a/b", Operation::kCaCerts).ok());
  EXPECT_FALSE(OperationUrl("https://h", "..", Operation::kCaCerts).ok());
  EXPECT_FALSE(OperationUrl("https://h", "a b", Operation::kCaCerts).ok());
}

TEST(EstRetryAfter, SecondsAndTheThreeHttpDateForms) {
  EXPECT_EQ(*ParseRetryAfter("120", 1000), 1120);
  EXPECT_EQ(*ParseRetryAfter("0", 1000), 1000);
  // 1994-11-06 08:49:37 UTC = 784111777.
  EXPECT_EQ(*ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 0), 784111777);
  EXPECT_EQ(*ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", 0), 784111777);
  EXPECT_EQ(*ParseRetryAfter("Sun Nov  6 08:49:37 1994", 0), 784111777);
  // A date in the past means "now".
  EXPECT_EQ(*ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 900000000), 900000000);
  for (const char* bad : {"", "soon", "-5", "12 s", "Sun, 06 Nov 1994 08:49:37 CET",
                          "Sun, 32 Foo 1994 08:49:37 GMT", "99999999999"}) {
    auto at = ParseRetryAfter(bad, 0);
    ASSERT_FALSE(at.ok()) << bad;
    EXPECT_EQ(at.error().code, ErrorCode::kProtocol) << bad;
  }
}

class EstEnrollTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = MakeTestCa();
    key_ = CachedKey(1, 1024);
    CertSpec spec;
    spec.subject = "/CN=router";
    cert_ = MakeCert(spec, key_.get(), ca_.cert.get(), ca_.key.get());
    other_ = CachedKey(2, 1024);
  }
  // 200 application/pkcs7-mime carrying `certs`; base64 in 76-char lines
  // when `lines`.
  HttpResponse CertsResponse(std::vector<X509*> certs, bool lines) {
    HttpResponse r;
    r.status = 200;
    r.content_type = "application/pkcs7-mime";
    r.content_type_header = "application/pkcs7-mime; smime-type=certs-only";
    std::string b64 = Base64Encode(*scep::BuildCertsOnly(certs));
    if (lines) {
      std::string split;
      for (std::size_t i = 0; i < b64.size(); i += 76) split += b64.substr(i, 76) + "\r\n";
      b64 = split;
    }
    r.body = ToBytes(b64);
    return r;
  }
  scepd::testing::TestCa ca_;
  ossl::Ptr<EVP_PKEY> key_;
  ossl::Ptr<EVP_PKEY> other_;
  ossl::Ptr<X509> cert_;
};

TEST_F(EstEnrollTest, IssuedPicksTheCertificateForOurKey) {
  for (bool lines : {false, true}) {
    auto outcome = InterpretEnroll(CertsResponse({ca_.cert.get(), cert_.get()}, lines), key_.get(), 0);
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    auto* issued = std::get_if<Issued>(&*outcome);
    ASSERT_NE(issued, nullptr);
    EXPECT_EQ(X509_cmp(issued->cert.get(), cert_.get()), 0);
    ASSERT_EQ(issued->chain.size(), 1u);
    EXPECT_EQ(X509_cmp(issued->chain[0].get(), ca_.cert.get()), 0);
  }
}

TEST_F(EstEnrollTest, CertificateForAnotherKeyIsRefused) {
  auto outcome = InterpretEnroll(CertsResponse({cert_.get()}, false), other_.get(), 0);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, ErrorCode::kVerify);
  EXPECT_TRUE(Contains(outcome.error().message, "requested key")) << outcome.error().message;
}

TEST_F(EstEnrollTest, PendingRejectedAndErrors) {
  HttpResponse pending;
  pending.status = 202;
  pending.retry_after = "30";
  auto p = InterpretEnroll(pending, key_.get(), 500);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(std::holds_alternative<Pending>(*p));
  EXPECT_EQ(std::get<Pending>(*p).retry_at, 530);

  pending.retry_after.clear();
  auto no_retry = InterpretEnroll(pending, key_.get(), 500);
  ASSERT_FALSE(no_retry.ok());
  EXPECT_EQ(no_retry.error().code, ErrorCode::kProtocol);

  HttpResponse auth;
  auth.status = 401;
  auth.www_authenticate = "Basic realm=\"est\x01\"";
  auto a = InterpretEnroll(auth, key_.get(), 0);
  ASSERT_TRUE(a.ok());
  auto* rejected = std::get_if<Rejected>(&*a);
  ASSERT_NE(rejected, nullptr);
  EXPECT_EQ(rejected->code, RejectCode::kAuthentication);
  EXPECT_TRUE(Contains(rejected->reason, "Basic realm=\"est?\"")) << rejected->reason;

  HttpResponse forbidden;
  forbidden.status = 403;
  forbidden.content_type = "text/plain";
  forbidden.body = ToBytes("not\nyou");
  auto f = InterpretEnroll(forbidden, key_.get(), 0);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(std::get<Rejected>(*f).code, RejectCode::kForbidden);
  EXPECT_TRUE(Contains(std::get<Rejected>(*f).reason, "\"not you\""));

  HttpResponse busy;
  busy.status = 503;
  auto b = InterpretEnroll(busy, key_.get(), 0);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::kHttp);
}

TEST_F(EstEnrollTest, WrongBodiesAreClearErrors) {
  HttpResponse html = CertsResponse({cert_.get()}, false);
  html.content_type = "text/html";
  html.body = ToBytes("<html>login</html>");
  auto h = InterpretEnroll(html, key_.get(), 0);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, ErrorCode::kHttp);
  EXPECT_TRUE(Contains(h.error().message, "HTML")) << h.error().message;

  HttpResponse broken = CertsResponse({cert_.get()}, false);
  broken.body = ToBytes("MIIB!!");
  auto b = InterpretEnroll(broken, key_.get(), 0);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::kParse);
  EXPECT_TRUE(Contains(b.error().message, "base64")) << b.error().message;

  HttpResponse empty_p7 = CertsResponse({}, false);
  auto e = InterpretEnroll(empty_p7, key_.get(), 0);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, ErrorCode::kProtocol);
}

TEST_F(EstEnrollTest, CaCertsAndFingerprints) {
  auto certs = InterpretCaCerts(CertsResponse({ca_.cert.get()}, true));
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  ASSERT_EQ(certs->size(), 1u);
  unsigned char md[32];
  unsigned int n = 0;
  ASSERT_EQ(X509_digest(ca_.cert.get(), EVP_sha256(), md, &n), 1);
  const std::string hex = HexEncode(std::span<const std::uint8_t>(md, n));
  EXPECT_EQ(FindByFingerprint(*certs, hex), (*certs)[0].get());
  std::string lower = HexEncode(std::span<const std::uint8_t>(md, n), ':');
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(FindByFingerprint(*certs, lower), (*certs)[0].get());
  std::string wrong = hex;
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  EXPECT_EQ(FindByFingerprint(*certs, wrong), nullptr);
  EXPECT_EQ(FindByFingerprint(*certs, "abc"), nullptr);

  HttpResponse unauthorized;
  unauthorized.status = 401;
  unauthorized.www_authenticate = "Basic realm=x";
  auto u = InterpretCaCerts(unauthorized);
  ASSERT_FALSE(u.ok());
  EXPECT_TRUE(Contains(u.error().message, "authentication required")) << u.error().message;
}

TEST_F(EstEnrollTest, RequestsCarryBase64Pkcs10AndReenrollCopiesTheIdentity) {
  auto csr = BuildReenrollCsr(cert_.get(), other_.get());
  ASSERT_TRUE(csr.ok()) << csr.error().message;
  EXPECT_EQ(X509_NAME_cmp(X509_REQ_get_subject_name(csr->get()), X509_get_subject_name(cert_.get())), 0);
  EXPECT_EQ(X509_REQ_verify(csr->get(), other_.get()), 1);
  auto req = CsrPostRequest("https://h/.well-known/est/simplereenroll", csr->get());
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->content_type, "application/pkcs10");
  ASSERT_EQ(req->headers.size(), 1u);
  EXPECT_EQ(req->headers[0].first, "Content-Transfer-Encoding");
  auto der = Base64Decode(ToString(req->body));
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(*der, *ossl::CsrToDer(csr->get()));
  EXPECT_FALSE(BuildReenrollCsr(nullptr, other_.get()).ok());
  EXPECT_FALSE(BuildReenrollCsr(cert_.get(), other_.get(), "NOPE").ok());
}

TEST(EstCsrAttrs, TheRfcExample) {
  auto der = Base64Decode(kRfcCsrAttrs);
  ASSERT_TRUE(der.ok());
  auto attrs = ParseCsrAttrs(*der);
  ASSERT_TRUE(attrs.ok()) << attrs.error().message;
  EXPECT_TRUE(attrs->challenge_password);
  EXPECT_EQ(attrs->key_type, "ec");
  EXPECT_EQ(attrs->ec_curve, "P-384");
  EXPECT_EQ(attrs->digest, "SHA384");
  ASSERT_EQ(attrs->extensions.size(), 1u);
  EXPECT_EQ(attrs->extensions[0], "1.3.6.1.1.1.1.22");
  EXPECT_TRUE(attrs->unknown.empty());

  HttpResponse r;
  r.status = 200;
  r.content_type = "application/csrattrs";
  r.body = ToBytes(kRfcCsrAttrs);
  auto via_http = InterpretCsrAttrs(r);
  ASSERT_TRUE(via_http.ok());
  EXPECT_EQ(via_http->ec_curve, "P-384");
  r.status = 204;
  r.body.clear();
  auto none = InterpretCsrAttrs(r);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->challenge_password);
  EXPECT_FALSE(none->key_type.has_value());
}

TEST(EstCsrAttrs, RsaSizeUnknownOidsAndMalformedInput) {
  // SEQUENCE { SEQUENCE { rsaEncryption, SET { INTEGER 3072 } },
  //            OID 1.2.3.4 (unknown), SEQUENCE { extensionRequest,
  //            SET { SEQUENCE { subjectAltName OID, OCTET STRING {} } } } }
  const Bytes der = {0x30, 0x35,
                     0x30, 0x12, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
                     0x31, 0x05, 0x02, 0x03, 0x00, 0x0c, 0x00,
                     0x06, 0x03, 0x2a, 0x03, 0x04,
                     0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e,
                     0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x04, 0x30,
                     0x02, 0x82, 0x00};
  auto attrs = ParseCsrAttrs(der);
  ASSERT_TRUE(attrs.ok()) << attrs.error().message;
  EXPECT_EQ(attrs->key_type, "rsa");
  EXPECT_EQ(attrs->rsa_bits, 3072);
  ASSERT_EQ(attrs->extensions.size(), 1u);
  EXPECT_EQ(attrs->extensions[0], "2.5.29.17 (subjectAltName)");
  ASSERT_EQ(attrs->unknown.size(), 1u);
  EXPECT_TRUE(Contains(attrs->unknown[0], "1.2.3.4")) << attrs->unknown[0];

  for (const Bytes& bad : {Bytes{}, Bytes{0x30, 0x05, 0x06}, Bytes{0x30, 0x02, 0x02, 0x00},
                           Bytes{0x30, 0x04, 0x30, 0x02, 0x05, 0x00}, Bytes{0x30, 0x00, 0x00}}) {
    auto r = ParseCsrAttrs(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kParse);
  }
  EXPECT_TRUE(ParseCsrAttrs(Bytes{0x30, 0x00}).ok());
}

class EstServerKeygenTest : public EstEnrollTest {
 protected:
  HttpResponse Multipart(EVP_PKEY* key, X509* cert, const std::string& key_type) {
    ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
    EXPECT_EQ(i2d_PKCS8PrivateKey_bio(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), 1);
    X509* certs[] = {cert};
    const std::string body =
        "preamble\r\n--b1\r\nContent-Type: " + key_type +
        "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Base64Encode(ossl::BioToBytes(bio.get())) +
        "\r\n--b1\r\ncontent-type: application/pkcs7-mime; smime-type=certs-only\r\n\r\n" +
        Base64Encode(*scep::BuildCertsOnly(certs)) + "\r\n--b1--\r\nepilogue";
    HttpResponse r;
    r.status = 200;
    r.content_type = "multipart/mixed";
    r.content_type_header = "multipart/mixed ; boundary=\"b1\"";
    r.body = ToBytes(body);
    return r;
  }
  // The same with the key part given as DER (an EnvelopedData).
  HttpResponse EncryptedMultipart(const Bytes& envelope, X509* cert) {
    X509* certs[] = {cert};
    HttpResponse r = Multipart(key_.get(), cert, "x");
    const std::string body =
        "--b1\r\nContent-Type: application/pkcs7-mime; smime-type=server-generated-key\r\n\r\n" +
        Base64Encode(envelope) +
        "\r\n--b1\r\ncontent-type: application/pkcs7-mime; smime-type=certs-only\r\n\r\n" +
        Base64Encode(*scep::BuildCertsOnly(certs)) + "\r\n--b1--\r\n";
    r.body = ToBytes(body);
    return r;
  }
  // `key` as PKCS#8 in an EnvelopedData (content type data) for `recipient`.
  Bytes Envelope(EVP_PKEY* key, X509* recipient) {
    ossl::Ptr<BIO> p8(BIO_new(BIO_s_mem()));
    EXPECT_EQ(i2d_PKCS8PrivateKey_bio(p8.get(), key, nullptr, nullptr, 0, nullptr, nullptr), 1);
    ossl::X509StackView to(sk_X509_new_null());
    sk_X509_push(to.get(), recipient);
    ossl::Ptr<CMS_ContentInfo> cms(
        CMS_encrypt(to.get(), p8.get(), EVP_aes_128_cbc(), CMS_BINARY));
    EXPECT_TRUE(cms);
    unsigned char* der = nullptr;
    const int n = i2d_CMS_ContentInfo(cms.get(), &der);
    Bytes out(der, der + std::max(n, 0));
    OPENSSL_free(der);
    return out;
  }
};

TEST_F(EstServerKeygenTest, EncryptedKeyIsOpenedWithTheNamedPairOnly) {
  // The client pair the key is encrypted to (another key than the one the
  // server made, key_, whose certificate is cert_).
  CertSpec spec;
  spec.subject = "/CN=client";
  auto client = MakeCert(spec, other_.get(), ca_.cert.get(), ca_.key.get());
  const Bytes envelope = Envelope(key_.get(), client.get());
  KeyDecryption with{client.get(), other_.get()};
  auto outcome = InterpretServerKeygen(EncryptedMultipart(envelope, cert_.get()), 0, &with);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_EQ(EVP_PKEY_eq(std::get<ServerKeyIssued>(*outcome).key.get(), key_.get()), 1);

  // Not asked for: refused as before. The wrong pair cannot open it.
  auto not_asked = InterpretServerKeygen(EncryptedMultipart(envelope, cert_.get()), 0);
  ASSERT_FALSE(not_asked.ok());
  EXPECT_EQ(not_asked.error().code, ErrorCode::kUnsupported);
  KeyDecryption wrong{cert_.get(), key_.get()};
  auto wrong_pair = InterpretServerKeygen(EncryptedMultipart(envelope, cert_.get()), 0, &wrong);
  ASSERT_FALSE(wrong_pair.ok());
  EXPECT_EQ(wrong_pair.error().code, ErrorCode::kVerify);
  EXPECT_TRUE(Contains(wrong_pair.error().message, "cannot decrypt")) << wrong_pair.error().message;

  // Asked for, but the key came as plain PKCS#8: not used.
  auto plain = InterpretServerKeygen(Multipart(key_.get(), cert_.get(), "application/pkcs8"), 0,
                                     &with);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().code, ErrorCode::kProtocol);
  EXPECT_TRUE(Contains(plain.error().message, "unencrypted")) << plain.error().message;
}

TEST_F(EstServerKeygenTest, RequestNamesTheDecryptionKeyAndStaysSigned) {
  // cert_ has no subjectKeyIdentifier: the SHA-1 of its public key bits.
  auto id = KeyIdentifier(cert_.get());
  ASSERT_TRUE(id.ok()) << id.error().message;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(cert_.get());
  ASSERT_EQ(EVP_Digest(bits->data, bits->length, md, &n, EVP_sha1(), nullptr), 1);
  EXPECT_EQ(*id, Bytes(md, md + n));

  CsrSpec spec;
  spec.subject = "/CN=made-by-server";
  auto csr = BuildCsr(spec, other_.get());
  ASSERT_TRUE(csr.ok());
  ASSERT_TRUE(RequestEncryptedKey(csr->get(), cert_.get(), other_.get(), "SHA256").ok());
  EXPECT_EQ(X509_REQ_verify(csr->get(), other_.get()), 1);
  ossl::Ptr<ASN1_OBJECT> oid(OBJ_txt2obj(kAsymmetricDecryptKeyIdOid, 1));
  const int at = X509_REQ_get_attr_by_OBJ(csr->get(), oid.get(), -1);
  ASSERT_GE(at, 0);
  ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(X509_REQ_get_attr(csr->get(), at), 0);
  ASSERT_NE(value, nullptr);
  ASSERT_EQ(value->type, V_ASN1_OCTET_STRING);
  const ASN1_OCTET_STRING* got = value->value.octet_string;
  EXPECT_EQ(Bytes(ASN1_STRING_get0_data(got), ASN1_STRING_get0_data(got) + ASN1_STRING_length(got)),
            *id);
}

TEST_F(EstServerKeygenTest, KeyAndCertificate) {
  auto outcome = InterpretServerKeygen(Multipart(key_.get(), cert_.get(), "application/pkcs8"), 0);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  auto* done = std::get_if<ServerKeyIssued>(&*outcome);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(done->key.get(), key_.get()), 1);
  EXPECT_EQ(X509_cmp(done->issued.cert.get(), cert_.get()), 0);
}

TEST_F(EstServerKeygenTest, MismatchEncryptedAndBrokenAnswers) {
  auto other = InterpretServerKeygen(Multipart(other_.get(), cert_.get(), "application/pkcs8"), 0);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kVerify);

  auto encrypted = InterpretServerKeygen(
      Multipart(key_.get(), cert_.get(), "application/pkcs7-mime; smime-type=server-generated-key"), 0);
  ASSERT_FALSE(encrypted.ok());
  EXPECT_EQ(encrypted.error().code, ErrorCode::kUnsupported);

  HttpResponse cut = Multipart(key_.get(), cert_.get(), "application/pkcs8");
  cut.body.resize(cut.body.size() / 2);
  auto c = InterpretServerKeygen(cut, 0);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kParse);

  HttpResponse no_boundary = Multipart(key_.get(), cert_.get(), "application/pkcs8");
  no_boundary.content_type_header = "multipart/mixed";
  EXPECT_FALSE(InterpretServerKeygen(no_boundary, 0).ok());

  HttpResponse pending;
  pending.status = 202;
  pending.retry_after = "5";
  auto p = InterpretServerKeygen(pending, 10);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(std::get<Pending>(*p).retry_at, 15);
}

TEST(EstMultipart, BoundaryParameterAndLfOnlyParts) {
  EXPECT_EQ(BoundaryParameter("multipart/mixed; boundary=abc"), "abc");
  EXPECT_EQ(BoundaryParameter("multipart/mixed;charset=x; BOUNDARY=\"a b\""), "a b");
  EXPECT_EQ(BoundaryParameter("multipart/mixed; xboundary=z"), "");
  auto parts = ParseMultipart("--z\nA: 1\n\none\n--z\n\ntwo\n--z--\n", "z");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].Header("a"), "1");
  EXPECT_EQ((*parts)[0].body, "one");
  EXPECT_EQ((*parts)[1].body, "two");
  EXPECT_FALSE(ParseMultipart("--z\nA: 1\n\none\n", "z").ok());
  EXPECT_FALSE(ParseMultipart("nothing here", "z").ok());
}

}  // namespace
}  // namespace scepd::est
