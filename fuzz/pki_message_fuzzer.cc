// libFuzzer target: pkiMessages as a CA sends them (CertRep) and as our test
// responder receives them. The first input byte picks the path, the rest is
// the data:
//   0  ParsePkiMessage with the fixed certificate as the only trusted signer;
//      when it verifies, the envelope is opened with the fixed key and its
//      content parsed as certs-only PKCS#7 (what Client::Enroll does with a
//      SUCCESS CertRep)
//   1  ParsePkiMessage taking the signer from the message itself
//   2  OpenEnvelope with the fixed key, then every payload decoder
//   3  the signed attributes: the rest is records [attribute][type][length]
//      [value]; they are signed with the fixed key as one SignerInfo, so the
//      attribute reader (behind the signature check) sees arbitrary types,
//      values and repetitions
// Seeds: corpus/pki_message/ (make-corpus.sh).

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include <openssl/cms.h>
#include <openssl/err.h>

#include "core/ossl.h"
#include "core/scep/certs_only.h"
#include "core/scep/pki_message.h"
#include "core/scep/scep.h"
#include "fuzz/fuzz_pki.h"

namespace {

using scepd::fuzz::GetFuzzPki;
namespace ossl = scepd::ossl;
namespace scep = scepd::scep;

void ParseContent(std::span<const std::uint8_t> content) {
  (void)scep::ParseCertsOnly(content);
  (void)scep::DecodeIssuerAndSubject(content);
  (void)scep::DecodeIssuerAndSerial(content);
}

void OpenAndParse(std::span<const std::uint8_t> envelope) {
  const auto& pki = GetFuzzPki();
  auto plain = scep::OpenEnvelope(envelope, pki.key.get(), pki.cert.get());
  if (plain) ParseContent(*plain);
}

void ParseMessage(std::span<const std::uint8_t> der, bool trusted) {
  X509* signers[] = {GetFuzzPki().cert.get()};
  auto msg = scep::ParsePkiMessage(
      der, trusted ? std::span<X509* const>(signers) : std::span<X509* const>());
  if (msg && !msg->envelope.empty()) OpenAndParse(msg->envelope);
}

constexpr std::string_view kAttributeOids[] = {
    scep::kOidMessageType,     scep::kOidPkiStatus,      scep::kOidFailInfo,
    scep::kOidSenderNonce,     scep::kOidRecipientNonce, scep::kOidTransactionId,
    scep::kOidFailInfoText,    "1.2.840.113549.1.9.3",  // contentType: OpenSSL's own
};
// String-like types only: for these the attribute API copies bytes; other
// types would make it read `value` as a pointer to an OpenSSL object.
constexpr int kStringTypes[] = {
    V_ASN1_PRINTABLESTRING, V_ASN1_UTF8STRING,    V_ASN1_IA5STRING,    V_ASN1_OCTET_STRING,
    V_ASN1_BMPSTRING,       V_ASN1_T61STRING,     V_ASN1_UNIVERSALSTRING, V_ASN1_VISIBLESTRING,
    V_ASN1_NUMERICSTRING,   V_ASN1_GENERALSTRING, V_ASN1_INTEGER,      V_ASN1_BIT_STRING,
};

void SignedAttributes(std::span<const std::uint8_t> data) {
  const auto& pki = GetFuzzPki();
  ossl::Ptr<BIO> content(BIO_new(BIO_s_mem()));
  ossl::Ptr<CMS_ContentInfo> cms(CMS_sign(nullptr, nullptr, nullptr, nullptr,
                                          CMS_PARTIAL | CMS_BINARY));
  if (!cms) return;
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), pki.cert.get(), pki.key.get(), EVP_sha256(),
                                       CMS_PARTIAL | CMS_BINARY);
  if (si == nullptr) return;
  std::size_t i = 0;
  while (i < data.size()) {
    const std::uint8_t which = data[i];
    if (which >= 0xf0) {  // the rest is the signed content
      BIO_write(content.get(), data.data() + i + 1, static_cast<int>(data.size() - i - 1));
      break;
    }
    if (i + 3 > data.size()) break;
    const int type = kStringTypes[data[i + 1] % std::size(kStringTypes)];
    const std::size_t len = std::min<std::size_t>(data[i + 2], data.size() - i - 3);
    const std::uint8_t* value = data.data() + i + 3;
    i += 3 + len;
    const std::string oid(kAttributeOids[which % std::size(kAttributeOids)]);
    ossl::Ptr<ASN1_OBJECT> obj(OBJ_txt2obj(oid.c_str(), 1));
    if (!obj || CMS_signed_add1_attr_by_OBJ(si, obj.get(), type, value,
                                            static_cast<int>(len)) != 1) {
      ERR_clear_error();
      return;
    }
  }
  if (CMS_final(cms.get(), content.get(), nullptr, CMS_BINARY) != 1) {
    ERR_clear_error();
    return;
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_CMS_ContentInfo(cms.get(), &der);
  if (der_len <= 0) {
    ERR_clear_error();
    return;
  }
  const std::vector<std::uint8_t> bytes(der, der + der_len);
  OPENSSL_free(der);
  ParseMessage(bytes, true);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)GetFuzzPki();
  (void)scepd::ossl::EnableLegacyAlgorithms();  // single-DES envelopes too
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: ParseMessage(rest, true); break;
    case 1: ParseMessage(rest, false); break;
    case 2: OpenAndParse(rest); break;
    case 3: SignedAttributes(rest); break;
  }
  ERR_clear_error();
  return 0;
}
