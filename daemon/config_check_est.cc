#include <openssl/crypto.h>

#include <string>

#include "core/est/est_url.h"
#include "core/wipe.h"
#include "daemon/config_check_protocols.h"
#include "io/files.h"

namespace scepd {
namespace {

constexpr std::size_t kMaxPasswordBytes = 4096;

// The first line of the password file, or a problem. Regular files only,
// never blocking (io/files.h); the content is wiped on every error.
std::string ReadPasswordFile(const std::string& path, std::string* password) {
  if (path.empty() || path.front() != '/') {
    return "expected an absolute path, not '" + path + "'";
  }
  auto read = ReadFileText(path, 64 * 1024);
  if (!read.ok()) {
    std::string reason = read.error().message;
    if (const std::size_t at = reason.find(path + ": "); at != std::string::npos) {
      reason.erase(0, at + path.size() + 2);
    }
    return "cannot read '" + path + "': " + reason;
  }
  std::string content = std::move(*read);
  OPENSSL_cleanse(read->data(), read->capacity());  // what a short string left behind
  if (content.size() > kMaxPasswordBytes) {
    Wipe(content);
    return "'" + path + "' is larger than " + std::to_string(kMaxPasswordBytes) +
           " bytes; it should hold only the password";
  }
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
    content.back() = '\0';
    content.pop_back();
  }
  for (unsigned char c : content) {
    if (c < 0x20 || c == 0x7f) {
      Wipe(content);
      return "'" + path + "' holds a control character or more than one line";
    }
  }
  if (content.empty()) return "'" + path + "' is empty";
  *password = std::move(content);
  OPENSSL_cleanse(content.data(), content.capacity());
  return {};
}

}  // namespace

std::vector<ProtocolProblem> CheckEstSettings(CertificateSettings* settings) {
  std::vector<ProtocolProblem> problems;
  CertificateSettings& s = *settings;
  if (!s.url.empty()) {
    auto url = est::OperationUrl(s.url, "", est::Operation::kCaCerts);
    if (!url.ok()) {
      problems.push_back({"url", url.error().message});
    } else if (!s.est_label.empty()) {
      auto labelled = est::OperationUrl(s.url, s.est_label, est::Operation::kCaCerts);
      if (!labelled.ok()) problems.push_back({"est_label", labelled.error().message});
    }
    if (s.tls_ca_file.empty() && s.ca_fingerprint.empty()) {
      problems.push_back({"tls_ca_file",
                          "protocol est needs the server's TLS trusted explicitly: set "
                          "tls_ca_file, or ca_fingerprint (sha256) for the RFC 7030 bootstrap"});
    }
  }
  if (s.tls_ca_file.empty() && !s.ca_fingerprint.empty() && s.ca_fingerprint.algorithm != "sha256") {
    problems.push_back({"ca_fingerprint",
                        "the EST bootstrap (no tls_ca_file) needs a sha256 fingerprint, not " +
                            s.ca_fingerprint.algorithm});
  }
  bool password_problem = false;
  if (!s.est_password.empty() && !s.est_password_file.empty()) {
    password_problem = true;
    problems.push_back({"est_password_file", "conflicts with est_password; set only one"});
    Wipe(s.est_password);
    s.est_password_file.clear();
  } else if (!s.est_password_file.empty()) {
    if (std::string problem = ReadPasswordFile(s.est_password_file, &s.est_password);
        !problem.empty()) {
      problems.push_back({"est_password_file", problem});
      s.est_password_file.clear();
      password_problem = true;
    }
  }
  const bool has_password = !s.est_password.empty() || !s.est_password_file.empty();
  if (s.est_username.empty() && has_password) {
    problems.push_back({"est_username", "required with est_password or est_password_file"});
  } else if (!s.est_username.empty() && !has_password && !password_problem) {
    problems.push_back({"est_username", "needs est_password or est_password_file"});
  }
  if (s.key_type == KeyType::kRsa && s.key_size < 2048) {
    problems.push_back({"key_size",
                        "protocol est renews with the current pair as TLS client certificate, "
                        "which needs at least 2048 bits (OpenSSL's default security level)"});
  }
  if (s.est_username.find(':') != std::string::npos) {
    problems.push_back({"est_username", "must not contain ':' (HTTP Basic, RFC 7617)"});
  }
  return problems;
}

}  // namespace scepd
