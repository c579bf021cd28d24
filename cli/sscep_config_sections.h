#pragma once
// sscep 0.10's configuration files: OpenSSL configuration syntax with the
// sections [sscep] (every operation) and [sscep_getca], [sscep_getnextca],
// [sscep_enroll], [sscep_getcert], [sscep_getcrl] (that operation only,
// applied after [sscep]). Lines are "key = value"; '#' starts a comment
// outside quotes; values may be quoted with "..." or '...', where a
// backslash escapes the next character. Keys before the first section and
// in other sections (an OpenSSL configuration shared with other programs)
// are not sscep's and are skipped; $variable expansion is refused, naming
// the line.

#include <string>
#include <string_view>

#include "cli/sscep_options.h"
#include "core/result.h"

namespace scepd::cli {

// True when `text` has a "[section]" line: the sectioned form, else the
// section-less "Key Value" form of the sscep README.
bool HasSections(std::string_view text);

// Applies the sections that concern options.operation (set before) to
// `options`. Errors name "path:line".
Status ApplySscepSectionedConfig(const std::string& path, std::string_view text, SscepOptions& options);

}  // namespace scepd::cli
