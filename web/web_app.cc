#include "web/web_app.h"

#include <openssl/crypto.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "daemon/config.h"
#include "daemon/status_command.h"
#include "daemon/status_publisher.h"
#include "io/files.h"
#include "web/csrf.h"
#include "web/field_specs.h"
#include "web/html.h"
#include "web/settings_edit.h"
#include "web/status_page.h"

namespace scepd::web {

namespace {

constexpr std::size_t kMaxSettingsFile = 1 << 20;

// Wipes a string that may hold the challenge password.
struct Wiped {
  std::string text;
  ~Wiped() { OPENSSL_cleanse(text.data(), text.size()); }
};

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    default: return "Internal Server Error";
  }
}

CgiResponse Html(int status, const std::string& html) {
  CgiResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "text/html; charset=utf-8"},
               {"Cache-Control", "no-store"},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               {"Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
                "frame-ancestors 'none'"}};
  r.body = html;
  return r;
}

CgiResponse ErrorPage(int status, const std::string& what) {
  return Html(status,
              Page("Request refused",
                   "<p class=\"error\" id=\"request-error\">" + Escape(what) +
                       "</p>\n<p>Nothing was changed. <a href=\"?page=status\">Back to the "
                       "status</a></p>\n"));
}

std::string QueryParam(const std::string& query, const std::string& name) {
  auto fields = ParseForm(query);
  if (!fields.ok()) return "";
  auto it = fields->find(name);
  return it == fields->end() ? "" : it->second;
}

// The daemon's run_dir according to the file as far as it is valid.
std::string RunDirOf(const std::string& text, const std::string& path) {
  Config c = SettingsAsFarAsValid(text, path);
  std::string dir = c.daemon.run_dir;
  WipeSecrets(&c);
  return dir;
}

bool Checked(const std::optional<std::string>& raw, bool fallback) {
  if (!raw) return fallback;
  std::string v;
  for (char ch : *raw) v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  return v == "yes" || v == "true" || v == "on" || v == "1";
}

// One problem line of the checker, "PATH:LINE: [header] key: message".
struct Problem {
  std::string header, key, line;
};

std::vector<Problem> Problems(const std::string& message) {
  std::vector<Problem> out;
  std::size_t at = 0;
  while (at < message.size()) {
    std::size_t end = message.find('\n', at);
    if (end == std::string::npos) end = message.size();
    Problem p;
    p.line = message.substr(at, end - at);
    const std::size_t open = p.line.find(": [");
    const std::size_t close = open == std::string::npos ? open : p.line.find("] ", open);
    if (close != std::string::npos) {
      p.header = p.line.substr(open + 3, close - open - 3);
      const std::size_t colon = p.line.find(": ", close + 2);
      if (colon != std::string::npos) p.key = p.line.substr(close + 2, colon - close - 2);
    }
    out.push_back(std::move(p));
    at = end + 1;
  }
  return out;
}

// Signals the daemon of `run_dir`; "" when sent, else why not.
std::string SignalDaemon(const std::string& run_dir, int signo) {
  DaemonLiveness d = FindDaemon(run_dir);
  if (!d.running || d.pid <= 1) return "the daemon is not running";
  if (::kill(static_cast<pid_t>(d.pid), signo) != 0) return "the daemon could not be signalled";
  return "";
}

struct FormState {
  std::string header;                            // the section being edited
  std::map<std::string, std::string> values;     // shown values
  std::map<std::string, std::string> errors;     // by field key
  std::vector<std::string> general_errors;
  std::string notice_html;                       // result of an Apply
  std::map<std::string, bool> secret_set;        // by secret field key
};

// Whether the secret of `spec` is set in section `header` of `text`, inline
// or as a file. The value itself is wiped at once.
bool SecretSet(const std::string& text, const std::string& header, const FieldSpec& spec) {
  std::optional<std::string> raw = RawValue(text, header, spec.key);
  const bool set = (raw && !raw->empty()) || RawValue(text, header, SecretFileKey(spec)).has_value();
  if (raw) OPENSSL_cleanse(raw->data(), raw->size());
  return set;
}

const char* ProtocolHeading(std::string_view protocol) {
  if (protocol == "scep") return "SCEP (protocol scep)";
  if (protocol == "est") return "EST (protocol est)";
  if (protocol == "cmp") return "CMP (protocol cmp)";
  return "";
}

std::string RenderConfig(const std::string& token, const std::vector<std::string>& headers,
                         const FormState& s, const std::string& config_path) {
  std::string body;
  body += "<p>Settings file <code>" + Escape(config_path) + "</code>.</p>\n";
  if (headers.size() > 1) {
    body += "<p id=\"sections\">Certificate:";
    for (const std::string& h : headers) {
      const std::string name = h == "certificate" ? "" : h.substr(12);
      body += h == s.header ? " <strong>" + Escape(h) + "</strong>"
                            : " <a href=\"?page=config&amp;cert=" + Escape(UrlEncode(name)) +
                                  "\">" + Escape(h) + "</a>";
    }
    body += "</p>\n";
  }
  body += s.notice_html;
  for (const std::string& e : s.general_errors) {
    body += "<p class=\"error general-error\">" + Escape(e) + "</p>\n";
  }
  body += "<form method=\"post\" action=\"?page=config\" id=\"config-form\">\n";
  body += "<input type=\"hidden\" name=\"csrf\" value=\"" + Escape(token) + "\">\n";
  body += "<input type=\"hidden\" name=\"section\" value=\"" + Escape(s.header) + "\">\n";
  body += "<h2>[" + Escape(s.header) + "]</h2>\n<table>\n";
  std::string_view group;
  for (const FieldSpec& f : FieldSpecs()) {
    auto v = s.values.find(f.key);
    const std::string value = v == s.values.end() ? "" : v->second;
    const std::string id = "f-" + std::string(f.key);
    if (f.protocol != group) {
      group = f.protocol;
      body += "<tr class=\"group\"><th colspan=\"3\" id=\"group-" + std::string(group) + "\">" +
              ProtocolHeading(group) + "</th></tr>\n";
    }
    body += "<tr><th><label for=\"" + id + "\">" + Escape(f.label) + "</label></th><td>";
    switch (f.kind) {
      case FieldKind::kCheckbox:
        body += "<input type=\"checkbox\" id=\"" + id + "\" name=\"" + f.key + "\" value=\"yes\"" +
                (value == "yes" ? " checked" : "") + ">";
        break;
      case FieldKind::kNumber:
        body += "<input type=\"text\" inputmode=\"numeric\" size=\"8\" id=\"" + id + "\" name=\"" +
                f.key + "\" value=\"" + Escape(value) + "\">";
        break;
      case FieldKind::kText:
        body += "<input type=\"text\" id=\"" + id + "\" name=\"" + f.key + "\" value=\"" +
                Escape(value) + "\">";
        break;
      case FieldKind::kTextarea:
        body += "<textarea rows=\"3\" id=\"" + id + "\" name=\"" + f.key + "\">" + Escape(value) +
                "</textarea>";
        break;
      case FieldKind::kPassword: {
        // Never the secret itself: an empty field keeps it, Remove deletes it.
        auto set = s.secret_set.find(f.key);
        const bool is_set = set != s.secret_set.end() && set->second;
        body += "<input type=\"password\" autocomplete=\"off\" id=\"" + id + "\" name=\"" + f.key +
                "\" value=\"\" placeholder=\"" +
                (is_set ? "(set; empty keeps it)" : "(not set)") + "\">";
        if (is_set) {
          const std::string clear = SecretClearField(f);
          body += " <label><input type=\"checkbox\" id=\"f-" + clear + "\" name=\"" + clear +
                  "\" value=\"yes\"> Remove</label>";
        }
        break;
      }
      case FieldKind::kChoice: {
        body += "<select id=\"" + id + "\" name=\"" + f.key + "\">";
        std::vector<std::string> choices = Choices(f);
        // A value the checker refuses is still shown as it is in the file.
        if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
          choices.push_back(value);
        }
        for (const std::string& c : choices) {
          body += "<option value=\"" + Escape(c) + "\"" + (c == value ? " selected" : "") + ">" +
                  Escape(c) + "</option>";
        }
        body += "</select>";
        break;
      }
    }
    auto err = s.errors.find(f.key);
    if (err != s.errors.end()) {
      body += "<div class=\"error field-error\" id=\"error-" + std::string(f.key) + "\">" +
              Escape(err->second) + "</div>";
    }
    body += "</td><td class=\"help\">" + Escape(f.help) + "</td></tr>\n";
  }
  body += "</table>\n<p><button type=\"submit\" id=\"apply\" name=\"action\" "
          "value=\"apply\">Apply</button></p>\n</form>\n";
  return Page("Global", body);
}

// The values the form shows for `header` of `text`.
FormState StateFromFile(const std::string& text, const std::string& header) {
  FormState s;
  s.header = header;
  const CertificateSettings defaults;
  for (const FieldSpec& f : FieldSpecs()) {
    const std::string section = f.global ? "scepd" : header;
    std::optional<std::string> raw = RawValue(text, section, f.key);
    if (f.kind == FieldKind::kPassword) {
      s.secret_set[f.key] = SecretSet(text, section, f);
      if (raw) OPENSSL_cleanse(raw->data(), raw->size());
      continue;
    }
    if (f.kind == FieldKind::kCheckbox) {
      s.values[f.key] = Checked(raw, f.default_checked) ? "yes" : "no";
    } else {
      s.values[f.key] = raw ? *raw : f.default_value;
    }
  }
  return s;
}

CgiResponse Apply(const WebOptions& options, const std::string& token,
                  std::map<std::string, std::string>& fields) {
  Wiped text;
  {
    auto read = ReadFileText(options.config_path, kMaxSettingsFile);
    if (!read.ok()) return ErrorPage(500, read.error().message);
    text.text = std::move(*read);
  }
  const std::vector<std::string> headers = CertificateHeaders(text.text);
  const std::string header = fields["section"];
  const bool known = std::find(headers.begin(), headers.end(), header) != headers.end();
  if (!known && !(headers.empty() && header == "certificate")) {
    return ErrorPage(400, "No section [" + header + "] in the settings file.");
  }
  FormState s;
  s.header = header;
  // Keys whose value is what the page showed are left alone (a default
  // stays unwritten, a line keeps its spelling).
  const FormState shown_before = StateFromFile(text.text, header);
  std::map<std::string, std::optional<std::string>> global, cert;
  for (const FieldSpec& f : FieldSpecs()) {
    auto it = fields.find(f.key);
    std::string value = it == fields.end() ? "" : it->second;
    if (f.kind != FieldKind::kTextarea && value.find('\n') != std::string::npos) {
      return ErrorPage(400, std::string("Field ") + f.key + " must be one line.");
    }
    auto& target = f.global ? global : cert;
    if (f.kind == FieldKind::kCheckbox) {
      if (!value.empty() && value != "yes") {
        return ErrorPage(400, std::string("Field ") + f.key + " takes only 'yes'.");
      }
      s.values[f.key] = value.empty() ? "no" : "yes";
      if (shown_before.values.at(f.key) != s.values[f.key]) target[f.key] = s.values[f.key];
      continue;
    }
    if (f.kind == FieldKind::kPassword) {
      // Empty: unchanged. A new secret replaces the old one, also one kept
      // in a file (that line goes; the file itself is left alone). Remove
      // deletes both lines.
      auto clear = fields.find(SecretClearField(f));
      if (clear != fields.end() && !clear->second.empty() && clear->second != "yes") {
        OPENSSL_cleanse(value.data(), value.size());
        return ErrorPage(400, "Field " + clear->first + " takes only 'yes'.");
      }
      if (!value.empty() || (clear != fields.end() && clear->second == "yes")) {
        target[f.key] = value.empty() ? std::nullopt : std::optional<std::string>(value);
        target[SecretFileKey(f)] = std::nullopt;
      }
      OPENSSL_cleanse(value.data(), value.size());
      continue;
    }
    if (f.kind != FieldKind::kTextarea) {
      while (!value.empty() && value.back() == ' ') value.pop_back();
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    }
    s.values[f.key] = value;
    if (shown_before.values.at(f.key) == value) continue;
    target[f.key] = value.empty() ? std::nullopt : std::optional<std::string>(value);
  }
  Wiped edited;
  edited.text = SetValues(SetValues(text.text, "scepd", global), header, cert);
  for (auto& [key, value] : cert) {
    if (value) OPENSSL_cleanse(value->data(), value->size());
  }
  for (const FieldSpec& f : FieldSpecs()) {
    if (f.kind == FieldKind::kPassword) s.secret_set[f.key] = SecretSet(edited.text, header, f);
  }

  auto checked = ParseConfig(edited.text, options.config_path, SerialSources{});
  if (!checked.ok()) {
    for (const Problem& p : Problems(checked.error().message)) {
      const FieldSpec* spec = FindFieldSpec(p.key);
      // A secret kept in a file: its problems belong beside the secret's
      // field (the checker never quotes a secret, only the file's path).
      if (spec == nullptr && p.key.ends_with("_file")) {
        const FieldSpec* secret = FindFieldSpec(p.key.substr(0, p.key.size() - 5));
        if (secret != nullptr && secret->kind == FieldKind::kPassword) spec = secret;
      }
      const bool here = spec != nullptr && p.header == (spec->global ? "scepd" : header);
      if (here && !s.errors.count(spec->key)) {
        s.errors[spec->key] = p.line.substr(p.line.find(p.key + ": ") + p.key.size() + 2);
      } else {
        s.general_errors.push_back(p.line);
      }
    }
    s.notice_html = "<p class=\"error\" id=\"apply-result\">Not applied: correct the marked "
                    "fields. The settings file was not changed.</p>\n";
    return Html(200, RenderConfig(token, headers, s, options.config_path));
  }
  Config fresh = std::move(*checked);
  WipeSecrets(&fresh);

  // Write: same mode as before (the file holds the challenge password).
  struct stat st;
  mode_t mode = 0600;
  if (::stat(options.config_path.c_str(), &st) == 0) mode = st.st_mode & 0777;
  std::string target = options.config_path;
  if (char* real = ::realpath(options.config_path.c_str(), nullptr)) {
    target = real;
    std::free(real);
  }
  const std::string run_dir = RunDirOf(text.text, options.config_path);
  const std::string record_path = run_dir + "/" + kDaemonStatusFile;
  auto before = ReadFileText(record_path, 1 << 16);
  if (auto w = WriteFileAtomic(target, edited.text, mode); !w.ok()) {
    return ErrorPage(500, "The settings could not be written: " + w.error().message);
  }
  std::string notice = "<p class=\"ok\" id=\"apply-result\">Settings saved. ";
  const std::string not_sent = SignalDaemon(run_dir, SIGHUP);
  if (!not_sent.empty()) {
    notice += Escape("Not reloaded: " + not_sent + "; it reads them when it starts.");
  } else {
    std::string result = "no answer from the daemon yet";
    for (int waited = 0; waited <= options.reload_wait_ms; waited += 100) {
      auto now = ReadFileText(record_path, 1 << 16);
      if (now.ok() && (!before.ok() || *now != *before)) {
        const std::string verdict = StatusMember(*now, "result");
        result = verdict == "accepted" ? "the daemon accepted the reload"
                                       : "the daemon refused the reload: " +
                                             StatusMember(*now, "error");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    notice += "<span id=\"reload-result\">" + Escape(result) + "</span>";
  }
  notice += "</p>\n";
  FormState shown = StateFromFile(edited.text, header);
  shown.notice_html = notice;
  return Html(200, RenderConfig(token, headers.empty() ? std::vector<std::string>{header} : headers,
                                shown, options.config_path));
}

CgiResponse ConfigPage(const WebOptions& options, const std::string& token,
                       const std::string& query) {
  Wiped text;
  auto read = ReadFileText(options.config_path, kMaxSettingsFile);
  if (read.ok()) text.text = std::move(*read);
  std::vector<std::string> headers = CertificateHeaders(text.text);
  if (headers.empty()) headers.push_back("certificate");
  std::string header = headers.front();
  const std::string wanted = QueryParam(query, "cert");
  if (!wanted.empty()) {
    header = SectionHeader("certificate", wanted);
    if (std::find(headers.begin(), headers.end(), header) == headers.end()) {
      return ErrorPage(400, "No section [" + header + "] in the settings file.");
    }
  }
  FormState s = StateFromFile(text.text, header);
  if (!read.ok()) s.general_errors.push_back(read.error().message);
  return Html(200, RenderConfig(token, headers, s, options.config_path));
}

}  // namespace

CgiResponse HandleRequest(const WebOptions& options, const CgiRequest& request) {
  // The session's token: the cookie's when well formed, else a new one.
  std::string token;
  bool new_token = false;
  if (auto c = CookieValue(request.cookie, kCsrfCookie); c && WellFormedCsrfToken(*c)) {
    token = *c;
  } else if (auto t = NewCsrfToken()) {
    token = *t;
    new_token = true;
  } else {
    return ErrorPage(500, "No random numbers for the session token.");
  }
  const std::string page = QueryParam(request.query, "page");
  CgiResponse response;
  if (request.method == "GET" || request.method == "HEAD") {
    if (page == "config") {
      response = ConfigPage(options, token, request.query);
    } else if (page.empty() || page == "status") {
      response = Html(200, StatusPage(options.config_path, token, QueryParam(request.query, "done")));
      response.body = response.body;
    } else {
      response = ErrorPage(400, "No such page.");
    }
  } else if (request.method == "POST") {
    if (request.body_too_large) return ErrorPage(413, "The request is too large.");
    if (request.content_type.rfind("application/x-www-form-urlencoded", 0) != 0) {
      return ErrorPage(400, "The request is not a form submission.");
    }
    Wiped body{request.body};
    auto fields = ParseForm(body.text);
    if (!fields.ok()) return ErrorPage(400, "Malformed request: " + fields.error().message + ".");
    auto wipe_fields = [&] {
      for (auto& [k, v] : *fields) OPENSSL_cleanse(v.data(), v.size());
    };
    const auto cookie = CookieValue(request.cookie, kCsrfCookie);
    if (!cookie || !CsrfTokensMatch(*cookie, (*fields)[kCsrfField])) {
      wipe_fields();
      return ErrorPage(403, "The form's security token does not match this session "
                            "(an old page, or a request from another site). Reload the page "
                            "and try again.");
    }
    const std::string action = (*fields)["action"];
    for (const auto& [key, value] : *fields) {
      const bool common = key == kCsrfField || key == "action";
      const bool allowed = common || (action == "apply" && (key == "section" || FindFieldSpec(key) ||
                                                            FindSecretClearField(key)));
      if (!allowed) {
        wipe_fields();
        return ErrorPage(400, "Unknown field '" + key + "'.");
      }
    }
    if (page == "config" && action == "apply") {
      response = Apply(options, token, *fields);
    } else if ((page.empty() || page == "status") && (action == "renew" || action == "check")) {
      Wiped text;
      if (auto read = ReadFileText(options.config_path, kMaxSettingsFile); read.ok()) {
        text.text = std::move(*read);
      }
      const std::string why =
          SignalDaemon(RunDirOf(text.text, options.config_path), action == "renew" ? SIGUSR2 : SIGUSR1);
      if (!why.empty()) {
        response = ErrorPage(400, "Not sent: " + why + ".");
      } else {
        response.status = 303;
        response.headers = {{"Location", "?page=status&done=" + action},
                            {"Cache-Control", "no-store"}};
      }
    } else {
      response = ErrorPage(400, "Unknown action.");
    }
    wipe_fields();
  } else {
    response = ErrorPage(405, "Only GET and POST are used.");
  }
  if (new_token) response.headers.push_back({"Set-Cookie", CsrfCookieHeader(token)});
  return response;
}

std::string FormatCgiResponse(const CgiResponse& response) {
  std::string out = "Status: " + std::to_string(response.status) + " " + Reason(response.status) + "\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n" + response.body;
  return out;
}

}  // namespace scepd::web
