#pragma once
// GET-CHAIN's order of the certificates a CA sent with GetCACert: the RA
// certificates first (as received), then the issuing CA and its issuers,
// each found among the certificates sent, up to the top-level CA.

#include <cstddef>
#include <vector>

#include "core/ossl.h"
#include "core/scep/ca_certs.h"

namespace scepd::cli {

struct CaChain {
  std::vector<X509*> certs;  // borrowed from the CaCertificates given
  std::size_t ra_count = 0;  // certs[0, ra_count) are the RA certificates
  bool complete = false;     // the last one is self-signed (the top-level CA)
};

// Orders `ca` (SelectCaRoles' roles) as above. A certificate appears once;
// certificates that are neither RA nor in the CA's issuer chain are left
// out. When the CA did not send the top-level certificate the chain ends at
// the last issuer found and `complete` is false.
CaChain OrderCaChain(const scep::CaCertificates& ca);

}  // namespace scepd::cli
