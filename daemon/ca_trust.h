#pragma once
// Which CA the daemon trusts, for every enrollment protocol: the CA must
// match ca_fingerprint (when set), else the pin stored with the chain
// (ca.fingerprint); with neither, it is trusted on first use. The only other
// CA accepted is the successor the trusted CA announced (ca-next.crt, kept by
// KeepNextCa). The back ends only fetch certificates; the verdict is here.

#include <string>

#include "core/enroll/enroller.h"
#include "core/result.h"
#include "daemon/cert_store.h"
#include "daemon/config.h"

namespace scepd {

// How CheckCaTrust accepted the CA.
enum class CaTrustVerdict { kPinned, kFirstUse, kRollover };

// Checks `ca` (borrowed) against the pin. Fails with kVerify naming both
// fingerprints, kIo/kParse when the stored pin or successor is unreadable.
// `label` prefixes the log lines ("certificate NAME").
Result<CaTrustVerdict> CheckCaTrust(const CertificateSettings& settings, const CertStore& store,
                                    X509* ca, const std::string& label);

// Asks `enroller` for the CA's successor unless ca-next.crt already holds
// one other than `ca`, and keeps it in ca-next.crt. Failures are only
// logged (most CAs have no successor most of the time).
void KeepNextCa(enroll::Enroller& enroller, CertStore& store, X509* ca, const std::string& label);

// After an installation with `ca` (borrowed) as the chain's CA: pins it and,
// after a rollover without ca_fingerprint, forgets the successor file.
// Failures are logged.
void AdoptCa(const CertificateSettings& settings, CertStore& store, X509* ca,
             CaTrustVerdict verdict, const std::string& label);

}  // namespace scepd
