#pragma once
// What a CA answered to an enrollment, in words every protocol shares: the
// certificate, "not yet" (with the back end's state for the next question),
// "no", "ask me from the start", or no usable answer at all. The daemon's
// state machine (daemon/certificate_job.h) consumes these; a PENDING or a
// rejection is an outcome, not an error.

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd::enroll {

// A back end's own state of a transaction in flight (SCEP: the message type
// and the signer certificate; CMP: its transaction data), kept by the daemon
// in the pending file and handed back unchanged when it resumes. Names are
// lower-case letters, digits and '_' (IsCookieName); values are any text.
// Not secret: the pending file stores the key separately.
using Cookie = std::map<std::string, std::string>;

// Whether `name` may name a cookie entry (non-empty, [a-z0-9_], at most 64).
bool IsCookieName(std::string_view name) noexcept;

// The CA issued the certificate. `cert` carries the request's key (the back
// end checked that); `chain` is the CA chain to store (issuing CA first as
// the protocol delivered it; empty: keep the stored one).
struct Issued {
  ossl::Ptr<X509> cert;
  std::vector<ossl::Ptr<X509>> chain;
};

// The CA has the request but no answer yet. Ask again (Enroller::Poll) with
// `cookie`, not before `retry_after` seconds (0: the settings' await_result).
struct Pending {
  Cookie cookie;
  std::int64_t retry_after = 0;
};

// The CA refused. `reason` is the CA's words (cleaned, printable), `code` a
// stable lower-case name for scripts and status ("badRequest" for SCEP's
// failInfo, "" when the CA gave none). `may_enroll_anew`: the refused request
// was a renewal and a first enrollment (new key, challenge) may succeed.
struct Rejected {
  std::string reason;
  std::string code;
  bool may_enroll_anew = false;
};

// The back end cannot continue this transaction (e.g. its state does not
// survive a restart, or what signed it is gone): forget it and enroll anew.
struct StartOver {
  std::string reason;
};

// No usable answer. kNetwork: the CA was not reached or did not answer in
// time (try again later); kProtocol: the answer broke the protocol; kTrust: a
// signature, nonce, key or CA check failed. The request may or may not have
// reached the CA, so a pending transaction stays as it is.
enum class FailureKind { kNetwork, kProtocol, kTrust };
struct Failed {
  FailureKind kind = FailureKind::kProtocol;
  std::string message;
};

// "network", "protocol", "trust". Never fails.
const char* FailureKindName(FailureKind kind) noexcept;
// The kind of an error from the transport or a protocol library (kNetwork,
// kTimeout, kHttp -> network; kVerify -> trust; the rest -> protocol).
Failed FailedFrom(const Error& error);

using Outcome = std::variant<Issued, Pending, Rejected, StartOver, Failed>;

}  // namespace scepd::enroll
