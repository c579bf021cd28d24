#pragma once
// The project's licence as the programs' --version output names it (SPDX
// identifier); the full text is LICENSE in the source tree and the Debian
// package's /usr/share/doc/scepd/copyright.

namespace scepd {

inline constexpr char kLicense[] = "Apache-2.0";

}  // namespace scepd
