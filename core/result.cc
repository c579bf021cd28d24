#include "core/result.h"

#include <openssl/err.h>

namespace scepd {

const char* ErrorCodeName(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kParse: return "parse";
    case ErrorCode::kCrypto: return "crypto";
    case ErrorCode::kVerify: return "verify";
    case ErrorCode::kProtocol: return "protocol";
    case ErrorCode::kHttp: return "http";
    case ErrorCode::kNetwork: return "network";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

Error OpenSslError(ErrorCode code, std::string context) {
  std::string message = std::move(context);
  bool first = true;
  unsigned long e;  // NOLINT(runtime/int): OpenSSL's type
  const char* data = nullptr;
  int flags = 0;
  while ((e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    message += first ? ": " : "; ";
    first = false;
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    message += buf;
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') {
      message += " (";
      message += data;
      message += ")";
    }
  }
  return Error{code, std::move(message)};
}

void ClearOpenSslErrors() noexcept { ERR_clear_error(); }

}  // namespace scepd
