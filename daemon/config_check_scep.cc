#include "daemon/config_check_protocols.h"

namespace scepd {

std::vector<ProtocolProblem> CheckScepSettings(const CertificateSettings& settings) {
  std::vector<ProtocolProblem> problems;
  if (settings.key_type != KeyType::kRsa) {
    problems.push_back({"key_type",
                        "ec cannot be used with protocol scep: RFC 8894's message envelope "
                        "needs an RSA key (use key_type = rsa)"});
  }
  return problems;
}

}  // namespace scepd
