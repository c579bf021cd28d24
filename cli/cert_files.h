#pragma once
// Certificates read from files the user names: PEM (one or several) or one
// DER certificate. For the command lines (-C, -E, -V, -T, -O ...).

#include <string>
#include <vector>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd::cli {

// Every certificate in `path`; fails naming the file when it cannot be
// read, is not a regular file, or holds no certificate.
Result<std::vector<ossl::Ptr<X509>>> LoadCertificates(const std::string& path);

}  // namespace scepd::cli
