#pragma once
// -T file: a certificate used as the template of a request. Its subject,
// subject alternative names, key usage and extended key usages become the
// request's, in the forms CsrSpec takes; the other options may override
// each of them.

#include <string>
#include <vector>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd::tectia {

struct TemplateFields {
  std::string subject;              // core/subject.h form; "" for an empty subject
  std::string alt_names;            // core/alt_name.h form; "" when none
  unsigned key_usage_bits = 0;      // RFC 5280 bits, as ParseKeyUsages
  std::vector<std::string> ekus;    // dotted OIDs
};

// Reads the fields of `cert` (borrowed). Alternative names of the types
// core/alt_name.h knows (DNS, IP, email, URI, RID, dirName, otherName with
// a UTF8String) are taken; any other type fails with kInvalidArgument
// naming it, rather than being dropped silently.
Result<TemplateFields> TemplateFromCertificate(X509* cert);

}  // namespace scepd::tectia
