#include "cli/tectia/template_cert.h"

#include <openssl/x509v3.h>

#include "core/subject.h"

namespace scepd::tectia {
namespace {

std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string AsnText(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string OidText(const ASN1_OBJECT* obj) {
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  return n > 0 && n < static_cast<int>(sizeof buf) ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

Result<std::string> IpText(const ASN1_OCTET_STRING* ip) {
  const unsigned char* p = ASN1_STRING_get0_data(ip);
  int len = ASN1_STRING_length(ip);
  char buf[64];
  if (len == 4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
    return std::string(buf);
  }
  if (len == 16) {
    std::string out;
    for (int i = 0; i < 16; i += 2) {
      std::snprintf(buf, sizeof buf, "%s%x", i == 0 ? "" : ":", (p[i] << 8) | p[i + 1]);
      out += buf;
    }
    return out;
  }
  return MakeError(ErrorCode::kInvalidArgument, "-T: IP address of " + std::to_string(len) + " bytes");
}

Result<std::string> NameText(const GENERAL_NAME* gn) {
  int type = 0;
  void* value = GENERAL_NAME_get0_value(gn, &type);
  switch (type) {
    case GEN_DNS: return "DNS:" + Escape(AsnText(static_cast<ASN1_IA5STRING*>(value)));
    case GEN_EMAIL: return "email:" + Escape(AsnText(static_cast<ASN1_IA5STRING*>(value)));
    case GEN_URI: return "URI:" + Escape(AsnText(static_cast<ASN1_IA5STRING*>(value)));
    case GEN_RID: return "RID:" + OidText(static_cast<ASN1_OBJECT*>(value));
    case GEN_IPADD: {
      SCEPD_TRY(std::string ip, IpText(static_cast<ASN1_OCTET_STRING*>(value)));
      return "IP:" + ip;
    }
    case GEN_DIRNAME: {
      std::string dn = FormatSubject(static_cast<X509_NAME*>(value));
      std::string out = "dirName:";
      for (char c : dn) {
        if (c == ',') out += '\\';
        out += c;
      }
      return out;
    }
    case GEN_OTHERNAME: {
      ASN1_OBJECT* oid = nullptr;
      ASN1_TYPE* v = nullptr;
      if (GENERAL_NAME_get0_otherName(gn, &oid, &v) == 1 && v != nullptr && v->type == V_ASN1_UTF8STRING) {
        return "otherName:" + OidText(oid) + ";UTF8:" + Escape(AsnText(v->value.utf8string));
      }
      break;
    }
    default: break;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "-T: the template's subjectAltName has a name of a type this client cannot copy "
                   "(GeneralName type " + std::to_string(type) + "); give the names with -s instead");
}

}  // namespace

Result<TemplateFields> TemplateFromCertificate(X509* cert) {
  TemplateFields out;
  if (cert == nullptr) return MakeError(ErrorCode::kInvalidArgument, "-T: no certificate");
  out.subject = FormatSubject(X509_get_subject_name(cert));
  int crit = 0;
  ossl::Ptr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    SCEPD_TRY(std::string item, NameText(sk_GENERAL_NAME_value(names.get(), i)));
    out.alt_names += (out.alt_names.empty() ? "" : ",") + item;
  }
  ossl::Ptr<ASN1_STRING> usage(
      static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(cert, NID_key_usage, &crit, nullptr)));
  for (int bit = 0; usage && bit < 9; ++bit) {
    if (ASN1_BIT_STRING_get_bit(usage.get(), bit) == 1) out.key_usage_bits |= 1u << bit;
  }
  ossl::Ptr<EXTENDED_KEY_USAGE> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, nullptr)));
  for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    out.ekus.push_back(OidText(sk_ASN1_OBJECT_value(eku.get(), i)));
  }
  ClearOpenSslErrors();
  return out;
}

}  // namespace scepd::tectia
