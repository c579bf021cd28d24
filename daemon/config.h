#pragma once
// scepd's settings: the INI file (default /etc/scepd.conf) that the router's
// web UI writes, read into plain values. Reading and checking happen at
// once; every problem is reported as "FILE:LINE: [section] key: message" and
// all of them are reported together, so one --check-config run shows every
// mistake.
//
// File syntax (inih's, with three deliberate differences noted):
//   [scepd]                     daemon-wide settings, at most once
//   [certificate]               the certificate stored in [scepd] data_dir
//   [certificate NAME]          further certificates, each with its own data_dir
//   key = value                 (or "key: value"); whitespace around is dropped
//   ; comment / # comment       whole lines only. Unlike inih's default, a ';'
//                               inside a value is part of it: shell scripts and
//                               passwords need it.
//   Indented lines continue the previous key's value; the parts are joined
//   with "\n" (blank and comment lines in between are skipped). Only
//   success_script, failure_script and serial_number_command may span lines.
//   Lines of any length are read whole (inih alone cuts at 200 bytes).
// Keys and section names are case-sensitive; boolean values accept yes/no,
// true/false, on/off, 1/0 in any case.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/csr.h"
#include "core/key.h"
#include "core/result.h"
#include "daemon/serial_number.h"

namespace scepd {

// spdlog's levels, by the names the settings use.
enum class LogLevel { kTrace, kDebug, kInfo, kWarning, kError, kCritical, kOff };
// Where log lines go.
enum class LogTarget { kSyslog, kStderr, kBoth };

// "trace" ... "off" / "syslog", "stderr", "both": the settings' spellings.
// Never fail; the pointers are to static strings.
const char* LogLevelName(LogLevel level) noexcept;
const char* LogTargetName(LogTarget target) noexcept;

// Defaults the settings file and the documentation share.
inline constexpr std::string_view kDefaultConfigPath = "/etc/scepd.conf";
inline constexpr std::string_view kDefaultDataDir = "/var/data/scepClient";
inline constexpr std::string_view kDefaultRunDir = "/var/run/scepClient";

// [scepd]: the daemon as a whole.
struct DaemonSettings {
  // "Enable Automation". Off by default: a fresh install touches nothing.
  bool enabled = false;
  // Keys, certificates and the CA chain of the unnamed [certificate].
  std::string data_dir = std::string(kDefaultDataDir);
  // status, status.json, the pid file.
  std::string run_dir = std::string(kDefaultRunDir);
  // Seconds between validity checks (jitter is added by the scheduler);
  // 1 minute to 365 days, written with s/m/h/d units.
  std::int64_t check_interval = 24 * 60 * 60;
  LogLevel log_level = LogLevel::kInfo;
  // syslog by default: on the router procd's log and logread show it; run in
  // a terminal with log_target = stderr (or both).
  LogTarget log_target = LogTarget::kSyslog;
  // The serial for the SN wildcard, or a command printing it; both empty
  // means "look at the device tree / DMI" (see serial_number.h).
  std::string serial_number;
  std::string serial_number_command;
  // The group that may read run_dir (status files, the public certificate
  // and CA copies; never keys): run_dir becomes 0750 owned by it. Empty:
  // run_dir is 0755. Must name an existing group.
  std::string status_group;
  // Prometheus text-format file (node_exporter's textfile collector),
  // rewritten atomically when a value in it changes; empty = none.
  std::string metrics_file;

  friend bool operator==(const DaemonSettings&, const DaemonSettings&) = default;
};

// A pinned CA certificate fingerprint ("ca_fingerprint").
struct CaFingerprint {
  // "sha256", "sha1" or "md5" (also OpenSSL's digest names); empty = no pin.
  std::string algorithm;
  // The digest, 32, 20 or 16 bytes to match `algorithm`.
  Bytes digest;

  bool empty() const noexcept { return algorithm.empty(); }
  friend bool operator==(const CaFingerprint&, const CaFingerprint&) = default;
};

// One [certificate] or [certificate NAME] section, checked and with the SN
// wildcard already replaced. Holds the challenge password in clear: whoever
// copies a CertificateSettings must not log it and should wipe it when done.
struct CertificateSettings {
  // "" for [certificate], else the NAME of [certificate NAME].
  std::string name;
  // Where this certificate lives: [scepd] data_dir for the unnamed section,
  // the section's own (required, distinct) data_dir for named ones.
  std::string data_dir;
  // The enrollment protocol ("protocol"): "scep" (the default), "est" or
  // "cmp".
  // daemon/enroller_factory.h makes its back end.
  std::string protocol = "scep";
  // The CA's URL, http:// or https://. Required when enabled = yes.
  std::string url;
  // Renew when fewer than this many days of validity are left; 1..3650.
  // 30: a month leaves room for manual approval and for retries over a
  // holiday, and is under half of the shortest common (90-day) lifetime.
  int renew_days = 30;
  // Percent of that window over which renewals spread ("renew_spread"),
  // 0..100: each certificate renews at its own point in the first
  // renew_spread % of the window (core/renewal_policy.h RenewalPoint), so a
  // fleet enrolled in the same minute does not renew in the same minute.
  // 0 renews the moment the window opens.
  int renew_spread = 50;
  // Seconds between polls while the CA answers PENDING; 1..86400. 300 is
  // sscep's -t default: a person approving by hand gets a timely pickup
  // without the CA being polled every few seconds.
  int await_result = 300;
  // Minutes to keep polling before the attempt counts as failed; 0..43200.
  // 0 means a PENDING answer fails at once. 480 is sscep's -T default
  // (8 hours): a working day for a manual approval.
  int max_await_result = 480;
  // Allow single DES, Blowfish and MD5 with old CAs.
  bool legacy_ciphers = false;
  // The key's type ("key_type"): RSA (the default) or EC, which SCEP refuses
  // (RFC 8894's envelope needs RSA) and later protocols take.
  KeyType key_type = KeyType::kRsa;
  // RSA key size in bits; 1024..16384, a multiple of 8.
  int key_size = 2048;
  // The EC curve: "P-256" (the default) or "P-384".
  std::string ec_curve = "P-256";
  // Requested subject ("/CN=router-A1B2", router form, see core/subject.h).
  // Required when enabled = yes.
  std::string subject;
  // Requested subject alternative names (core/alt_name.h form), may be empty.
  std::string alt_name;
  // Microsoft certificate template name ("template"), may be empty.
  std::string template_name;
  // Requested usages. Defaults fit an IPsec/OpenVPN client certificate, the
  // router's usual use: signature and key encipherment (RSA key transport)
  // key usages, clientAuth; serverAuth only when asked for.
  bool digital_signature = true;
  bool key_encipherment = true;
  bool server_auth = false;
  bool client_auth = true;
  // The challenge password, from the file itself or read from
  // challenge_password_file (trailing newlines removed). Secret.
  std::string challenge_password;
  // The file it was read from, or empty when given inline.
  std::string challenge_password_file;
  // Optional pin of the CA certificate.
  CaFingerprint ca_fingerprint;
  // SCEP "message" parameter for GetCACert (sscep -i), may be empty.
  std::string ca_identifier;
  // Shell commands run after a certificate is installed / after a failed
  // attempt; may span lines.
  std::string success_script;
  std::string failure_script;
  // Older key/certificate pairs kept in data_dir; 0..100.
  int keep_old = 2;
  // Seconds one HTTP request to the CA may take in all; 1..3600. Connecting
  // (and a transfer stalled under 1 byte/s) is limited to the smaller of 30 s
  // and this. 120 s suits slow mobile links.
  int http_timeout = 120;
  // PEM file of the CA certificates that may sign an HTTPS server's
  // certificate; empty = the system's bundle. HTTPS is always verified.
  std::string tls_ca_file;
  // HTTP(S) or SOCKS proxy every request to the CA goes through, whatever
  // the protocol: "host:port", "[v6]:port" or "http://", "https://",
  // "socks5://", "socks5h://" + host:port; empty = none (the environment's
  // http_proxy is ignored on purpose). Never with credentials in it.
  std::string proxy;
  // File holding "user:password" for the proxy (first line), and what was
  // read from it at load time. Secret: never printed, wiped by WipeSecrets.
  std::string proxy_credentials_file;
  std::string proxy_credentials;
  // EST (protocol = est; docs/man/scepd.conf.5): the CA label
  // (/.well-known/est/<label>/...), HTTP Basic user name and password for
  // the first enrollment, inline or from est_password_file (read at load
  // time). The password is secret: never printed, wiped by WipeSecrets.
  std::string est_label;
  std::string est_username;
  std::string est_password;
  std::string est_password_file;
  // protocol = cmp (config_check_cmp.cc): the reference number and shared
  // secret of an ir ("cmp_secret" inline or read from cmp_secret_file,
  // trailing newlines removed; secret, wiped by WipeSecrets), the
  // certificate and key file that sign a cr instead, and the CA's name
  // ("recipient", "/CN=..." form).
  std::string cmp_reference;
  std::string cmp_secret;
  std::string cmp_secret_file;
  std::string cmp_cert;
  std::string cmp_key;
  std::string recipient;

  friend bool operator==(const CertificateSettings&, const CertificateSettings&) = default;
};

// The request these settings ask the CA for (subject, alternative names,
// template, usages, challenge password), as the daemon builds it at every
// enrollment. Settings LoadConfig accepts, with a subject, always make a
// request BuildCsr accepts: a value that passes the check must not fail
// every enrollment later (fuzz/config_fuzzer.cc checks this).
CsrSpec RequestSpec(const CertificateSettings& settings);

// The key these settings ask for (key_type, key_size, ec_curve). Never fails.
KeySpec KeySpecOf(const CertificateSettings& settings);

// Everything the settings file says. Plain value.
struct Config {
  DaemonSettings daemon;
  // In file order; the unnamed [certificate], when present, may be anywhere.
  std::vector<CertificateSettings> certificates;

  friend bool operator==(const Config&, const Config&) = default;
};

// Every key [scepd] / a [certificate] section accepts, as the parser knows
// them (anything else is "unknown key"). For tests and tools that must cover
// every key; the spans point to static storage. Never fail.
std::span<const std::string_view> ScepdSettingsKeys() noexcept;
std::span<const std::string_view> CertificateSettingsKeys() noexcept;

// Reads and checks the settings file at `path`. Missing sections and keys
// take the defaults above; with enabled = no a missing url or subject is not
// an error (a fresh install is valid), with enabled = yes it is, and so is
// having no [certificate] section. Values that are present are always
// checked, enabled or not; so a subject using the SN wildcard needs a
// serial even while automation is off. The serial number (FindSerialNumber
// with `sources`) is looked up only when a subject or alt_name uses SN, and
// at most once per load. Fails with kIo when the file cannot be read ("PATH: cannot read:
// reason"), else kInvalidArgument whose message holds one line per problem,
// in line order, each "PATH:LINE: [section] key: what is wrong" (section or
// key left out where they do not apply). Reads the challenge password file,
// may run serial_number_command; writes nothing.
Result<Config> LoadConfig(const std::string& path, const SerialSources& sources);

// LoadConfig for text already in memory; `file_name` is used in messages
// only (relative paths in the text are errors either way).
Result<Config> ParseConfig(std::string_view text, const std::string& file_name,
                           const SerialSources& sources);

// Wipes (OPENSSL_cleanse) and clears the secrets read into `settings`: the
// challenge password, the proxy credentials, the EST password and the CMP
// secret. The names of the files they came from stay. Never fails.
void WipeSecrets(CertificateSettings* settings) noexcept;

// WipeSecrets for every certificate section of `config`; call before a
// Config that held secrets is dropped or replaced, or as soon as its
// secrets have been handed on. Never fails.
void WipeSecrets(Config* config) noexcept;

// The effective settings in the file's own syntax, for --check-config: every
// key with its value, defaults included, empty optional strings left out,
// multi-line values as indented continuation lines, SN in the (already
// substituted) subject and alt_name escaped as "\SN". The inline challenge
// password prints as "********"; with challenge_password_file only the file
// name appears. Parsing the result gives back `config` except for the masked
// password. Never fails.
std::string FormatEffectiveConfig(const Config& config);

}  // namespace scepd
