#include "core/scep/pki_message.h"

#include <gtest/gtest.h>

#include <openssl/cms.h>

#include <algorithm>
#include <optional>

#include "tests/support/test_pki.h"

namespace scepd::scep {
namespace {

using testing::CachedKey;
using testing::CertSpec;
using testing::MakeCert;
using testing::MakeTestCa;

class PkiMessageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = MakeTestCa();
    client_key_ = CachedKey(0);
    CertSpec spec;
    spec.subject = "/CN=router-1";
    spec.serial = 99;
    client_cert_ = MakeCert(spec, client_key_.get(), nullptr, nullptr);  // self-signed
  }

  PkiAttributes RequestAttrs() {
    PkiAttributes a;
    a.message_type = MessageType::kPKCSReq;
    a.transaction_id = "ABCDEF0123";
    a.sender_nonce = Bytes(16, 0x11);
    return a;
  }

  Bytes BuildRequest(const Bytes& payload, const std::string& cipher = "AES-256-CBC",
                     const std::string& digest = "SHA256") {
    EnvelopeSpec env;
    env.recipients = {ca_.cert.get()};
    env.cipher = cipher;
    SignerSpec signer;
    signer.cert = client_cert_.get();
    signer.key = client_key_.get();
    signer.digest = digest;
    auto der = BuildPkiMessage(RequestAttrs(), payload, env, signer);
    EXPECT_TRUE(der.ok()) << der.error().message;
    return der.ok() ? *der : Bytes{};
  }

  testing::TestCa ca_;
  ossl::Ptr<EVP_PKEY> client_key_;
  ossl::Ptr<X509> client_cert_;
};

TEST_F(PkiMessageTest, RequestRoundTripsThroughTheCaSide) {
  Bytes payload = ToBytes("a DER CSR would be here");
  Bytes der = BuildRequest(payload);

  // The CA side trusts the embedded (self-signed) signer certificate.
  auto msg = ParsePkiMessage(der, {});
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  EXPECT_EQ(msg->attributes.message_type, MessageType::kPKCSReq);
  EXPECT_EQ(msg->attributes.transaction_id, "ABCDEF0123");
  EXPECT_EQ(msg->attributes.sender_nonce, Bytes(16, 0x11));
  EXPECT_FALSE(msg->attributes.recipient_nonce.has_value());
  EXPECT_FALSE(msg->attributes.pki_status.has_value());
  EXPECT_EQ(msg->digest, "SHA256");
  EXPECT_EQ(X509_cmp(msg->signer.get(), client_cert_.get()), 0);

  auto plain = OpenEnvelope(msg->envelope, ca_.key.get(), ca_.cert.get());
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(*plain, payload);
}

TEST_F(PkiMessageTest, EnvelopeCannotBeOpenedWithAnotherKey) {
  Bytes der = BuildRequest(ToBytes("secret"));
  auto msg = ParsePkiMessage(der, {});
  ASSERT_TRUE(msg.ok());
  auto other = CachedKey(3);
  auto plain = OpenEnvelope(msg->envelope, other.get(), nullptr);
  EXPECT_FALSE(plain.ok());
}

TEST_F(PkiMessageTest, CertRepSignedByCaWithoutDigitalSignatureUsageVerifies) {
  PkiAttributes rep;
  rep.message_type = MessageType::kCertRep;
  rep.transaction_id = "ABCDEF0123";
  rep.sender_nonce = Bytes(16, 0x22);
  rep.recipient_nonce = Bytes(16, 0x11);
  rep.pki_status = PkiStatus::kSuccess;
  EnvelopeSpec env;
  env.recipients = {client_cert_.get()};
  SignerSpec signer;
  signer.cert = ca_.cert.get();
  signer.key = ca_.key.get();
  signer.digest = "SHA1";
  auto der = BuildPkiMessage(rep, ToBytes("certs"), env, signer);
  ASSERT_TRUE(der.ok()) << der.error().message;

  X509* trusted[] = {ca_.cert.get()};
  auto msg = ParsePkiMessage(*der, trusted);
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  EXPECT_EQ(msg->attributes.message_type, MessageType::kCertRep);
  EXPECT_EQ(msg->attributes.pki_status, PkiStatus::kSuccess);
  EXPECT_EQ(msg->attributes.recipient_nonce, Bytes(16, 0x11));
  EXPECT_EQ(msg->digest, "SHA1");
  auto plain = OpenEnvelope(msg->envelope, client_key_.get(), client_cert_.get());
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(ToString(*plain), "certs");
}

TEST_F(PkiMessageTest, SignerIsFoundAmongSeveralTrustedCertificates) {
  // An RA certificate signs; the trusted list holds the CA first.
  auto ra_key = CachedKey(4);
  CertSpec spec;
  spec.subject = "/CN=RA";
  spec.serial = 5;
  spec.key_usage = KU_DIGITAL_SIGNATURE;
  auto ra = MakeCert(spec, ra_key.get(), ca_.cert.get(), ca_.key.get());
  PkiAttributes rep;
  rep.message_type = MessageType::kCertRep;
  rep.transaction_id = "T";
  rep.sender_nonce = Bytes(16, 1);
  rep.pki_status = PkiStatus::kPending;
  SignerSpec signer;
  signer.cert = ra.get();
  signer.key = ra_key.get();
  signer.extra_certs = {ca_.cert.get()};
  auto der = BuildPkiMessage(rep, std::nullopt, {}, signer);
  ASSERT_TRUE(der.ok()) << der.error().message;
  X509* trusted[] = {ca_.cert.get(), ra.get()};
  auto msg = ParsePkiMessage(*der, trusted);
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  EXPECT_EQ(X509_cmp(msg->signer.get(), ra.get()), 0);
  EXPECT_EQ(msg->attributes.pki_status, PkiStatus::kPending);
  EXPECT_TRUE(msg->envelope.empty());
  EXPECT_EQ(msg->certificates.size(), 2u);
}

// A CertRep whose SignedData has no eContent at all (detached; RFC 5652
// section 5.2 allows it and an independent responder sends PENDING and
// FAILURE so): the messageDigest is the digest of the empty string. Built
// with OpenSSL's CMS calls directly, not with BuildPkiMessage (which always
// includes an empty eContent).
Bytes DetachedCertRep(X509* cert, EVP_PKEY* key, PkiStatus status,
                      std::optional<FailInfo> fail_info) {
  constexpr unsigned kFlags = CMS_BINARY | CMS_PARTIAL | CMS_DETACHED | CMS_NOSMIMECAP;
  ossl::Ptr<CMS_ContentInfo> cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, kFlags));
  EXPECT_TRUE(cms);
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), cert, key, EVP_sha256(), kFlags);
  EXPECT_NE(si, nullptr);
  auto add = [&](std::string_view oid, int type, const std::string& value) {
    EXPECT_EQ(CMS_signed_add1_attr_by_txt(si, std::string(oid).c_str(), type, value.data(),
                                          static_cast<int>(value.size())),
              1);
  };
  add(kOidMessageType, V_ASN1_PRINTABLESTRING, "3");
  add(kOidTransactionId, V_ASN1_PRINTABLESTRING, "T-detached");
  add(kOidSenderNonce, V_ASN1_OCTET_STRING, std::string(16, '\x22'));
  add(kOidRecipientNonce, V_ASN1_OCTET_STRING, std::string(16, '\x11'));
  add(kOidPkiStatus, V_ASN1_PRINTABLESTRING, std::to_string(static_cast<int>(status)));
  if (fail_info) {
    add(kOidFailInfo, V_ASN1_PRINTABLESTRING, std::to_string(static_cast<int>(*fail_info)));
  }
  ossl::Ptr<BIO> none(BIO_new_mem_buf("", 0));
  EXPECT_EQ(CMS_final(cms.get(), none.get(), nullptr, kFlags), 1);
  EXPECT_EQ(CMS_get0_content(cms.get()) == nullptr || *CMS_get0_content(cms.get()) == nullptr,
            true);
  auto der = ossl::ToDer(cms.get(), i2d_CMS_ContentInfo, "test CertRep");
  EXPECT_TRUE(der.ok());
  return der.ok() ? *der : Bytes{};
}

TEST_F(PkiMessageTest, DetachedPendingCertRepVerifies) {
  Bytes der = DetachedCertRep(ca_.cert.get(), ca_.key.get(), PkiStatus::kPending, std::nullopt);
  X509* trusted[] = {ca_.cert.get()};
  auto msg = ParsePkiMessage(der, trusted);
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  EXPECT_EQ(msg->attributes.pki_status, PkiStatus::kPending);
  EXPECT_EQ(msg->attributes.transaction_id, "T-detached");
  EXPECT_TRUE(msg->envelope.empty());
}

TEST_F(PkiMessageTest, DetachedFailureCertRepKeepsItsFailInfo) {
  Bytes der =
      DetachedCertRep(ca_.cert.get(), ca_.key.get(), PkiStatus::kFailure, FailInfo::kBadRequest);
  X509* trusted[] = {ca_.cert.get()};
  auto msg = ParsePkiMessage(der, trusted);
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  EXPECT_EQ(msg->attributes.pki_status, PkiStatus::kFailure);
  EXPECT_EQ(msg->attributes.fail_info, FailInfo::kBadRequest);
}

TEST_F(PkiMessageTest, DetachedCertRepFromAnotherKeyIsStillRefused) {
  auto other_key = CachedKey(5);
  CertSpec spec;
  spec.subject = "/CN=impostor";
  spec.serial = 77;
  auto other = MakeCert(spec, other_key.get(), nullptr, nullptr);
  Bytes der = DetachedCertRep(other.get(), other_key.get(), PkiStatus::kPending, std::nullopt);
  X509* trusted[] = {ca_.cert.get()};
  auto msg = ParsePkiMessage(der, trusted);
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.error().code, ErrorCode::kVerify);
}

TEST_F(PkiMessageTest, UntrustedSignerIsRejected) {
  Bytes der = BuildRequest(ToBytes("x"));
  X509* trusted[] = {ca_.cert.get()};
  auto msg = ParsePkiMessage(der, trusted);
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.error().code, ErrorCode::kVerify);
  EXPECT_NE(msg.error().message.find("do not trust"), std::string::npos) << msg.error().message;
}

TEST_F(PkiMessageTest, ImpostorWithSameIssuerAndSerialFailsSignature) {
  // Same subject/serial as the CA, different key: found by issuerAndSerial,
  // but the signature does not verify with the trusted CA's key.
  auto evil_key = CachedKey(5);
  CertSpec spec;
  spec.subject = "/O=Test CA/CN=Test CA";
  spec.serial = 1;
  spec.is_ca = true;
  auto impostor = MakeCert(spec, evil_key.get(), nullptr, nullptr);
  PkiAttributes rep;
  rep.message_type = MessageType::kCertRep;
  rep.transaction_id = "T";
  rep.sender_nonce = Bytes(16, 1);
  rep.pki_status = PkiStatus::kFailure;
  rep.fail_info = FailInfo::kBadRequest;
  SignerSpec signer;
  signer.cert = impostor.get();
  signer.key = evil_key.get();
  auto der = BuildPkiMessage(rep, std::nullopt, {}, signer);
  ASSERT_TRUE(der.ok());
  X509* trusted[] = {ca_.cert.get()};
  auto msg = ParsePkiMessage(*der, trusted);
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.error().code, ErrorCode::kVerify);
}

TEST_F(PkiMessageTest, TamperedSignatureIsRejected) {
  Bytes der = BuildRequest(ToBytes("payload"));
  der[der.size() - 10] ^= 0x01;  // inside the RSA signature, the last field
  auto msg = ParsePkiMessage(der, {});
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.error().code, ErrorCode::kVerify);
}

TEST_F(PkiMessageTest, TamperedContentIsRejected) {
  Bytes payload(64, 0x5A);
  Bytes der = BuildRequest(payload);
  auto msg = ParsePkiMessage(der, {});
  ASSERT_TRUE(msg.ok());
  // Find the envelope inside the message and flip one of its bytes.
  auto it = std::search(der.begin(), der.end(), msg->envelope.begin(), msg->envelope.end());
  ASSERT_NE(it, der.end());
  *(it + static_cast<long>(msg->envelope.size() / 2)) ^= 0x80;  // NOLINT(runtime/int)
  auto tampered = ParsePkiMessage(der, {});
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.error().code, ErrorCode::kVerify);
}

TEST_F(PkiMessageTest, TruncatedAndGarbageInputAreParseErrors) {
  Bytes der = BuildRequest(ToBytes("payload"));
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, der.size() / 2, der.size() - 1}) {
    auto msg = ParsePkiMessage(std::span(der.data(), n), {});
    ASSERT_FALSE(msg.ok()) << "length " << n;
    EXPECT_EQ(msg.error().code, ErrorCode::kParse) << msg.error().message;
  }
  Bytes html = ToBytes("<html><body>Internal error</body></html>");
  auto msg = ParsePkiMessage(html, {});
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.error().code, ErrorCode::kParse);
}

TEST_F(PkiMessageTest, NotSignedDataIsRejected) {
  Bytes der = BuildRequest(ToBytes("payload"));
  auto msg = ParsePkiMessage(der, {});
  ASSERT_TRUE(msg.ok());
  auto as_signed = ParsePkiMessage(msg->envelope, {});  // EnvelopedData
  ASSERT_FALSE(as_signed.ok());
  EXPECT_NE(as_signed.error().message.find("not a SignedData"), std::string::npos);
}

TEST_F(PkiMessageTest, FailureCarriesFailInfoAndText) {
  PkiAttributes rep;
  rep.message_type = MessageType::kCertRep;
  rep.transaction_id = "T1";
  rep.sender_nonce = Bytes(16, 2);
  rep.recipient_nonce = Bytes(16, 3);
  rep.pki_status = PkiStatus::kFailure;
  rep.fail_info = FailInfo::kBadCertId;
  rep.fail_info_text = "no such certificate";
  SignerSpec signer{ca_.cert.get(), ca_.key.get(), "SHA512", {}};
  auto der = BuildPkiMessage(rep, std::nullopt, {}, signer);
  ASSERT_TRUE(der.ok());
  X509* trusted[] = {ca_.cert.get()};
  auto msg = ParsePkiMessage(*der, trusted);
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  EXPECT_EQ(msg->attributes.pki_status, PkiStatus::kFailure);
  EXPECT_EQ(msg->attributes.fail_info, FailInfo::kBadCertId);
  EXPECT_EQ(msg->attributes.fail_info_text, "no such certificate");
  EXPECT_EQ(msg->digest, "SHA512");
}

TEST_F(PkiMessageTest, EmptyTransactionIdIsAParseError) {
  PkiAttributes a = RequestAttrs();
  a.transaction_id.clear();
  SignerSpec signer{client_cert_.get(), client_key_.get(), "SHA256", {}};
  EnvelopeSpec env{{ca_.cert.get()}, "AES-128-CBC"};
  auto der = BuildPkiMessage(a, ToBytes("x"), env, signer);
  ASSERT_TRUE(der.ok());
  auto msg = ParsePkiMessage(*der, {});
  ASSERT_FALSE(msg.ok());
  EXPECT_NE(msg.error().message.find("transactionID"), std::string::npos);
}

TEST_F(PkiMessageTest, EachCipherRoundTrips) {
  ASSERT_TRUE(ossl::EnableLegacyAlgorithms().ok());
  for (const char* cipher : {"AES-256-CBC", "AES-192-CBC", "AES-128-CBC", "DES-EDE3-CBC",
                             "DES-CBC"}) {
    Bytes der = BuildRequest(ToBytes(cipher), cipher);
    auto msg = ParsePkiMessage(der, {});
    ASSERT_TRUE(msg.ok()) << cipher << ": " << msg.error().message;
    auto plain = OpenEnvelope(msg->envelope, ca_.key.get(), ca_.cert.get());
    ASSERT_TRUE(plain.ok()) << cipher << ": " << plain.error().message;
    EXPECT_EQ(ToString(*plain), cipher);
  }
}

TEST_F(PkiMessageTest, UnknownCipherOrDigestIsAnError) {
  EnvelopeSpec env{{ca_.cert.get()}, "NOPE-CBC"};
  SignerSpec signer{client_cert_.get(), client_key_.get(), "SHA256", {}};
  auto r = BuildPkiMessage(RequestAttrs(), ToBytes("x"), env, signer);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("NOPE-CBC"), std::string::npos);
  signer.digest = "NOPE";
  env.cipher = "AES-128-CBC";
  auto r2 = BuildPkiMessage(RequestAttrs(), ToBytes("x"), env, signer);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("NOPE"), std::string::npos);
}

TEST(IssuerAndSubjectTest, RoundTrips) {
  ossl::Ptr<X509_NAME> a(X509_NAME_new()), b(X509_NAME_new());
  X509_NAME_add_entry_by_txt(a.get(), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Issuer"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(b.get(), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Subject"), -1, -1, 0);
  auto der = EncodeIssuerAndSubject(a.get(), b.get());
  ASSERT_TRUE(der.ok());
  auto back = DecodeIssuerAndSubject(*der);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(X509_NAME_cmp(back->first.get(), a.get()), 0);
  EXPECT_EQ(X509_NAME_cmp(back->second.get(), b.get()), 0);
  Bytes bad = *der;
  bad.push_back(0);
  EXPECT_FALSE(DecodeIssuerAndSubject(bad).ok());
  EXPECT_FALSE(DecodeIssuerAndSubject(ToBytes("junk")).ok());
}

TEST(IssuerAndSerialTest, RoundTrips) {
  ossl::Ptr<X509_NAME> a(X509_NAME_new());
  X509_NAME_add_entry_by_txt(a.get(), "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("CA"), -1, -1, 0);
  ossl::Ptr<ASN1_INTEGER> serial(ASN1_INTEGER_new());
  ASN1_INTEGER_set(serial.get(), 123456);
  auto der = EncodeIssuerAndSerial(a.get(), serial.get());
  ASSERT_TRUE(der.ok());
  auto back = DecodeIssuerAndSerial(*der);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(X509_NAME_cmp(back->first.get(), a.get()), 0);
  EXPECT_EQ(ASN1_INTEGER_get(back->second.get()), 123456);
  EXPECT_FALSE(DecodeIssuerAndSerial(Bytes(der->begin(), der->end() - 1)).ok());
}

TEST(NonceTest, IsSixteenFreshBytes) {
  auto a = MakeNonce(), b = MakeNonce();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 16u);
  EXPECT_NE(*a, *b);
}

}  // namespace
}  // namespace scepd::scep
