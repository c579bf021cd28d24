#include "daemon/metrics_file.h"

#include <functional>
#include <optional>

namespace scepd {

namespace {

std::string Label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct Family {
  const char* name;
  const char* help;
  std::function<std::optional<std::int64_t>(const StatusReport&)> value;
};

}  // namespace

const std::vector<std::string>& MetricStates() {
  static const std::vector<std::string> kStates = {"idle",    "enrolling", "polling",  "backoff",
                                                   "clockwait", "stopped", "disabled"};
  return kStates;
}

std::string FormatMetrics(const std::vector<StatusReport>& reports) {
  const std::vector<Family> families = {
      {"scepd_certificate_not_after_timestamp_seconds",
       "When the current certificate expires (seconds since the epoch).",
       [](const StatusReport& r) { return r.not_after; }},
      {"scepd_certificate_not_before_timestamp_seconds",
       "When the current certificate became valid (seconds since the epoch).",
       [](const StatusReport& r) { return r.not_before; }},
      {"scepd_certificate_renewal_window_timestamp_seconds",
       "When renewal starts: not_after minus renew_days (subtract time() for the seconds left).",
       [](const StatusReport& r) { return r.renewal_window; }},
      {"scepd_certificate_last_success_timestamp_seconds",
       "When this daemon last installed a certificate (absent: not since it started).",
       [](const StatusReport& r) { return r.last_success; }},
      {"scepd_certificate_consecutive_failures",
       "Failed enrollment attempts since the last success.",
       [](const StatusReport& r) { return std::optional<std::int64_t>(r.failures); }},
      {"scepd_ca_not_after_timestamp_seconds",
       "When the CA certificate (ca.crt-0) expires (seconds since the epoch).",
       [](const StatusReport& r) { return r.ca_not_after; }},
  };
  std::string out;
  for (const Family& f : families) {
    out += std::string("# HELP ") + f.name + " " + f.help + "\n";
    out += std::string("# TYPE ") + f.name + " gauge\n";
    for (const StatusReport& r : reports) {
      std::optional<std::int64_t> v = f.value(r);
      if (!v) continue;
      out += std::string(f.name) + "{name=\"" + Label(r.name) + "\"} " + std::to_string(*v) + "\n";
    }
  }
  out += "# HELP scepd_certificate_state The enrollment state (1 for the current one).\n";
  out += "# TYPE scepd_certificate_state gauge\n";
  for (const StatusReport& r : reports) {
    for (const std::string& state : MetricStates()) {
      out += "scepd_certificate_state{name=\"" + Label(r.name) + "\",state=\"" + state + "\"} " +
             (r.state == state ? "1" : "0") + "\n";
    }
  }
  out += "# HELP scepd_certificate_enrolled 1 when a certificate is installed.\n";
  out += "# TYPE scepd_certificate_enrolled gauge\n";
  for (const StatusReport& r : reports) {
    out += "scepd_certificate_enrolled{name=\"" + Label(r.name) + "\"} " +
           (r.serial.empty() ? "0" : "1") + "\n";
  }
  return out;
}

}  // namespace scepd
