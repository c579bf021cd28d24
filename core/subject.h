#pragma once
// Distinguished names in the router's "Certificate Subject" form:
// "/type0=value0/type1=value1/...", the form `openssl req -subj` and sscep
// use. '/' starts a relative distinguished name (RDN), '+' joins further
// attributes into the same RDN ("/CN=a+UID=b"), and a backslash makes the
// next character literal ("\/", "\+", "\=", "\\"). Whitespace is part of the
// value exactly as written.

#include <string>
#include <string_view>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd {

// Parses `text` into a new X509_NAME the caller owns. An attribute type is
// an OpenSSL short name ("CN"), long name ("commonName") or dotted OID
// ("2.5.4.3"); values are UTF-8 and get the string type OpenSSL's tables
// prescribe for the attribute (e.g. PrintableString for C). A single trailing
// '/' is tolerated. Fails with kInvalidArgument, the message starting with
// "subject: " and naming the component (1-based RDN number) and its text,
// for: empty text, no leading '/', an empty component, a missing '=', an
// empty type or value, an unknown type, a trailing lone backslash, or a value
// OpenSSL rejects for that attribute (too long, wrong characters).
Result<ossl::Ptr<X509_NAME>> ParseSubject(std::string_view text);

// Prints `name` (borrowed) in the same "/A=b/C=d+E=f" form, with short names
// where OpenSSL has one and dotted OIDs otherwise, values as UTF-8 and
// '/', '+', '=' and '\' in values escaped with a backslash, so that
// ParseSubject(FormatSubject(n)) gives an equal name (string types may be
// normalised). Never fails; a null or empty name prints as "".
std::string FormatSubject(const X509_NAME* name);

}  // namespace scepd
