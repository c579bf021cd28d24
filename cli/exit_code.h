#pragma once
// sscep's exit codes: a contract with the scripts that call it. This is the
// one place that maps outcomes and errors to them.
//
//   0  success                     70 failInfo badAlg
//   1  error (usage, bad input)    71 failInfo badMessageCheck
//   2  FAILURE without failInfo    72 failInfo badRequest
//   3  still PENDING               73 failInfo badTime
//  89  network timeout             74 failInfo badCertId
//  91  self-signed certificate could not be made
//  93  file error                  95 network / HTTP error
//  97  PKCS#7 / SCEP message error 99 pkiStatus unset

#include "core/result.h"
#include "core/scep/client.h"

namespace scepd::cli {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitFailure = 2;
inline constexpr int kExitPending = 3;
inline constexpr int kExitFailInfoBase = 70;  // + failInfo value
inline constexpr int kExitTimeout = 89;
inline constexpr int kExitSelfSigned = 91;
inline constexpr int kExitFile = 93;
inline constexpr int kExitNetwork = 95;
inline constexpr int kExitPkcs7 = 97;
inline constexpr int kExitUnset = 99;

int ExitCodeFor(const Error& error) noexcept;
int ExitCodeFor(const scep::CertRep& rep) noexcept;

}  // namespace scepd::cli
