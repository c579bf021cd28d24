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
#include "tests/support/built_binary.h"
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

PkiStatus StatusOfReply(const scepd::HttpResponse& resp, X509* signer) {
  auto m = ParseReply(resp, signer);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message) << " " << ToString(resp.body);
  return m.ok() && m->attributes.pki_status ? *m->attributes.pki_status : PkiStatus::kFailure;
}

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


TEST(ResponderTest, AcceptsRequestsEncryptedWithSingleDes) {
  // micromdm's scepclient encrypts with DES-CBC; real CAs accept that.
  auto r = MakeResponder();
  Client c;
  Bytes der =
      c.Message(MessageType::kPKCSReq, MakeCsrDer(c.key.get(), c.cn), {r->ca_cert()}, "DES-CBC");
  ASSERT_FALSE(der.empty());
  auto resp = r->Handle("POST", "/scep", {{"operation", "PKIOperation"}}, der);
  EXPECT_EQ(StatusOfReply(resp, r->ca_cert()), PkiStatus::kSuccess);
}

// ---- PENDING and CertPoll ------------------------------------------------


TEST(ResponderTest, PendingThenSuccessAfterNPolls) {
  auto r = MakeResponder();
  FaultPlan f;
  f.pending_polls = 2;
  r->SetFaults(f);
  Client c;
  auto first = ParseReply(c.Enroll(*r), r->ca_cert());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->attributes.pki_status, PkiStatus::kPending);
  EXPECT_TRUE(first->envelope.empty());
  EXPECT_EQ(first->attributes.recipient_nonce, c.last_nonce);

  r->SetFaults({});  // the countdown belongs to the transaction now
  EXPECT_EQ(StatusOfReply(c.Poll(*r), r->ca_cert()), PkiStatus::kPending);
  EXPECT_EQ(StatusOfReply(c.Poll(*r), r->ca_cert()), PkiStatus::kPending);
  auto done = ParseReply(c.Poll(*r), r->ca_cert());
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->attributes.pki_status, PkiStatus::kSuccess);
  EXPECT_EQ(done->attributes.recipient_nonce, c.last_nonce);
  EXPECT_EQ(done->attributes.transaction_id, c.tid);
  auto certs = OpenCerts(*done, c);
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(certs[0].get()), c.key.get()), 1);

  // Polling again returns the same certificate.
  auto again = ParseReply(c.Poll(*r), r->ca_cert());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->attributes.pki_status, PkiStatus::kSuccess);
  EXPECT_EQ(X509_cmp(OpenCerts(*again, c).at(0).get(), certs[0].get()), 0);

  auto log = r->Requests();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0].status, "PENDING");
  EXPECT_EQ(log[1].message_type, 20);
  EXPECT_EQ(log[3].status, "SUCCESS");
  EXPECT_EQ(log[3].serial, "02");
}

TEST(ResponderTest, PendingPollsZeroMeansTheFirstPollSucceeds) {
  auto r = MakeResponder();
  FaultPlan f;
  f.pending_polls = 0;
  r->SetFaults(f);
  Client c;
  EXPECT_EQ(StatusOfReply(c.Enroll(*r), r->ca_cert()), PkiStatus::kPending);
  EXPECT_EQ(StatusOfReply(c.Poll(*r), r->ca_cert()), PkiStatus::kSuccess);
}

TEST(ResponderTest, RepeatedPkcsReqCountsAsAPoll) {
  auto r = MakeResponder();
  FaultPlan f;
  f.pending_polls = 1;
  r->SetFaults(f);
  Client c;
  EXPECT_EQ(StatusOfReply(c.Enroll(*r), r->ca_cert()), PkiStatus::kPending);
  EXPECT_EQ(StatusOfReply(c.Enroll(*r), r->ca_cert()), PkiStatus::kPending);
  EXPECT_EQ(StatusOfReply(c.Enroll(*r), r->ca_cert()), PkiStatus::kSuccess);
}

TEST(ResponderTest, PendingForever) {
  auto r = MakeResponder();
  FaultPlan f;
  f.pending_forever = true;
  r->SetFaults(f);
  Client c;
  EXPECT_EQ(StatusOfReply(c.Enroll(*r), r->ca_cert()), PkiStatus::kPending);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(StatusOfReply(c.Poll(*r), r->ca_cert()), PkiStatus::kPending);
}

TEST(ResponderTest, PendingThenRejected) {
  auto r = MakeResponder();
  FaultPlan f;
  f.pending_polls = 1;
  f.fail_info = FailInfo::kBadRequest;
  f.fail_info_text = "rejected by the operator";
  r->SetFaults(f);
  Client c;
  EXPECT_EQ(StatusOfReply(c.Enroll(*r), r->ca_cert()), PkiStatus::kPending);
  EXPECT_EQ(StatusOfReply(c.Poll(*r), r->ca_cert()), PkiStatus::kPending);
  auto m = ParseReply(c.Poll(*r), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kFailure);
  EXPECT_EQ(m->attributes.fail_info, FailInfo::kBadRequest);
  EXPECT_EQ(m->attributes.fail_info_text, "rejected by the operator");
}

TEST(ResponderTest, CertPollForAnUnknownTransactionIsBadCertId) {
  auto r = MakeResponder();
  Client c;
  auto m = ParseReply(c.Poll(*r), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kFailure);
  EXPECT_EQ(m->attributes.fail_info, FailInfo::kBadCertId);
}

TEST(ResponderTest, CertPollWithAnotherSubjectIsBadCertId) {
  auto r = MakeResponder();
  FaultPlan f;
  f.pending_polls = 3;
  r->SetFaults(f);
  Client c;
  EXPECT_EQ(StatusOfReply(c.Enroll(*r), r->ca_cert()), PkiStatus::kPending);
  c.cn = "someone-else";
  auto m = ParseReply(c.Poll(*r), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.fail_info, FailInfo::kBadCertId);
}

TEST(ResponderTest, FailureWithFailInfo) {
  auto r = MakeResponder();
  FaultPlan f;
  f.fail_info = FailInfo::kBadTime;
  f.fail_info_text = "clock skew";
  r->SetFaults(f);
  Client c;
  auto m = ParseReply(c.Enroll(*r), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kFailure);
  EXPECT_EQ(m->attributes.fail_info, FailInfo::kBadTime);
  EXPECT_EQ(m->attributes.fail_info_text, "clock skew");
  EXPECT_EQ(m->attributes.recipient_nonce, c.last_nonce);
  EXPECT_TRUE(m->envelope.empty());
  EXPECT_EQ(r->Requests().back().fail_info, "badTime");

  // Without a text there is no failInfoText attribute.
  f.fail_info_text.clear();
  r->SetFaults(f);
  m = ParseReply(c.Enroll(*r), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->attributes.fail_info_text.has_value());
}

// ---- GetCert, GetCRL, GetNextCACert ------------------------------------------

TEST(ResponderTest, GetCertBySerial) {
  auto r = MakeResponder();
  Client c;
  ASSERT_EQ(StatusOfReply(c.Enroll(*r), r->ca_cert()), PkiStatus::kSuccess);
  auto serial = rsp::SerialFromHex("02");
  ASSERT_TRUE(serial.ok());
  auto payload = scep::EncodeIssuerAndSerial(X509_get_subject_name(r->ca_cert()), serial->get());
  ASSERT_TRUE(payload.ok());
  c.tid = "GETCERT-1";
  auto m = ParseReply(c.Send(*r, MessageType::kGetCert, *payload, r->ca_cert()), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kSuccess);
  auto certs = OpenCerts(*m, c);
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(SerialOf(certs[0].get()), "02");
  EXPECT_EQ(r->Requests().back().serial, "02");

  auto unknown = rsp::SerialFromHex("99");
  payload = scep::EncodeIssuerAndSerial(X509_get_subject_name(r->ca_cert()), unknown->get());
  m = ParseReply(c.Send(*r, MessageType::kGetCert, *payload, r->ca_cert()), r->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kFailure);
  EXPECT_EQ(m->attributes.fail_info, FailInfo::kBadCertId);
}

TEST(ResponderTest, GetCrlListsRevokedSerials) {
  ResponderOptions o = TestOptions();
  o.revoked_serials = {"0a", "1234"};
  auto r = MakeResponder(std::move(o));
  Client c;
  auto serial = rsp::SerialFromHex("02");
  auto payload = scep::EncodeIssuerAndSerial(X509_get_subject_name(r->ca_cert()), serial->get());
  ASSERT_TRUE(payload.ok());
  auto m = ParseReply(c.Send(*r, MessageType::kGetCRL, *payload, r->ca_cert()), r->ca_cert());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kSuccess);
  auto plain = scep::OpenEnvelope(m->envelope, c.key.get(), c.signer.get());
  ASSERT_TRUE(plain.ok());
  auto p7 = scep::ParseCertsOnly(*plain);
  ASSERT_TRUE(p7.ok());
  EXPECT_TRUE(p7->certs.empty());
  ASSERT_EQ(p7->crls.size(), 1u);
  X509_CRL* crl = p7->crls[0].get();
  EXPECT_EQ(X509_CRL_verify(crl, X509_get0_pubkey(r->ca_cert())), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(r->ca_cert())), 0);
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  ASSERT_EQ(sk_X509_REVOKED_num(revoked), 2);
  std::vector<std::string> serials;
  for (int i = 0; i < 2; ++i) {
    serials.push_back(
        rsp::SerialHex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i))));
  }
  std::sort(serials.begin(), serials.end());
  EXPECT_EQ(serials, (std::vector<std::string>{"0A", "1234"}));
}

TEST(ResponderTest, GetNextCACertIsSignedByTheCurrentCa) {
  ResponderOptions o = TestOptions();
  o.next_ca = true;
  auto r = MakeResponder(std::move(o));
  ASSERT_NE(r->next_ca_cert(), nullptr);
  auto resp = r->Handle("GET", "/scep", {{"operation", "GetNextCACert"}}, {});
  ASSERT_EQ(resp.status, 200);
  EXPECT_EQ(resp.content_type, "application/x-x509-next-ca-cert");
  const unsigned char* p = resp.body.data();
  ossl::Ptr<CMS_ContentInfo> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(resp.body.size())));  // NOLINT
  ASSERT_TRUE(cms);
  X509* trusted[] = {r->ca_cert()};
  auto stack = ossl::MakeX509StackView(trusted);
  ossl::Ptr<BIO> out(BIO_new(BIO_s_mem()));
  ASSERT_EQ(CMS_verify(cms.get(), stack.get(), nullptr, nullptr, out.get(),
                       CMS_BINARY | CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY),
            1);
  auto inner = scep::ParseCertsOnly(ossl::BioToBytes(out.get()));
  ASSERT_TRUE(inner.ok());
  ASSERT_EQ(inner->certs.size(), 1u);
  EXPECT_EQ(X509_cmp(inner->certs[0].get(), r->next_ca_cert()), 0);
  EXPECT_NE(EVP_PKEY_eq(X509_get0_pubkey(r->next_ca_cert()), X509_get0_pubkey(r->ca_cert())), 1);

  // Not enabled: HTTP 500, like a CA without the capability.
  auto plain = MakeResponder();
  EXPECT_EQ(plain->Handle("GET", "/scep", {{"operation", "GetNextCACert"}}, {}).status, 500);
}

// ---- RA mode -----------------------------------------------------------------

TEST(ResponderTest, RaModeSignsWithTheRaAndDecryptsWithTheRaEncryptionKey) {
  ResponderOptions o = TestOptions();
  o.ra = true;
  o.ra_order = {"ca", "enc", "sign"};
  auto r = MakeResponder(std::move(o));
  ASSERT_NE(r->ra_sign_cert(), nullptr);
  ASSERT_NE(r->ra_enc_cert(), nullptr);

  auto cacert = r->Handle("GET", "/scep", {{"operation", "GetCACert"}}, {});
  ASSERT_EQ(cacert.status, 200);
  EXPECT_EQ(cacert.content_type, "application/x-x509-ca-ra-cert");
  auto chain = scep::ParseCertsOnly(cacert.body);
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->certs.size(), 3u);
  EXPECT_EQ(X509_cmp(chain->certs[0].get(), r->ca_cert()), 0);
  EXPECT_EQ(X509_cmp(chain->certs[1].get(), r->ra_enc_cert()), 0);
  EXPECT_EQ(X509_cmp(chain->certs[2].get(), r->ra_sign_cert()), 0);
  EXPECT_EQ(X509_verify(r->ra_sign_cert(), X509_get0_pubkey(r->ca_cert())), 1);

  Client c;
  auto resp = c.Send(*r, MessageType::kPKCSReq, MakeCsrDer(c.key.get(), c.cn), r->ra_enc_cert());
  auto m = ParseReply(resp, r->ra_sign_cert());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->attributes.pki_status, PkiStatus::kSuccess);
  EXPECT_FALSE(ParseReply(resp, r->ca_cert()).ok());  // not signed by the CA
  auto certs = OpenCerts(*m, c);
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(X509_verify(certs[0].get(), X509_get0_pubkey(r->ca_cert())), 1);

  // Encrypted to the CA instead of the RA: cannot be opened.
  c.tid = "TID-0002";
  auto wrong = ParseReply(
      c.Send(*r, MessageType::kPKCSReq, MakeCsrDer(c.key.get(), c.cn), r->ca_cert()),
      r->ra_sign_cert());
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->attributes.pki_status, PkiStatus::kFailure);
  EXPECT_EQ(wrong->attributes.fail_info, FailInfo::kBadMessageCheck);
}

TEST(ResponderTest, InvalidOptionsAreRefused) {
  auto bad = [](auto change) {
    ResponderOptions o = TestOptions();
    change(o);
    return Responder::Create(std::move(o)).ok();
  };
  EXPECT_FALSE(bad([](ResponderOptions& o) { o.reply_cipher = "NO-SUCH-CIPHER"; }));
  EXPECT_FALSE(bad([](ResponderOptions& o) { o.reply_digest = "NOPE"; }));
  EXPECT_FALSE(bad([](ResponderOptions& o) {
    o.ra = true;
    o.ra_order = {"sign", "sign"};
  }));
  EXPECT_FALSE(bad([](ResponderOptions& o) {
    o.ra = true;
    o.ra_order = {"ca", "other"};
  }));
  EXPECT_FALSE(bad([](ResponderOptions& o) { o.revoked_serials = {"xyz"}; }));
  EXPECT_FALSE(bad([](ResponderOptions& o) { o.faults.only_for = "Everything"; }));
  EXPECT_FALSE(bad([](ResponderOptions& o) { o.valid_days = 0; }));
}

// ---- faults ----------------------------------------------------------------

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override { r_ = MakeResponder(); }
  scepd::HttpResponse EnrollWith(const FaultPlan& f) {
    r_->SetFaults(f);
    return c_.Enroll(*r_);
  }
  std::unique_ptr<Responder> r_;
  Client c_;
};

TEST_F(FaultTest, HttpStatus) {
  FaultPlan f;
  f.http_status = 503;
  auto resp = EnrollWith(f);
  EXPECT_EQ(resp.status, 503);
  EXPECT_EQ(resp.content_type, "text/plain");
  EXPECT_FALSE(resp.body.empty());
  EXPECT_EQ(r_->Requests().back().http_status, 503);
  EXPECT_EQ(r_->IssuedCert("02"), nullptr);  // not processed
}

TEST_F(FaultTest, HtmlError) {
  FaultPlan f;
  f.html_error = true;
  auto resp = EnrollWith(f);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.content_type, "text/html");
  EXPECT_NE(ToString(resp.body).find("<html>"), std::string::npos);
}

TEST_F(FaultTest, EmptyBody) {
  FaultPlan f;
  f.empty_body = true;
  auto resp = EnrollWith(f);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.content_type, "application/x-pki-message");
  EXPECT_TRUE(resp.body.empty());
  EXPECT_NE(r_->IssuedCert("02"), nullptr);  // processed, lost in transit
}

TEST_F(FaultTest, TruncateReply) {
  FaultPlan good;
  Bytes full = EnrollWith(good).body;
  FaultPlan f;
  f.truncate_reply = true;
  auto resp = EnrollWith(f);
  EXPECT_EQ(resp.content_type, "application/x-pki-message");
  EXPECT_NEAR(static_cast<double>(resp.body.size()), full.size() / 2.0, 64.0);
  EXPECT_FALSE(ParseReply(resp, r_->ca_cert()).ok());
}

TEST_F(FaultTest, GarbageReply) {
  FaultPlan f;
  f.garbage_reply = true;
  auto resp = EnrollWith(f);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.content_type, "application/x-pki-message");
  EXPECT_GE(resp.body.size(), 64u);
  EXPECT_FALSE(ParseReply(resp, r_->ca_cert()).ok());
}

TEST_F(FaultTest, WrongTransactionId) {
  FaultPlan f;
  f.wrong_transaction_id = true;
  auto m = ParseReply(EnrollWith(f), r_->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_NE(m->attributes.transaction_id, c_.tid);
}

TEST_F(FaultTest, WrongRecipientNonce) {
  FaultPlan f;
  f.wrong_recipient_nonce = true;
  auto m = ParseReply(EnrollWith(f), r_->ca_cert());
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->attributes.recipient_nonce.has_value());
  EXPECT_NE(*m->attributes.recipient_nonce, c_.last_nonce);
  EXPECT_EQ(m->attributes.recipient_nonce->size(), 16u);
}

TEST_F(FaultTest, OmitRecipientNonce) {
  FaultPlan f;
  f.omit_recipient_nonce = true;
  auto m = ParseReply(EnrollWith(f), r_->ca_cert());
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->attributes.recipient_nonce.has_value());
}

TEST_F(FaultTest, SignWithOtherKey) {
  FaultPlan f;
  f.sign_with_other_key = true;
  auto resp = EnrollWith(f);
  auto m = ParseReply(resp, r_->ca_cert());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kVerify);
  // It is a well-formed message, just not from the CA.
  auto untrusted = scep::ParsePkiMessage(resp.body, {});
  ASSERT_TRUE(untrusted.ok());
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(untrusted->signer.get()),
                          X509_get_subject_name(r_->ca_cert())),
            0);
}

TEST_F(FaultTest, IssueForOtherKey) {
  FaultPlan f;
  f.issue_for_other_key = true;
  auto m = ParseReply(EnrollWith(f), r_->ca_cert());
  ASSERT_TRUE(m.ok());
  auto certs = OpenCerts(*m, c_);
  ASSERT_FALSE(certs.empty());
  EXPECT_NE(EVP_PKEY_eq(X509_get0_pubkey(certs[0].get()), c_.key.get()), 1);
}

TEST_F(FaultTest, IssueForOtherSubject) {
  FaultPlan f;
  f.issue_for_other_subject = true;
  auto m = ParseReply(EnrollWith(f), r_->ca_cert());
  ASSERT_TRUE(m.ok());
  auto certs = OpenCerts(*m, c_);
  ASSERT_FALSE(certs.empty());
  EXPECT_NE(X509_NAME_cmp(X509_get_subject_name(certs[0].get()),
                          X509_get_subject_name(c_.signer.get())),
            0);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(certs[0].get()), c_.key.get()), 1);
}

TEST_F(FaultTest, IssueExpired) {
  FaultPlan f;
  f.issue_expired = true;
  auto m = ParseReply(EnrollWith(f), r_->ca_cert());
  ASSERT_TRUE(m.ok());
  auto certs = OpenCerts(*m, c_);
  ASSERT_FALSE(certs.empty());
  EXPECT_LT(X509_cmp_current_time(X509_get0_notAfter(certs[0].get())), 0);
}

TEST_F(FaultTest, Delay) {
  FaultPlan f;
  f.delay_ms = 300;
  r_->SetFaults(f);
  auto start = std::chrono::steady_clock::now();
  auto resp = r_->Handle("GET", "/scep", {{"operation", "GetCACaps"}}, {});
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(resp.status, 200);
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
}

TEST_F(FaultTest, OtherCaAnswersAnotherCaCertificateWithTheSameName) {
  FaultPlan f;
  f.other_ca = true;
  r_->SetFaults(f);
  auto resp = r_->Handle("GET", "/scep", {{"operation", "GetCACert"}}, {});
  ASSERT_EQ(resp.status, 200);
  EXPECT_EQ(resp.content_type, "application/x-x509-ca-cert");
  auto other = ossl::CertFromDer(resp.body, "reply");
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_NE(X509_cmp(other->get(), r_->ca_cert()), 0);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(other->get()),
                          X509_get_subject_name(r_->ca_cert())), 0);
  // Enrollment is still answered by the real CA.
  EXPECT_EQ(StatusOfReply(c_.Enroll(*r_), r_->ca_cert()), PkiStatus::kSuccess);
}

TEST_F(FaultTest, DeliveryFaultsAreHandedToTheHttpLayer) {
  FaultPlan f;
  f.never_answer = true;
  r_->SetFaults(f);
  Delivery d;
  r_->Handle("GET", "/scep", {{"operation", "GetCACert"}}, {}, &d);
  EXPECT_TRUE(d.never_answer);
  EXPECT_EQ(d.huge_body_bytes, 0);

  f = FaultPlan();
  f.huge_body_bytes = 100 << 20;
  f.only_for = "PKIOperation";
  r_->SetFaults(f);
  d = Delivery();
  r_->Handle("GET", "/scep", {{"operation", "GetCACert"}}, {}, &d);
  EXPECT_EQ(d.huge_body_bytes, 0) << "not selected";
  d = Delivery();
  auto resp = r_->Handle("POST", "/scep", {{"operation", "PKIOperation"}},
                    c_.Message(MessageType::kPKCSReq, MakeCsrDer(c_.key.get(), c_.cn),
                               {r_->ca_cert()}),
                    &d);
  EXPECT_EQ(d.huge_body_bytes, 100 << 20);
  EXPECT_EQ(r_->IssuedCert("02"), nullptr) << "not processed";

  f = FaultPlan();
  f.drip_ms = 1000;
  r_->SetFaults(f);
  d = Delivery();
  resp = r_->Handle("GET", "/scep", {{"operation", "GetCACert"}}, {}, &d);
  EXPECT_EQ(d.drip_ms, 1000);
  EXPECT_EQ(resp.status, 200);
  EXPECT_FALSE(resp.body.empty()) << "the real answer, to be dripped";
}

TEST_F(FaultTest, OnlyForSelectsOperationsAndMessageTypes) {
  FaultPlan f;
  f.http_status = 500;
  f.only_for = "PKIOperation";
  r_->SetFaults(f);
  EXPECT_EQ(r_->Handle("GET", "/scep", {{"operation", "GetCACert"}}, {}).status, 200);
  EXPECT_EQ(c_.Enroll(*r_).status, 500);

  // By messageType: a PKCSReq succeeds, a CertPoll fails.
  f.only_for = "CertPoll";
  r_->SetFaults(f);
  EXPECT_EQ(StatusOfReply(c_.Enroll(*r_), r_->ca_cert()), PkiStatus::kSuccess);
  EXPECT_EQ(c_.Poll(*r_).status, 500);
  f.only_for = "19";
  r_->SetFaults(f);
  EXPECT_EQ(c_.Enroll(*r_).status, 500);
  EXPECT_EQ(r_->Handle("GET", "/scep", {{"operation", "GetCACaps"}}, {}).status, 200);

  // fail_info only for RenewalReq: PKCSReq still succeeds.
  FaultPlan g;
  g.fail_info = FailInfo::kBadRequest;
  g.only_for = "RenewalReq";
  r_->SetFaults(g);
  c_.tid = "TID-OTHER";
  EXPECT_EQ(StatusOfReply(c_.Enroll(*r_), r_->ca_cert()), PkiStatus::kSuccess);
}

// ---- persistence and the request log -----------------------------------------

TEST(ResponderStateTest, ARestartedResponderContinuesTheTransaction) {
  TempDir dir;
  ResponderOptions o = TestOptions();
  o.state_dir = dir.File("state");
  o.request_log_path = dir.File("requests.jsonl");
  Client c;
  ossl::Ptr<X509> ca_before;
  {
    auto r = MakeResponder(o);
    ca_before = ossl::UpRef(r->ca_cert());
    FaultPlan f;
    f.pending_polls = 1;
    r->SetFaults(f);
    EXPECT_EQ(StatusOfReply(c.Enroll(*r), r->ca_cert()), PkiStatus::kPending);
  }
  EXPECT_TRUE(PathExists(dir.File("state/ca.crt")));
  EXPECT_TRUE(PathExists(dir.File("state/ca.key")));
  // Another key source: the CA must come from the state directory anyway.
  o.key_source = [](KeyRole) -> Result<ossl::Ptr<EVP_PKEY>> { return CachedKey(1); };
  {
    auto r = MakeResponder(o);
    EXPECT_EQ(X509_cmp(r->ca_cert(), ca_before.get()), 0);
    EXPECT_EQ(StatusOfReply(c.Poll(*r), r->ca_cert()), PkiStatus::kPending);
  }
  {
    auto r = MakeResponder(o);
    auto m = ParseReply(c.Poll(*r), r->ca_cert());
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->attributes.pki_status, PkiStatus::kSuccess);
    EXPECT_EQ(SerialOf(OpenCerts(*m, c).at(0).get()), "02");
  }
  {
    auto r = MakeResponder(o);
    ASSERT_NE(r->IssuedCert("02"), nullptr);
    Client other(1, "router-2");
    other.tid = "TID-NEXT";
    auto m = ParseReply(other.Enroll(*r), r->ca_cert());
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(SerialOf(OpenCerts(*m, other).at(0).get()), "03");  // the counter persisted
  }
  std::string log = ReadFile(dir.File("requests.jsonl"));
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 4);
  EXPECT_NE(log.find("{\"operation\":\"PKIOperation\",\"method\":\"POST\",\"messageType\":19,"
                     "\"messageTypeName\":\"PKCSReq\",\"transactionId\":\"TID-0001\","
                     "\"status\":\"PENDING\",\"httpStatus\":200}\n"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("\"messageType\":20,\"messageTypeName\":\"CertPoll\",\"transactionId\":"
                     "\"TID-0001\",\"status\":\"SUCCESS\",\"serial\":\"02\""),
            std::string::npos)
      << log;
}

TEST(ResponderStateTest, ValiditySecondsOverridesDays) {
  ResponderOptions o = TestOptions();
  o.valid_seconds = 120;
  o.clock = [] { return std::int64_t{1700000000}; };
  auto r = MakeResponder(std::move(o));
  Client c;
  auto m = ParseReply(c.Enroll(*r), r->ca_cert());
  ASSERT_TRUE(m.ok());
  auto certs = OpenCerts(*m, c);
  ASSERT_FALSE(certs.empty());
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(certs[0].get()),
                           X509_get0_notAfter(certs[0].get())),
            1);
  EXPECT_EQ(days, 0);
  EXPECT_EQ(secs, 120);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(certs[0].get()), 1700000000), 0);
}

// ---- the executable ----------------------------------------------------------

TEST(ScepResponderBinaryTest, ServesOnLoopbackAndStopsOnSignal) {
  TempDir dir;
  BackgroundProcess p;
  std::string error;
  ASSERT_TRUE(p.Start({BuiltBinary("tests/responder/scep_responder"), "--port", "0", "--port-file", dir.File("port"),
                       "--state-dir", dir.File("state"), "--log-requests", dir.File("log"),
                       "--caps", "Renewal,SHA-256", "--http-status", "503", "--only-for",
                       "GetCACert", "--key-bits", "1024"},
                      dir.File("out.log"), {}, "", &error))
      << error;
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    if (auto text = TryReadFile(dir.File("port")); text && !text->empty()) {
      port = std::atoi(text->c_str());
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_GT(port, 0) << TryReadFile(dir.File("out.log")).value_or("");
  auto caps = LoopbackHttpGet(port, "/scep?operation=GetCACaps");
  EXPECT_EQ(caps.status, 200);
  EXPECT_EQ(caps.body, "Renewal\nSHA-256");
  EXPECT_EQ(LoopbackHttpGet(port, "/cgi-bin/pkiclient.exe?operation=GetCACert").status, 503);
  EXPECT_TRUE(PathExists(dir.File("state/ca.crt")));
  EXPECT_TRUE(p.Signal(SIGTERM));
  EXPECT_EQ(p.Wait(10000), std::optional<int>(0)) << ReadFile(dir.File("out.log"));
  std::string log = ReadFile(dir.File("log"));
  EXPECT_NE(log.find("\"operation\":\"GetCACaps\""), std::string::npos);
  EXPECT_NE(log.find("\"httpStatus\":503"), std::string::npos);
}

TEST(ScepResponderBinaryTest, RejectsBadFlags) {
  auto r = RunProcess({BuiltBinary("tests/responder/scep_responder"), "--fail-info", "nonsense"}, {}, 10000);
  EXPECT_EQ(r.exit_code, 2);
  r = RunProcess({BuiltBinary("tests/responder/scep_responder"), "--help"}, {}, 10000);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--pending-polls"), std::string::npos);
}

}  // namespace
}  // namespace scepd::testing
