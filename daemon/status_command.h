#pragma once
// `scepd status [--json]`: what the router's Status page, scripts and
// monitoring ask, answered from run_dir (readable by status_group) with an
// exit code a script can act on. docs/man/scepd.8 lists the codes.

#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/status_file.h"

namespace scepd {

// Exit codes of `scepd status`, worst first when several apply (the worst
// certificate decides).
enum StatusExit : int {
  kStatusOk = 0,               // every certificate valid and outside its renewal window
  kStatusRenewing = 1,         // inside the renewal window, or an enrollment is being sent
  kStatusPending = 2,          // the CA answered PENDING; waiting for approval
  kStatusFailed = 3,           // the last attempt failed (retried with back-off)
  kStatusNotEnrolled = 4,      // no certificate installed
  kStatusNotRunning = 5,       // automation on, but no scepd daemon runs
  kStatusDisabled = 6,         // Enable Automation is off
  kStatusUnknown = 7,          // the status files cannot be read (permissions?)
  kStatusSettingsInvalid = 78  // the settings file has errors (same code as the daemon's)
};

// The version of the `--json` document's layout; raised when a member
// changes meaning or goes away (new members do not raise it).
inline constexpr int kStatusSchema = 1;

// The certificates to report on: those configured (challenge passwords
// wiped), else the unnamed one in the global data_dir.
std::vector<CertificateSettings> ReportedCertificates(const Config& config);

// The status as far as the settings and data_dir tell, without a running
// job: disabled or stopped, enrolled with the active serial or not. When
// data_dir cannot be read, state is "unknown" and last_error says why.
StatusReport StatusFromFiles(const Config& config, const CertificateSettings& cert);

// The settings as far as they are valid: the file parsed again without the
// lines its errors name (at most a few rounds), so that run_dir and the
// certificate names are known even while the file has a mistake. Falls back
// to the defaults. Never fails.
Config SettingsAsFarAsValid(const std::string& text, const std::string& path);

// The settings a status report works from: the whole file when it is valid;
// otherwise its valid lines (SettingsAsFarAsValid), with every error in
// *settings_error. Never fails.
Config SettingsForReport(const std::string& config_path, std::string* settings_error);

// The exit code one certificate's status.json (as this version writes it)
// calls for at `now`, daemon and settings aside.
int CertificateExit(const std::string& status_json, std::int64_t now);

// The value of member `key` in a status file this version wrote (one
// member a line, as FormatStatusJson writes them): the string without its
// quotes (escapes left as they are) or the number; "" when absent or null.
std::string StatusMember(const std::string& json, const std::string& key);

// Whether a daemon holds the pid file in `run_dir`, and its pid (0 = none).
struct DaemonLiveness {
  bool running = false;
  long pid = 0;  // NOLINT(runtime/int)
};
DaemonLiveness FindDaemon(const std::string& run_dir);

// Runs `scepd status`: prints the report, returns a StatusExit.
int PrintStatus(const std::string& config_path, bool json);

}  // namespace scepd
