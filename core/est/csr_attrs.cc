#include "core/est/csr_attrs.h"

#include <openssl/objects.h>

#include "core/bytes.h"
#include "core/der.h"
#include "core/est/est_outcome.h"
#include "core/ossl.h"

namespace scepd::est {
namespace {

constexpr int kSet = 0x31;

int OidNid(std::span<const std::uint8_t> tlv) {
  const unsigned char* p = tlv.data();
  ossl::Ptr<ASN1_OBJECT> obj(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(tlv.size())));  // NOLINT
  ClearOpenSslErrors();
  return obj ? OBJ_obj2nid(obj.get()) : NID_undef;
}

std::optional<std::string> DigestFor(int nid) {
  switch (nid) {
    case NID_ecdsa_with_SHA256:
    case NID_sha256WithRSAEncryption: return "SHA256";
    case NID_ecdsa_with_SHA384:
    case NID_sha384WithRSAEncryption: return "SHA384";
    case NID_ecdsa_with_SHA512:
    case NID_sha512WithRSAEncryption: return "SHA512";
    default: return std::nullopt;
  }
}

std::string CurveName(int nid) {
  switch (nid) {
    case NID_X9_62_prime256v1: return "P-256";
    case NID_secp384r1: return "P-384";
    case NID_secp521r1: return "P-521";
    default: return std::string();
  }
}

// A bare OID in the sequence.
void ApplyOid(const der::Element& e, CsrAttrs& out) {
  const int nid = OidNid(e.tlv);
  if (nid == NID_pkcs9_challengePassword) {
    out.challenge_password = true;
  } else if (auto digest = DigestFor(nid)) {
    out.digest = *digest;
    out.key_type = (nid == NID_ecdsa_with_SHA256 || nid == NID_ecdsa_with_SHA384 ||
                    nid == NID_ecdsa_with_SHA512)
                       ? "ec"
                       : "rsa";
  } else if (nid == NID_X9_62_id_ecPublicKey) {
    out.key_type = "ec";
  } else if (nid == NID_rsaEncryption) {
    out.key_type = "rsa";
  } else {
    out.unknown.push_back(DescribeOid(e.content) + ": OID this client does not act on");
  }
}

Status ApplyAttribute(const der::Element& attr, std::size_t index, CsrAttrs& out) {
  const std::string where = "csrattrs: element " + std::to_string(index + 1);
  auto type = der::Expect(attr.content, der::kOid);
  if (!type) return MakeError(ErrorCode::kParse, where + ": attribute without a type OID");
  auto set = der::Expect(type->rest, kSet);
  if (!set || !set->rest.empty()) {
    return MakeError(ErrorCode::kParse, where + ": attribute without a SET of values");
  }
  const int nid = OidNid(type->tlv);
  std::span<const std::uint8_t> values = set->content;
  int count = 0;
  while (!values.empty()) {
    auto v = der::Read(values);
    if (!v) return MakeError(ErrorCode::kParse, where + ": malformed attribute value");
    values = v->rest;
    ++count;
    if (nid == NID_X9_62_id_ecPublicKey && v->tag == der::kOid) {
      out.key_type = "ec";
      const std::string curve = CurveName(OidNid(v->tlv));
      if (curve.empty()) {
        out.unknown.push_back("EC curve " + DescribeOid(v->content) + ": not supported");
      } else {
        out.ec_curve = curve;
      }
    } else if (nid == NID_rsaEncryption && v->tag == der::kInteger) {
      out.key_type = "rsa";
      long bits = 0;  // NOLINT(runtime/int)
      for (std::uint8_t b : v->content) {
        if (bits > (1L << 20)) break;
        bits = bits * 256 + b;
      }
      if (v->content.empty() || v->content.size() > 3 || bits <= 0) {
        out.unknown.push_back("RSA key size: unusable INTEGER");
      } else {
        out.rsa_bits = static_cast<int>(bits);
      }
    } else if (nid == NID_ext_req && v->tag == der::kOid) {
      out.extensions.push_back(DescribeOid(v->content));
    } else if (nid == NID_ext_req && v->tag == der::kSequence) {
      // A full Extension (extnID, [critical], extnValue): keep its OID.
      auto id = der::Expect(v->content, der::kOid);
      if (!id) return MakeError(ErrorCode::kParse, where + ": extension without an OID");
      out.extensions.push_back(DescribeOid(id->content));
    } else {
      out.unknown.push_back("attribute " + DescribeOid(type->content) +
                            ": value this client does not act on");
    }
  }
  if (count == 0) out.unknown.push_back("attribute " + DescribeOid(type->content) + ": no values");
  return {};
}

}  // namespace

std::string DescribeOid(std::span<const std::uint8_t> oid_content) {
  Bytes tlv;
  tlv.push_back(der::kOid);
  if (oid_content.size() > 127) return "(overlong OID)";
  tlv.push_back(static_cast<std::uint8_t>(oid_content.size()));
  tlv.insert(tlv.end(), oid_content.begin(), oid_content.end());
  const unsigned char* p = tlv.data();
  ossl::Ptr<ASN1_OBJECT> obj(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(tlv.size())));  // NOLINT
  if (!obj) {
    ClearOpenSslErrors();
    return "(malformed OID)";
  }
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof(buf), obj.get(), 1);
  if (n <= 0 || n >= static_cast<int>(sizeof(buf))) return "(unprintable OID)";
  std::string text(buf);
  const int nid = OBJ_obj2nid(obj.get());
  if (nid != NID_undef) text += std::string(" (") + OBJ_nid2sn(nid) + ")";
  return text;
}

Result<CsrAttrs> ParseCsrAttrs(std::span<const std::uint8_t> der_bytes) {
  auto top = der::Expect(der_bytes, der::kSequence);
  if (!top || !top->rest.empty()) {
    return MakeError(ErrorCode::kParse, "csrattrs: not one DER SEQUENCE");
  }
  CsrAttrs out;
  std::span<const std::uint8_t> items = top->content;
  for (std::size_t i = 0; !items.empty(); ++i) {
    auto e = der::Read(items);
    if (!e) {
      return MakeError(ErrorCode::kParse,
                       "csrattrs: element " + std::to_string(i + 1) + " is malformed");
    }
    items = e->rest;
    if (e->tag == der::kOid) {
      ApplyOid(*e, out);
    } else if (e->tag == der::kSequence) {
      SCEPD_TRY_STATUS(ApplyAttribute(*e, i, out));
    } else {
      return MakeError(ErrorCode::kParse, "csrattrs: element " + std::to_string(i + 1) +
                                              " is neither an OID nor an attribute");
    }
  }
  return out;
}

Result<CsrAttrs> InterpretCsrAttrs(const HttpResponse& response) {
  if (response.status == 204 || response.status == 404) return CsrAttrs();
  if (response.status != 200) {
    return MakeError(ErrorCode::kHttp, "csrattrs: server answered HTTP " +
                                           std::to_string(response.status) +
                                           (response.status == 401
                                                ? " (authentication required)"
                                                : std::string()));
  }
  if (response.content_type != "application/csrattrs") {
    return MakeError(ErrorCode::kHttp,
                     "csrattrs: expected application/csrattrs, got " +
                         (response.content_type.empty()
                              ? std::string("no content type")
                              : CleanServerText(response.content_type, 60)));
  }
  auto der_bytes = Base64Decode(ToString(response.body));
  if (!der_bytes.ok()) {
    return MakeError(ErrorCode::kParse, "csrattrs: body: " + der_bytes.error().message);
  }
  if (der_bytes->empty()) return CsrAttrs();
  return ParseCsrAttrs(*der_bytes);
}

}  // namespace scepd::est
