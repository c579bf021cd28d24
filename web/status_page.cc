#include "web/status_page.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <vector>

#include "core/cert_info.h"
#include "core/ossl.h"
#include "core/renewal_policy.h"
#include "daemon/config.h"
#include "daemon/status_command.h"
#include "daemon/status_publisher.h"
#include "io/files.h"
#include "web/html.h"
#include "web/settings_edit.h"

namespace scepd::web {

namespace {

constexpr std::size_t kMaxFile = 256 * 1024;

std::vector<ossl::Ptr<X509>> ReadPemCerts(const std::string& path) {
  std::vector<ossl::Ptr<X509>> out;
  auto text = ReadFileText(path, kMaxFile);
  if (!text.ok()) return out;
  ossl::Ptr<BIO> bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  if (!bio) return out;
  while (out.size() < 16) {
    ossl::Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    out.push_back(std::move(cert));
  }
  ERR_clear_error();
  return out;
}

std::string AltNames(const X509* cert) {
  const int at = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1);
  if (at < 0) return "";
  X509_EXTENSION* ext = X509_get_ext(cert, at);
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509V3_EXT_print(bio.get(), ext, 0, 0) != 1) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);  // NOLINT(runtime/int)
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "";
}

std::string Row(const std::string& id, const std::string& label, const std::string& value) {
  return "<tr><th>" + Escape(label) + "</th><td id=\"" + Escape(id) + "\">" + Escape(value) +
         "</td></tr>\n";
}

std::string TimeText(const std::string& epoch) {
  if (epoch.empty()) return "";
  return FormatUtc(std::atoll(epoch.c_str()));
}

}  // namespace

std::string StatusPage(const std::string& config_path, const std::string& csrf_token,
                       const std::string& done) {
  std::string body;
  std::string settings_error;
  Config c = SettingsForReport(config_path, &settings_error);
  const DaemonLiveness daemon = FindDaemon(c.daemon.run_dir);
  if (done == "renew") body += "<p class=\"ok\" id=\"done\">Renewal requested.</p>\n";
  if (done == "check") body += "<p class=\"ok\" id=\"done\">Check requested.</p>\n";
  if (!settings_error.empty()) {
    body += "<div class=\"banner\" id=\"settings-error\"><p class=\"error\">The settings file has "
            "errors; the daemon keeps using its last good settings.</p><pre>" +
            Escape(settings_error) + "</pre></div>\n";
  }
  if (c.daemon.enabled && !daemon.running) {
    body += "<p class=\"banner error\" id=\"daemon-not-running\">The scepd daemon is not "
            "running.</p>\n";
  }
  bool busy = false;
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  const std::vector<CertificateSettings> certs = ReportedCertificates(c);
  for (const CertificateSettings& cert : certs) {
    const std::string suffix = cert.name.empty() ? "" : "-" + cert.name;
    const std::string path = StatusFilePath(c.daemon.run_dir, cert.name);
    std::string lines, json;
    if (auto t = ReadFileText(path, kMaxFile); t.ok()) lines = *t;
    if (auto t = ReadFileText(path + ".json", kMaxFile); t.ok()) json = *t;
    if (lines.empty() || json.empty()) {
      StatusReport r = StatusFromFiles(c, cert);
      lines = FormatStatusLines(r);
      json = FormatStatusJson(r);
    }
    const std::string state = StatusMember(json, "state");
    if (state == "enrolling" || state == "polling") busy = true;
    if (certs.size() > 1 || !cert.name.empty()) {
      body += "<h2>[" + Escape(SectionHeader("certificate", cert.name)) + "]</h2>\n";
    }
    body += "<pre class=\"status-lines\" id=\"status-lines" + Escape(suffix) + "\">" +
            Escape(lines) + "</pre>\n<table class=\"details\">\n";
    body += Row("state" + suffix, "State", state);
    body += Row("protocol" + suffix, "Protocol", StatusMember(json, "protocol"));
    auto pem = ReadPemCerts(PublicCertPath(c.daemon.run_dir, cert.name));
    if (!pem.empty()) {
      const X509* x = pem.front().get();
      body += Row("subject" + suffix, "Subject", SubjectString(x));
      body += Row("serial" + suffix, "Serial", SerialHex(x));
      body += Row("issuer" + suffix, "Issuer", IssuerString(x));
      auto nb = NotBefore(x), na = NotAfter(x);
      body += Row("validity" + suffix, "Valid",
                  (nb.ok() ? FormatUtc(*nb) : "?") + " to " + (na.ok() ? FormatUtc(*na) : "?"));
      body += Row("names" + suffix, "Names", AltNames(x));
      auto fp = Fingerprint(x, "sha256");
      body += Row("fingerprint" + suffix, "SHA-256", fp.ok() ? *fp : "");
      if (na.ok()) body += Row("days-left" + suffix, "Days left", std::to_string((*na - now) / 86400));
    } else {
      body += Row("serial" + suffix, "Serial", StatusMember(json, "serial"));
    }
    body += Row("next-check" + suffix, "Next check", TimeText(StatusMember(json, "next_check_epoch")));
    body += Row("last-attempt" + suffix, "Last attempt",
                TimeText(StatusMember(json, "last_attempt_epoch")) + " " +
                    StatusMember(json, "last_result"));
    body += Row("last-error" + suffix, "Last error", StatusMember(json, "last_error"));
    body += "</table>\n";
    auto chain = ReadPemCerts(PublicCaPath(c.daemon.run_dir, cert.name));
    if (!chain.empty()) {
      body += "<h3>CA chain</h3>\n<ol class=\"ca-chain\" id=\"ca-chain" + Escape(suffix) + "\">\n";
      for (const auto& ca : chain) {
        auto na = NotAfter(ca.get());
        auto fp = Fingerprint(ca.get(), "sha256");
        body += "<li>" + Escape(SubjectString(ca.get())) + "<br>valid until " +
                Escape(na.ok() ? FormatUtc(*na) : "?") + "<br>SHA-256 <code>" +
                Escape(fp.ok() ? *fp : "") + "</code></li>\n";
      }
      body += "</ol>\n";
    }
  }
  body += "<form method=\"post\" action=\"?page=status\" id=\"actions\">\n"
          "<input type=\"hidden\" name=\"csrf\" value=\"" + Escape(csrf_token) + "\">\n"
          "<button type=\"submit\" name=\"action\" value=\"renew\" id=\"renew-now\">Renew now"
          "</button>\n<button type=\"submit\" name=\"action\" value=\"check\" id=\"check-now\">"
          "Check now</button>\n</form>\n";
  if (busy) body += "<p id=\"refreshing\">An enrollment is running; this page refreshes.</p>\n";
  WipeSecrets(&c);
  return Page("Status", body, busy ? 5 : 0);
}

}  // namespace scepd::web
