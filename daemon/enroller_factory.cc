#include "daemon/enroller_factory.h"

#include <utility>

#include "core/scep/scep_enroller.h"

namespace scepd {

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
  return MakeError(ErrorCode::kUnsupported,
                   "protocol " + settings.protocol + ": not built yet in this scepd");
}

}  // namespace scepd
