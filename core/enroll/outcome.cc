#include "core/enroll/outcome.h"

namespace scepd::enroll {

bool IsCookieName(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

const char* FailureKindName(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::kNetwork: return "network";
    case FailureKind::kProtocol: return "protocol";
    case FailureKind::kTrust: return "trust";
  }
  return "protocol";
}

Failed FailedFrom(const Error& error) {
  Failed f;
  f.message = error.message;
  switch (error.code) {
    case ErrorCode::kNetwork:
    case ErrorCode::kTimeout:
    case ErrorCode::kHttp:
      f.kind = FailureKind::kNetwork;
      break;
    case ErrorCode::kVerify:
      f.kind = FailureKind::kTrust;
      break;
    default:
      f.kind = FailureKind::kProtocol;
      break;
  }
  return f;
}

}  // namespace scepd::enroll
