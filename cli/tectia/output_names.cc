#include "cli/tectia/output_names.h"

namespace scepd::tectia {

std::string OutputFileName(std::string_view prefix, std::size_t index, OutputKind kind) {
  return std::string(prefix) + "-" + std::to_string(index) +
         (kind == OutputKind::kCaCertificate ? ".ca" : ".crt");
}

}  // namespace scepd::tectia
