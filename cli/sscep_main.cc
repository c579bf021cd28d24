// sscep: the SCEP command line client, a drop-in for sscep as routers ship it.
// Entered from the multi-call main (cli/multicall_main.cc).

#include <signal.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "cli/exit_code.h"
#include "cli/multicall.h"
#include "cli/sscep_commands.h"
#include "cli/sscep_options.h"

namespace {

// Progress on stdout as sscep prints it ("sscep: ..."); warnings and errors
// on stderr only, with their level.
class SplitSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit SplitSink(std::string program) : program_(std::move(program)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    bool problem = msg.level >= spdlog::level::warn;
    std::FILE* f = problem ? stderr : stdout;
    std::string text(msg.payload.data(), msg.payload.size());
    if (problem) {
      std::fprintf(f, "%s: %s: %s\n", program_.c_str(),
                   msg.level == spdlog::level::warn ? "warning" : "error", text.c_str());
    } else {
      std::fprintf(f, "%s: %s\n", program_.c_str(), text.c_str());
    }
  }
  void flush_() override {
    std::fflush(stdout);
    std::fflush(stderr);
  }

 private:
  std::string program_;
};

}  // namespace

namespace scepd::cli {
namespace {

// Errors in the command line itself, the ones that deserve the whole usage
// text; an error in a configuration file or a value names its place instead.
bool IsUsageError(const std::string& message) {
  for (const char* start : {"option ", "unknown operation", "missing operation", "unexpected argument"}) {
    if (message.rfind(start, 0) == 0) return true;
  }
  return false;
}

}  // namespace

int SscepMain(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a reset TLS connection is an error, not a crash
  if (argc < 2) {  // as sscep: the usage, on stdout, is the answer
    std::fputs(SscepUsage(argv[0]).c_str(), stdout);
    return kExitSuccess;
  }
  const std::string first = argv[1];
  if (first == "-V" || first == "--version") {
    std::fputs(SscepVersion().c_str(), stdout);
    return kExitSuccess;
  }
  if (first == "-h" || first == "--help") {
    std::fputs(SscepUsage(argv[0]).c_str(), stdout);
    return kExitSuccess;
  }
  auto options = ParseSscepArgs(argc, argv);
  if (!options.ok()) {
    const std::string& message = options.error().message;
    if (message == "version") {
      std::fputs(SscepVersion().c_str(), stdout);
      return kExitSuccess;
    }
    if (message == "help") {
      std::fputs(SscepUsage(argv[0]).c_str(), stdout);
      return kExitSuccess;
    }
    std::fprintf(stderr, "%s: %s\n", argv[0], message.c_str());
    if (IsUsageError(message)) {
      std::fputs("\n", stderr);
      std::fputs(SscepUsage(argv[0]).c_str(), stderr);
    }
    return kExitError;
  }
  HideSecretArguments(argc, argv, options->challenge);
  auto logger = std::make_shared<spdlog::logger>("sscep", std::make_shared<SplitSink>(argv[0]));
  logger->set_level(options->verbosity == 0   ? spdlog::level::info
                    : options->verbosity == 1 ? spdlog::level::debug
                                              : spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return RunSscep(*options);
}

}  // namespace scepd::cli
