// sscep: the SCEP command line client, a drop-in for sscep as routers ship it.

#include <signal.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "cli/exit_code.h"
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

int main(int argc, char** argv) {
  using namespace scepd::cli;  // NOLINT(build/namespaces)
  ::signal(SIGPIPE, SIG_IGN);  // a reset TLS connection is an error, not a crash
  auto options = ParseSscepArgs(argc, argv);
  if (!options.ok()) {
    if (options.error().message == "version") {
      std::fputs(SscepVersion().c_str(), stdout);
      return kExitSuccess;
    }
    bool help = options.error().message == "help";
    if (!help) std::fprintf(stderr, "%s: %s\n\n", argv[0], options.error().message.c_str());
    std::fputs(SscepUsage(argv[0]).c_str(), help ? stdout : stderr);
    return help ? kExitSuccess : kExitError;
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
