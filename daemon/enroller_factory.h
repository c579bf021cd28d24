#pragma once
// The one place that turns the settings' `protocol` into an enrollment back
// end (core/enroll/enroller.h). Adding a protocol: its back end in
// core/<protocol>/, its settings check in daemon/, one case here.

#include <functional>
#include <memory>
#include <string>

#include "core/enroll/enroller.h"
#include "core/result.h"
#include "core/transport.h"
#include "daemon/config.h"

namespace scepd {

// The back end `settings.protocol` names, talking over `transport`
// (borrowed; must outlive it). `warn` receives notes worth a warning (server
// text already cleaned). Fails with kUnsupported for a protocol this build
// has no back end for.
Result<std::unique_ptr<enroll::Enroller>> MakeEnroller(
    const CertificateSettings& settings, Transport& transport,
    std::function<void(const std::string&)> warn);

// Whether `settings.protocol`'s back end needs OpenSSL's legacy provider:
// SCEP CAs may answer in single DES (micromdm does); CMP and EST never
// (legacy_ciphers is refused with them).
bool NeedsLegacyAlgorithms(const CertificateSettings& settings);

// The EST back end for `settings` (enroller_factory_est.cc): its TLS
// trusted through `transport` (tls_ca_file), or by the RFC 7030 bootstrap
// with the sha256 ca_fingerprint when there is no tls_ca_file.
std::unique_ptr<enroll::Enroller> MakeEstEnroller(const CertificateSettings& settings,
                                                  Transport& transport);

}  // namespace scepd
