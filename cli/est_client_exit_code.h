#pragma once
// est-client's exit codes: a contract with the scripts that call it, kept
// close to sscep's where the meaning is the same.
//
//   0  done                        4  authentication failed (HTTP 401)
//   1  usage or bad input          89 network timeout
//   2  rejected by the server      93 file error
//   3  pending (HTTP 202)          95 network, TLS or HTTP error
//                                  97 the EST answer is malformed or wrong

#include "core/result.h"

namespace scepd::cli {

inline constexpr int kEstExitSuccess = 0;
inline constexpr int kEstExitError = 1;
inline constexpr int kEstExitRejected = 2;
inline constexpr int kEstExitPending = 3;
inline constexpr int kEstExitAuthentication = 4;
inline constexpr int kEstExitTimeout = 89;
inline constexpr int kEstExitFile = 93;
inline constexpr int kEstExitNetwork = 95;
inline constexpr int kEstExitBadAnswer = 97;

// The exit code for an error (kRejected and kPending have no Error).
int EstExitCodeFor(const Error& error) noexcept;

}  // namespace scepd::cli
