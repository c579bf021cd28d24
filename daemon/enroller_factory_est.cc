// The EST case of MakeEnroller (daemon/enroller_factory.h), on its own so
// that each protocol's wiring stays in one file.
#include <algorithm>
#include <utility>

#include "core/est/est_enroller.h"
#include "core/wipe.h"
#include "daemon/enroller_factory.h"
#include "io/curl_transport.h"

namespace scepd {
namespace {

// Makes the bootstrap's transports: the same proxy and timeouts as the
// daemon's, trusting `anchor_pem` alone (empty: the provisional first
// contact, unverified, whose answer is only searched for the pin).
struct BootstrapTransports {
  int timeout = 120;
  std::string proxy;
  std::string proxy_credentials;  // secret

  BootstrapTransports() = default;
  BootstrapTransports(const BootstrapTransports&) = default;
  BootstrapTransports(BootstrapTransports&&) = default;
  BootstrapTransports& operator=(const BootstrapTransports&) = default;
  BootstrapTransports& operator=(BootstrapTransports&&) = default;
  ~BootstrapTransports() { Wipe(proxy_credentials); }

  Result<std::unique_ptr<Transport>> operator()(const std::string& anchor_pem) const {
    TransportOptions t;
    t.total_timeout_s = timeout;
    t.connect_timeout_s = std::min(30, timeout);
    t.proxy = proxy;
    t.proxy_credentials = proxy_credentials;
    t.ca_pem = anchor_pem;
    t.verify_tls = !anchor_pem.empty();
    auto created = CurlTransport::Create(t);
    Wipe(t.proxy_credentials);
    SCEPD_TRY(auto made, std::move(created));
    return std::unique_ptr<Transport>(std::move(made));
  }
};

}  // namespace

std::unique_ptr<enroll::Enroller> MakeEstEnroller(const CertificateSettings& settings,
                                                  Transport& transport) {
  est::EstEnrollerOptions options;
  options.url = settings.url;
  options.label = settings.est_label;
  options.username = settings.est_username;
  // Reserved up front: heap storage that moves hand over and the
  // enroller wipes, never a short-string buffer left behind (core/wipe.h).
  options.password.reserve(256);
  options.password.assign(settings.est_password);
  if (settings.tls_ca_file.empty() && settings.ca_fingerprint.algorithm == "sha256") {
    // RFC 7030 section 4.1.1 bootstrap: the enroller's own transports,
    // trusting only the pinned CA once it is found (the provisional one
    // only ever carries the GET of /cacerts).
    options.bootstrap_sha256 = settings.ca_fingerprint.digest;
    BootstrapTransports maker;
    maker.timeout = settings.http_timeout;
    maker.proxy = settings.proxy;
    maker.proxy_credentials = settings.proxy_credentials;
    options.make_transport = std::move(maker);
  }
  return std::make_unique<est::EstEnroller>(transport, std::move(options));
}

}  // namespace scepd
