#include "io/process_hook_runner.h"

#include <algorithm>
#include <string_view>

#include "io/child_process.h"

namespace scepd {

namespace {

// Collects interleaved output into bounded lines.
class OutputCollector {
 public:
  void Append(const char* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      const char c = data[i];
      if (c == '\n') {
        EndLine();
        continue;
      }
      in_line_ = true;
      if (lines_.size() < kHookMaxLines && current_.size() < kHookMaxLineBytes) {
        current_.push_back(c);
      }
    }
  }

  std::vector<std::string> Finish() {
    if (in_line_) EndLine();
    if (dropped_ > 0) {
      lines_.push_back("... " + std::to_string(dropped_) + " more line" +
                       (dropped_ == 1 ? "" : "s"));
    }
    return std::move(lines_);
  }

 private:
  void EndLine() {
    if (lines_.size() < kHookMaxLines) {
      if (!current_.empty() && current_.back() == '\r') current_.pop_back();
      lines_.push_back(std::move(current_));
    } else {
      ++dropped_;
    }
    current_.clear();
    in_line_ = false;
  }

  std::vector<std::string> lines_;
  std::string current_;
  bool in_line_ = false;
  std::size_t dropped_ = 0;
};

Status CheckEnvironment(const std::string& script,
                        const std::vector<std::pair<std::string, std::string>>& env) {
  if (script.find('\0') != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "hook script contains a NUL byte");
  }
  for (const auto& [name, value] : env) {
    if (name.empty() || name.find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "hook environment: invalid variable name '" + name + "'");
    }
    if (value.find('\0') != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "hook environment: the value of " + name + " contains a NUL byte");
    }
  }
  return {};
}

}  // namespace

std::vector<std::pair<std::string, std::string>> HookEnvironment(
    const std::map<std::string, std::string>& scep_vars, const std::string& extra_path_dir) {
  std::string path = "/usr/sbin:/usr/bin:/sbin:/bin";
  if (!extra_path_dir.empty() && extra_path_dir.find('\0') == std::string::npos) {
    path = extra_path_dir + ":" + path;
  }
  std::vector<std::pair<std::string, std::string>> env = {
      {"PATH", path}, {"HOME", "/"}, {"LANG", "C"}};
  for (const auto& [name, value] : scep_vars) {
    const bool name_ok =
        name.size() > 5 && name.compare(0, 5, "SCEP_") == 0 &&
        std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        });
    if (!name_ok || value.find('\0') != std::string::npos) continue;
    env.emplace_back(name, value);
  }
  return env;
}

Result<HookResult> ProcessHookRunner::Run(
    const std::string& script, const std::vector<std::pair<std::string, std::string>>& env,
    int timeout_seconds) {
  SCEPD_TRY_STATUS(CheckEnvironment(script, env));

  ChildCommand command;
  command.program = "/bin/sh";
  command.argv = {"sh", "-c", script};
  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  command.environment = std::move(env_strings);
  command.chdir_root = true;
  command.merge_stderr = true;

  ChildLimits limits;
  limits.timeout = std::chrono::seconds(std::max(timeout_seconds, 1));
  limits.kill_grace = options_.kill_grace;
  limits.drain_after_exit = options_.drain_after_exit;
  limits.use_pidfd = options_.use_pidfd;

  OutputCollector collector;
  auto run = RunChild(command, limits, [&collector](ChildStream, std::string_view data) {
    collector.Append(data.data(), data.size());
  });
  if (!run.ok()) {
    return MakeError(run.error().code, "cannot run hook: " + run.error().message);
  }
  HookResult result;
  result.timed_out = run->timed_out;
  result.exit_code = run->wait_status ? ShellExitCode(*run->wait_status) : -1;
  result.output = collector.Finish();
  return result;
}

}  // namespace scepd
