#include "daemon/ca_trust.h"

#include <spdlog/spdlog.h>

#include "core/bytes.h"
#include "core/cert_info.h"

namespace scepd {

Result<CaTrustVerdict> CheckCaTrust(const CertificateSettings& settings, const CertStore& store,
                                    X509* ca, const std::string& label) {
  SCEPD_TRY(std::string sha256, Fingerprint(ca, "sha256"));
  // The anchor: ca_fingerprint from the settings, else the pin stored with
  // the chain; none before the first installation (trust on first use).
  std::string server_fp = sha256;
  std::string pinned;
  std::string where;
  if (!settings.ca_fingerprint.empty()) {
    SCEPD_TRY(server_fp, Fingerprint(ca, settings.ca_fingerprint.algorithm));
    pinned = HexEncode(settings.ca_fingerprint.digest, ':');
    where = "ca_fingerprint";
  } else {
    SCEPD_TRY(std::optional<std::string> stored, store.LoadCaPin());
    if (!stored) {
      spdlog::info("{}: no CA pinned yet: trusting the CA certificate {} (sha256:{}) on first use",
                   label, SubjectString(ca), sha256);
      return CaTrustVerdict::kFirstUse;
    }
    pinned = *stored;
    where = store.Path("ca.fingerprint");
  }
  if (server_fp == pinned) return CaTrustVerdict::kPinned;
  // The only other CA accepted: the successor the pinned CA announced
  // (verified when it was fetched).
  SCEPD_TRY(auto next, store.LoadNextCa());
  if (next && X509_cmp(next->get(), ca) == 0) {
    spdlog::warn("{}: CA rollover: the server now presents the next CA certificate {} (sha256:{}) "
                 "fetched earlier with GetNextCACert; adopting it{}",
                 label, SubjectString(ca), sha256,
                 where == "ca_fingerprint" ? " (update ca_fingerprint to it)" : "");
    return CaTrustVerdict::kRollover;
  }
  if (where == "ca_fingerprint") {
    return MakeError(ErrorCode::kVerify, "CA certificate fingerprint " + server_fp +
                                             " does not match ca_fingerprint " + pinned);
  }
  return MakeError(ErrorCode::kVerify,
                   "CA certificate changed: the server presents " + SubjectString(ca) +
                       " with fingerprint sha256:" + server_fp + ", but the CA pinned in " + where +
                       " is sha256:" + pinned +
                       "; refused (a new CA is accepted only through GetNextCACert)");
}

void KeepNextCa(enroll::Enroller& enroller, CertStore& store, X509* ca, const std::string& label) {
  auto stored = store.LoadNextCa();
  if (stored.ok() && stored->has_value() && X509_cmp(stored->value().get(), ca) != 0) {
    return;  // already have the successor
  }
  auto next = enroller.FetchNextCa();
  if (!next.ok()) {
    // Most CAs have no successor most of the time (HTTP 500 or 404).
    spdlog::debug("{}: no next CA certificate: {}", label, next.error().message);
    return;
  }
  if (!next->has_value()) return;
  X509* cert = next->value().get();
  if (X509_cmp(cert, ca) == 0) return;
  auto fp = Fingerprint(cert, "sha256");
  if (auto st = store.SaveNextCa(cert); !st.ok()) {
    spdlog::warn("{}: cannot keep the next CA certificate: {}", label, st.error().message);
    return;
  }
  spdlog::info("{}: next CA certificate {} (sha256:{}) fetched with GetNextCACert and verified "
               "by the current CA; it is accepted once the server presents it",
               label, SubjectString(cert), fp.ok() ? *fp : "?");
}

void AdoptCa(const CertificateSettings& settings, CertStore& store, X509* ca,
             CaTrustVerdict verdict, const std::string& label) {
  if (auto st = store.SaveCaPin(ca); !st.ok()) {
    spdlog::error("{}: {}", label, st.error().message);
  }
  if (verdict == CaTrustVerdict::kRollover && settings.ca_fingerprint.empty()) {
    (void)store.RemoveNextCa();
  }
}

}  // namespace scepd
