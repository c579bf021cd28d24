#include "daemon/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

namespace scepd {

namespace {
spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarning: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kCritical: return spdlog::level::critical;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}
}  // namespace

void SetUpLogging(LogLevel level, LogTarget target) {
  std::vector<spdlog::sink_ptr> sinks;
  if (target == LogTarget::kStderr || target == LogTarget::kBoth) {
    auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    err->set_pattern("scepd[%P]: %l: %v");
    sinks.push_back(err);
  }
  if (target == LogTarget::kSyslog || target == LogTarget::kBoth) {
    auto sys = std::make_shared<spdlog::sinks::syslog_sink_mt>("scepd", LOG_PID, LOG_DAEMON, false);
    sys->set_pattern("%v");
    sinks.push_back(sys);
  }
  auto logger = std::make_shared<spdlog::logger>("scepd", sinks.begin(), sinks.end());
  logger->set_level(ToSpd(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace scepd
