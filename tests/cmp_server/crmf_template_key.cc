#include "tests/cmp_server/crmf_template_key.h"

#include "core/der.h"

namespace scepd::testing {
namespace {

constexpr int kPublicKeyTag = 0xa6;  // [6], constructed (IMPLICIT SEQUENCE)

}  // namespace

ossl::Ptr<EVP_PKEY> TemplatePublicKey(const OSSL_CRMF_CERTTEMPLATE* tmpl) {
  auto encoded = ossl::ToDer(tmpl, i2d_OSSL_CRMF_CERTTEMPLATE, "certificate template");
  ClearOpenSslErrors();
  if (!encoded) return nullptr;
  auto outer = der::Expect(*encoded, der::kSequence);
  if (!outer) return nullptr;
  for (auto field = der::Read(outer->content); field; field = der::Read(field->rest)) {
    if (field->tag != kPublicKeyTag) continue;
    // The same contents under the universal SEQUENCE tag: a SubjectPublicKeyInfo.
    Bytes spki(field->tlv.begin(), field->tlv.end());
    spki[0] = der::kSequence;
    const unsigned char* p = spki.data();
    ossl::Ptr<EVP_PKEY> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));  // NOLINT
    ClearOpenSslErrors();
    return key;
  }
  return nullptr;
}

}  // namespace scepd::testing
