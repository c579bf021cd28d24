#pragma once
// Subject alternative names in the router's "Alternative Name" form: a
// comma-separated list of prefixed items, e.g.
//   DNS:one.example.com, IP:192.0.2.1, email:me@example.com, RID:1.2.3.4,
//   URI:https://example.com/, IP:2001:db8::1, dirName:/O=Example/CN=x,
//   otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com

#include <string_view>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd {

// Parses `text` into a new GENERAL_NAMES the caller owns, items in order.
// Prefixes (email, URI, DNS, RID, IP, dirName, otherName) match without
// regard to case; whitespace around items and around the ':' after the
// prefix is ignored. A backslash makes the next character literal, so "\,"
// puts a comma in a value; in a dirName the escapes are left for ParseSubject
// (where "\/" and friends keep their meaning). IP takes IPv4 or IPv6; RID a
// dotted OID (or the OpenSSL name of an object that has one, see
// ossl::ObjectFromText); otherName "OID;UTF8:value" (an OTHERNAME holding a
// UTF8String), the OID given the same way. Empty or all-blank text yields an empty
// GENERAL_NAMES, meaning "no extension". Fails with kInvalidArgument as
// "alternative name N ('item'): reason" for an empty item, a missing or
// unknown prefix, an empty value, a non-ASCII DNS/email/URI, a bad address,
// OID or directory name, or a trailing lone backslash.
Result<ossl::Ptr<GENERAL_NAMES>> ParseAltNames(std::string_view text);

}  // namespace scepd
