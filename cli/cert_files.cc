#include "cli/cert_files.h"

#include <string_view>

#include "io/files.h"

namespace scepd::cli {

Result<std::vector<ossl::Ptr<X509>>> LoadCertificates(const std::string& path) {
  SCEPD_TRY(Bytes data, ReadFileBytes(path));
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  if (text.find("-----BEGIN") != std::string_view::npos) return ossl::CertsFromPem(text, path);
  SCEPD_TRY(auto cert, ossl::CertFromDer(data, path));
  std::vector<ossl::Ptr<X509>> out;
  out.push_back(std::move(cert));
  return out;
}

}  // namespace scepd::cli
