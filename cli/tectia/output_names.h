#pragma once
// File names of the Tectia command lines' -o prefix: the prefix, a dash, a
// number counting from 0 in the order received, and ".ca" for CA/RA
// certificates or ".crt" for the user's certificate ("ca-0.ca",
// "subject-0.crt"). A generated key goes to its own -P prefix + ".prv".

#include <cstddef>
#include <string>
#include <string_view>

namespace scepd::tectia {

enum class OutputKind { kCaCertificate, kUserCertificate };

std::string OutputFileName(std::string_view prefix, std::size_t index, OutputKind kind);

}  // namespace scepd::tectia
