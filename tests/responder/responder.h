#pragma once
// The project's own SCEP CA for tests. micromdm's scepserver cannot answer
// PENDING, CertPoll, GetCert, GetCRL or GetNextCACert, act through an RA, or
// fail on demand; this responder does all of that, built on the core's
// message code (BuildPkiMessage / ParsePkiMessage / OpenEnvelope).
//
// Responder::Handle is a pure request -> response function (no sockets), so
// it can be unit-tested; tests/responder/main.cc puts it behind cpp-httplib
// as the `scep_responder` executable.
//
// Thread safety: Handle, SetFaults, faults and Requests may be called from
// several threads at once (one mutex guards the CA state).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"
#include "core/scep/scep.h"
#include "core/transport.h"

namespace scepd::testing {

// What GetCACaps answers by default (LF separated, no trailing newline).
inline constexpr const char* kDefaultCaps =
    "POSTPKIOperation\nRenewal\nSHA-256\nSHA-512\nAES\nDES3\nGetNextCACert\nSCEPStandard";

// Faults to inject. Every field defaults to "behave correctly". A plan
// applies to the requests `only_for` selects (all when empty).
struct FaultPlan {
  // PENDING: when set to N, an enrollment (PKCSReq / RenewalReq) answers
  // PENDING, the first N CertPolls of that transaction answer PENDING too,
  // and CertPoll number N+1 answers SUCCESS (or FAILURE when fail_info is
  // set). 0 therefore means "PENDING once, the first poll succeeds". The
  // countdown is stored with the transaction when it starts, so it survives
  // a restart and later changes of the plan. A repeated PKCSReq/RenewalReq
  // for a pending transaction counts as a poll.
  std::optional<int> pending_polls;
  // The enrollment and every CertPoll answer PENDING, for ever.
  bool pending_forever = false;
  // FAILURE with this failInfo (and failInfoText when non-empty) for
  // enrollment requests; combined with pending, the request is rejected when
  // the pending countdown ends.
  std::optional<scep::FailInfo> fail_info;
  std::string fail_info_text;
  // HTTP-level faults. http_status (non-zero) answers that status with a
  // short text/plain body; html_error answers 200 text/html. With either,
  // the request is not processed at all (no state change).
  int http_status = 0;
  bool html_error = false;
  // The request is processed (state changes) but the reply is mangled in
  // transit: empty body, first half of the body only, or random bytes of
  // the same length, each with the right content type.
  bool empty_body = false;
  bool truncate_reply = false;
  bool garbage_reply = false;
  // CertRep attribute faults: another transactionID, a random
  // recipientNonce, no recipientNonce at all.
  bool wrong_transaction_id = false;
  bool wrong_recipient_nonce = false;
  bool omit_recipient_nonce = false;
  // The CertRep is signed by an unrelated self-signed certificate that has
  // the CA's subject and serial number (only the signature check catches it).
  bool sign_with_other_key = false;
  // Issued-certificate faults: another public key than the CSR's, another
  // subject ("/O=scepd test/CN=not the requested subject"), or a validity
  // that ended a day ago.
  bool issue_for_other_key = false;
  bool issue_for_other_subject = false;
  bool issue_expired = false;
  // The issued certificate names the CA as its issuer but is signed by the
  // unrelated key of sign_with_other_key (only a chain check catches it).
  bool issue_forged = false;
  // The issued certificate's validity starts this many days from now.
  int issue_not_before_days = 0;
  // Sleep this long before answering (outside the state lock).
  int delay_ms = 0;
  // GetCACert answers another CA certificate: the CA's subject and serial
  // number on another key (the signer of sign_with_other_key), as if the CA
  // had been replaced. Other operations are unaffected.
  bool other_ca = false;
  // Delivery faults, carried out by the HTTP layer (see Delivery): a body of
  // this many bytes instead of the answer (request not processed); no answer
  // at all (the connection stays open, request not processed); the real
  // answer (request processed) one byte every drip_ms milliseconds.
  std::int64_t huge_body_bytes = 0;
  bool never_answer = false;
  int drip_ms = 0;
  // Restricts the plan to one operation ("GetCACaps", "GetCACert",
  // "GetNextCACert", "PKIOperation") or one messageType, by name ("PKCSReq",
  // "RenewalReq", "CertPoll", "GetCert", "GetCRL") or number ("17"). Empty
  // means every request. Requests it does not select are answered correctly.
  std::string only_for;
};

// How the HTTP layer is to send a response (FaultPlan delivery faults).
struct Delivery {
  std::int64_t huge_body_bytes = 0;  // > 0: send this many filler bytes instead of the body
  bool never_answer = false;         // send nothing; hold the connection until stopped
  int drip_ms = 0;                   // > 0: send the body one byte per drip_ms
};

// Which key a KeySource is asked for.
enum class KeyRole { kCa, kRaSign, kRaEnc, kNextCa, kOtherSigner, kOtherIssuedKey };

// Supplies private keys; the default generates RSA keys of Options::key_bits.
// Tests pass cached keys to save key-generation time.
using KeySource = std::function<Result<ossl::Ptr<EVP_PKEY>>(KeyRole)>;

struct ResponderOptions {
  // Where the CA key/certificate (PEM, key 0600), RA and next-CA
  // certificates, the serial counter, issued certificates and pending
  // transactions live, so a restarted responder continues where it stopped.
  // Created if missing. Empty: everything in memory.
  std::string state_dir;
  // Every request appended as one JSON line (see RequestRecord). Empty: none.
  std::string request_log_path;
  std::string caps = kDefaultCaps;
  std::string ca_common_name = "scepd test CA";  // subject is /O=scepd test/CN=<this>
  // RA mode: GetCACert answers a certs-only PKCS#7 of the certificates named
  // in ra_order ("sign", "enc", "ca"; each at most once), CertReps are
  // signed by the RA signing certificate and requests must be encrypted to
  // the RA encryption certificate.
  bool ra = false;
  std::vector<std::string> ra_order = {"sign", "enc", "ca"};
  // GetNextCACert offers a rollover CA (same subject, new key) generated
  // (or loaded) at start-up; without it GetNextCACert answers HTTP 500.
  bool next_ca = false;
  // Rollover done: at start-up a next CA in state_dir becomes the CA (its
  // files renamed to ca.*, the old CA kept as prev-ca.*). Certificates the
  // previous CA issued still count as ours for RenewalReq.
  bool promote_next_ca = false;
  std::string reply_cipher = "AES-256-CBC";  // "DES-CBC" mimics micromdm
  std::string reply_digest = "SHA256";       // "SHA1" mimics micromdm
  // When non-empty, PKCSReq CSRs must carry this challengePassword (FAILURE
  // badRequest otherwise). A RenewalReq signed by a certificate this CA
  // issued needs none unless renewal_needs_challenge (micromdm's behaviour).
  std::string challenge;
  bool renewal_needs_challenge = false;
  int valid_days = 365;
  std::int64_t valid_seconds = 0;  // when > 0, overrides valid_days
  // Serial numbers (hex, as in the request log) listed in GetCRL's CRL.
  std::vector<std::string> revoked_serials;
  int key_bits = 2048;
  KeySource key_source;                  // default: fresh RSA keys
  std::function<std::int64_t()> clock;   // seconds since the epoch; default time()
  FaultPlan faults;
};

// One handled request, as written to the request log. Fields that do not
// apply are empty / zero / nullopt and are left out of the JSON line.
struct RequestRecord {
  std::string operation;                      // "PKIOperation", "GetCACert", ...
  std::string method;                         // "GET", "POST"
  std::optional<int> message_type;            // PKIOperation only
  std::string transaction_id;
  std::string status;                         // "SUCCESS", "PENDING", "FAILURE"
  std::string fail_info;                      // "badRequest" when FAILURE
  std::string serial;                         // hex serial of the certificate returned
  long http_status = 0;                       // NOLINT(runtime/int)
  std::string error;                          // why a request was refused (HTTP 4xx/5xx)
  // {"operation":"PKIOperation","method":"POST","messageType":17,...}
  std::string ToJson() const;
};

class Responder {
 public:
  // Loads OpenSSL's legacy provider (process-wide, best effort) so requests
  // in single DES are accepted and DES-CBC replies can be made; then loads
  // the CA (and RA / next CA when enabled) from options.state_dir, or
  // generates and saves them. Fails with kIo (state directory unusable),
  // kParse (corrupt state files), kCrypto or kInvalidArgument (bad option:
  // unknown cipher/digest, bad ra_order, bad revoked serial or only_for).
  static Result<std::unique_ptr<Responder>> Create(ResponderOptions options);

  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // Answers one HTTP request. `path` is the URL path ("/scep" or
  // "/cgi-bin/pkiclient.exe"; anything else is 404), `query` the already
  // percent-decoded query parameters, `body` the POST body. Never fails:
  // malformed requests get HTTP 4xx, SCEP-level problems a CertRep FAILURE.
  // The response's content_type carries no parameters.
  // When `delivery` is given, it receives how the response is to be sent
  // (delivery faults of the plan that selected this request).
  scepd::HttpResponse Handle(const std::string& method, const std::string& path,
                      const std::map<std::string, std::string>& query, const Bytes& body,
                      Delivery* delivery = nullptr);

  // Replaces the fault plan for the following requests.
  void SetFaults(const FaultPlan& faults);
  FaultPlan faults() const;

  // Every request handled so far, oldest first.
  std::vector<RequestRecord> Requests() const;

  // Borrowed certificates and keys; valid while the Responder lives. The RA
  // and next-CA ones are null unless enabled.
  X509* ca_cert() const noexcept;
  EVP_PKEY* ca_key() const noexcept;
  X509* ra_sign_cert() const noexcept;
  X509* ra_enc_cert() const noexcept;
  X509* next_ca_cert() const noexcept;
  // The certificate issued with this serial (hex, e.g. "0A"), or null.
  ossl::Ptr<X509> IssuedCert(const std::string& serial_hex) const;

  // Only Create can make the Token; use Create.
  struct State;
  class Token {
    Token() = default;
    friend class Responder;
  };
  Responder(Token token, std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> s_;
};

// Parses a failInfo name ("badRequest") or number ("2"); nullopt if unknown.
std::optional<scep::FailInfo> FailInfoFromName(const std::string& name);

}  // namespace scepd::testing
