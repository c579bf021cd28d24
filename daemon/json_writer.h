#pragma once
// Writing JSON: the status files, `scepd status --json` and the web pages'
// data all go through here, so escaping is done in one place.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scepd {

// Appends `s` as a JSON string: '"', '\\', control characters (as \u00XX)
// and DEL escaped; bytes that are not valid UTF-8 become U+FFFD, so strict
// parsers accept whatever a CA sent. Never fails.
void AppendJsonString(std::string& out, std::string_view s);

// Accumulates the members of one indented JSON object, one member a line.
class JsonObject {
 public:
  void String(std::string_view key, std::string_view value);
  // A number, or null when unknown.
  void Number(std::string_view key, std::optional<std::int64_t> value);
  void Bool(std::string_view key, bool value);
  // "key": "ISO 8601 UTC", "key_epoch": seconds (both null when unknown).
  void Time(std::string_view key, std::optional<std::int64_t> value);
  // A value that already is JSON (an object or array this code wrote);
  // trailing newlines are dropped, empty text becomes null.
  void Raw(std::string_view key, std::string_view json);
  // The object, "\n"-terminated.
  std::string Finish() &&;

 private:
  void Key(std::string_view key);
  std::string out_;
};

}  // namespace scepd
