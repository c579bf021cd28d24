#include "cli/exit_code.h"

namespace scepd::cli {

int ExitCodeFor(const Error& error) noexcept {
  switch (error.code) {
    case ErrorCode::kTimeout: return kExitTimeout;
    case ErrorCode::kNetwork:
    case ErrorCode::kHttp: return kExitNetwork;
    case ErrorCode::kIo: return kExitFile;
    case ErrorCode::kParse:
    case ErrorCode::kVerify:
    case ErrorCode::kProtocol:
    case ErrorCode::kCrypto: return kExitPkcs7;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kUnsupported:
    case ErrorCode::kInternal: return kExitError;
  }
  return kExitError;
}

int ExitCodeFor(const scep::CertRep& rep) noexcept {
  switch (rep.status) {
    case scep::PkiStatus::kSuccess: return kExitSuccess;
    case scep::PkiStatus::kPending: return kExitPending;
    case scep::PkiStatus::kFailure:
      return rep.fail_info ? kExitFailInfoBase + static_cast<int>(*rep.fail_info) : kExitFailure;
  }
  return kExitUnset;
}

}  // namespace scepd::cli
