#pragma once
// The degenerate certificates-only SignedData ("certs-only PKCS#7"): how a CA
// returns issued certificates inside a CertRep, its CA/RA chain for
// GetCACert, and CRLs for GetCRL.

#include <span>
#include <vector>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace scepd::scep {

struct CertsOnly {
  std::vector<ossl::Ptr<X509>> certs;    // in the order they were encoded
  std::vector<ossl::Ptr<X509_CRL>> crls;
};

// Encodes the given certificates and CRLs (borrowed) as DER ContentInfo.
Result<Bytes> BuildCertsOnly(std::span<X509* const> certs, std::span<X509_CRL* const> crls = {});

// Decodes a DER ContentInfo of type SignedData and returns its certificates
// and CRLs (signatures, if any, are not checked here). Fails with kParse.
Result<CertsOnly> ParseCertsOnly(std::span<const std::uint8_t> der);

}  // namespace scepd::scep
