// Checking the settings every section gets: raw values (daemon/config_raw.h)
// to typed settings, each problem at the line of its key.
#include <openssl/crypto.h>

#include <grp.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/alt_name.h"
#include "core/csr.h"
#include "core/subject.h"
#include "core/url_mask.h"
#include "core/wipe.h"
#include "daemon/config.h"
#include "daemon/config_check_protocols.h"
#include "daemon/config_raw.h"
#include "daemon/duration.h"
#include "io/files.h"

namespace scepd {
namespace {

constexpr std::size_t kMaxPasswordFileSize = 4096;
constexpr std::int64_t kMinCheckInterval = 60;
constexpr std::int64_t kMaxCheckInterval = 365 * 24 * 60 * 60;

// ---------------------------------------------------------------------------
// Checking: raw values to typed settings.

std::optional<bool> ParseBool(std::string_view text) {
  const std::string v = Lower(text);
  if (v == "yes" || v == "true" || v == "on" || v == "1") return true;
  if (v == "no" || v == "false" || v == "off" || v == "0") return false;
  return std::nullopt;
}

std::optional<std::int64_t> ParseWhole(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

bool HasControl(std::string_view text, bool allow_newline) {
  return std::any_of(text.begin(), text.end(), [&](char c) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') return !allow_newline;
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

std::string NormaliseDir(std::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  return std::string(dir);
}

// "cannot read 'PATH': why" from an io/files.h error (which names the path
// itself: "cannot open PATH: No such file ...", "PATH is not a regular file").
std::string CannotRead(const std::string& path, const Error& error) {
  std::string reason = error.message;
  if (const std::size_t at = reason.find(path + ": "); at != std::string::npos) {
    reason.erase(0, at + path.size() + 2);
  }
  return "cannot read '" + path + "': " + reason;
}

// A core message without its leading "field: " (the settings name the key).
std::string WithoutField(std::string message) {
  const std::size_t colon = message.find(": ");
  if (colon != std::string::npos && message.find(' ') > colon) message.erase(0, colon + 2);
  return message;
}

// Turns one section's raw values into settings, reporting problems.
class Checker {
 public:
  // `daemon` is read when SN is replaced, so it must be checked first.
  Checker(Problems* problems, const SerialSources* sources, const DaemonSettings* daemon)
      : problems_(problems), sources_(sources), daemon_(daemon) {}

  void CheckDaemon(const RawSection* section, DaemonSettings* out) {
    section_ = section;
    if (section == nullptr) return;
    Bool("enabled", &out->enabled);
    Dir("data_dir", &out->data_dir);
    Dir("run_dir", &out->run_dir);
    if (const RawValue* raw = Find("check_interval")) {
      auto seconds = ParseDuration(raw->value);
      if (!seconds.ok()) {
        Report(*raw, "check_interval", seconds.error().message);
      } else if (*seconds < kMinCheckInterval || *seconds > kMaxCheckInterval) {
        Report(*raw, "check_interval",
               "must be from 1m to 365d, not '" + raw->value + "'");
      } else {
        out->check_interval = *seconds;
      }
    }
    if (const RawValue* raw = Find("log_level")) {
      static constexpr std::array<LogLevel, 7> kLevels = {
          LogLevel::kTrace, LogLevel::kDebug,    LogLevel::kInfo, LogLevel::kWarning,
          LogLevel::kError, LogLevel::kCritical, LogLevel::kOff};
      const std::string v = Lower(raw->value);
      auto it = std::find_if(kLevels.begin(), kLevels.end(),
                             [&](LogLevel l) { return v == LogLevelName(l); });
      if (it == kLevels.end()) {
        Report(*raw, "log_level",
               "expected trace, debug, info, warning, error, critical or off, not '" +
                   raw->value + "'");
      } else {
        out->log_level = *it;
      }
    }
    if (const RawValue* raw = Find("log_target")) {
      const std::string v = Lower(raw->value);
      if (v == "syslog") {
        out->log_target = LogTarget::kSyslog;
      } else if (v == "stderr") {
        out->log_target = LogTarget::kStderr;
      } else if (v == "both") {
        out->log_target = LogTarget::kBoth;
      } else {
        Report(*raw, "log_target", "expected syslog, stderr or both, not '" + raw->value + "'");
      }
    }
    if (Text("serial_number", &out->serial_number) && !out->serial_number.empty()) {
      // Checked even when no SN uses it: a bad serial should not wait for
      // the day someone adds the wildcard.
      DaemonSettings only_serial;
      only_serial.serial_number = out->serial_number;
      if (auto serial = FindSerialNumber(only_serial, SerialSources{}); !serial.ok()) {
        Report(*Find("serial_number"), "serial_number", serial.error().message);
        out->serial_number.clear();
      }
    }
    Text("serial_number_command", &out->serial_number_command);
    if (Text("status_group", &out->status_group) && !out->status_group.empty() &&
        ::getgrnam(out->status_group.c_str()) == nullptr) {
      Report(*Find("status_group"), "status_group",
             "no such group '" + out->status_group + "'");
      out->status_group.clear();
    }
    if (const RawValue* raw = Find("metrics_file"); raw != nullptr && !raw->value.empty()) {
      Dir("metrics_file", &out->metrics_file);
    }
  }

  void CheckCertificate(const RawSection& section, const DaemonSettings& daemon,
                        CertificateSettings* out) {
    section_ = &section;
    out->name = section.name;
    if (section.name.empty()) {
      out->data_dir = daemon.data_dir;
      if (const RawValue* raw = Find("data_dir")) {
        Report(*raw, "data_dir",
               "not allowed in the unnamed [certificate], which uses [scepd] data_dir; "
               "only [certificate NAME] sections have their own");
      }
    } else if (!Dir("data_dir", &out->data_dir) && !Find("data_dir")) {
      problems_->Add(section.line, section.header, "data_dir",
                     "required in a named certificate section");
    }
    if (const RawValue* raw = Find("url")) {
      if (std::string problem = UrlProblem(raw->value); !problem.empty()) {
        Report(*raw, "url", problem);
      } else {
        out->url = raw->value;
      }
    } else if (daemon.enabled) {
      problems_->Add(section.line, section.header, "url", "required when enabled = yes");
    }
    if (const RawValue* raw = Find("protocol")) {
      if (raw->value == "scep" || raw->value == "est" || raw->value == "cmp") {
        out->protocol = raw->value;
      } else {
        Report(*raw, "protocol", "expected scep, cmp or est, not '" + raw->value + "'");
      }
    }
    Int("renew_days", 1, 3650, &out->renew_days);
    Int("renew_spread", 0, 100, &out->renew_spread);
    Int("await_result", 1, 86400, &out->await_result);
    Int("max_await_result", 0, 43200, &out->max_await_result);
    Bool("legacy_ciphers", &out->legacy_ciphers);
    if (Int("key_size", 1024, 16384, &out->key_size) && out->key_size % 8 != 0) {
      Report(*Find("key_size"), "key_size",
             "must be a multiple of 8, not " + std::to_string(out->key_size));
      out->key_size = CertificateSettings().key_size;
    }
    if (const RawValue* raw = Find("key_type")) {
      if (raw->value == "rsa") {
        out->key_type = KeyType::kRsa;
      } else if (raw->value == "ec") {
        out->key_type = KeyType::kEc;
      } else {
        Report(*raw, "key_type", "expected rsa or ec, not '" + raw->value + "'");
      }
    }
    if (const RawValue* raw = Find("ec_curve")) {
      if (raw->value == "P-256" || raw->value == "P-384") {
        out->ec_curve = raw->value;
      } else {
        Report(*raw, "ec_curve", "expected P-256 or P-384, not '" + raw->value + "'");
      }
    }
    if (const RawValue* raw = Find("subject")) {
      if (std::optional<std::string> v = WithSerial(*raw, "subject")) {
        auto name = ParseSubject(*v);
        if (!name.ok()) {
          std::string message = name.error().message;
          if (message.rfind("subject: ", 0) == 0) message.erase(0, 9);
          Report(*raw, "subject", message);
        } else {
          out->subject = std::move(*v);
        }
      }
    } else if (daemon.enabled) {
      problems_->Add(section.line, section.header, "subject", "required when enabled = yes");
    }
    if (const RawValue* raw = Find("alt_name")) {
      if (std::optional<std::string> v = WithSerial(*raw, "alt_name")) {
        auto names = ParseAltNames(*v);
        if (!names.ok()) {
          Report(*raw, "alt_name", names.error().message);
        } else {
          out->alt_name = std::move(*v);
        }
      }
    }
    if (Text("template", &out->template_name)) {
      if (Status st = CheckTemplateName(out->template_name); !st.ok()) {
        Report(*Find("template"), "template", WithoutField(st.error().message));
        out->template_name.clear();
      }
    }
    Bool("digital_signature", &out->digital_signature);
    Bool("key_encipherment", &out->key_encipherment);
    Bool("server_auth", &out->server_auth);
    Bool("client_auth", &out->client_auth);
    CheckChallenge(out);
    if (const RawValue* raw = Find("ca_fingerprint")) {
      auto pin = ParseFingerprint(raw->value);
      if (!pin.ok()) {
        Report(*raw, "ca_fingerprint", pin.error().message);
      } else {
        out->ca_fingerprint = std::move(*pin);
      }
    }
    Text("ca_identifier", &out->ca_identifier);
    Text("success_script", &out->success_script);
    Text("failure_script", &out->failure_script);
    Int("keep_old", 0, 100, &out->keep_old);
    Int("http_timeout", 1, 3600, &out->http_timeout);
    if (const RawValue* raw = Find("tls_ca_file")) {
      if (raw->value.empty() || raw->value.front() != '/' || HasControl(raw->value, false)) {
        Report(*raw, "tls_ca_file", "expected an absolute path, not '" + raw->value + "'");
      } else if (Status st = CheckRegularFile(raw->value); !st.ok()) {
        Report(*raw, "tls_ca_file", CannotRead(raw->value, st.error()));
      } else {
        out->tls_ca_file = raw->value;
      }
    }
    CheckProxy(out);
    for (std::string_view key : {"est_label", "est_username", "est_password", "est_password_file"}) {
      if (const RawValue* raw = Find(key); raw != nullptr && out->protocol != "est") {
        Report(*raw, key, "only used with protocol = est");
      }
    }
    if (out->protocol == "est") {
      Text("est_label", &out->est_label);
      Text("est_username", &out->est_username);
      Text("est_password", &out->est_password);
      Text("est_password_file", &out->est_password_file);
    }
    CheckCmpValues(out);
    if (out->protocol == "est") {  // (SCEP's own check says the same for scep)
      for (std::string_view key :
           {"cmp_reference", "cmp_secret", "cmp_secret_file", "cmp_cert", "cmp_key", "recipient"}) {
        if (const RawValue* raw = Find(key)) Report(*raw, key, "only used with protocol = cmp");
      }
    }
    // The protocol's own rules (config_check_<protocol>.cc), at the line of
    // the key they are about.
    std::vector<ProtocolProblem> protocol_problems;
    if (out->protocol == "scep") protocol_problems = CheckScepSettings(*out);
    if (out->protocol == "est") protocol_problems = CheckEstSettings(out);
    if (out->protocol == "cmp") protocol_problems = CheckCmpSettings(*out);
    for (const ProtocolProblem& p : protocol_problems) {
      if (const RawValue* raw = Find(p.key)) {
        Report(*raw, p.key, p.message);
      } else {
        problems_->Add(section.line, section.header, p.key, p.message);
      }
    }
  }

  // The CMP keys' values, whatever the protocol (config_check_cmp.cc says
  // which are needed and which belong to another protocol).
  void CheckCmpValues(CertificateSettings* out) {
    if (const RawValue* raw = Find("cmp_reference")) {
      if (raw->value.empty()) {
        Report(*raw, "cmp_reference", "must not be empty (the reference number the CA gave)");
      } else if (HasControl(raw->value, false)) {
        Report(*raw, "cmp_reference", "contains a control character");
      } else {
        out->cmp_reference = raw->value;
      }
    }
    CheckSecret("cmp_secret", "cmp_secret_file", &out->cmp_secret, &out->cmp_secret_file,
                nullptr);
    for (auto [key, field] : {std::pair{"cmp_cert", &out->cmp_cert},
                              std::pair{"cmp_key", &out->cmp_key}}) {
      const RawValue* raw = Find(key);
      if (raw == nullptr) continue;
      if (raw->value.empty() || raw->value.front() != '/' || HasControl(raw->value, false)) {
        Report(*raw, key, "expected an absolute path, not '" + raw->value + "'");
      } else if (Status st = CheckRegularFile(raw->value); !st.ok()) {
        Report(*raw, key, CannotRead(raw->value, st.error()));
      } else {
        *field = raw->value;
      }
    }
    if (const RawValue* raw = Find("recipient")) {
      auto name = ParseSubject(raw->value);
      if (!name.ok()) {
        std::string message = name.error().message;
        if (message.rfind("subject: ", 0) == 0) message.erase(0, 9);
        Report(*raw, "recipient", message);
      } else {
        out->recipient = raw->value;
      }
    }
  }

  static Result<CaFingerprint> ParseFingerprint(std::string_view text) {
    CaFingerprint pin;
    std::string_view hex = text;
    std::size_t expected = 0;
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && colon > 2) {  // "ab:cd" is hex, "md5:" is not
      pin.algorithm = Lower(Trim(text.substr(0, colon)));
      hex = Trim(text.substr(colon + 1));
      if (pin.algorithm == "sha256") {
        expected = 32;
      } else if (pin.algorithm == "sha1") {
        expected = 20;
      } else if (pin.algorithm == "md5") {
        expected = 16;
      } else {
        return MakeError(ErrorCode::kInvalidArgument,
                         "unknown digest '" + std::string(text.substr(0, colon)) +
                             "' (expected sha256:, sha1: or md5: before the hex digits)");
      }
    }
    auto bytes = HexDecode(hex);
    if (!bytes.ok() || bytes->empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "'" + std::string(text) + "' is not a fingerprint (" +
                           (bytes.ok() ? std::string("no hex digits") : bytes.error().message) +
                           "); expected e.g. sha256:AB:CD:... or sha1:ABCD...");
    }
    if (expected == 0) {  // no prefix: the length tells
      switch (bytes->size()) {
        case 32: pin.algorithm = "sha256"; break;
        case 20: pin.algorithm = "sha1"; break;
        case 16: pin.algorithm = "md5"; break;
        default:
          return MakeError(ErrorCode::kInvalidArgument,
                           "a fingerprint without sha256:, sha1: or md5: must have 32, 20 or "
                           "16 bytes, this one has " +
                               std::to_string(bytes->size()));
      }
    } else if (bytes->size() != expected) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "a " + pin.algorithm + " fingerprint has " + std::to_string(expected) +
                           " bytes, this one has " + std::to_string(bytes->size()));
    }
    pin.digest = std::move(*bytes);
    return pin;
  }

 private:
  const RawValue* Find(std::string_view key) const {
    auto it = section_->values.find(key);
    return it == section_->values.end() ? nullptr : &it->second;
  }

  void Report(const RawValue& raw, std::string_view key, std::string_view message) {
    problems_->Add(raw.line, section_->header, key, message);
  }

  bool Bool(std::string_view key, bool* out) {
    const RawValue* raw = Find(key);
    if (raw == nullptr) return false;
    std::optional<bool> v = ParseBool(raw->value);
    if (!v) {
      Report(*raw, key,
             "expected yes or no (or true/false, on/off, 1/0), not '" + raw->value + "'");
      return false;
    }
    *out = *v;
    return true;
  }

  bool Int(std::string_view key, int min, int max, int* out) {
    const RawValue* raw = Find(key);
    if (raw == nullptr) return false;
    std::optional<std::int64_t> v = ParseWhole(raw->value);
    if (!v || *v < min || *v > max) {
      Report(*raw, key,
             "expected a whole number from " + std::to_string(min) + " to " +
                 std::to_string(max) + ", not '" + raw->value + "'");
      return false;
    }
    *out = static_cast<int>(*v);
    return true;
  }

  bool Text(std::string_view key, std::string* out) {
    const RawValue* raw = Find(key);
    if (raw == nullptr) return false;
    if (HasControl(raw->value, IsMultiLineKey(key))) {
      Report(*raw, key, "contains a control character");
      return false;
    }
    *out = raw->value;
    return true;
  }

  bool Dir(std::string_view key, std::string* out) {
    const RawValue* raw = Find(key);
    if (raw == nullptr) return false;
    if (raw->value.empty() || raw->value.front() != '/' || HasControl(raw->value, false)) {
      Report(*raw, key, "expected an absolute path, not '" + raw->value + "'");
      return false;
    }
    *out = NormaliseDir(raw->value);
    return true;
  }

  static std::string UrlProblem(std::string_view url) {
    const std::string lower = Lower(url);
    std::size_t host_start = 0;
    if (lower.rfind("http://", 0) == 0) {
      host_start = 7;
    } else if (lower.rfind("https://", 0) == 0) {
      host_start = 8;
    } else {
      return "expected an http:// or https:// URL, not '" + std::string(url) + "'";
    }
    for (char c : url) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
        return "a URL cannot contain spaces or control characters";
      }
    }
    if (host_start == url.size() || url[host_start] == '/' || url[host_start] == ':' ||
        url[host_start] == '?') {
      return "the URL '" + std::string(url) + "' has no host";
    }
    return "";
  }

  // The value with SN replaced, or nullopt after reporting why not.
  std::optional<std::string> WithSerial(const RawValue& raw, std::string_view key) {
    if (HasControl(raw.value, false)) {
      Report(raw, key, "contains a control character");
      return std::nullopt;
    }
    if (!UsesSerialWildcard(raw.value)) return SubstituteSerial(raw.value, "");
    if (!serial_) serial_.emplace(FindSerialNumber(*daemon_, *sources_));
    if (!serial_->ok()) {
      Report(raw, key, "uses the SN wildcard, but " + serial_->error().message);
      return std::nullopt;
    }
    return SubstituteSerial(raw.value, **serial_);
  }

  // proxy and proxy_credentials_file: a proxy URL without user-info (the
  // credentials come from the file, so they are in no settings line, log or
  // --check-config output).
  void CheckProxy(CertificateSettings* out) {
    if (const RawValue* raw = Find("proxy")) {
      const std::string& v = raw->value;
      const std::size_t scheme_end = v.find("://");
      const std::string scheme = scheme_end == std::string::npos ? "" : Lower(v.substr(0, scheme_end));
      const std::string rest = scheme_end == std::string::npos ? v : v.substr(scheme_end + 3);
      const std::string authority = rest.substr(0, rest.find('/'));
      const std::size_t colon = authority.rfind(':');
      const bool has_port = colon != std::string::npos && colon + 1 < authority.size() &&
                            authority.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
                            (authority.find(']') == std::string::npos || authority.find(']') < colon);
      if (v.empty() || HasControl(v, false) || v.find(' ') != std::string::npos) {
        Report(*raw, "proxy", "expected host:port or a proxy URL, not '" + v + "'");
      } else if (authority.find('@') != std::string::npos) {
        Report(*raw, "proxy",
               "credentials do not go into the URL (they would be shown and logged); "
               "put user:password into the file named by proxy_credentials_file");
      } else if (!scheme.empty() && scheme != "http" && scheme != "https" && scheme != "socks5" &&
                 scheme != "socks5h") {
        Report(*raw, "proxy", "scheme '" + scheme + "' is not http, https, socks5 or socks5h");
      } else if (!has_port || colon == 0 || rest.size() > authority.size() + 1) {
        Report(*raw, "proxy", "expected host:port (a port number is required), not '" + v + "'");
      } else {
        out->proxy = v;
      }
    }
    const RawValue* file = Find("proxy_credentials_file");
    if (file == nullptr) return;
    const std::string& path = file->value;
    if (Find("proxy") == nullptr) {
      Report(*file, "proxy_credentials_file", "set without proxy");
      return;
    }
    if (path.empty() || path.front() != '/' || HasControl(path, false)) {
      Report(*file, "proxy_credentials_file", "expected an absolute path, not '" + path + "'");
      return;
    }
    auto read = ReadFileText(path, 64 * 1024);  // regular files only, never blocks
    if (!read.ok()) {
      Report(*file, "proxy_credentials_file", CannotRead(path, read.error()));
      return;
    }
    std::string content = std::move(*read);
    OPENSSL_cleanse(read->data(), read->capacity());
    const std::string::size_type end = content.find_first_of("\r\n");
    std::string first(content, 0, end == std::string::npos ? content.size() : end);
    Wipe(content);
    if (first.empty() || first.size() > 1024 || HasControl(first, false) ||
        first.find(':') == std::string::npos) {
      Wipe(first);
      Report(*file, "proxy_credentials_file",
             "'" + path + "' must hold user:password on its first line");
      return;
    }
    out->proxy_credentials_file = path;
    out->proxy_credentials = std::move(first);
  }

  void CheckChallenge(CertificateSettings* out) {
    CheckSecret("challenge_password", "challenge_password_file", &out->challenge_password,
                &out->challenge_password_file, &CheckChallengePassword);
  }

  // A secret given inline (`inline_key`) or read from the file `file_key`
  // names (one line, trailing newlines removed), never both; `check` (may be
  // null) adds the protocol's own rules.
  void CheckSecret(const char* inline_key, const char* file_key, std::string* secret,
                   std::string* secret_file, Status (*check)(std::string_view)) {
    const RawValue* inline_password = Find(inline_key);
    const RawValue* file = Find(file_key);
    if (inline_password != nullptr && file != nullptr) {
      const RawValue& later = inline_password->line > file->line ? *inline_password : *file;
      const RawValue& first = inline_password->line > file->line ? *file : *inline_password;
      Report(later, &later == inline_password ? inline_key : file_key,
             "conflicts with " +
                 std::string(&first == file ? file_key : inline_key) +
                 " on line " + std::to_string(first.line) + "; set only one");
      return;
    }
    if (inline_password != nullptr) {
      if (HasControl(inline_password->value, false)) {
        Report(*inline_password, inline_key, "contains a control character");
        return;
      }
      if (Status st = check ? check(inline_password->value) : Status(); !st.ok()) {
        Report(*inline_password, inline_key, WithoutField(st.error().message));
        return;
      }
      *secret = inline_password->value;
      return;
    }
    if (file == nullptr) return;
    const std::string& path = file->value;
    if (path.empty() || path.front() != '/' || HasControl(path, false)) {
      Report(*file, file_key, "expected an absolute path, not '" + path + "'");
      return;
    }
    // Non-blocking and regular files only (io/files.h): a FIFO here must
    // not hang even --check-config.
    auto read = ReadFileText(path, 64 * 1024);
    if (!read.ok()) {
      Report(*file, file_key, CannotRead(path, read.error()));
      return;
    }
    std::string content = std::move(*read);
    OPENSSL_cleanse(read->data(), read->capacity());  // what a short string left behind
    if (content.size() > kMaxPasswordFileSize) {
      Wipe(content);
      Report(*file, file_key,
             "'" + path + "' is larger than " + std::to_string(kMaxPasswordFileSize) +
                 " bytes; it should hold only the password");
      return;
    }
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
      content.back() = '\0';
      content.pop_back();
    }
    if (content.empty()) {
      Report(*file, file_key, "'" + path + "' is empty");
      return;
    }
    if (HasControl(content, false)) {
      Wipe(content);
      Report(*file, file_key,
             "'" + path + "' holds a control character or more than one line");
      return;
    }
    if (Status st = check ? check(content) : Status(); !st.ok()) {
      Wipe(content);
      Report(*file, file_key,
             "'" + path + "': " + WithoutField(st.error().message));
      return;
    }
    *secret_file = path;
    *secret = std::move(content);
  }

  Problems* problems_;
  const SerialSources* sources_;
  const DaemonSettings* daemon_;
  const RawSection* section_ = nullptr;
  std::optional<Result<std::string>> serial_;
};

}  // namespace

void CheckSections(const std::vector<RawSection>& sections, Problems* problems,
                   const SerialSources& sources, Config* config) {
  Checker checker(problems, &sources, &config->daemon);
  const RawSection* daemon_section = nullptr;
  for (const RawSection& s : sections) {
    if (s.kind == SectionKind::kScepd) daemon_section = &s;
  }
  checker.CheckDaemon(daemon_section, &config->daemon);

  // Which section claimed each data_dir, to refuse two certificates in one.
  std::vector<std::pair<std::string, std::string>> dirs;
  for (const RawSection& s : sections) {
    if (s.kind == SectionKind::kCertificate && s.name.empty()) {
      dirs.emplace_back(config->daemon.data_dir, "[certificate] (data_dir of [scepd])");
    }
  }
  for (const RawSection& s : sections) {
    if (s.kind != SectionKind::kCertificate) continue;
    CertificateSettings cert;
    checker.CheckCertificate(s, config->daemon, &cert);
    if (!s.name.empty() && !cert.data_dir.empty()) {
      auto it = std::find_if(dirs.begin(), dirs.end(),
                             [&](const auto& d) { return d.first == cert.data_dir; });
      if (it != dirs.end()) {
        problems->Add(s.values.at("data_dir").line, s.header, "data_dir",
                      "'" + cert.data_dir + "' is already used by " + it->second);
      } else {
        dirs.emplace_back(cert.data_dir, "[" + s.header + "]");
      }
    }
    config->certificates.push_back(std::move(cert));
  }
  if (config->daemon.enabled && config->certificates.empty()) {
    const int line = daemon_section->values.at("enabled").line;
    problems->Add(line, "scepd", "enabled",
                  "automation is enabled, but there is no [certificate] section");
  }
}

}  // namespace scepd
