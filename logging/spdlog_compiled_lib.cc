// spdlog built once, from Debian's headers, into a static library of ours
// (SCEPD_STATIC_SPDLOG, on in the size-optimised router build): with
// SPDLOG_COMPILED_LIB the headers only declare spdlog's non-inline code,
// and this file is the one translation unit that defines it, so a router
// needs neither libspdlog.so nor libfmt.so and --gc-sections/LTO drop what
// scepd and sscep never call. {fmt} is header-only in this build
// (FMT_HEADER_ONLY), its functions merged by the linker.
//
// Every header below is one Debian's libspdlog-dev ships; the templates
// are instantiated for the mutex and factory types spdlog's own shared
// library offers, so any sink a test or a later change picks links.

#ifndef SPDLOG_COMPILED_LIB
#error "logging/spdlog_compiled_lib.cc needs SPDLOG_COMPILED_LIB (see logging/CMakeLists.txt)"
#endif

#include <spdlog/async.h>
#include <spdlog/async_logger-inl.h>
#include <spdlog/cfg/helpers-inl.h>
#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/file_helper-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/details/thread_pool-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/ansicolor_sink-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/basic_file_sink-inl.h>
#include <spdlog/sinks/rotating_file_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_color_sinks-inl.h>
#include <spdlog/sinks/stdout_sinks-inl.h>
#include <spdlog/spdlog-inl.h>

#include <mutex>

namespace spdlog {

// Sinks: every template with an out-of-line body, for both mutex kinds.
template class sinks::base_sink<std::mutex>;
template class sinks::base_sink<details::null_mutex>;
template class sinks::basic_file_sink<std::mutex>;
template class sinks::basic_file_sink<details::null_mutex>;
template class sinks::rotating_file_sink<std::mutex>;
template class sinks::rotating_file_sink<details::null_mutex>;
template class sinks::stdout_sink_base<details::console_mutex>;
template class sinks::stdout_sink_base<details::console_nullmutex>;
template class sinks::stdout_sink<details::console_mutex>;
template class sinks::stdout_sink<details::console_nullmutex>;
template class sinks::stderr_sink<details::console_mutex>;
template class sinks::stderr_sink<details::console_nullmutex>;
template class sinks::ansicolor_sink<details::console_mutex>;
template class sinks::ansicolor_sink<details::console_nullmutex>;
template class sinks::ansicolor_stdout_sink<details::console_mutex>;
template class sinks::ansicolor_stdout_sink<details::console_nullmutex>;
template class sinks::ansicolor_stderr_sink<details::console_mutex>;
template class sinks::ansicolor_stderr_sink<details::console_nullmutex>;

// Console logger factories, synchronous and asynchronous.
#define SCEPD_CONSOLE_FACTORIES(Factory)                                                         \
  template std::shared_ptr<logger> stdout_logger_mt<Factory>(const std::string&);                \
  template std::shared_ptr<logger> stdout_logger_st<Factory>(const std::string&);                \
  template std::shared_ptr<logger> stderr_logger_mt<Factory>(const std::string&);                \
  template std::shared_ptr<logger> stderr_logger_st<Factory>(const std::string&);                \
  template std::shared_ptr<logger> stdout_color_mt<Factory>(const std::string&, color_mode);     \
  template std::shared_ptr<logger> stdout_color_st<Factory>(const std::string&, color_mode);     \
  template std::shared_ptr<logger> stderr_color_mt<Factory>(const std::string&, color_mode);     \
  template std::shared_ptr<logger> stderr_color_st<Factory>(const std::string&, color_mode);
SCEPD_CONSOLE_FACTORIES(synchronous_factory)
SCEPD_CONSOLE_FACTORIES(async_factory)
#undef SCEPD_CONSOLE_FACTORIES

}  // namespace spdlog
