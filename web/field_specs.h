#pragma once
// The fields of the Configuration -> Global form: every setting of the
// router app's page plus scepd's own (challenge password, CA pin, the
// protocol and the settings of each protocol), each with the settings key
// it edits, its label as the router app shows it and a help text.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scepd::web {

enum class FieldKind { kCheckbox, kNumber, kText, kTextarea, kPassword, kChoice };

struct FieldSpec {
  const char* key;    // the settings key (and the form field's name)
  const char* label;
  const char* help;
  FieldKind kind;
  bool global;  // in [scepd] rather than the certificate's section
  const char* default_value;  // shown when the file leaves the key out
  bool default_checked;
  // kChoice: the values offered, separated by '|'; else "".
  const char* choices;
  // The protocol the field belongs to ("scep", "est", "cmp"), or "" for
  // every protocol. The page groups these under the protocol's heading.
  const char* protocol;
};

// In the order the page shows them. Never fails.
std::span<const FieldSpec> FieldSpecs() noexcept;

// The spec of `key`, or null.
const FieldSpec* FindFieldSpec(std::string_view key) noexcept;

// The values a kChoice field offers, in order.
std::vector<std::string> Choices(const FieldSpec& spec);

// A secret (kPassword) field's companions: the settings key naming a file
// that holds the secret instead ("challenge_password_file"), and the form's
// "Remove" checkbox that deletes both ("challenge_password_clear").
std::string SecretFileKey(const FieldSpec& spec);
std::string SecretClearField(const FieldSpec& spec);

// The secret field whose "Remove" checkbox `name` is, or null.
const FieldSpec* FindSecretClearField(std::string_view name) noexcept;

}  // namespace scepd::web
