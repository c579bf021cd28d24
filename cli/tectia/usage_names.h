#pragma once
// The key-usage (-u) and extended-key-usage (-U) names of the Tectia
// command lines: lists separated by ';' (',' is taken too), names matched
// without regard to case, and the keyword "help".

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scepd::tectia {

// A -u list as RFC 5280 keyUsage bits: bit n (digitalSignature = 0 ...
// decipherOnly = 8) is (1u << n), what CsrSpec::key_usage_bits takes.
// Callers check IsHelp first. Fails with kInvalidArgument naming the unknown word and
// listing the known ones.
Result<unsigned> ParseKeyUsages(std::string_view list);

// A -U list as the OIDs or names CsrSpec::extra_ekus takes: serverAuth,
// clientAuth, codeSigning, emailProtection, timeStamping, ikeIntermediate
// (1.3.6.1.5.5.8.2.2), smartCardLogon (1.3.6.1.4.1.311.20.2.2), or a dotted
// OID. Returned as dotted OIDs. Fails with kInvalidArgument naming the word.
Result<std::vector<std::string>> ParseExtendedKeyUsages(std::string_view list);

// True when the list is the single word "help" (any case).
bool IsHelp(std::string_view list);

// The texts "-u help" and "-U help" print, one name per line with its
// meaning.
std::string KeyUsageHelp();
std::string ExtendedKeyUsageHelp();

// The names of the bits set in `bits` (ParseKeyUsages' form), ';'-joined.
std::string KeyUsageNames(unsigned bits);

}  // namespace scepd::tectia
