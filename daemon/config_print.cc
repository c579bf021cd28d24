// The printing part of the settings (daemon/config.h): reading is in
// config_read.cc, checking in config_check.cc, each protocol's own rules in
// config_check_<protocol>.cc.
#include "daemon/config.h"

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/url_mask.h"
#include "daemon/duration.h"
#include "daemon/serial_number.h"

namespace scepd {
namespace {

// How the inline challenge password prints.
constexpr std::string_view kMask = "********";

void AppendKey(std::string* out, std::string_view key, std::string_view value) {
  *out += key;
  *out += " = ";
  std::size_t start = 0;
  while (true) {
    const std::size_t nl = value.find('\n', start);
    *out += value.substr(start, nl == std::string_view::npos ? nl : nl - start);
    *out += "\n";
    if (nl == std::string_view::npos) break;
    *out += "    ";
    start = nl + 1;
  }
}

void AppendOptional(std::string* out, std::string_view key, std::string_view value) {
  if (!value.empty()) AppendKey(out, key, value);
}

const char* YesNo(bool b) { return b ? "yes" : "no"; }

}  // namespace

std::string FormatEffectiveConfig(const Config& config) {
  const DaemonSettings& d = config.daemon;
  std::string out = "[scepd]\n";
  AppendKey(&out, "enabled", YesNo(d.enabled));
  AppendKey(&out, "data_dir", d.data_dir);
  AppendKey(&out, "run_dir", d.run_dir);
  AppendKey(&out, "check_interval", FormatDuration(d.check_interval));
  AppendKey(&out, "log_level", LogLevelName(d.log_level));
  AppendKey(&out, "log_target", LogTargetName(d.log_target));
  AppendOptional(&out, "serial_number", d.serial_number);
  AppendOptional(&out, "serial_number_command", d.serial_number_command);
  AppendOptional(&out, "status_group", d.status_group);
  AppendOptional(&out, "metrics_file", d.metrics_file);
  for (const CertificateSettings& c : config.certificates) {
    out += c.name.empty() ? "\n[certificate]\n" : "\n[certificate " + c.name + "]\n";
    if (!c.name.empty()) AppendKey(&out, "data_dir", c.data_dir);
    AppendKey(&out, "protocol", c.protocol);
    AppendOptional(&out, "url", MaskUrlUserInfo(c.url));  // user:password@ never shown
    AppendKey(&out, "renew_days", std::to_string(c.renew_days));
    AppendKey(&out, "renew_spread", std::to_string(c.renew_spread));
    AppendKey(&out, "await_result", std::to_string(c.await_result));
    AppendKey(&out, "max_await_result", std::to_string(c.max_await_result));
    AppendKey(&out, "legacy_ciphers", YesNo(c.legacy_ciphers));
    AppendKey(&out, "key_type", c.key_type == KeyType::kEc ? "ec" : "rsa");
    AppendKey(&out, "key_size", std::to_string(c.key_size));
    AppendKey(&out, "ec_curve", c.ec_curve);
    AppendOptional(&out, "subject", EscapeSerialWildcard(c.subject));
    AppendOptional(&out, "alt_name", EscapeSerialWildcard(c.alt_name));
    AppendOptional(&out, "template", c.template_name);
    AppendKey(&out, "digital_signature", YesNo(c.digital_signature));
    AppendKey(&out, "key_encipherment", YesNo(c.key_encipherment));
    AppendKey(&out, "server_auth", YesNo(c.server_auth));
    AppendKey(&out, "client_auth", YesNo(c.client_auth));
    if (!c.challenge_password_file.empty()) {
      AppendKey(&out, "challenge_password_file", c.challenge_password_file);
    } else if (!c.challenge_password.empty()) {
      AppendKey(&out, "challenge_password", kMask);
    }
    if (!c.ca_fingerprint.empty()) {
      AppendKey(&out, "ca_fingerprint",
                c.ca_fingerprint.algorithm + ":" + HexEncode(c.ca_fingerprint.digest, ':'));
    }
    AppendOptional(&out, "ca_identifier", c.ca_identifier);
    AppendOptional(&out, "success_script", c.success_script);
    AppendOptional(&out, "failure_script", c.failure_script);
    AppendKey(&out, "keep_old", std::to_string(c.keep_old));
    AppendKey(&out, "http_timeout", std::to_string(c.http_timeout));
    AppendOptional(&out, "tls_ca_file", c.tls_ca_file);
    AppendOptional(&out, "proxy", c.proxy);
    AppendOptional(&out, "proxy_credentials_file", c.proxy_credentials_file);
    AppendOptional(&out, "est_label", c.est_label);
    AppendOptional(&out, "est_username", c.est_username);
    if (!c.est_password_file.empty()) {
      AppendKey(&out, "est_password_file", c.est_password_file);
    } else if (!c.est_password.empty()) {
      AppendKey(&out, "est_password", kMask);
    }
    AppendOptional(&out, "cmp_reference", c.cmp_reference);
    if (!c.cmp_secret_file.empty()) {
      AppendKey(&out, "cmp_secret_file", c.cmp_secret_file);
    } else if (!c.cmp_secret.empty()) {
      AppendKey(&out, "cmp_secret", kMask);
    }
    AppendOptional(&out, "cmp_cert", c.cmp_cert);
    AppendOptional(&out, "cmp_key", c.cmp_key);
    AppendOptional(&out, "recipient", c.recipient);
  }
  return out;
}

}  // namespace scepd
