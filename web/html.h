#pragma once
// HTML output: every text that is not a literal of the pages goes through
// Escape, and every page through Page, so one place decides the markup.

#include <string>
#include <string_view>

namespace scepd::web {

// `s` with & < > " ' replaced by entities: safe in element text and in
// quoted attribute values. Never fails.
std::string Escape(std::string_view s);

// `s` percent-encoded for a URL query value (unreserved characters kept).
std::string UrlEncode(std::string_view s);

// A whole HTML document: `title` (escaped), the menu, and `body` (already
// HTML). `refresh_seconds` > 0 adds a meta refresh (works without
// JavaScript). Never fails.
std::string Page(std::string_view title, const std::string& body, int refresh_seconds = 0);

}  // namespace scepd::web
