#include "web/field_specs.h"

#include <array>

namespace scepd::web {

namespace {

// Defaults as daemon/config.h documents them (tests/web checks they agree).
constexpr std::array<FieldSpec, 31> kFields = {{
    {"enabled", "Enable Automation",
     "When on, the router requests its certificate by itself and renews it before it runs out.",
     FieldKind::kCheckbox, true, "", false, "", ""},
    {"protocol", "Protocol",
     "How the router talks to the CA: SCEP (RFC 8894), EST (RFC 7030) or CMP (RFC 4210 / "
     "RFC 9483). Each has its own settings further down; those of the other protocols stay "
     "empty.",
     FieldKind::kChoice, false, "scep", false, "scep|est|cmp", ""},
    {"url", "Server URL",
     "Address of the CA's service, starting with http:// or https:// (EST: the https:// base "
     "URL; CMP: including its path).",
     FieldKind::kText, false, "", false, "", ""},
    {"renew_days", "Renew day",
     "Renewal begins once the certificate has fewer than this many days left.",
     FieldKind::kNumber, false, "30", false, "", ""},
    {"await_result", "Await Result [sec]",
     "Seconds between asks for a certificate the CA has not issued yet, for example while "
     "someone approves the request by hand.",
     FieldKind::kNumber, false, "300", false, "", ""},
    {"max_await_result", "Max Await Result [min]",
     "Minutes to keep asking before the attempt is given up as failed.", FieldKind::kNumber, false,
     "480", false, "", ""},
    {"legacy_ciphers", "Enable Legacy Ciphers",
     "Also allow old algorithms (single DES, MD5) for CAs that offer nothing better (SCEP only).",
     FieldKind::kCheckbox, false, "", false, "", ""},
    {"key_type", "Key Type",
     "RSA, or an elliptic-curve key (EC), which EST and CMP accept and SCEP does not.",
     FieldKind::kChoice, false, "rsa", false, "rsa|ec", ""},
    {"key_size", "Key Size", "Size of the RSA key in bits, for example 2048 or 4096.",
     FieldKind::kNumber, false, "2048", false, "", ""},
    {"ec_curve", "EC Curve", "The curve of an EC key.", FieldKind::kChoice, false, "P-256", false,
     "P-256|P-384", ""},
    {"subject", "Certificate Subject",
     "The subject to ask for, as /type=value/type=value. A backslash escapes / or =; spaces are "
     "kept. SN stands for the router's serial number. Example: /O=Example/CN=router-SN",
     FieldKind::kText, false, "", false, "", ""},
    {"alt_name", "Alternative Name",
     "Further names, separated by commas, each with its kind: DNS:, IP:, email:, URI:, RID:, "
     "dirName:, otherName:. Example: DNS:vpn.example.org,IP:192.0.2.1",
     FieldKind::kText, false, "", false, "", ""},
    {"template", "Certificate Template",
     "Template name sent in Microsoft's extension 1.3.6.1.4.1.311.20.2; some CAs (OpenXPKI for "
     "one) choose the kind of certificate by it, others ignore it.",
     FieldKind::kText, false, "", false, "", ""},
    {"digital_signature", "Used for digital signature",
     "Ask for the digitalSignature key usage. Many CAs ignore usage wishes and go by the "
     "template instead.",
     FieldKind::kCheckbox, false, "", true, "", ""},
    {"key_encipherment", "Used for key encipherment", "Ask for the keyEncipherment key usage.",
     FieldKind::kCheckbox, false, "", true, "", ""},
    {"server_auth", "Used for server authentication",
     "Ask for the serverAuth extended key usage.", FieldKind::kCheckbox, false, "", false, "", ""},
    {"client_auth", "Used for client authentication",
     "Ask for the clientAuth extended key usage.", FieldKind::kCheckbox, false, "", true, "", ""},
    {"success_script", "Success Script",
     "Shell commands run after a new certificate is installed, such as scep_replace_pem to hand "
     "it to IPsec and a restart of that service.",
     FieldKind::kTextarea, false, "", false, "", ""},
    {"failure_script", "Failure Script", "Shell commands run when an attempt fails.",
     FieldKind::kTextarea, false, "", false, "", ""},
    {"ca_fingerprint", "CA Fingerprint",
     "Pin the CA certificate: sha256: (or sha1:, md5:) and its hex fingerprint. Empty: the CA "
     "first seen is trusted from then on. EST without a TLS CA file needs a sha256 pin.",
     FieldKind::kText, false, "", false, "", ""},
    {"tls_ca_file", "TLS CA File",
     "PEM file of the CAs that may sign an https:// server's certificate; empty: the system's "
     "list. EST needs it (or a sha256 CA fingerprint).",
     FieldKind::kText, false, "", false, "", ""},
    {"challenge_password", "Challenge Password",
     "The one-time password the CA issued for this router. It is never shown here; leave the "
     "field empty to keep the current one.",
     FieldKind::kPassword, false, "", false, "", "scep"},
    {"ca_identifier", "CA Identifier",
     "Name of the CA sent when its certificate is fetched, for servers that host several; "
     "usually empty.",
     FieldKind::kText, false, "", false, "", "scep"},
    {"est_label", "CA Label",
     "The server's label for this CA, one path segment after /.well-known/est/; usually empty.",
     FieldKind::kText, false, "", false, "", "est"},
    {"est_username", "User Name",
     "User name (no colon) for the first enrollment; renewals authenticate with the current "
     "certificate.",
     FieldKind::kText, false, "", false, "", "est"},
    {"est_password", "Password",
     "Password for the first enrollment. It is never shown here; leave the field empty to keep "
     "the current one.",
     FieldKind::kPassword, false, "", false, "", "est"},
    {"cmp_reference", "Reference Number",
     "The reference number the CA gave together with the shared secret, for the first "
     "enrollment.",
     FieldKind::kText, false, "", false, "", "cmp"},
    {"cmp_secret", "Shared Secret",
     "The secret that protects the first enrollment. It is never shown here; leave the field "
     "empty to keep the current one.",
     FieldKind::kPassword, false, "", false, "", "cmp"},
    {"cmp_cert", "Signing Certificate",
     "Instead of a reference number and secret: the certificate file (PEM) that signs the first "
     "enrollment, for example the manufacturer's.",
     FieldKind::kText, false, "", false, "", "cmp"},
    {"cmp_key", "Signing Key", "The private key file (PEM) of that certificate.",
     FieldKind::kText, false, "", false, "", "cmp"},
    {"recipient", "CA Name", "The CA's name, written like the subject: /CN=Example CA.",
     FieldKind::kText, false, "", false, "", "cmp"},
}};

constexpr std::string_view kClearSuffix = "_clear";

}  // namespace

std::span<const FieldSpec> FieldSpecs() noexcept { return kFields; }

const FieldSpec* FindFieldSpec(std::string_view key) noexcept {
  for (const FieldSpec& f : kFields) {
    if (key == f.key) return &f;
  }
  return nullptr;
}

std::vector<std::string> Choices(const FieldSpec& spec) {
  std::vector<std::string> out;
  std::string_view rest = spec.choices;
  while (!rest.empty()) {
    const std::size_t bar = rest.find('|');
    out.emplace_back(rest.substr(0, bar));
    rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
  }
  return out;
}

std::string SecretFileKey(const FieldSpec& spec) { return std::string(spec.key) + "_file"; }

std::string SecretClearField(const FieldSpec& spec) {
  return std::string(spec.key) + std::string(kClearSuffix);
}

const FieldSpec* FindSecretClearField(std::string_view name) noexcept {
  if (name.size() <= kClearSuffix.size() || !name.ends_with(kClearSuffix)) return nullptr;
  const FieldSpec* spec = FindFieldSpec(name.substr(0, name.size() - kClearSuffix.size()));
  return spec != nullptr && spec->kind == FieldKind::kPassword ? spec : nullptr;
}

}  // namespace scepd::web
