#include "web/settings_edit.h"

namespace scepd::web {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

bool IsCommentOrBlank(std::string_view line) {
  std::string_view t = Trim(line);
  return t.empty() || t.front() == ';' || t.front() == '#';
}

bool IsContinuation(std::string_view line) {
  return !line.empty() && (line.front() == ' ' || line.front() == '\t') && !IsCommentOrBlank(line);
}

// "[certificate  vpn ]" -> "certificate vpn"; nullopt for a non-header line.
std::optional<std::string> HeaderOf(std::string_view line) {
  std::string_view t = Trim(line);
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') return std::nullopt;
  t = Trim(t.substr(1, t.size() - 2));
  std::string out;
  bool space = false;
  for (char c : t) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// The key of a "key = value" / "key: value" line, or "".
std::string KeyOf(std::string_view line) {
  if (line.empty() || line.front() == ' ' || line.front() == '\t' || IsCommentOrBlank(line)) {
    return "";
  }
  const std::size_t sep = line.find_first_of("=:");
  if (sep == std::string_view::npos) return "";
  return std::string(Trim(line.substr(0, sep)));
}

struct Section {
  std::size_t begin = 0;  // first line after the header (or 0: before any header)
  std::size_t end = 0;    // the next header or the end
};

std::optional<Section> FindSection(const std::vector<std::string>& lines,
                                   const std::string& header) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (HeaderOf(lines[i]) != header) continue;
    Section s{i + 1, lines.size()};
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      if (HeaderOf(lines[j])) {
        s.end = j;
        break;
      }
    }
    return s;
  }
  return std::nullopt;
}

// [first, last) lines of `key` in `s` with its continuation lines.
std::optional<std::pair<std::size_t, std::size_t>> FindKey(const std::vector<std::string>& lines,
                                                           const Section& s, std::string_view key) {
  for (std::size_t i = s.begin; i < s.end; ++i) {
    if (KeyOf(lines[i]) != key) continue;
    std::size_t last = i + 1;
    for (std::size_t j = i + 1; j < s.end; ++j) {
      if (IsContinuation(lines[j])) {
        last = j + 1;
      } else if (!IsCommentOrBlank(lines[j])) {
        break;
      }
    }
    return std::pair{i, last};
  }
  return std::nullopt;
}

std::vector<std::string> KeyLines(const std::string& key, const std::string& value) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (true) {
    const std::size_t nl = value.find('\n', at);
    std::string part = value.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    if (out.empty()) {
      out.push_back(key + " = " + part);
    } else if (!Trim(part).empty()) {
      out.push_back("    " + part);
    }
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out;
}

}  // namespace

std::string SectionHeader(std::string_view kind, std::string_view name) {
  std::string out(kind);
  if (!name.empty()) out += " " + std::string(name);
  return out;
}

std::optional<std::string> RawValue(const std::string& text, const std::string& header,
                                    std::string_view key) {
  const std::vector<std::string> lines = Lines(text);
  auto section = FindSection(lines, header);
  if (!section) return std::nullopt;
  auto range = FindKey(lines, *section, key);
  if (!range) return std::nullopt;
  const std::string& first = lines[range->first];
  std::string value(Trim(std::string_view(first).substr(first.find_first_of("=:") + 1)));
  for (std::size_t i = range->first + 1; i < range->second; ++i) {
    if (IsContinuation(lines[i])) value += "\n" + std::string(Trim(lines[i]));
  }
  return value;
}

std::vector<std::string> CertificateHeaders(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(text)) {
    auto h = HeaderOf(line);
    if (h && (*h == "certificate" || h->rfind("certificate ", 0) == 0)) out.push_back(*h);
  }
  return out;
}

std::string SetValues(const std::string& text, const std::string& header,
                      const std::map<std::string, std::optional<std::string>>& values) {
  std::vector<std::string> lines = Lines(text);
  if (!FindSection(lines, header)) {
    if (!lines.empty() && !Trim(lines.back()).empty()) lines.push_back("");
    lines.push_back("[" + header + "]");
  }
  for (const auto& [key, value] : values) {
    Section s = *FindSection(lines, header);
    std::vector<std::string> replacement;
    if (value) replacement = KeyLines(key, *value);
    auto range = FindKey(lines, s, key);
    if (range) {
      lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(range->first),
                  lines.begin() + static_cast<std::ptrdiff_t>(range->second));
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(range->first), replacement.begin(),
                   replacement.end());
      continue;
    }
    if (!value) continue;
    // After the section's last non-blank line (trailing comments stay with
    // the next section).
    std::size_t at = s.end;
    while (at > s.begin && IsCommentOrBlank(lines[at - 1])) --at;
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), replacement.begin(),
                 replacement.end());
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace scepd::web
