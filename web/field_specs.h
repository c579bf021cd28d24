#pragma once
// The fields of the Configuration -> Global form: every setting of the
// router app's page plus scepd's own (challenge password, CA pin), each
// with the settings key it edits, its label as the router app shows it and
// a help text.

#include <span>
#include <string_view>

namespace scepd::web {

enum class FieldKind { kCheckbox, kNumber, kText, kTextarea, kPassword };

struct FieldSpec {
  const char* key;    // the settings key (and the form field's name)
  const char* label;
  const char* help;
  FieldKind kind;
  bool global;  // in [scepd] rather than the certificate's section
  const char* default_value;  // shown when the file leaves the key out
  bool default_checked;
};

// In the order the page shows them. Never fails.
std::span<const FieldSpec> FieldSpecs() noexcept;

// The spec of `key`, or null.
const FieldSpec* FindFieldSpec(std::string_view key) noexcept;

}  // namespace scepd::web
