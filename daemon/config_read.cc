// Reading the settings file: the INI text into sections of raw values,
// each with its line (daemon/config_raw.h), and the syntax problems.
#include <ini.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/wipe.h"
#include "daemon/config.h"
#include "daemon/config_raw.h"

namespace scepd {
namespace {

bool IsSpace(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view Trim(std::string_view s) { return TrimLeft(TrimRight(s)); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

namespace {

constexpr std::array<std::string_view, 10> kScepdKeys = {
    "enabled",   "data_dir",      "run_dir",       "check_interval",
    "log_level", "log_target",    "serial_number", "serial_number_command",
    "status_group", "metrics_file",
};

constexpr std::array<std::string_view, 39> kCertificateKeys = {
    "protocol",          "data_dir",           "url",
    "renew_days",        "renew_spread",       "await_result",       "max_await_result",
    "legacy_ciphers",    "key_size",           "subject",
    "alt_name",          "template",           "digital_signature",
    "key_encipherment",
    "server_auth",       "client_auth",        "challenge_password",
    "challenge_password_file", "ca_fingerprint", "ca_identifier",
    "success_script",    "failure_script",     "keep_old",
    "http_timeout",      "tls_ca_file",        "key_type",
    "ec_curve",          "proxy",              "proxy_credentials_file",
    "est_label",         "est_username",       "est_password",
    "est_password_file",
    "cmp_reference",     "cmp_secret",         "cmp_secret_file",
    "cmp_cert",          "cmp_key",            "recipient",
};

bool IsKeyOf(SectionKind kind, std::string_view key) {
  if (key.empty()) return false;
  if (kind == SectionKind::kScepd) {
    return std::find(kScepdKeys.begin(), kScepdKeys.end(), key) != kScepdKeys.end();
  }
  return std::find(kCertificateKeys.begin(), kCertificateKeys.end(), key) !=
         kCertificateKeys.end();
}

}  // namespace

bool IsMultiLineKey(std::string_view key) {
  return key == "success_script" || key == "failure_script" ||
         key == "serial_number_command";
}

namespace {

// ---------------------------------------------------------------------------
// Reading: inih drives, fed one line per call by our reader, which numbers
// the lines and classifies each the way inih will (so we know which line a
// handler call belongs to, and whether it continues the previous key). The
// handler then takes key and value from our copy of the raw line: inih's
// copy is cut at 200 bytes and at an inline ';' comment, and its section and
// key names at 50.

enum class LineKind { kBlank, kComment, kContinuation, kSection, kPair, kMalformed };

class IniParser {
 public:
  IniParser(std::string_view text, Problems* problems)
      : text_(text), problems_(problems) {}
  IniParser(const IniParser&) = delete;
  IniParser& operator=(const IniParser&) = delete;
  ~IniParser() {
    for (RawSection& section : sections_) {
      for (auto& [key, raw] : section.values) Wipe(raw.value);
    }
  }

  void Run() {
    const int rc = ini_parse_stream(&IniParser::Read, this, &IniParser::Handle, this);
    FinishLine();
    if (rc < 0) problems_->Add(0, "", "", "the INI parser ran out of memory");
  }

  std::vector<RawSection>& sections() { return sections_; }

 private:
  static char* Read(char* str, int num, void* self) {
    return static_cast<IniParser*>(self)->NextLine(str, num);
  }
  static int Handle(void* self, const char* /*section*/, const char* /*name*/,
                    const char* /*value*/) {
    static_cast<IniParser*>(self)->OnEntry();
    return 1;  // our own problems list records errors; let inih go on
  }

  char* NextLine(char* str, int num) {
    FinishLine();
    if (pos_ >= text_.size() || num < 3) return nullptr;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view raw = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_no_;
    if (line_no_ == 1 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
    Classify(raw);
    // What inih sees: the line, cut to fit its buffer. A line we already
    // reported is replaced by one that leaves inih's "previous key" state
    // as ours is: blank keeps it, "[]" clears it.
    std::string_view fed = raw;
    if (kind_ == LineKind::kMalformed) fed = prev_name_set_ ? "" : "[]";
    const std::size_t room = static_cast<std::size_t>(num) - 2;
    if (fed.size() > room) fed = fed.substr(0, room);
    std::memcpy(str, fed.data(), fed.size());
    str[fed.size()] = '\n';
    str[fed.size() + 1] = '\0';
    return str;
  }

  // Mirrors inih's per-line decisions (comment, continuation, section, pair).
  void Classify(std::string_view raw) {
    handled_ = false;
    key_ = {};
    value_ = {};
    if (raw.find('\0') != std::string_view::npos) {
      Malformed("syntax error: the line contains a NUL byte");
      return;
    }
    const std::string_view trimmed = Trim(raw);
    if (trimmed.empty()) {
      kind_ = LineKind::kBlank;
    } else if (trimmed.front() == ';' || trimmed.front() == '#') {
      kind_ = LineKind::kComment;
    } else if (prev_name_set_ && IsSpace(raw.front())) {
      kind_ = LineKind::kContinuation;
      value_ = trimmed;
    } else if (trimmed.front() == '[') {
      kind_ = LineKind::kSection;
      OnSection(trimmed);
    } else {
      const std::size_t sep = trimmed.find_first_of("=:");
      if (sep == std::string_view::npos) {
        Malformed("syntax error: expected 'key = value', '[section]' or a comment");
        return;
      }
      kind_ = LineKind::kPair;
      key_ = TrimRight(trimmed.substr(0, sep));
      value_ = Trim(trimmed.substr(sep + 1));
      prev_name_set_ = !key_.empty();
      if (key_.empty()) {
        Malformed("syntax error: a value without a key name");
      }
    }
  }

  void Malformed(std::string_view message) {
    kind_ = LineKind::kMalformed;
    problems_->Add(line_no_, "", "", message);
  }

  // Called before the next line is read: a key line inih did not report
  // (its own parser disagreed, e.g. on "key ; note = value") is an error.
  void FinishLine() {
    if ((kind_ == LineKind::kPair || kind_ == LineKind::kContinuation) && !handled_) {
      problems_->Add(line_no_, "", "",
                     "syntax error: expected 'key = value' (a ';' after a space starts a "
                     "comment in the key part)");
    }
    kind_ = LineKind::kBlank;
  }

  void OnSection(std::string_view trimmed) {
    const std::size_t close = trimmed.find(']');
    if (close == std::string_view::npos) {
      Malformed("syntax error: section header without ']'");
      current_ = kSkipSection;  // its keys would only repeat the error
      return;
    }
    prev_name_set_ = false;
    const std::string_view rest = Trim(trimmed.substr(close + 1));
    if (!rest.empty() && rest.front() != ';' && rest.front() != '#') {
      Malformed("syntax error: text after ']' of a section header");
      current_ = kSkipSection;
      return;
    }
    const std::string_view inner = Trim(trimmed.substr(1, close - 1));
    RawSection section;
    section.line = line_no_;
    if (inner == "scepd") {
      section.kind = SectionKind::kScepd;
      section.header = "scepd";
    } else if (inner == "certificate" ||
               (inner.substr(0, 11) == "certificate" && IsSpace(inner[11]))) {
      section.kind = SectionKind::kCertificate;
      section.name = std::string(TrimLeft(inner.substr(11)));
      section.header = section.name.empty() ? "certificate" : "certificate " + section.name;
      if (!ValidName(section.name)) {
        problems_->Add(line_no_, section.header, "",
                       "a certificate name may only have ASCII letters, digits, '.', '_' "
                       "and '-' (at most 64)");
        current_ = kSkipSection;
        return;
      }
    } else {
      problems_->Add(line_no_, inner, "",
                     "unknown section (expected [scepd], [certificate] or "
                     "[certificate NAME])");
      current_ = kSkipSection;
      return;
    }
    for (const RawSection& other : sections_) {
      if (other.header == section.header) {
        problems_->Add(line_no_, section.header, "",
                       "duplicate section (first on line " + std::to_string(other.line) +
                           ")");
        current_ = kSkipSection;
        return;
      }
    }
    sections_.push_back(std::move(section));
    current_ = static_cast<int>(sections_.size()) - 1;
  }

  static bool ValidName(std::string_view name) {
    if (name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
             c == '.' || c == '_' || c == '-';
    });
  }

  void OnEntry() {
    if (kind_ != LineKind::kPair && kind_ != LineKind::kContinuation) {
      problems_->Add(line_no_, "", "", "syntax error: cannot tell what this line is");
      return;
    }
    if (handled_) return;  // one call per line; a second would be inih's own
    handled_ = true;
    if (kind_ == LineKind::kContinuation) {
      OnContinuation();
      return;
    }
    target_ = nullptr;
    const std::string key(key_);
    if (current_ == kSkipSection) return;
    if (current_ == kNoSection) {
      problems_->Add(line_no_, "", key,
                     "key outside of any section (put it under [scepd] or [certificate])");
      return;
    }
    RawSection& section = sections_[static_cast<std::size_t>(current_)];
    if (!IsKeyOf(section.kind, key)) {
      std::string message = "unknown key";
      if (section.kind == SectionKind::kScepd && IsKeyOf(SectionKind::kCertificate, key)) {
        message += " (it belongs in [certificate])";
      } else if (section.kind == SectionKind::kCertificate &&
                 IsKeyOf(SectionKind::kScepd, key)) {
        message += " (it belongs in [scepd])";
      }
      problems_->Add(line_no_, section.header, key, message);
      return;
    }
    if (auto it = section.values.find(key); it != section.values.end()) {
      problems_->Add(line_no_, section.header, key,
                     "duplicate key (first set on line " + std::to_string(it->second.line) +
                         ")");
      return;
    }
    RawValue& raw = section.values[key];
    raw.value = std::string(value_);
    raw.line = line_no_;
    target_ = &raw;
    target_key_ = key;
    target_header_ = section.header;
    continuation_reported_ = false;
  }

  void OnContinuation() {
    if (target_ == nullptr) return;  // continues an ignored or rejected key
    if (!IsMultiLineKey(target_key_)) {
      if (!continuation_reported_) {
        problems_->Add(line_no_, target_header_, target_key_,
                       "only success_script, failure_script and serial_number_command may "
                       "continue on indented lines");
        continuation_reported_ = true;
      }
      return;
    }
    if (!target_->value.empty()) target_->value += "\n";
    target_->value += value_;
  }

  static constexpr int kNoSection = -1;
  static constexpr int kSkipSection = -2;

  std::string_view text_;
  Problems* problems_;
  std::size_t pos_ = 0;
  int line_no_ = 0;
  LineKind kind_ = LineKind::kBlank;
  bool handled_ = false;
  bool prev_name_set_ = false;
  std::string_view key_;
  std::string_view value_;
  int current_ = kNoSection;
  std::vector<RawSection> sections_;
  RawValue* target_ = nullptr;  // the value continuation lines extend
  std::string target_key_;
  std::string target_header_;
  bool continuation_reported_ = false;
};

}  // namespace

void ReadSections(std::string_view text, Problems* problems,
                  const std::function<void(const std::vector<RawSection>&)>& use) {
  IniParser parser(text, problems);
  parser.Run();
  use(parser.sections());
}

std::span<const std::string_view> ScepdSettingsKeys() noexcept { return kScepdKeys; }

std::span<const std::string_view> CertificateSettingsKeys() noexcept { return kCertificateKeys; }

}  // namespace scepd
