#include "web/field_specs.h"

#include <array>

namespace scepd::web {

namespace {

// Defaults as daemon/config.h documents them (tests/web checks they agree).
constexpr std::array<FieldSpec, 18> kFields = {{
    {"enabled", "Enable Automation",
     "When on, the router requests its certificate by itself and renews it before it runs out.",
     FieldKind::kCheckbox, true, "", false},
    {"url", "Server URL", "Address of the CA's SCEP service, starting with http:// or https://.",
     FieldKind::kText, false, "", false},
    {"renew_days", "Renew day",
     "Renewal begins once the certificate has fewer than this many days left.",
     FieldKind::kNumber, false, "30", false},
    {"await_result", "Await Result [sec]",
     "Seconds between asks for a certificate the CA has not issued yet, for example while "
     "someone approves the request by hand.",
     FieldKind::kNumber, false, "300", false},
    {"max_await_result", "Max Await Result [min]",
     "Minutes to keep asking before the attempt is given up as failed.", FieldKind::kNumber, false,
     "480", false},
    {"legacy_ciphers", "Enable Legacy Ciphers",
     "Also allow old algorithms (single DES, MD5) for CAs that offer nothing better.",
     FieldKind::kCheckbox, false, "", false},
    {"key_size", "Key Size", "Size of the RSA key in bits, for example 2048 or 4096.",
     FieldKind::kNumber, false, "2048", false},
    {"subject", "Certificate Subject",
     "The subject to ask for, as /type=value/type=value. A backslash escapes / or =; spaces are "
     "kept. SN stands for the router's serial number. Example: /O=Example/CN=router-SN",
     FieldKind::kText, false, "", false},
    {"alt_name", "Alternative Name",
     "Further names, separated by commas, each with its kind: DNS:, IP:, email:, URI:, RID:, "
     "dirName:, otherName:. Example: DNS:vpn.example.org,IP:192.0.2.1",
     FieldKind::kText, false, "", false},
    {"template", "Certificate Template",
     "Template name sent in Microsoft's extension 1.3.6.1.4.1.311.20.2; some CAs (OpenXPKI for "
     "one) choose the kind of certificate by it, others ignore it.",
     FieldKind::kText, false, "", false},
    {"digital_signature", "Used for digital signature",
     "Ask for the digitalSignature key usage. Many CAs ignore usage wishes and go by the "
     "template instead.",
     FieldKind::kCheckbox, false, "", true},
    {"key_encipherment", "Used for key encipherment", "Ask for the keyEncipherment key usage.",
     FieldKind::kCheckbox, false, "", true},
    {"server_auth", "Used for server authentication",
     "Ask for the serverAuth extended key usage.", FieldKind::kCheckbox, false, "", false},
    {"client_auth", "Used for client authentication",
     "Ask for the clientAuth extended key usage.", FieldKind::kCheckbox, false, "", true},
    {"success_script", "Success Script",
     "Shell commands run after a new certificate is installed, such as scep_replace_pem to hand "
     "it to IPsec and a restart of that service.",
     FieldKind::kTextarea, false, "", false},
    {"failure_script", "Failure Script", "Shell commands run when an attempt fails.",
     FieldKind::kTextarea, false, "", false},
    {"challenge_password", "Challenge Password",
     "The one-time password the CA issued for this router. It is never shown here; leave the "
     "field empty to keep the current one.",
     FieldKind::kPassword, false, "", false},
    {"ca_fingerprint", "CA Fingerprint",
     "Pin the CA certificate: sha256: (or sha1:, md5:) and its hex fingerprint. Empty: the CA "
     "first seen is trusted from then on.",
     FieldKind::kText, false, "", false},
}};

}  // namespace

std::span<const FieldSpec> FieldSpecs() noexcept { return kFields; }

const FieldSpec* FindFieldSpec(std::string_view key) noexcept {
  for (const FieldSpec& f : kFields) {
    if (key == f.key) return &f;
  }
  return nullptr;
}

}  // namespace scepd::web
