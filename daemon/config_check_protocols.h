#pragma once
// Each protocol's own rules for a [certificate] section, beyond the checks
// every section gets (daemon/config_check.cc): one function per protocol, in
// config_check_<protocol>.cc. The reader calls the one `protocol` names
// once the section is read and reports each problem at the line of its key.

#include <string>
#include <vector>

#include "daemon/config.h"

namespace scepd {

// One problem: the key it is about and what is wrong ("FILE:LINE: [section]
// key: " is put in front by the reader).
struct ProtocolProblem {
  std::string key;
  std::string message;
};

// SCEP (RFC 8894): the message envelope is RSA key transport to the CA and
// back, so the certificate's key must be RSA. Never fails.
// The CMP keys are refused (they would be ignored).
std::vector<ProtocolProblem> CheckScepSettings(const CertificateSettings& settings);

// EST (RFC 7030): an https:// URL and a usable est_label; the server's TLS
// trusted through tls_ca_file or a sha256 ca_fingerprint (the bootstrap;
// never blind); est_username with exactly one of est_password and
// est_password_file, whose first line it reads into est_password (the path
// stays in est_password_file). RSA or EC keys.
std::vector<ProtocolProblem> CheckEstSettings(CertificateSettings* settings);
// CMP (RFC 4210/9483): reference number and secret (ir) or certificate and
// key (cr), each pair complete; SCEP-only keys refused. Any key type.
// Never fails.
std::vector<ProtocolProblem> CheckCmpSettings(const CertificateSettings& settings);

}  // namespace scepd
