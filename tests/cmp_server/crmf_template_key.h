#pragma once
// The public key a CRMF certificate template (RFC 4211 CertTemplate) asks
// a certificate for. OpenSSL 3.0 has no getter for it (3.2 added
// OSSL_CRMF_CERTTEMPLATE_get0_publicKey), so the template's DER is read:
// publicKey is [6] IMPLICIT SubjectPublicKeyInfo.

#include <openssl/crmf.h>

#include "core/ossl.h"

namespace scepd::testing {

// The template's public key (owned by the caller), or null when it has
// none or it does not decode. Leaves OpenSSL's error queue empty.
ossl::Ptr<EVP_PKEY> TemplatePublicKey(const OSSL_CRMF_CERTTEMPLATE* tmpl);

}  // namespace scepd::testing
