#include "cli/tectia/subject_names.h"

#include <vector>

#include "core/alt_name.h"
#include "core/subject.h"

namespace scepd::tectia {
namespace {

Error Invalid(const std::string& why) { return MakeError(ErrorCode::kInvalidArgument, "-s: " + why); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits at unescaped `sep`, keeping escapes in the pieces.
std::vector<std::string> SplitUnescaped(std::string_view text, char sep) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      parts.back() += c;
      parts.back() += text[++i];
    } else if (c == sep) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

// One "type=value" in LDAP escaping to "type=value" in slash escaping.
Result<std::string> Attribute(std::string_view text, std::string_view whole) {
  std::string_view t = Trim(text);
  auto eq = t.find('=');
  if (eq == std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "subject '" + std::string(whole) + "': component '" + std::string(t) + "' has no '='");
  }
  std::string_view type = Trim(t.substr(0, eq));
  std::string_view value = t.substr(eq + 1);
  if (type.empty() || value.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "subject '" + std::string(whole) + "': component '" +
                                                      std::string(t) + "' has an empty type or value");
  }
  std::string out(type);
  out += '=';
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\' && i + 1 < value.size()) c = value[++i];
    if (c == '/' || c == '+' || c == '=' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Escapes what ParseAltNames treats specially: ',' and '\', except in a
// directory name, whose backslashes are ParseSubject's escapes already.
std::string EscapeAltValue(std::string_view value, bool dir_name) {
  std::string out;
  for (char c : value) {
    if (c == ',' || (c == '\\' && !dir_name)) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

Result<std::string> LdapDnToSubject(std::string_view dn) {
  std::string subject;
  for (const std::string& rdn : SplitUnescaped(dn, ',')) {
    if (Trim(rdn).empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "subject '" + std::string(dn) + "': empty component");
    }
    std::string joined;
    for (const std::string& attr : SplitUnescaped(rdn, '+')) {
      SCEPD_TRY(std::string a, Attribute(attr, dn));
      joined += (joined.empty() ? "" : "+") + a;
    }
    subject += "/" + joined;
  }
  return subject;
}

Result<SubjectNames> ParseSubjectNames(std::string_view text) {
  std::vector<std::string> parts = SplitUnescaped(text, ';');
  SubjectNames out;
  std::string_view dn = Trim(parts.front());
  if (!dn.empty()) {
    auto subject = LdapDnToSubject(dn);
    if (!subject.ok()) return Invalid(subject.error().message);
    out.subject = std::move(*subject);
    if (auto parsed = ParseSubject(out.subject); !parsed.ok()) return Invalid(parsed.error().message);
  }
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::string_view item = Trim(parts[i]);
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
      return Invalid("'" + std::string(item) + "' is not type=value (types ip, email, dn, dns, uri, rid)");
    }
    std::string type = Lower(Trim(item.substr(0, eq)));
    std::string_view value = Trim(item.substr(eq + 1));
    std::string prefix;
    std::string converted;
    if (type == "ip") {
      prefix = "IP";
    } else if (type == "email") {
      prefix = "email";
    } else if (type == "dns") {
      prefix = "DNS";
    } else if (type == "uri") {
      prefix = "URI";
    } else if (type == "rid") {
      prefix = "RID";
    } else if (type == "dn") {
      prefix = "dirName";
      auto name = LdapDnToSubject(value);
      if (!name.ok()) return Invalid("dn=" + std::string(value) + ": " + name.error().message);
      converted = std::move(*name);
    } else {
      return Invalid("unknown name type '" + type + "' in '" + std::string(item) +
                     "' (ip, email, dn, dns, uri, rid)");
    }
    if (converted.empty()) converted = std::string(value);
    out.alt_names += (out.alt_names.empty() ? "" : ",") + prefix + ":" + EscapeAltValue(converted, type == "dn");
  }
  if (!out.alt_names.empty()) {
    if (auto names = ParseAltNames(out.alt_names); !names.ok()) return Invalid(names.error().message);
  }
  return out;
}

}  // namespace scepd::tectia
