#include "cli/est_client_exit_code.h"

namespace scepd::cli {

int EstExitCodeFor(const Error& error) noexcept {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kInternal:
    case ErrorCode::kCrypto: return kEstExitError;
    case ErrorCode::kIo: return kEstExitFile;
    case ErrorCode::kTimeout: return kEstExitTimeout;
    case ErrorCode::kNetwork:
    case ErrorCode::kHttp: return kEstExitNetwork;
    case ErrorCode::kParse:
    case ErrorCode::kVerify:
    case ErrorCode::kProtocol:
    case ErrorCode::kUnsupported: return kEstExitBadAnswer;
  }
  return kEstExitError;
}

}  // namespace scepd::cli
