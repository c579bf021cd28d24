#pragma once
// The status files the router's web UI and scripts read. `status` holds
// exactly the two lines of the router app's Status page; `status.json` adds
// what machines need. Both are rewritten atomically on every change, so a
// reader never sees half a file.

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"

namespace scepd {

// First status line: "Module scepClient disabled" (Enable Automation off),
// "Module scepClient running" (an enrollment is under way) or "Module
// scepClient not running" (idle, or the enrollment has finished).
enum class ModuleState { kDisabled, kRunning, kNotRunning };

// Second status line: "Certificate not enrolled" (failed or not started),
// "Certificate enrollment" (first enrollment under way), "Certificate
// re-enrollment" (renewal under way) or "Certificate enrolled <SERIAL>".
enum class CertState { kNotEnrolled, kEnrollment, kReEnrollment, kEnrolled };

// Everything the status files say about one certificate. A plain value;
// times are seconds since the epoch (UTC), unknown ones are nullopt.
struct StatusReport {
  ModuleState module = ModuleState::kNotRunning;
  CertState cert = CertState::kNotEnrolled;
  std::string name;     // certificate section name ("" for the unnamed one)
  std::string state;    // state machine name: "idle", "enrolling", "polling", "backoff", ...
  std::string serial;   // uppercase hex, as in the data_dir file names
  std::string subject;  // of the current certificate
  std::optional<std::int64_t> not_before, not_after;
  std::optional<std::int64_t> days_left;
  std::optional<std::int64_t> last_attempt;
  std::string last_result;  // "success", "pending", "failure", "error" ("" = none yet)
  std::string last_error;   // why the last attempt failed, for people
  std::string fail_info;    // the CA's failInfo name (badRequest, ...) on FAILURE
  std::optional<std::int64_t> next_check;
  std::string ca_caps;  // the CA's GetCACaps, e.g. "AES,POSTPKIOperation,Renewal,SHA-256"
  std::string cipher, digest;     // the algorithms chosen for the messages
  std::string transaction_id;     // of a pending transaction
  std::string protocol = "scep";  // the enrollment protocol of this certificate
  std::string issuer;             // of the current certificate
  std::optional<std::int64_t> renewal_window;  // when renewal starts (not_after - renew_days)
  std::optional<std::int64_t> ca_not_after;    // expiry of the issuing CA certificate (ca.crt-0)
  std::optional<std::int64_t> last_success;    // when a certificate was last installed
  int failures = 0;  // failed attempts since the last success
};

// "disabled", "running" or "not running", as in the first status line.
const char* ModuleStateName(ModuleState state) noexcept;

// "not enrolled", "enrollment", "re-enrollment" or "enrolled".
const char* CertStateName(CertState state) noexcept;

// The `status` file: exactly two "\n"-terminated lines, "Module scepClient
// ..." and "Certificate ...", word for word as the router app prints them.
// kEnrolled appends " " and the serial (nothing when the serial is empty);
// control characters in the serial become '?' so the file stays two lines.
// Never fails.
std::string FormatStatusLines(const StatusReport& report);

// The `status.json` file: one JSON object (indented, "\n"-terminated) with
// the fields of StatusReport under snake_case keys plus "module" and
// "certificate" (the names above). Every time appears twice: as an ISO 8601
// UTC string ("not_after": "2027-11-22T12:00:00Z") and as a number
// ("not_after_epoch": 1827...); unknown times and days_left are null.
// Strings are escaped for JSON: '"', '\\', control characters (as \u00XX)
// and DEL; bytes that are not valid UTF-8 become U+FFFD, so strict parsers
// accept whatever the CA sent. Never fails.
std::string FormatStatusJson(const StatusReport& report);

// Path of the two-line file in `run_dir`: run_dir/status for the unnamed
// certificate, run_dir/status-NAME for [certificate NAME]; the JSON file is
// the same path plus ".json". Never fails (see WriteStatus for names).
std::string StatusFilePath(const std::string& run_dir, const std::string& name);

// Writes both status files into `run_dir` (which must exist), each replaced
// atomically with mode 0644, the two-line file first. Fails with
// kInvalidArgument when report.name contains '/' or NUL, and with kIo
// naming the file (and so the directory) when it cannot be written; a
// failure can leave the first file new and the second old.
Status WriteStatus(const std::string& run_dir, const StatusReport& report);

// Start-up: removes the temporary files (".status*.tmp.<PID>", and those of
// the public copies and the daemon's record, ".cert*", ".ca*", ".scepd.json")
// that a
// WriteStatus interrupted by a crash or power cut left in `run_dir`, unless
// process PID still runs (a `scepd --once` beside the daemon). A missing
// run_dir is not an error. Fails with kIo naming the path.
Status RemoveStaleStatusTemps(const std::string& run_dir);

}  // namespace scepd
