// The settings' entry points: LoadConfig reads the file, ParseConfig runs
// the reading (config_read.cc) and the checking (config_check.cc).
#include "daemon/config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/wipe.h"
#include "daemon/config_raw.h"

namespace scepd {
namespace {

constexpr std::size_t kMaxConfigSize = 1 << 20;

// Opens `path` for reading with no stream buffer: the settings and the
// password file hold the challenge, and a filebuf's buffer is freed unwiped.
// Reads then go straight into the caller's (wiped) string.
void Unbuffered(std::ifstream* in, const std::string& path) {
  in->rdbuf()->pubsetbuf(nullptr, 0);
  in->open(path, std::ios::binary);
}

}  // namespace

void WipeSecrets(CertificateSettings* settings) noexcept {
  Wipe(settings->challenge_password);
  Wipe(settings->proxy_credentials);
  Wipe(settings->est_password);
  Wipe(settings->cmp_secret);
}

void WipeSecrets(Config* config) noexcept {
  for (CertificateSettings& cert : config->certificates) WipeSecrets(&cert);
}

const char* LogLevelName(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
    case LogLevel::kCritical: return "critical";
    case LogLevel::kOff: return "off";
  }
  return "info";
}

const char* LogTargetName(LogTarget target) noexcept {
  switch (target) {
    case LogTarget::kSyslog: return "syslog";
    case LogTarget::kStderr: return "stderr";
    case LogTarget::kBoth: return "both";
  }
  return "syslog";
}

Result<Config> ParseConfig(std::string_view text, const std::string& file_name,
                           const SerialSources& sources) {
  Problems problems(file_name);
  Config config;
  ReadSections(text, &problems, [&](const std::vector<RawSection>& sections) {
    CheckSections(sections, &problems, sources, &config);
  });
  if (!problems.empty()) {
    WipeSecrets(&config);
    return MakeError(ErrorCode::kInvalidArgument, problems.Join());
  }
  return config;
}

Result<Config> LoadConfig(const std::string& path, const SerialSources& sources) {
  std::ifstream in;
  Unbuffered(&in, path);
  if (!in) {
    return MakeError(ErrorCode::kIo, path + ": cannot read: " + std::strerror(errno));
  }
  // A buffer of the file's size (plus one byte to see it grew), not of the
  // 1 MiB limit: a freed 1 MiB block would raise glibc's mmap threshold and
  // leave the idle daemon's heap that much larger. Read again at the limit
  // when the size is unknown or the file grew meanwhile.
  std::size_t want = kMaxConfigSize + 1;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
  in.clear();
  in.seekg(0, std::ios::beg);
  in.clear();  // not seekable (a pipe): read up to the limit
  if (size >= 0 && static_cast<std::size_t>(size) < kMaxConfigSize) {
    want = static_cast<std::size_t>(size) + 1;
  }
  std::string text(want, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (!in.bad() && static_cast<std::size_t>(in.gcount()) == want && want < kMaxConfigSize + 1) {
    Wipe(text);
    text.assign(kMaxConfigSize + 1, '\0');
    in.clear();
    in.seekg(0, std::ios::beg);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
  }
  if (in.bad()) {
    Wipe(text);
    return MakeError(ErrorCode::kIo, path + ": cannot read: " + std::strerror(errno));
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigSize) {
    Wipe(text);
    return MakeError(ErrorCode::kIo, path + ": larger than 1 MiB; is this the settings file?");
  }
  auto config = ParseConfig(text, path, sources);
  Wipe(text);  // it may hold the challenge password
  return config;
}

Result<std::string> FindSerialNumber(const DaemonSettings& settings,
                                     const SerialSources& sources) {
  return FindSerialNumber(settings.serial_number, settings.serial_number_command, sources);
}

KeySpec KeySpecOf(const CertificateSettings& settings) {
  KeySpec spec;
  spec.type = settings.key_type;
  spec.rsa_bits = settings.key_size;
  spec.ec_curve = settings.ec_curve;
  return spec;
}

CsrSpec RequestSpec(const CertificateSettings& settings) {
  CsrSpec spec;
  spec.subject = settings.subject;
  spec.alt_names = settings.alt_name;
  spec.template_name = settings.template_name;
  spec.digital_signature = settings.digital_signature;
  spec.key_encipherment = settings.key_encipherment;
  spec.server_auth = settings.server_auth;
  spec.client_auth = settings.client_auth;
  spec.challenge_password = settings.challenge_password;
  return spec;
}

}  // namespace scepd
