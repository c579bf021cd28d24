#pragma once
// The cmp-client commands on core/cmp's CmpSession: each shows the issued
// certificate as the Tectia client does ("Certificate =", names, serial,
// validity, key usage, fingerprints), asks "Do you accept the certificate
// above?" unless -y, and only then writes the new key and the certificate.
// Returns the process exit code (documented in CmpClientUsage and
// cmp-client(1)).

#include "cli/cmp_client_options.h"

namespace scepd::cli {

inline constexpr int kCmpExitSuccess = 0;
inline constexpr int kCmpExitError = 1;      // usage, bad input, refused
inline constexpr int kCmpExitRejected = 2;   // the CA said no
inline constexpr int kCmpExitPending = 3;    // still waiting after --max-polls
inline constexpr int kCmpExitDeclined = 4;   // the user declined the certificate
inline constexpr int kCmpExitTimeout = 89;
inline constexpr int kCmpExitFile = 93;
inline constexpr int kCmpExitNetwork = 95;
inline constexpr int kCmpExitBadAnswer = 97;

// The exit code for an error.
int CmpExitCodeFor(const Error& error) noexcept;

int RunCmpClient(const CmpClientOptions& options);

}  // namespace scepd::cli
