#pragma once
// The subject argument of the Tectia command lines (-s):
//   subject-ldap[;type=value]...
// subject-ldap is a distinguished name in reverse LDAP order, most general
// component first ("C=FI,O=SSH,CN=Some Body"), kept in that order; each
// ";type=value" adds a subject alternative name of type ip, email, dn, dns,
// uri or rid (case-insensitive). The result is in the forms the core's
// request builder takes (core/subject.h, core/alt_name.h), so there is one
// parser for names and addresses.

#include <string>
#include <string_view>

#include "core/result.h"

namespace scepd::tectia {

struct SubjectNames {
  std::string subject;    // "/C=FI/O=SSH/CN=Some Body" (empty when -s gave only names)
  std::string alt_names;  // "IP:192.0.2.1,DNS:a.example" (empty when none)
};

// "C=FI,O=SSH,CN=x" -> "/C=FI/O=SSH/CN=x". Components are separated by ','
// (or ';' never: that starts the names), a '+' joins attributes into one RDN,
// a backslash makes the next character literal ("CN=Body\, Some"), and
// whitespace around types and after separators is dropped. Fails with
// kInvalidArgument naming the component (missing '=', empty type/value).
Result<std::string> LdapDnToSubject(std::string_view dn);

// Splits and converts a whole -s argument; the subject and every name are
// checked with the core parsers, so an unknown attribute, a bad address or
// OID fails here, with a message starting with "-s: ".
Result<SubjectNames> ParseSubjectNames(std::string_view text);

}  // namespace scepd::tectia
