#include "daemon/enroller_factory.h"

#include <utility>

#include "core/cmp/cmp_enroller.h"
#include "core/scep/scep_enroller.h"
#include "core/wipe.h"
#include "daemon/cert_store.h"
#include "io/files.h"

namespace scepd {
namespace {

// CMP sessions waiting for their next poll. OpenSSL 3.0 keeps a waiting
// transaction only in its context, and the job makes a new back end for
// every attempt: the daemon process keeps them here, by data_dir.
cmp::CmpLiveSessions& LiveCmpSessions() {
  static cmp::CmpLiveSessions sessions;
  return sessions;
}

Result<std::unique_ptr<enroll::Enroller>> MakeCmpEnroller(const CertificateSettings& settings,
                                                          Transport& transport) {
  cmp::CmpEnrollerOptions options;
  options.url = settings.url;
  options.recipient = settings.recipient;
  options.reference = settings.cmp_reference;
  options.secret = settings.cmp_secret;  // the enroller wipes its copy
  // The CA the last answer brought (ca.crt-0...), when there is one.
  auto chain = CertStore(settings.data_dir).LoadCaChain();
  if (chain.ok()) options.known_chain = std::move(*chain);
  if (!settings.cmp_cert.empty()) {
    SCEPD_TRY(std::string cert_pem, ReadFileText(settings.cmp_cert, 1 << 20));
    SCEPD_TRY(options.cert, ossl::CertFromPem(cert_pem, "cmp_cert " + settings.cmp_cert));
    SCEPD_TRY(std::string key_pem, ReadFileText(settings.cmp_key, 1 << 20));
    auto key = ossl::PrivateKeyFromPem(key_pem, "cmp_key " + settings.cmp_key);
    Wipe(key_pem);
    if (!key.ok()) return std::move(key).error();
    options.key = std::move(*key);
  }
  options.live = &LiveCmpSessions();
  options.live_prefix = settings.data_dir + "\n";
  return std::unique_ptr<enroll::Enroller>(
      std::make_unique<cmp::CmpEnroller>(transport, std::move(options)));
}

}  // namespace

bool NeedsLegacyAlgorithms(const CertificateSettings& settings) {
  return settings.protocol == "scep";
}

Result<std::unique_ptr<enroll::Enroller>> MakeEnroller(
    const CertificateSettings& settings, Transport& transport,
    std::function<void(const std::string&)> warn) {
  if (settings.protocol == "scep") {
    scep::ScepEnrollerOptions options;
    options.client.url = settings.url;
    options.client.ca_identifier = settings.ca_identifier;
    options.client.algorithms.legacy = settings.legacy_ciphers;
    options.warn = std::move(warn);
    return std::unique_ptr<enroll::Enroller>(
        std::make_unique<scep::ScepEnroller>(transport, std::move(options)));
  }
  if (settings.protocol == "est") return MakeEstEnroller(settings, transport);
  if (settings.protocol == "cmp") return MakeCmpEnroller(settings, transport);
  return MakeError(ErrorCode::kUnsupported,
                   "protocol " + settings.protocol + ": not built yet in this scepd");
}

}  // namespace scepd
