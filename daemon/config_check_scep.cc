#include "daemon/config_check_protocols.h"

#include <utility>

namespace scepd {

std::vector<ProtocolProblem> CheckScepSettings(const CertificateSettings& settings) {
  std::vector<ProtocolProblem> problems;
  if (settings.key_type != KeyType::kRsa) {
    problems.push_back({"key_type",
                        "ec cannot be used with protocol scep: RFC 8894's message envelope "
                        "needs an RSA key (use key_type = rsa)"});
  }
  const std::pair<const char*, const std::string*> cmp_keys[] = {
      {"cmp_reference", &settings.cmp_reference},
      {"cmp_secret", settings.cmp_secret_file.empty() ? &settings.cmp_secret : nullptr},
      {"cmp_secret_file", &settings.cmp_secret_file},
      {"cmp_cert", &settings.cmp_cert},
      {"cmp_key", &settings.cmp_key},
      {"recipient", &settings.recipient}};
  for (const auto& [key, value] : cmp_keys) {
    if (value != nullptr && !value->empty()) {
      problems.push_back({key, "used only with protocol cmp"});
    }
  }
  return problems;
}

}  // namespace scepd
