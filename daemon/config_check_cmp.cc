#include "daemon/config_check_protocols.h"

namespace scepd {

std::vector<ProtocolProblem> CheckCmpSettings(const CertificateSettings& settings) {
  std::vector<ProtocolProblem> problems;
  const bool mac = !settings.cmp_reference.empty() || !settings.cmp_secret.empty();
  const bool signature = !settings.cmp_cert.empty() || !settings.cmp_key.empty();
  if (!settings.cmp_reference.empty() && settings.cmp_secret.empty()) {
    problems.push_back({"cmp_reference", "set without cmp_secret or cmp_secret_file"});
  }
  if (settings.cmp_reference.empty() && !settings.cmp_secret.empty()) {
    problems.push_back({settings.cmp_secret_file.empty() ? "cmp_secret" : "cmp_secret_file",
                        "set without cmp_reference (the reference number the CA gave with "
                        "the secret)"});
  }
  if (settings.cmp_cert.empty() != settings.cmp_key.empty()) {
    problems.push_back({settings.cmp_cert.empty() ? "cmp_key" : "cmp_cert",
                        "cmp_cert and cmp_key go together: the certificate that signs a first "
                        "enrollment (cr) and its key"});
  }
  if (!mac && !signature) {
    problems.push_back({"protocol",
                        "cmp needs cmp_reference and cmp_secret (or cmp_secret_file) for an ir, "
                        "or cmp_cert and cmp_key for a cr"});
  }
  if (!settings.challenge_password.empty()) {
    problems.push_back({settings.challenge_password_file.empty() ? "challenge_password"
                                                                 : "challenge_password_file",
                        "not used with protocol cmp (use cmp_reference and cmp_secret)"});
  }
  if (!settings.ca_identifier.empty()) {
    problems.push_back({"ca_identifier", "SCEP only; with protocol cmp name the CA by recipient"});
  }
  if (settings.legacy_ciphers) {
    problems.push_back({"legacy_ciphers", "SCEP only; not used with protocol cmp"});
  }
  return problems;
}

}  // namespace scepd
