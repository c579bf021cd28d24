#include "tests/responder/responder.h"

#include <openssl/err.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <strings.h>
#include <thread>
#include <utility>

#include "core/scep/certs_only.h"
#include "core/scep/pki_message.h"
#include "tests/responder/ca_pki.h"
#include "tests/responder/state_store.h"

namespace scepd::testing {

using rsp::Transaction;
using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;

namespace {

constexpr const char* kTypePkiMessage = "application/x-pki-message";
constexpr const char* kTypeCaCert = "application/x-x509-ca-cert";
constexpr const char* kTypeCaRaCert = "application/x-x509-ca-ra-cert";
constexpr const char* kTypeNextCaCert = "application/x-x509-next-ca-cert";
constexpr const char* kOrg = "scepd test";
constexpr std::int64_t kDay = 86400;

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

scepd::HttpResponse TextResponse(long status, const std::string& text) {  // NOLINT(runtime/int)
  scepd::HttpResponse r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = ToBytes(text + "\n");
  return r;
}

scepd::HttpResponse BinaryResponse(const char* content_type, Bytes body) {
  scepd::HttpResponse r;
  r.status = 200;
  r.content_type = content_type;
  r.body = std::move(body);
  return r;
}

bool EqualsNoCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.c_str(), b.c_str(), a.size()) == 0;
}

// Does the plan's only_for select this request?
bool Selects(const std::string& only_for, const std::string& operation,
             std::optional<int> message_type) {
  if (only_for.empty() || EqualsNoCase(only_for, operation)) return true;
  if (!message_type) return false;
  if (only_for == std::to_string(*message_type)) return true;
  auto type = scep::MessageTypeFromInt(*message_type);
  return type && EqualsNoCase(only_for, scep::MessageTypeName(*type));
}

bool KnownSelector(const std::string& only_for) {
  static const char* const kNames[] = {"GetCACaps", "GetCACert", "GetNextCACert", "PKIOperation",
                                       "PKCSReq",   "RenewalReq", "CertPoll",     "GetCert",
                                       "GetCRL",    "19",         "17",           "20",
                                       "21",        "22"};
  if (only_for.empty()) return true;
  return std::any_of(std::begin(kNames), std::end(kNames),
                     [&](const char* n) { return EqualsNoCase(only_for, n); });
}

// A certificate with its key.
struct Identity {
  ossl::Ptr<EVP_PKEY> key;
  ossl::Ptr<X509> cert;
};

// The outcome of a PKIOperation before it becomes a CertRep.
struct Verdict {
  PkiStatus status = PkiStatus::kFailure;
  std::optional<FailInfo> fail_info;
  std::string fail_info_text;
  std::optional<Bytes> content;  // certs-only PKCS#7 on SUCCESS
  std::string serial;            // for the request log
};

Verdict Failure(FailInfo fail_info, std::string text) {
  Verdict v;
  v.status = PkiStatus::kFailure;
  v.fail_info = fail_info;
  v.fail_info_text = std::move(text);
  return v;
}

Verdict Pending() {
  Verdict v;
  v.status = PkiStatus::kPending;
  return v;
}

}  // namespace

std::string RequestRecord::ToJson() const {
  std::string j = "{\"operation\":\"" + JsonEscape(operation) + "\",\"method\":\"" +
                  JsonEscape(method) + "\"";
  if (message_type) {
    j += ",\"messageType\":" + std::to_string(*message_type);
    if (auto t = scep::MessageTypeFromInt(*message_type)) {
      j += ",\"messageTypeName\":\"" + std::string(scep::MessageTypeName(*t)) + "\"";
    }
  }
  if (!transaction_id.empty()) j += ",\"transactionId\":\"" + JsonEscape(transaction_id) + "\"";
  if (!status.empty()) j += ",\"status\":\"" + JsonEscape(status) + "\"";
  if (!fail_info.empty()) j += ",\"failInfo\":\"" + JsonEscape(fail_info) + "\"";
  if (!serial.empty()) j += ",\"serial\":\"" + JsonEscape(serial) + "\"";
  j += ",\"httpStatus\":" + std::to_string(http_status);
  if (!error.empty()) j += ",\"error\":\"" + JsonEscape(error) + "\"";
  j += "}";
  return j;
}

std::optional<FailInfo> FailInfoFromName(const std::string& name) {
  for (int v = 0; v <= 4; ++v) {
    auto f = scep::FailInfoFromInt(v);
    if (f && (EqualsNoCase(name, scep::FailInfoName(*f)) || name == std::to_string(v))) return f;
  }
  return std::nullopt;
}

struct Responder::State {
  ResponderOptions opt;
  mutable std::mutex mu;  // guards everything below
  FaultPlan faults;
  ossl::Ptr<X509_NAME> ca_name;
  Identity ca, ra_sign, ra_enc, next_ca, prev_ca;
  Identity other_signer;              // made on first use
  ossl::Ptr<EVP_PKEY> other_issued_key;  // made on first use
  std::uint64_t next_serial = 2;
  std::map<std::string, Transaction> transactions;
  std::map<std::string, ossl::Ptr<X509>> issued;  // by SerialHex
  std::vector<ossl::Ptr<ASN1_INTEGER>> revoked;
  std::vector<RequestRecord> log;

  std::int64_t Now() const { return opt.clock ? opt.clock() : std::time(nullptr); }
  bool Persistent() const { return !opt.state_dir.empty(); }
  std::string StatePath(const std::string& name) const { return opt.state_dir + "/" + name; }

  Result<ossl::Ptr<EVP_PKEY>> Key(KeyRole role) const {
    if (opt.key_source) return opt.key_source(role);
    return rsp::GenerateRsa(opt.key_bits);
  }

  // ---- identities ---------------------------------------------------------

  // Loads <base>.key/.crt from the state directory, or makes a key for
  // `role` and a certificate with `make` and saves both.
  template <class MakeCert>
  Result<Identity> LoadOrMake(const std::string& base, KeyRole role, MakeCert make) {
    if (Persistent()) {
      SCEPD_TRY(auto key_pem, rsp::ReadFileIfExists(StatePath(base + ".key")));
      SCEPD_TRY(auto cert_pem, rsp::ReadFileIfExists(StatePath(base + ".crt")));
      if (key_pem && cert_pem) {
        Identity id;
        SCEPD_TRY(id.key, ossl::PrivateKeyFromPem(*key_pem, base + ".key"));
        OPENSSL_cleanse(key_pem->data(), key_pem->size());
        SCEPD_TRY(id.cert, ossl::CertFromPem(*cert_pem, base + ".crt"));
        if (X509_check_private_key(id.cert.get(), id.key.get()) != 1) {
          return OpenSslError(ErrorCode::kParse, base + ".key does not match " + base + ".crt");
        }
        return id;
      }
    }
    Identity id;
    SCEPD_TRY(id.key, Key(role));
    SCEPD_TRY(id.cert, make(id.key.get()));
    if (Persistent()) {
      SCEPD_TRY(std::string key_pem, ossl::PrivateKeyToPem(id.key.get()));
      Status st = rsp::WriteFileAtomic(StatePath(base + ".key"), key_pem, 0600);
      OPENSSL_cleanse(key_pem.data(), key_pem.size());
      SCEPD_TRY_STATUS(st);
      SCEPD_TRY(std::string cert_pem, ossl::CertToPem(id.cert.get()));
      SCEPD_TRY_STATUS(rsp::WriteFileAtomic(StatePath(base + ".crt"), cert_pem, 0644));
    }
    return id;
  }

  Result<ossl::Ptr<X509>> MakeCaCert(EVP_PKEY* key, const ASN1_INTEGER* serial) {
    rsp::CertParams p;
    p.subject = ca_name.get();
    p.public_key = key;
    p.serial = serial;
    p.not_before = Now() - 3600;
    p.not_after = Now() + 3650 * kDay;
    p.is_ca = true;
    p.key_usage = "keyCertSign,cRLSign";  // like micromdm: no digitalSignature
    p.issuer_key = key;
    return rsp::MakeCertificate(p);
  }

  Result<ossl::Ptr<X509>> MakeRaCert(EVP_PKEY* key, const std::string& cn,
                                     const std::string& key_usage) {
    SCEPD_TRY(auto name, rsp::MakeName(kOrg, cn));
    SCEPD_TRY(auto serial, rsp::RandomSerial());
    rsp::CertParams p;
    p.subject = name.get();
    p.public_key = key;
    p.serial = serial.get();
    p.not_before = Now() - 3600;
    p.not_after = Now() + 1825 * kDay;
    p.key_usage = key_usage;
    p.issuer = ca.cert.get();
    p.issuer_key = ca.key.get();
    return rsp::MakeCertificate(p);
  }

  // promote_next_ca: next-ca.* becomes ca.*, the old ca.* becomes prev-ca.*.
  Status PromoteNextCa() {
    if (!Persistent()) {
      return MakeError(ErrorCode::kInvalidArgument, "promote_next_ca needs a state directory");
    }
    SCEPD_TRY(auto next_crt, rsp::ReadFileIfExists(StatePath("next-ca.crt")));
    if (!next_crt) return MakeError(ErrorCode::kInvalidArgument, "promote_next_ca: no next CA to promote");
    for (const char* ext : {".key", ".crt"}) {
      std::string from = StatePath(std::string("ca") + ext);
      std::string to = StatePath(std::string("prev-ca") + ext);
      std::string next = StatePath(std::string("next-ca") + ext);
      if (std::rename(from.c_str(), to.c_str()) != 0 || std::rename(next.c_str(), from.c_str()) != 0) {
        return MakeError(ErrorCode::kIo, "promote_next_ca: cannot rename " + next);
      }
    }
    return {};
  }

  Status LoadIdentities() {
    if (opt.promote_next_ca) {
      SCEPD_TRY_STATUS(PromoteNextCa());
    }
    SCEPD_TRY(ca_name, rsp::MakeName(kOrg, opt.ca_common_name));
    SCEPD_TRY(ca, LoadOrMake("ca", KeyRole::kCa, [&](EVP_PKEY* key) -> Result<ossl::Ptr<X509>> {
                SCEPD_TRY(auto serial, rsp::SerialFromInt(1));
                return MakeCaCert(key, serial.get());
              }));
    // A loaded CA keeps its own subject, whatever ca_common_name says now.
    ca_name.reset(X509_NAME_dup(X509_get_subject_name(ca.cert.get())));
    if (Persistent()) {
      SCEPD_TRY(auto prev_crt, rsp::ReadFileIfExists(StatePath("prev-ca.crt")));
      if (prev_crt) {
        SCEPD_TRY(prev_ca.cert, ossl::CertFromPem(*prev_crt, "prev-ca.crt"));
      }
    }
    if (opt.ra) {
      SCEPD_TRY(ra_sign, LoadOrMake("ra-sign", KeyRole::kRaSign, [&](EVP_PKEY* key) {
                  return MakeRaCert(key, "scepd test RA signing", "digitalSignature");
                }));
      SCEPD_TRY(ra_enc, LoadOrMake("ra-enc", KeyRole::kRaEnc, [&](EVP_PKEY* key) {
                  return MakeRaCert(key, "scepd test RA encryption",
                                    "keyEncipherment,dataEncipherment");
                }));
    }
    if (opt.next_ca) {
      SCEPD_TRY(next_ca, LoadOrMake("next-ca", KeyRole::kNextCa,
                                    [&](EVP_PKEY* key) -> Result<ossl::Ptr<X509>> {
                                      SCEPD_TRY(auto serial, rsp::RandomSerial());
                                      return MakeCaCert(key, serial.get());
                                    }));
    }
    return {};
  }

  // The unrelated signer of FaultPlan::sign_with_other_key: the CA's subject
  // and serial number, another key.
  Result<const Identity*> OtherSigner() {
    if (!other_signer.cert) {
      SCEPD_TRY(other_signer.key, Key(KeyRole::kOtherSigner));
      if (EVP_PKEY_eq(other_signer.key.get(), X509_get0_pubkey(ca.cert.get())) == 1) {
        return MakeError(ErrorCode::kInvalidArgument, "key source gave the CA key as other signer");
      }
      SCEPD_TRY(other_signer.cert,
                MakeCaCert(other_signer.key.get(), X509_get0_serialNumber(ca.cert.get())));
    }
    return static_cast<const Identity*>(&other_signer);
  }

  // ---- persistent state ---------------------------------------------------

  Status LoadState() {
    if (!Persistent()) return {};
    SCEPD_TRY(auto serial_text, rsp::ReadFileIfExists(StatePath("serial")));
    if (serial_text) {
      std::uint64_t v = 0;
      const char* b = serial_text->data();
      const char* e = b + serial_text->size();
      while (e != b && (e[-1] == '\n' || e[-1] == ' ')) --e;
      auto [end, ec] = std::from_chars(b, e, v);
      if (ec != std::errc() || end != e || v < 2) {
        return MakeError(ErrorCode::kParse, "state file serial: '" + *serial_text + "'");
      }
      next_serial = v;
    }
    SCEPD_TRY(auto cert_files, rsp::ListFiles(StatePath("issued"), ".crt"));
    for (const auto& name : cert_files) {
      SCEPD_TRY(auto pem, rsp::ReadFileIfExists(StatePath("issued/" + name)));
      if (!pem) continue;
      SCEPD_TRY(auto cert, ossl::CertFromPem(*pem, "issued/" + name));
      ossl::Ptr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
      if (bn && BN_num_bits(bn.get()) <= 63) {
        next_serial = std::max<std::uint64_t>(next_serial, BN_get_word(bn.get()) + 1);
      }
      issued[rsp::SerialHex(X509_get0_serialNumber(cert.get()))] = std::move(cert);
    }
    SCEPD_TRY(auto txn_files, rsp::ListFiles(StatePath("transactions"), ".txn"));
    for (const auto& name : txn_files) {
      SCEPD_TRY(auto text, rsp::ReadFileIfExists(StatePath("transactions/" + name)));
      if (!text) continue;
      auto t = rsp::DecodeTransaction(*text);
      if (!t.ok()) {
        return MakeError(ErrorCode::kParse, "transactions/" + name + ": " + t.error().message);
      }
      transactions[t->id] = std::move(t).value();
    }
    return {};
  }

  Status SaveTransaction(const Transaction& t) {
    if (!Persistent()) return {};
    return rsp::WriteFileAtomic(StatePath("transactions/" + rsp::TransactionFileName(t.id)),
                                rsp::EncodeTransaction(t), 0644);
  }

  // ---- issuing --------------------------------------------------------------

  // Issues the certificate the transaction asked for and records it.
  Result<X509*> Issue(Transaction& t) {
    const unsigned char* p = t.csr.data();
    ossl::Ptr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(t.csr.size())));  // NOLINT
    if (!req) return OpenSslError(ErrorCode::kParse, "stored CSR");

    EVP_PKEY* public_key = X509_REQ_get0_pubkey(req.get());
    if (t.issue_for_other_key) {
      if (!other_issued_key) {
        SCEPD_TRY(other_issued_key, Key(KeyRole::kOtherIssuedKey));
      }
      public_key = other_issued_key.get();
    }
    ossl::Ptr<X509_NAME> other_name;
    const X509_NAME* subject = X509_REQ_get_subject_name(req.get());
    if (t.issue_for_other_subject) {
      SCEPD_TRY(other_name, rsp::MakeName(kOrg, "not the requested subject"));
      subject = other_name.get();
    }
    // Only the subjectAltName of the requested extensions is honoured.
    ossl::X509ExtensionStack requested(X509_REQ_get_extensions(req.get()));
    ClearOpenSslErrors();
    std::vector<X509_EXTENSION*> copy;
    for (int i = 0; requested && i < sk_X509_EXTENSION_num(requested.get()); ++i) {
      X509_EXTENSION* ext = sk_X509_EXTENSION_value(requested.get(), i);
      if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name) copy.push_back(ext);
    }
    SCEPD_TRY(auto serial, rsp::SerialFromInt(next_serial));
    std::int64_t lifetime = opt.valid_seconds > 0 ? opt.valid_seconds : opt.valid_days * kDay;
    std::int64_t now = Now();
    rsp::CertParams cp;
    cp.subject = subject;
    cp.public_key = public_key;
    cp.serial = serial.get();
    const std::int64_t ahead = std::int64_t{t.issue_not_before_days} * kDay;
    cp.not_before = t.issue_expired ? now - lifetime - kDay : now + ahead;
    cp.not_after = t.issue_expired ? now - kDay : now + ahead + lifetime;
    cp.key_usage = "digitalSignature,keyEncipherment";
    cp.extended_key_usage = "clientAuth";
    cp.extra_extensions = copy;
    cp.issuer = ca.cert.get();
    cp.issuer_key = ca.key.get();
    if (t.issue_forged) {
      SCEPD_TRY(const Identity* other, OtherSigner());
      cp.issuer_key = other->key.get();  // the CA's name, another key
    }
    SCEPD_TRY(auto cert, rsp::MakeCertificate(cp));

    std::string hex = rsp::SerialHex(serial.get());
    ++next_serial;
    if (Persistent()) {
      SCEPD_TRY(std::string pem, ossl::CertToPem(cert.get()));
      SCEPD_TRY_STATUS(rsp::WriteFileAtomic(StatePath("issued/" + hex + ".crt"), pem, 0644));
      SCEPD_TRY_STATUS(
          rsp::WriteFileAtomic(StatePath("serial"), std::to_string(next_serial) + "\n", 0644));
    }
    X509* raw = cert.get();
    issued[hex] = std::move(cert);
    t.phase = Transaction::Phase::kIssued;
    t.serial = hex;
    SCEPD_TRY_STATUS(SaveTransaction(t));
    return raw;
  }

  Result<Verdict> Success(X509* cert, bool with_ca) {
    std::vector<X509*> certs = {cert};
    if (with_ca) certs.push_back(ca.cert.get());
    Verdict v;
    v.status = PkiStatus::kSuccess;
    SCEPD_TRY(v.content, scep::BuildCertsOnly(certs));
    v.serial = rsp::SerialHex(X509_get0_serialNumber(cert));
    return v;
  }

  // Moves a transaction on: issued and failed ones answer the same again;
  // a pending one counts a poll and may come due.
  Result<Verdict> Continue(Transaction& t) {
    switch (t.phase) {
      case Transaction::Phase::kIssued: {
        auto it = issued.find(t.serial);
        if (it == issued.end()) {
          return Failure(FailInfo::kBadCertId, "issued certificate " + t.serial + " is gone");
        }
        return Success(it->second.get(), true);
      }
      case Transaction::Phase::kFailed:
        return Failure(scep::FailInfoFromInt(t.fail_info.value_or(2)).value_or(FailInfo::kBadRequest),
                       t.fail_info_text);
      case Transaction::Phase::kPending:
        break;
    }
    ++t.polls_seen;
    if (t.pending_polls < 0 || t.polls_seen <= t.pending_polls) {
      SCEPD_TRY_STATUS(SaveTransaction(t));
      return Pending();
    }
    if (t.fail_info) {
      t.phase = Transaction::Phase::kFailed;
      SCEPD_TRY_STATUS(SaveTransaction(t));
      return Continue(t);
    }
    SCEPD_TRY(X509 * cert, Issue(t));
    return Success(cert, true);
  }

  // ---- PKIOperation ---------------------------------------------------------

  bool IssuedByUs(X509* cert) const {
    for (X509* ca_cert : {ca.cert.get(), next_ca.cert.get(), prev_ca.cert.get()}) {
      if (ca_cert == nullptr) continue;
      if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca_cert)) == 0 &&
          X509_verify(cert, X509_get0_pubkey(ca_cert)) == 1) {
        return true;
      }
    }
    ClearOpenSslErrors();
    return false;
  }

  Result<Verdict> Enroll(const FaultPlan* f, const scep::PkiMessage& msg, const Bytes& payload) {
    const auto& a = msg.attributes;
    auto existing = transactions.find(a.transaction_id);
    if (existing != transactions.end() && existing->second.phase == Transaction::Phase::kPending) {
      return Continue(existing->second);  // a repeated request is a poll
    }
    const unsigned char* p = payload.data();
    ossl::Ptr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(payload.size())));  // NOLINT
    if (!req || p != payload.data() + payload.size()) {
      ClearOpenSslErrors();
      return Failure(FailInfo::kBadRequest, "the envelope does not hold a DER PKCS#10 request");
    }
    EVP_PKEY* req_key = X509_REQ_get0_pubkey(req.get());
    if (req_key == nullptr || X509_REQ_verify(req.get(), req_key) != 1) {
      ClearOpenSslErrors();
      return Failure(FailInfo::kBadMessageCheck, "the request's signature does not verify");
    }
    bool renewal = a.message_type == MessageType::kRenewalReq;
    bool signed_by_ours = IssuedByUs(msg.signer.get());
    if (renewal && !signed_by_ours) {
      return Failure(FailInfo::kBadRequest,
                     "RenewalReq must be signed by a certificate this CA issued");
    }
    if (!opt.challenge.empty() && (!renewal || opt.renewal_needs_challenge)) {
      std::string given = ChallengeOf(req.get());
      bool match = given.size() == opt.challenge.size() &&
                   CRYPTO_memcmp(given.data(), opt.challenge.data(), given.size()) == 0;
      OPENSSL_cleanse(given.data(), given.size());
      if (!match) return Failure(FailInfo::kBadRequest, "challenge password missing or wrong");
    }

    Transaction t;
    t.id = a.transaction_id;
    t.message_type = static_cast<int>(a.message_type);
    t.csr = payload;
    if (f != nullptr) {
      if (f->fail_info) {
        t.fail_info = static_cast<int>(*f->fail_info);
        t.fail_info_text = f->fail_info_text;
      }
      t.issue_for_other_key = f->issue_for_other_key;
      t.issue_for_other_subject = f->issue_for_other_subject;
      t.issue_expired = f->issue_expired;
      t.issue_forged = f->issue_forged;
      t.issue_not_before_days = f->issue_not_before_days;
    }
    bool pending = f != nullptr && (f->pending_forever || f->pending_polls.has_value());
    Transaction& stored = transactions[t.id] = std::move(t);
    if (pending) {
      stored.phase = Transaction::Phase::kPending;
      stored.pending_polls = f->pending_forever ? -1 : std::max(0, *f->pending_polls);
      SCEPD_TRY_STATUS(SaveTransaction(stored));
      return Pending();
    }
    if (stored.fail_info) {
      stored.phase = Transaction::Phase::kFailed;
      SCEPD_TRY_STATUS(SaveTransaction(stored));
      return Continue(stored);
    }
    SCEPD_TRY(X509 * cert, Issue(stored));
    return Success(cert, true);
  }

  static std::string ChallengeOf(X509_REQ* req) {
    int idx = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, -1);
    if (idx < 0) return "";
    X509_ATTRIBUTE* attr = X509_REQ_get_attr(req, idx);
    ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attr, 0);
    if (value == nullptr || (value->type != V_ASN1_PRINTABLESTRING &&
                             value->type != V_ASN1_UTF8STRING && value->type != V_ASN1_IA5STRING &&
                             value->type != V_ASN1_T61STRING)) {
      return "";
    }
    const ASN1_STRING* s = value->value.asn1_string;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
  }

  Result<Verdict> Poll(const scep::PkiMessage& msg, const Bytes& payload) {
    auto names = scep::DecodeIssuerAndSubject(payload);
    if (!names.ok()) return Failure(FailInfo::kBadRequest, names.error().message);
    auto it = transactions.find(msg.attributes.transaction_id);
    if (it == transactions.end()) {
      return Failure(FailInfo::kBadCertId,
                     "no transaction " + msg.attributes.transaction_id + " is known");
    }
    const unsigned char* p = it->second.csr.data();
    ossl::Ptr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(it->second.csr.size())));  // NOLINT
    if (!req || X509_NAME_cmp(X509_REQ_get_subject_name(req.get()), names->second.get()) != 0) {
      ClearOpenSslErrors();
      return Failure(FailInfo::kBadCertId, "CertPoll subject does not match the transaction's");
    }
    return Continue(it->second);
  }

  Result<Verdict> GetCert(const Bytes& payload) {
    auto ias = scep::DecodeIssuerAndSerial(payload);
    if (!ias.ok()) return Failure(FailInfo::kBadRequest, ias.error().message);
    if (X509_NAME_cmp(ias->first.get(), ca_name.get()) != 0) {
      return Failure(FailInfo::kBadCertId, "GetCert: issuer is not this CA");
    }
    std::string hex = rsp::SerialHex(ias->second.get());
    auto it = issued.find(hex);
    if (it == issued.end()) return Failure(FailInfo::kBadCertId, "no certificate with serial " + hex);
    return Success(it->second.get(), false);
  }

  Result<Verdict> GetCrl(const Bytes& payload) {
    auto ias = scep::DecodeIssuerAndSerial(payload);
    if (!ias.ok()) return Failure(FailInfo::kBadRequest, ias.error().message);
    if (X509_NAME_cmp(ias->first.get(), ca_name.get()) != 0) {
      return Failure(FailInfo::kBadCertId, "GetCRL: issuer is not this CA");
    }
    std::vector<const ASN1_INTEGER*> serials;
    for (const auto& s : revoked) serials.push_back(s.get());
    SCEPD_TRY(auto crl, rsp::MakeCrl(ca.cert.get(), ca.key.get(), serials, Now()));
    X509_CRL* crls[] = {crl.get()};
    Verdict v;
    v.status = PkiStatus::kSuccess;
    SCEPD_TRY(v.content, scep::BuildCertsOnly({}, crls));
    return v;
  }

  Result<Verdict> Decide(const FaultPlan* f, const scep::PkiMessage& msg) {
    MessageType type = msg.attributes.message_type;
    if (type == MessageType::kCertRep) {
      return Failure(FailInfo::kBadRequest, "a CA does not accept CertRep");
    }
    if (msg.envelope.empty()) return Failure(FailInfo::kBadRequest, "no pkcsPKIEnvelope");
    const Identity& decrypter = opt.ra ? ra_enc : ca;
    auto payload = scep::OpenEnvelope(msg.envelope, decrypter.key.get(), decrypter.cert.get());
    if (!payload.ok()) {
      return Failure(FailInfo::kBadMessageCheck,
                     "cannot decrypt the pkcsPKIEnvelope with the " +
                         std::string(opt.ra ? "RA encryption" : "CA") +
                         " key: " + payload.error().message);
    }
    switch (type) {
      case MessageType::kPKCSReq:
      case MessageType::kRenewalReq:
        return Enroll(f, msg, *payload);
      case MessageType::kCertPoll:
        return Poll(msg, *payload);
      case MessageType::kGetCert:
        return GetCert(*payload);
      case MessageType::kGetCRL:
        return GetCrl(*payload);
      case MessageType::kCertRep:
        break;
    }
    return Failure(FailInfo::kBadRequest, "unsupported messageType");
  }

  // Signs and encrypts the CertRep for `msg`'s signer.
  scepd::HttpResponse CertRep(const FaultPlan* f, const scep::PkiMessage& msg, const Verdict& v) {
    scep::PkiAttributes a;
    a.message_type = MessageType::kCertRep;
    a.transaction_id = msg.attributes.transaction_id;
    if (f != nullptr && f->wrong_transaction_id) a.transaction_id = "WRONG-" + a.transaction_id;
    auto nonce = scep::MakeNonce();
    if (!nonce.ok()) return TextResponse(500, nonce.error().message);
    a.sender_nonce = *nonce;
    a.recipient_nonce = msg.attributes.sender_nonce;
    if (f != nullptr && f->wrong_recipient_nonce) a.recipient_nonce = rsp::RandomBytes(16);
    if (f != nullptr && f->omit_recipient_nonce) a.recipient_nonce.reset();
    a.pki_status = v.status;
    a.fail_info = v.fail_info;
    if (!v.fail_info_text.empty()) a.fail_info_text = v.fail_info_text;

    scep::EnvelopeSpec env;
    env.recipients = {msg.signer.get()};
    env.cipher = opt.reply_cipher;
    scep::SignerSpec signer;
    signer.digest = opt.reply_digest;
    const Identity* id = opt.ra ? &ra_sign : &ca;
    if (f != nullptr && f->sign_with_other_key) {
      auto other = OtherSigner();
      if (!other.ok()) return TextResponse(500, other.error().message);
      id = *other;
    }
    signer.cert = id->cert.get();
    signer.key = id->key.get();
    if (opt.ra) signer.extra_certs = {ca.cert.get()};
    auto der = scep::BuildPkiMessage(a, v.content, env, signer);
    if (!der.ok()) return TextResponse(500, "building CertRep: " + der.error().message);
    return BinaryResponse(kTypePkiMessage, std::move(der).value());
  }

  // ---- other operations -------------------------------------------------

  scepd::HttpResponse CaCert(bool other_ca) {
    if (!opt.ra) {
      X509* cert = ca.cert.get();
      if (other_ca) {
        auto other = OtherSigner();
        if (!other.ok()) return TextResponse(500, other.error().message);
        cert = (*other)->cert.get();
      }
      auto der = ossl::CertToDer(cert);
      if (!der.ok()) return TextResponse(500, der.error().message);
      return BinaryResponse(kTypeCaCert, std::move(der).value());
    }
    std::vector<X509*> certs;
    for (const auto& which : opt.ra_order) {
      certs.push_back(which == "sign" ? ra_sign.cert.get()
                      : which == "enc" ? ra_enc.cert.get()
                                       : ca.cert.get());
    }
    auto p7 = scep::BuildCertsOnly(certs);
    if (!p7.ok()) return TextResponse(500, p7.error().message);
    return BinaryResponse(kTypeCaRaCert, std::move(p7).value());
  }

  scepd::HttpResponse NextCaCert() {
    if (!next_ca.cert) return TextResponse(500, "GetNextCACert: no next CA certificate");
    X509* certs[] = {next_ca.cert.get()};
    auto p7 = scep::BuildCertsOnly(certs);
    if (!p7.ok()) return TextResponse(500, p7.error().message);
    auto signed_der = rsp::SignContent(ca.cert.get(), ca.key.get(), opt.reply_digest, *p7);
    if (!signed_der.ok()) return TextResponse(500, signed_der.error().message);
    return BinaryResponse(kTypeNextCaCert, std::move(signed_der).value());
  }

  void Record(const RequestRecord& rec) {
    log.push_back(rec);
    if (!opt.request_log_path.empty()) {
      Status st = rsp::AppendLine(opt.request_log_path, rec.ToJson());
      if (!st.ok()) std::fprintf(stderr, "scep_responder: %s\n", st.error().message.c_str());
    }
  }
};

Responder::Responder(Token /*unused*/, std::unique_ptr<State> state) : s_(std::move(state)) {}
Responder::~Responder() = default;

Result<std::unique_ptr<Responder>> Responder::Create(ResponderOptions options) {
  auto s = std::make_unique<State>();
  s->opt = std::move(options);
  const ResponderOptions& o = s->opt;

  // Like real CAs, accept requests in single DES (micromdm's scepclient
  // sends them) and allow DES-CBC replies: those live in the legacy
  // provider. Without it, AES requests and replies still work.
  bool have_legacy = ossl::EnableLegacyAlgorithms().ok();
  ClearOpenSslErrors();
  ossl::Ptr<EVP_CIPHER> cipher(EVP_CIPHER_fetch(nullptr, o.reply_cipher.c_str(), nullptr));
  if (!cipher) {
    return OpenSslError(ErrorCode::kInvalidArgument,
                        "reply cipher " + o.reply_cipher + " is not available" +
                            (have_legacy ? "" : " (no legacy provider)"));
  }
  ossl::Ptr<EVP_MD> md(EVP_MD_fetch(nullptr, o.reply_digest.c_str(), nullptr));
  if (!md) return OpenSslError(ErrorCode::kInvalidArgument, "reply digest " + o.reply_digest);
  if (o.ra) {
    if (o.ra_order.empty() || o.ra_order.size() > 3) {
      return MakeError(ErrorCode::kInvalidArgument, "ra_order: 1 to 3 of sign, enc, ca");
    }
    for (std::size_t i = 0; i < o.ra_order.size(); ++i) {
      const auto& w = o.ra_order[i];
      if (w != "sign" && w != "enc" && w != "ca") {
        return MakeError(ErrorCode::kInvalidArgument,
                         "ra_order: '" + w + "' is not sign, enc or ca");
      }
      if (std::count(o.ra_order.begin(), o.ra_order.end(), w) != 1) {
        return MakeError(ErrorCode::kInvalidArgument, "ra_order: '" + w + "' given twice");
      }
    }
  }
  if (o.valid_days <= 0 && o.valid_seconds <= 0) {
    return MakeError(ErrorCode::kInvalidArgument, "valid_days must be positive");
  }
  if (!KnownSelector(o.faults.only_for)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "only_for: unknown operation or messageType '" + o.faults.only_for + "'");
  }
  for (const auto& hex : o.revoked_serials) {
    SCEPD_TRY(auto serial, rsp::SerialFromHex(hex));
    s->revoked.push_back(std::move(serial));
  }
  if (s->Persistent()) {
    SCEPD_TRY_STATUS(rsp::MakeDirs(o.state_dir));
    SCEPD_TRY_STATUS(rsp::MakeDirs(s->StatePath("issued")));
    SCEPD_TRY_STATUS(rsp::MakeDirs(s->StatePath("transactions")));
  }
  SCEPD_TRY_STATUS(s->LoadIdentities());
  SCEPD_TRY_STATUS(s->LoadState());
  s->faults = o.faults;
  return std::make_unique<Responder>(Token(), std::move(s));
}

scepd::HttpResponse Responder::Handle(const std::string& method, const std::string& path,
                                      const std::map<std::string, std::string>& query,
                                      const Bytes& body, Delivery* delivery) {
  RequestRecord rec;
  rec.method = method;
  auto finish = [&](scepd::HttpResponse r) {
    rec.http_status = r.status;
    if (r.status != 200 && rec.error.empty()) rec.error = ToString(r.body);
    while (!rec.error.empty() && rec.error.back() == '\n') rec.error.pop_back();
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->Record(rec);
    return r;
  };
  auto op_it = query.find("operation");
  rec.operation = op_it == query.end() ? "" : op_it->second;
  if (path != "/scep" && path != "/cgi-bin/pkiclient.exe") {
    return finish(TextResponse(404, "no SCEP service at " + path));
  }
  if (method != "GET" && method != "POST") {
    return finish(TextResponse(405, "method " + method + " not allowed"));
  }
  if (rec.operation.empty()) return finish(TextResponse(400, "missing operation parameter"));
  const std::string& op = rec.operation;

  // A PKIOperation is parsed first: only_for may name its messageType.
  std::optional<Result<scep::PkiMessage>> parsed;
  if (op == "PKIOperation") {
    Bytes der;
    if (method == "POST") {
      der = body;
    } else {
      auto m = query.find("message");
      if (m == query.end()) return finish(TextResponse(400, "PKIOperation: no message parameter"));
      auto decoded = Base64Decode(m->second);
      if (!decoded.ok()) {
        return finish(TextResponse(400, "PKIOperation: message is not base64: " +
                                            decoded.error().message));
      }
      der = std::move(decoded).value();
    }
    parsed = scep::ParsePkiMessage(der, {});
    if (parsed->ok()) {
      rec.message_type = static_cast<int>((*parsed)->attributes.message_type);
      rec.transaction_id = (*parsed)->attributes.transaction_id;
    }
  }

  FaultPlan plan = faults();
  bool active = Selects(plan.only_for, op, rec.message_type);
  const FaultPlan* f = active ? &plan : nullptr;
  if (f != nullptr && f->delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(f->delay_ms));
  }
  if (f != nullptr && (f->never_answer || f->huge_body_bytes > 0)) {
    // Not processed: the HTTP layer sends nothing, or filler.
    if (delivery != nullptr) {
      delivery->never_answer = f->never_answer;
      delivery->huge_body_bytes = f->never_answer ? 0 : f->huge_body_bytes;
    }
    rec.error = f->never_answer ? "injected: no answer"
                                : "injected: " + std::to_string(f->huge_body_bytes) + "-byte body";
    scepd::HttpResponse r;
    r.status = 200;
    r.content_type = op == "GetCACert" ? kTypeCaCert : kTypePkiMessage;
    return finish(std::move(r));
  }
  if (f != nullptr && f->drip_ms > 0 && delivery != nullptr) delivery->drip_ms = f->drip_ms;
  if (f != nullptr && f->http_status != 0) {
    rec.error = "injected HTTP " + std::to_string(f->http_status);
    return finish(TextResponse(f->http_status, "scep_responder: " + rec.error));
  }
  if (f != nullptr && f->html_error) {
    scepd::HttpResponse r;
    r.status = 200;
    r.content_type = "text/html";
    r.body = ToBytes(
        "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
        "<body><h1>Service Unavailable</h1><p>The SCEP service is down for maintenance.</p>"
        "</body></html>\n");
    rec.error = "injected HTML page";
    return finish(std::move(r));
  }

  scepd::HttpResponse r;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (op == "GetCACaps") {
      r = BinaryResponse("text/plain", ToBytes(s_->opt.caps));
    } else if (op == "GetCACert") {
      r = s_->CaCert(f != nullptr && f->other_ca);
    } else if (op == "GetNextCACert") {
      r = s_->NextCaCert();
    } else if (op == "PKIOperation") {
      if (!parsed->ok()) {
        r = TextResponse(400, "PKIOperation: " + parsed->error().message);
      } else {
        const scep::PkiMessage& msg = parsed->value();
        auto verdict = s_->Decide(f, msg);
        if (!verdict.ok()) {
          r = TextResponse(500, "PKIOperation: " + verdict.error().message);
        } else {
          rec.status = scep::PkiStatusName(verdict->status);
          if (verdict->fail_info) rec.fail_info = scep::FailInfoName(*verdict->fail_info);
          if (!verdict->fail_info_text.empty()) rec.error = verdict->fail_info_text;
          rec.serial = verdict->serial;
          r = s_->CertRep(f, msg, *verdict);
        }
      }
    } else {
      r = TextResponse(400, "unknown operation " + op);
    }
  }

  if (f != nullptr && r.status == 200) {
    if (f->empty_body) {
      r.body.clear();
    } else if (f->truncate_reply) {
      r.body.resize(r.body.size() / 2);
    } else if (f->garbage_reply) {
      r.body = rsp::RandomBytes(std::max<std::size_t>(r.body.size(), 64));
    }
  }
  return finish(std::move(r));
}

void Responder::SetFaults(const FaultPlan& faults) {
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->faults = faults;
}

FaultPlan Responder::faults() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->faults;
}

std::vector<RequestRecord> Responder::Requests() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->log;
}

X509* Responder::ca_cert() const noexcept { return s_->ca.cert.get(); }
EVP_PKEY* Responder::ca_key() const noexcept { return s_->ca.key.get(); }
X509* Responder::ra_sign_cert() const noexcept { return s_->ra_sign.cert.get(); }
X509* Responder::ra_enc_cert() const noexcept { return s_->ra_enc.cert.get(); }
X509* Responder::next_ca_cert() const noexcept { return s_->next_ca.cert.get(); }

ossl::Ptr<X509> Responder::IssuedCert(const std::string& serial_hex) const {
  auto serial = rsp::SerialFromHex(serial_hex);
  if (!serial.ok()) return nullptr;
  std::lock_guard<std::mutex> lock(s_->mu);
  auto it = s_->issued.find(rsp::SerialHex(serial->get()));
  return it == s_->issued.end() ? nullptr : ossl::UpRef(it->second.get());
}

}  // namespace scepd::testing
