#include "cli/sscep_config_sections.h"

#include <vector>

namespace scepd::cli {
namespace {

struct Entry {
  std::string key;
  std::string value;
  std::string where;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The section named in a "[ name ]" line, or nothing.
std::optional<std::string> SectionOf(std::string_view line) {
  std::string_view t = Trim(line);
  if (t.empty() || t.front() != '[') return std::nullopt;
  auto close = t.find(']');
  if (close == std::string_view::npos) return std::string();  // malformed: caller reports
  return std::string(Trim(t.substr(1, close - 1)));
}

const char* SectionFor(Operation op) {
  switch (op) {
    case Operation::kGetCa: return "sscep_getca";
    case Operation::kGetNextCa: return "sscep_getnextca";
    case Operation::kEnroll: return "sscep_enroll";
    case Operation::kGetCert: return "sscep_getcert";
    case Operation::kGetCrl: return "sscep_getcrl";
    case Operation::kGetCaps:
    case Operation::kMkRequest: break;
  }
  return "";
}

bool IsSscepSection(const std::string& name) {
  for (const char* s : {"sscep", "sscep_getca", "sscep_getnextca", "sscep_enroll", "sscep_getcert", "sscep_getcrl"}) {
    if (name == s) return true;
  }
  return false;
}

// The value after '=': quotes removed, escapes applied, comment dropped.
Result<std::string> Value(std::string_view raw, const std::string& where) {
  std::string out;
  std::string_view v = Trim(raw);
  char quote = 0;
  std::size_t trailing_space_from = std::string::npos;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (quote != 0) {
      if (c == '\\' && i + 1 < v.size()) {
        out += v[++i];
      } else if (c == quote) {
        quote = 0;
        trailing_space_from = std::string::npos;
      } else {
        out += c;
      }
      continue;
    }
    if (c == '#') break;
    if (c == '"' || c == '\'') {
      quote = c;
      continue;
    }
    if (c == '\\' && i + 1 < v.size()) {
      out += v[++i];
      trailing_space_from = std::string::npos;
      continue;
    }
    if (c == '$') {
      return MakeError(ErrorCode::kInvalidArgument,
                       where + ": variable expansion ($...) is not supported; write the value out");
    }
    if (c == ' ' || c == '\t') {
      if (trailing_space_from == std::string::npos) trailing_space_from = out.size();
    } else {
      trailing_space_from = std::string::npos;
    }
    out += c;
  }
  if (quote != 0) return MakeError(ErrorCode::kInvalidArgument, where + ": unterminated quote");
  if (trailing_space_from != std::string::npos) out.resize(trailing_space_from);
  return out;
}

}  // namespace

bool HasSections(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    std::string_view t = Trim(line);
    if (!t.empty() && t.front() == '[') return true;
  }
  return false;
}

Status ApplySscepSectionedConfig(const std::string& path, std::string_view text, SscepOptions& options) {
  const std::string wanted = SectionFor(options.operation);
  std::vector<Entry> general;
  std::vector<Entry> specific;
  std::string section;  // before the first header: OpenSSL's default section
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    const std::string where = path + ":" + std::to_string(line_no);
    std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;
    if (auto name = SectionOf(t)) {
      if (name->empty()) return MakeError(ErrorCode::kInvalidArgument, where + ": malformed section header");
      section = *name;
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string_view::npos) {
      if (!IsSscepSection(section)) continue;
      return MakeError(ErrorCode::kInvalidArgument,
                       where + ": expected 'key = value' in section [" + section + "]");
    }
    std::string key(Trim(t.substr(0, eq)));
    if (!IsSscepSection(section)) continue;
    if (key.empty()) return MakeError(ErrorCode::kInvalidArgument, where + ": empty key");
    SCEPD_TRY(std::string value, Value(t.substr(eq + 1), where));
    if (key == "engine") {
      return MakeError(ErrorCode::kUnsupported, where + ": engine: OpenSSL engines are not supported by this build");
    }
    Entry e{std::move(key), std::move(value), where};
    if (section == "sscep") {
      general.push_back(std::move(e));
    } else if (section == wanted) {
      specific.push_back(std::move(e));
    } else {
      // Another operation's section: its keys are checked, not applied.
      SscepOptions scratch;
      SCEPD_TRY_STATUS(ApplySscepFileKey(e.key, e.value, e.where, scratch));
    }
  }
  for (const Entry& e : general) SCEPD_TRY_STATUS(ApplySscepFileKey(e.key, e.value, e.where, options));
  for (const Entry& e : specific) SCEPD_TRY_STATUS(ApplySscepFileKey(e.key, e.value, e.where, options));
  return {};
}

}  // namespace scepd::cli
