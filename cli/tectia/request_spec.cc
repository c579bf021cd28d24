#include "cli/tectia/request_spec.h"

#include "cli/tectia/subject_names.h"
#include "cli/tectia/template_cert.h"
#include "cli/tectia/usage_names.h"

namespace scepd::tectia {

Result<CsrSpec> RequestSpec(const RequestOptions& o, X509* template_cert) {
  CsrSpec spec;
  if (template_cert != nullptr) {
    SCEPD_TRY(TemplateFields t, TemplateFromCertificate(template_cert));
    spec.subject = t.subject;
    spec.alt_names = t.alt_names;
    spec.key_usage_bits = t.key_usage_bits;
    spec.extra_ekus = t.ekus;
  }
  if (!o.subject.empty()) {
    SCEPD_TRY(SubjectNames names, ParseSubjectNames(o.subject));
    if (!names.subject.empty()) spec.subject = names.subject;
    if (!names.alt_names.empty()) spec.alt_names = names.alt_names;
  }
  if (!o.key_usage.empty()) {
    SCEPD_TRY(spec.key_usage_bits, ParseKeyUsages(o.key_usage));
  }
  if (!o.ext_key_usage.empty()) {
    SCEPD_TRY(spec.extra_ekus, ParseExtendedKeyUsages(o.ext_key_usage));
  }
  return spec;
}

}  // namespace scepd::tectia
