#pragma once
// The settings file as read, before checking: its sections with each raw
// value and the line it came from, and the list of problems found on the
// way ("FILE:LINE: [section] key: message"). daemon/config_read.cc reads the
// text into sections; daemon/config_check.cc turns them into a Config (each
// protocol's own rules in config_check_<protocol>.cc); daemon/config.cc
// (ParseConfig) runs the two. Internal to the settings code.

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/config.h"

namespace scepd {

std::string_view Trim(std::string_view s);
std::string Lower(std::string_view s);

// The keys each kind of section takes; anything else is "unknown key".
enum class SectionKind { kScepd, kCertificate };

// The keys whose value may continue on indented lines.
bool IsMultiLineKey(std::string_view key);

// A key's value as written, with where it came from.
struct RawValue {
  std::string value;
  int line = 0;
};

// One section as written; values keyed by name.
struct RawSection {
  SectionKind kind = SectionKind::kScepd;
  std::string name;    // NAME of [certificate NAME]
  std::string header;  // "scepd", "certificate", "certificate NAME"
  int line = 0;
  std::map<std::string, RawValue, std::less<>> values;
};

struct Problem {
  int line = 0;
  std::string text;
};

// Collects problems as "FILE:LINE: [header] key: message".
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}

  void Add(int line, std::string_view header, std::string_view key,
           std::string_view message) {
    std::string text = file_;
    if (line > 0) text += ":" + std::to_string(line);
    text += ": ";
    if (!header.empty()) {
      text += "[" + std::string(header) + "]";
      if (!key.empty()) text += " ";
    }
    text += key;
    if (!header.empty() || !key.empty()) text += ": ";
    text += message;
    list_.push_back(Problem{line, std::move(text)});
  }

  bool empty() const noexcept { return list_.empty(); }

  // All problems in line order (file-wide ones first), one per line.
  std::string Join() {
    std::stable_sort(list_.begin(), list_.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    std::string out;
    for (const Problem& p : list_) {
      if (!out.empty()) out += "\n";
      out += p.text;
    }
    return out;
  }

 private:
  std::string file_;
  std::vector<Problem> list_;
};

// Reads `text` into sections, reporting syntax problems, and hands them to
// `use`; the raw values (they may hold secrets) are wiped when it returns.
void ReadSections(std::string_view text, Problems* problems,
                  const std::function<void(const std::vector<RawSection>&)>& use);

// Turns the sections read into `config` (the [scepd] section first, then
// each [certificate]), reporting each problem at the line of its key.
void CheckSections(const std::vector<RawSection>& sections, Problems* problems,
                   const SerialSources& sources, Config* config);

}  // namespace scepd
