#pragma once
// The subject and requested extensions of a Tectia command line's request:
// the template certificate (-T) first, then -s (subject and alternative
// names), -u and -U override its fields one by one. Shared by scep-client
// and cmp-client.

#include "cli/tectia/request_options.h"
#include "core/csr.h"
#include "core/ossl.h"
#include "core/result.h"

namespace scepd::tectia {

// The CsrSpec from `template_cert` (borrowed; may be null: no -T) and the
// options' subject, key usage and extended key usage lists. The key, the
// challenge and the digest are left for the caller. Fails with the error of
// TemplateFromCertificate (template_cert.h) or of the list at fault
// (subject_names.h, usage_names.h). An empty subject is not an error here:
// whether one is needed is the command's to say.
Result<CsrSpec> RequestSpec(const RequestOptions& options, X509* template_cert);

}  // namespace scepd::tectia
