#include "tests/responder/responder.h"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "core/scep/certs_only.h"
#include "core/scep/pki_message.h"
#include "tests/responder/ca_pki.h"
#include "tests/support/process.h"
#include "tests/support/scep_server.h"
#include "tests/support/test_pki.h"

namespace scepd::testing {
namespace {

using scep::FailInfo;
using scep::MessageType;
using scep::PkiMessage;
using scep::PkiStatus;

// Keys 0..1 are the clients'; the responder's roles use 2..7.
Result<ossl::Ptr<EVP_PKEY>> TestKeys(KeyRole role) {
  switch (role) {
    case KeyRole::kCa: return CachedKey(7);
    case KeyRole::kRaSign: return CachedKey(6);
    case KeyRole::kRaEnc: return CachedKey(5);
    case KeyRole::kNextCa: return CachedKey(4);
    case KeyRole::kOtherSigner: return CachedKey(3);
    case KeyRole::kOtherIssuedKey: return CachedKey(2);
  }
  return CachedKey(2);
}

ResponderOptions TestOptions() {
  ResponderOptions o;
  o.key_source = TestKeys;
  return o;
}

std::unique_ptr<Responder> MakeResponder(ResponderOptions o = TestOptions()) {
  auto r = Responder::Create(std::move(o));
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? std::move(r).value() : nullptr;
}

// A PKCS#10 request built by hand (core/csr.h is another module's).
Bytes MakeCsrDer(EVP_PKEY* key, const std::string& cn, const std::string& challenge = "",
                 const std::string& dns_san = "") {
  ossl::Ptr<X509_REQ> req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  ossl::Ptr<X509_NAME> name(X509_NAME_new());
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_subject_name(req.get(), name.get());
  X509_REQ_set_pubkey(req.get(), key);
  if (!challenge.empty()) {
    X509_REQ_add1_attr_by_NID(req.get(), NID_pkcs9_challengePassword, MBSTRING_ASC,
                              reinterpret_cast<const unsigned char*>(challenge.c_str()), -1);
  }
  if (!dns_san.empty()) {
    ossl::X509ExtensionStack exts(sk_X509_EXTENSION_new_null());
    std::string value = "DNS:" + dns_san;
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, nullptr, NID_subject_alt_name,
                                               value.c_str());
    sk_X509_EXTENSION_push(exts.get(), ext);
    X509_REQ_add_extensions(req.get(), exts.get());
  }
  EXPECT_GT(X509_REQ_sign(req.get(), key, EVP_sha256()), 0);
  unsigned char* buf = nullptr;
  int n = i2d_X509_REQ(req.get(), &buf);
  Bytes der(buf, buf + n);
  OPENSSL_free(buf);
  return der;
}

// The client side of one transaction, built from the core API.
struct Client {
  ossl::Ptr<EVP_PKEY> key;
  ossl::Ptr<X509> signer;  // self-signed, or the certificate being renewed
  std::string cn = "router-1";
  std::string tid = "TID-0001";
  Bytes last_nonce;

  explicit Client(int key_index = 0, std::string common_name = "router-1")
      : key(CachedKey(key_index)), cn(std::move(common_name)) {
    CertSpec spec;
    spec.subject = "/CN=" + cn;
    spec.serial = 4242;
    signer = MakeCert(spec, key.get(), nullptr, nullptr);
  }

  Bytes Message(MessageType type, const Bytes& payload, std::vector<X509*> recipients,
                const std::string& cipher = "AES-256-CBC") {
    scep::PkiAttributes a;
    a.message_type = type;
    a.transaction_id = tid;
    auto nonce = scep::MakeNonce();
    EXPECT_TRUE(nonce.ok());
    a.sender_nonce = last_nonce = *nonce;
    scep::EnvelopeSpec env;
    env.recipients = std::move(recipients);
    env.cipher = cipher;
    scep::SignerSpec s;
    s.cert = signer.get();
    s.key = key.get();
    auto der = scep::BuildPkiMessage(a, payload, env, s);
    EXPECT_TRUE(der.ok()) << der.error().message;
    return der.ok() ? *der : Bytes{};
  }

  scepd::HttpResponse Send(Responder& r, MessageType type, const Bytes& payload, X509* recipient) {
    return r.Handle("POST", "/scep", {{"operation", "PKIOperation"}},
                    Message(type, payload, {recipient}));
  }
  scepd::HttpResponse Enroll(Responder& r, const std::string& challenge = "",
                             MessageType type = MessageType::kPKCSReq) {
    return Send(r, type, MakeCsrDer(key.get(), cn, challenge), r.ca_cert());
  }
  scepd::HttpResponse Poll(Responder& r) {
    ossl::Ptr<X509_NAME> subject(X509_NAME_new());
    X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    auto payload = scep::EncodeIssuerAndSubject(X509_get_subject_name(r.ca_cert()),
                                                subject.get());
    EXPECT_TRUE(payload.ok());
    return Send(r, MessageType::kCertPoll, *payload, r.ca_cert());
  }
};

// Parses a CertRep, trusting only `signer`.
Result<PkiMessage> ParseReply(const scepd::HttpResponse& r, X509* signer) {
  X509* trusted[] = {signer};
  return scep::ParsePkiMessage(r.body, trusted);
}

// The certificates inside a SUCCESS CertRep, opened with the client's key.
std::vector<ossl::Ptr<X509>> OpenCerts(const PkiMessage& m, const Client& c) {
  auto plain = scep::OpenEnvelope(m.envelope, c.key.get(), c.signer.get());
  EXPECT_TRUE(plain.ok()) << plain.error().message;
  if (!plain.ok()) return {};
  auto certs = scep::ParseCertsOnly(*plain);
  EXPECT_TRUE(certs.ok()) << certs.error().message;
  return certs.ok() ? std::move(certs->certs) : std::vector<ossl::Ptr<X509>>{};
}

std::string SerialOf(X509* cert) { return rsp::SerialHex(X509_get0_serialNumber(cert)); }

// ---- plain operations --------------------------------------------------

TEST(ResponderTest, GetCACapsAnswersTheConfiguredText) {
  auto r = MakeResponder();
  auto resp = r->Handle("GET", "/scep", {{"operation", "GetCACaps"}}, {});
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.content_type, "text/plain");
  EXPECT_EQ(ToString(resp.body), kDefaultCaps);

  ResponderOptions o = TestOptions();
  o.caps = "Renewal\nSHA-1";
  auto r2 = MakeResponder(std::move(o));
  EXPECT_EQ(ToString(r2->Handle("GET", "/scep", {{"operation", "GetCACaps"}}, {}).body),
            "Renewal\nSHA-1");
}

TEST(ResponderTest, GetCACertAnswersTheDerCaCertificateOnBothPaths) {
  auto r = MakeResponder();
  for (const char* path : {"/scep", "/cgi-bin/pkiclient.exe"}) {
    auto resp = r->Handle("GET", path, {{"operation", "GetCACert"}}, {});
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(resp.content_type, "application/x-x509-ca-cert");
    auto cert = ossl::CertFromDer(resp.body, "CA");
    ASSERT_TRUE(cert.ok());
    EXPECT_EQ(X509_cmp(cert->get(), r->ca_cert()), 0);
  }
  // The CA is like micromdm's: keyCertSign + cRLSign only.
  EXPECT_EQ(X509_get_key_usage(r->ca_cert()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
}

TEST(ResponderTest, BadRequestsGetHttpErrors) {
  auto r = MakeResponder();
  EXPECT_EQ(r->Handle("GET", "/other", {{"operation", "GetCACaps"}}, {}).status, 404);
  EXPECT_EQ(r->Handle("PUT", "/scep", {{"operation", "GetCACaps"}}, {}).status, 405);
  EXPECT_EQ(r->Handle("GET", "/scep", {}, {}).status, 400);
  EXPECT_EQ(r->Handle("GET", "/scep", {{"operation", "Nonsense"}}, {}).status, 400);
  EXPECT_EQ(r->Handle("POST", "/scep", {{"operation", "PKIOperation"}}, ToBytes("junk")).status,
            400);
  // Unescaped base64 arrives with '+' turned into ' ': refused like micromdm.
  EXPECT_EQ(r->Handle("GET", "/scep", {{"operation", "PKIOperation"}, {"message", "ab cd"}}, {})
                .status,
            400);
}

// ---- enrollment ----------------------------------------------------------

TEST(ResponderTest, PkcsReqIssuesACertificate) {
  auto r = MakeResponder();
  Client c;
  auto resp = c.Send(*r, MessageType::kPKCSReq,
                     MakeCsrDer(c.key.get(), c.cn, "", "router-1.example.com"), r->ca_cert());
  ASSERT_EQ(resp.status, 200) << ToString(resp.body);
  EXPECT_EQ(resp.content_type, "application/x-pki-message");

  auto m = ParseReply(resp, r->ca_cert());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->attributes.message_type, MessageType::kCertRep);
  EXPECT_EQ(m->attributes.transaction_id, c.tid);
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kSuccess);
  ASSERT_TRUE(m->attributes.recipient_nonce.has_value());
  EXPECT_EQ(*m->attributes.recipient_nonce, c.last_nonce);
  EXPECT_EQ(m->attributes.sender_nonce.size(), 16u);
  EXPECT_NE(m->attributes.sender_nonce, c.last_nonce);
  EXPECT_EQ(m->digest, "SHA256");

  auto certs = OpenCerts(*m, c);
  ASSERT_EQ(certs.size(), 2u);  // [issued, CA]
  X509* leaf = certs[0].get();
  EXPECT_EQ(X509_cmp(certs[1].get(), r->ca_cert()), 0);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf), c.key.get()), 1);
  EXPECT_EQ(X509_verify(leaf, X509_get0_pubkey(r->ca_cert())), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(r->ca_cert())), 0);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(leaf), X509_get_subject_name(c.signer.get())), 0);
  EXPECT_EQ(SerialOf(leaf), "02");
  EXPECT_EQ(X509_get_key_usage(leaf),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  EXPECT_EQ(X509_get_extended_key_usage(leaf), static_cast<uint32_t>(XKU_SSL_CLIENT));
  ossl::Ptr<GENERAL_NAMES> sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(sans);
  ASSERT_EQ(sk_GENERAL_NAME_num(sans.get()), 1);
  const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), 0);
  ASSERT_EQ(gn->type, GEN_DNS);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName))),
            "router-1.example.com");
  // Valid from now for 365 days.
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf), X509_get0_notAfter(leaf)), 1);
  EXPECT_EQ(days, 365);

  auto log = r->Requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].ToJson(),
            "{\"operation\":\"PKIOperation\",\"method\":\"POST\",\"messageType\":19,"
            "\"messageTypeName\":\"PKCSReq\",\"transactionId\":\"TID-0001\",\"status\":\"SUCCESS\","
            "\"serial\":\"02\",\"httpStatus\":200}");
  ASSERT_TRUE(r->IssuedCert("2"));
  EXPECT_EQ(X509_cmp(r->IssuedCert("02").get(), leaf), 0);
}

TEST(ResponderTest, PkiOperationByGetWithBase64Message) {
  auto r = MakeResponder();
  Client c;
  Bytes der = c.Message(MessageType::kPKCSReq, MakeCsrDer(c.key.get(), c.cn), {r->ca_cert()});
  auto resp = r->Handle("GET", "/cgi-bin/pkiclient.exe",
                        {{"operation", "PKIOperation"}, {"message", Base64Encode(der)}}, {});
  ASSERT_EQ(resp.status, 200) << ToString(resp.body);
  auto m = ParseReply(resp, r->ca_cert());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kSuccess);
  EXPECT_EQ(r->Requests().at(0).method, "GET");
}

TEST(ResponderTest, SerialNumbersCount) {
  auto r = MakeResponder();
  for (const char* expected : {"02", "03", "04"}) {
    Client c;
    auto m = ParseReply(c.Enroll(*r), r->ca_cert());
    ASSERT_TRUE(m.ok());
    auto certs = OpenCerts(*m, c);
    ASSERT_FALSE(certs.empty());
    EXPECT_EQ(SerialOf(certs[0].get()), expected);
  }
}

TEST(ResponderTest, ChallengePasswordIsChecked) {
  ResponderOptions o = TestOptions();
  o.challenge = "s3cret";
  auto r = MakeResponder(std::move(o));
  Client c;
  for (const char* wrong : {"", "wrong"}) {
    auto m = ParseReply(c.Enroll(*r, wrong), r->ca_cert());
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->attributes.pki_status, PkiStatus::kFailure);
    EXPECT_EQ(m->attributes.fail_info, FailInfo::kBadRequest);
    EXPECT_TRUE(m->envelope.empty());
  }
  auto m = ParseReply(c.Enroll(*r, "s3cret"), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kSuccess);
}

TEST(ResponderTest, RenewalReqSignedByAnIssuedCertificate) {
  ResponderOptions o = TestOptions();
  o.challenge = "s3cret";
  auto r = MakeResponder(std::move(o));
  Client c;
  auto first = ParseReply(c.Enroll(*r, "s3cret"), r->ca_cert());
  ASSERT_TRUE(first.ok());
  auto certs = OpenCerts(*first, c);
  ASSERT_FALSE(certs.empty());

  // A RenewalReq signed with the self-signed certificate is refused.
  auto refused = ParseReply(c.Enroll(*r, "", MessageType::kRenewalReq), r->ca_cert());
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->attributes.pki_status, PkiStatus::kFailure);
  EXPECT_EQ(refused->attributes.fail_info, FailInfo::kBadRequest);

  // Signed with the issued one, it needs no challenge.
  c.signer = std::move(certs[0]);
  auto renewed = ParseReply(c.Enroll(*r, "", MessageType::kRenewalReq), r->ca_cert());
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->attributes.pki_status, PkiStatus::kSuccess);
  auto new_certs = OpenCerts(*renewed, c);
  ASSERT_FALSE(new_certs.empty());
  EXPECT_EQ(SerialOf(new_certs[0].get()), "03");
  EXPECT_EQ(r->Requests().back().message_type, 17);
}

TEST(ResponderTest, RenewalNeedsChallengeWhenConfigured) {
  ResponderOptions o = TestOptions();
  o.challenge = "s3cret";
  o.renewal_needs_challenge = true;
  auto r = MakeResponder(std::move(o));
  Client c;
  auto first = ParseReply(c.Enroll(*r, "s3cret"), r->ca_cert());
  ASSERT_TRUE(first.ok());
  c.signer = std::move(OpenCerts(*first, c).at(0));
  auto m = ParseReply(c.Enroll(*r, "", MessageType::kRenewalReq), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kFailure);
  m = ParseReply(c.Enroll(*r, "s3cret", MessageType::kRenewalReq), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kSuccess);
}

TEST(ResponderTest, CsrWithBadSignatureIsBadMessageCheck) {
  auto r = MakeResponder();
  Client c;
  Bytes csr = MakeCsrDer(c.key.get(), c.cn);
  csr[csr.size() - 5] ^= 0x01;  // inside the signature BIT STRING
  auto m = ParseReply(c.Send(*r, MessageType::kPKCSReq, csr, r->ca_cert()), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kFailure);
  EXPECT_EQ(m->attributes.fail_info, FailInfo::kBadMessageCheck);
}

TEST(ResponderTest, EnvelopeForSomeoneElseIsBadMessageCheck) {
  auto r = MakeResponder();
  Client c;
  Client stranger(1, "stranger");
  auto m = ParseReply(
      c.Send(*r, MessageType::kPKCSReq, MakeCsrDer(c.key.get(), c.cn), stranger.signer.get()),
      r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kFailure);
  EXPECT_EQ(m->attributes.fail_info, FailInfo::kBadMessageCheck);
  EXPECT_TRUE(m->attributes.fail_info_text.has_value());
}

TEST(ResponderTest, ReplyCipherAndDigestAreConfigurable) {
  ResponderOptions o = TestOptions();
  o.reply_cipher = "DES-CBC";
  o.reply_digest = "SHA1";
  auto r = MakeResponder(std::move(o));
  Client c;
  auto resp = c.Enroll(*r);
  auto m = ParseReply(resp, r->ca_cert());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->digest, "SHA1");
  // The envelope is single DES: its algorithm OID 1.3.14.3.2.7 is in the DER.
  const Bytes kDesCbcOid = {0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x07};
  EXPECT_NE(std::search(m->envelope.begin(), m->envelope.end(), kDesCbcOid.begin(),
                        kDesCbcOid.end()),
            m->envelope.end());
  auto certs = OpenCerts(*m, c);  // the legacy provider was loaded by Create
  EXPECT_EQ(certs.size(), 2u);
}

}  // namespace
}  // namespace scepd::testing
