#include "core/scep/scep.h"

namespace scepd::scep {

const char* MessageTypeName(MessageType t) noexcept {
  switch (t) {
    case MessageType::kCertRep: return "CertRep";
    case MessageType::kRenewalReq: return "RenewalReq";
    case MessageType::kPKCSReq: return "PKCSReq";
    case MessageType::kCertPoll: return "CertPoll";
    case MessageType::kGetCert: return "GetCert";
    case MessageType::kGetCRL: return "GetCRL";
  }
  return "unknown";
}

const char* PkiStatusName(PkiStatus s) noexcept {
  switch (s) {
    case PkiStatus::kSuccess: return "SUCCESS";
    case PkiStatus::kFailure: return "FAILURE";
    case PkiStatus::kPending: return "PENDING";
  }
  return "unknown";
}

const char* FailInfoName(FailInfo f) noexcept {
  switch (f) {
    case FailInfo::kBadAlg: return "badAlg";
    case FailInfo::kBadMessageCheck: return "badMessageCheck";
    case FailInfo::kBadRequest: return "badRequest";
    case FailInfo::kBadTime: return "badTime";
    case FailInfo::kBadCertId: return "badCertId";
  }
  return "unknown";
}

const char* FailInfoDescription(FailInfo f) noexcept {
  switch (f) {
    case FailInfo::kBadAlg: return "unrecognized or unsupported algorithm";
    case FailInfo::kBadMessageCheck: return "integrity check (signature) failed";
    case FailInfo::kBadRequest: return "transaction not permitted or supported";
    case FailInfo::kBadTime: return "message time too far from the CA's time";
    case FailInfo::kBadCertId: return "no certificate matches the given criteria";
  }
  return "unknown failInfo";
}

std::optional<MessageType> MessageTypeFromInt(int v) noexcept {
  switch (v) {
    case 3: case 17: case 19: case 20: case 21: case 22:
      return static_cast<MessageType>(v);
    default:
      return std::nullopt;
  }
}

std::optional<PkiStatus> PkiStatusFromInt(int v) noexcept {
  if (v == 0 || v == 2 || v == 3) return static_cast<PkiStatus>(v);
  return std::nullopt;
}

std::optional<FailInfo> FailInfoFromInt(int v) noexcept {
  if (v >= 0 && v <= 4) return static_cast<FailInfo>(v);
  return std::nullopt;
}

}  // namespace scepd::scep
