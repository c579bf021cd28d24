#include "core/subject.h"

#include <openssl/objects.h>

#include <utility>
#include <vector>

namespace scepd {
namespace {

// One "type=value" inside a component, with escapes already removed.
struct Attribute {
  std::string_view raw;  // as written, for messages
  std::string type;
  std::string value;
  bool has_equals = false;
};

struct Component {
  std::string_view raw;  // as written, for messages
  std::vector<Attribute> attributes;
};

// Appends piece by piece: GCC 12 at -O3 warns (-Wrestrict, a false
// positive) about "'" + std::string(s).
std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  out.append(s);
  out += '\'';
  return out;
}

Error SubjectError(std::string what) {
  return MakeError(ErrorCode::kInvalidArgument, "subject: " + std::move(what));
}

std::string Where(std::size_t index, std::string_view raw) {
  return " in component " + std::to_string(index + 1) + " (" + Quote(raw) + ")";
}

// Splits "/a=b+c=d/e=f" (leading '/' already checked) into components and
// attributes, removing backslash escapes.
Result<std::vector<Component>> Split(std::string_view text) {
  std::vector<Component> components;
  std::size_t i = 1;  // past the leading '/'
  while (true) {
    Component comp;
    const std::size_t comp_start = i;
    std::size_t attr_start = i;
    Attribute attr;
    while (true) {
      if (i >= text.size() || text[i] == '/' || text[i] == '+') {
        attr.raw = text.substr(attr_start, i - attr_start);
        comp.attributes.push_back(std::move(attr));
        attr = Attribute{};
        if (i < text.size() && text[i] == '+') {
          attr_start = ++i;
          continue;
        }
        break;
      }
      char c = text[i];
      if (c == '\\') {
        if (i + 1 >= text.size()) {
          return SubjectError("trailing lone backslash" +
                              Where(components.size(), text.substr(comp_start)));
        }
        c = text[i + 1];
        i += 2;
      } else if (c == '=' && !attr.has_equals) {
        attr.has_equals = true;
        ++i;
        continue;
      } else {
        ++i;
      }
      (attr.has_equals ? attr.value : attr.type).push_back(c);
    }
    comp.raw = text.substr(comp_start, i - comp_start);
    components.push_back(std::move(comp));
    if (i >= text.size()) break;
    ++i;  // past '/'
  }
  // "/CN=a/" ends in an empty component: tolerated, as openssl -subj does.
  if (components.size() > 1 && components.back().raw.empty()) components.pop_back();
  return components;
}

// The usual attribute types of a certificate subject, by short name,
// without OBJ_txt2obj: in OpenSSL 3.0 its first call initialises the
// library and loads openssl.cnf, a cost at every daemon start that the
// settings check does not need. OpenSSL's short names are unique, so a
// match is the object OBJ_txt2obj returns (a static one); anything else
// goes to ossl::ObjectFromText (OBJ_txt2obj).
const ASN1_OBJECT* KnownAttributeType(const std::string& type) {
  static constexpr int kNids[] = {
      NID_commonName,           NID_countryName,         NID_localityName,
      NID_stateOrProvinceName,  NID_organizationName,    NID_organizationalUnitName,
      NID_serialNumber,         NID_pkcs9_emailAddress,  NID_domainComponent,
      NID_userId,               NID_title,               NID_givenName,
      NID_surname,              NID_initials,            NID_pseudonym,
      NID_dnQualifier,          NID_generationQualifier, NID_streetAddress,
      NID_postalCode,           NID_name,                NID_description,
      NID_businessCategory,     NID_pkcs9_unstructuredName};
  for (int nid : kNids) {
    const char* sn = OBJ_nid2sn(nid);
    if (sn != nullptr && type == sn) return OBJ_nid2obj(nid);
  }
  return nullptr;
}

}  // namespace

Result<ossl::Ptr<X509_NAME>> ParseSubject(std::string_view text) {
  if (text.empty()) return SubjectError("empty");
  if (text.front() != '/') return SubjectError("no leading '/' in " + Quote(text));
  SCEPD_TRY(std::vector<Component> components, Split(text));

  ossl::Ptr<X509_NAME> name(X509_NAME_new());
  if (!name) return OpenSslError(ErrorCode::kInternal, "subject: allocating name");
  for (std::size_t n = 0; n < components.size(); ++n) {
    const Component& comp = components[n];
    if (comp.raw.empty()) return SubjectError("empty component " + std::to_string(n + 1));
    bool first_in_rdn = true;
    for (const Attribute& attr : comp.attributes) {
      if (attr.raw.empty()) return SubjectError("empty attribute" + Where(n, comp.raw));
      if (!attr.has_equals) return SubjectError("missing '='" + Where(n, attr.raw));
      if (attr.type.empty()) return SubjectError("empty attribute type" + Where(n, attr.raw));
      if (attr.value.empty()) return SubjectError("empty value" + Where(n, attr.raw));
      const ASN1_OBJECT* known = KnownAttributeType(attr.type);
      ossl::Ptr<ASN1_OBJECT> obj;
      if (known == nullptr) obj = ossl::ObjectFromText(attr.type);
      if (known == nullptr && !obj) {
        return SubjectError("unknown attribute type " + Quote(attr.type) + Where(n, attr.raw));
      }
      // set 0 opens a new RDN; -1 appends to the RDN of the previous entry.
      if (X509_NAME_add_entry_by_OBJ(name.get(), known != nullptr ? known : obj.get(), MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(attr.value.data()),
                                     static_cast<int>(attr.value.size()), -1,
                                     first_in_rdn ? 0 : -1) != 1) {
        return OpenSslError(ErrorCode::kInvalidArgument, "subject: bad value for " +
                                                             Quote(attr.type) + Where(n, attr.raw));
      }
      first_in_rdn = false;
    }
  }
  return name;
}

namespace {

std::string AttributeTypeName(const ASN1_OBJECT* obj) {
  int nid = OBJ_obj2nid(obj);
  if (nid != NID_undef) {
    if (const char* sn = OBJ_nid2sn(nid); sn != nullptr) return sn;
  }
  std::string buf(80, '\0');
  int n = OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 1);
  if (n >= static_cast<int>(buf.size())) {
    buf.assign(static_cast<std::size_t>(n) + 1, '\0');
    n = OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 1);
  }
  if (n < 0) return "?";
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

std::string ValueUtf8(const ASN1_STRING* value) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, value);
  if (n < 0) {
    // Not a string type OpenSSL can convert: show the raw content bytes.
    ClearOpenSslErrors();
    const unsigned char* data = ASN1_STRING_get0_data(value);
    return std::string(reinterpret_cast<const char*>(data),
                       static_cast<std::size_t>(ASN1_STRING_length(value)));
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace

std::string FormatSubject(const X509_NAME* name) {
  std::string out;
  if (name == nullptr) return out;
  int previous_set = -1;
  const int count = X509_NAME_entry_count(name);
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    const int set = X509_NAME_ENTRY_set(entry);
    out += (i == 0 || set != previous_set) ? '/' : '+';
    previous_set = set;
    out += AttributeTypeName(X509_NAME_ENTRY_get_object(entry));
    out += '=';
    for (char c : ValueUtf8(X509_NAME_ENTRY_get_data(entry))) {
      if (c == '/' || c == '+' || c == '=' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out;
}

}  // namespace scepd
