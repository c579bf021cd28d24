#pragma once
// Changes to the settings file the way a person would make them: only the
// lines of the keys that change are replaced, in place; comments, blank
// lines, unknown keys and every other section stay as they are. The result
// is checked by the daemon's own reader (daemon/config.h) before it is
// written; this file only finds and replaces lines.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scepd::web {

// A section header as the settings write it: "scepd", "certificate" or
// "certificate NAME".
std::string SectionHeader(std::string_view kind, std::string_view name);

// The raw text of `key` in section `header` (continuation lines joined with
// "\n", as the reader joins them), or nullopt when the key is not there.
std::optional<std::string> RawValue(const std::string& text, const std::string& header,
                                    std::string_view key);

// The headers of every [certificate] / [certificate NAME] section, in order,
// as "certificate" / "certificate NAME".
std::vector<std::string> CertificateHeaders(const std::string& text);

// `text` with each key of `values` set in section `header`: an existing
// key's line (and its continuation lines) is replaced where it stands, a
// new key goes after the section's last setting, a missing section is
// appended. A value of nullopt removes the key (its default applies).
// Multi-line values are written as indented continuation lines.
std::string SetValues(const std::string& text, const std::string& header,
                      const std::map<std::string, std::optional<std::string>>& values);

}  // namespace scepd::web
