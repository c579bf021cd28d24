#pragma once
// The SCEP vocabulary of RFC 8894: message types, pkiStatus and failInfo
// values, with their names for logs and status files.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scepd::scep {

// RFC 8894 section 3.2.1.2 messageType (sent as a decimal PrintableString).
enum class MessageType : int {
  kCertRep = 3,
  kRenewalReq = 17,
  kPKCSReq = 19,
  kCertPoll = 20,  // GetCertInitial in older drafts
  kGetCert = 21,
  kGetCRL = 22,
};

// Section 3.2.1.3 pkiStatus.
enum class PkiStatus : int { kSuccess = 0, kFailure = 2, kPending = 3 };

// Section 3.2.1.4 failInfo.
enum class FailInfo : int {
  kBadAlg = 0,
  kBadMessageCheck = 1,
  kBadRequest = 2,
  kBadTime = 3,
  kBadCertId = 4,
};

const char* MessageTypeName(MessageType t) noexcept;   // "PKCSReq"
const char* PkiStatusName(PkiStatus s) noexcept;       // "SUCCESS"
const char* FailInfoName(FailInfo f) noexcept;         // "badRequest"
const char* FailInfoDescription(FailInfo f) noexcept;  // "transaction not permitted or supported"

std::optional<MessageType> MessageTypeFromInt(int v) noexcept;
std::optional<PkiStatus> PkiStatusFromInt(int v) noexcept;
std::optional<FailInfo> FailInfoFromInt(int v) noexcept;

// Attribute OIDs (section 3.2.1 and RFC 8894 failInfoText).
inline constexpr std::string_view kOidMessageType = "2.16.840.1.113733.1.9.2";
inline constexpr std::string_view kOidPkiStatus = "2.16.840.1.113733.1.9.3";
inline constexpr std::string_view kOidFailInfo = "2.16.840.1.113733.1.9.4";
inline constexpr std::string_view kOidSenderNonce = "2.16.840.1.113733.1.9.5";
inline constexpr std::string_view kOidRecipientNonce = "2.16.840.1.113733.1.9.6";
inline constexpr std::string_view kOidTransactionId = "2.16.840.1.113733.1.9.7";
inline constexpr std::string_view kOidFailInfoText = "1.3.6.1.5.5.7.24.1";

inline constexpr std::size_t kNonceSize = 16;

}  // namespace scepd::scep
