#include "cli/tectia/request_options.h"

#include <charconv>

#include "cli/tectia/key_url.h"
#include "cli/tectia/proxy_url.h"
#include "cli/tectia/subject_names.h"
#include "cli/tectia/usage_names.h"
#include "core/wipe.h"

namespace scepd::tectia {
namespace {

Error Usage(const std::string& message) { return MakeError(ErrorCode::kInvalidArgument, message); }

// -S or -H: the proxy, once.
Status TakeProxy(std::string_view option, std::string_view url, RequestOptions& o) {
  if (!o.proxy_option.empty() && o.proxy_option != option) {
    return Usage("-S and -H: give one proxy, not both");
  }
  SCEPD_TRY(o.proxy, option == "-S" ? SocksProxy(url) : HttpProxy(url));
  o.proxy_option = std::string(option);
  return {};
}

// A shared option with its value: stored, or false when it is not one.
Result<bool> TakeShared(std::string_view option, std::string& value, RequestOptions& o) {
  if (option == "-o") {
    o.output_prefix = value;
  } else if (option == "-S" || option == "-H") {
    SCEPD_TRY_STATUS(TakeProxy(option, value, o));
  } else if (option == "-C") {
    o.ca_file = value;
  } else if (option == "-P") {
    Wipe(o.key_url);
    o.key_url = value;
  } else if (option == "-T") {
    o.template_file = value;
  } else if (option == "-s") {
    o.subject = value;
  } else if (option == "-u") {
    if (IsHelp(value)) o.help_list = HelpList::kKeyUsages;
    else o.key_usage = value;
  } else if (option == "-U") {
    if (IsHelp(value)) o.help_list = HelpList::kExtendedKeyUsages;
    else o.ext_key_usage = value;
  } else if (option == "--max-polls") {
    SCEPD_TRY(o.max_polls, ParsePositiveNumber(option, value));
  } else if (option == "--timeout") {
    SCEPD_TRY(o.timeout_seconds, ParsePositiveNumber(option, value));
  } else if (option == "--tls-ca-file") {
    o.tls_ca_file = value;
  } else {
    return false;
  }
  return true;
}

bool IsFlag(std::string_view option, std::span<const std::string_view> flags) {
  for (std::string_view f : flags) {
    if (f == option) return true;
  }
  return false;
}

}  // namespace

Result<long> ParsePositiveNumber(std::string_view option, std::string_view text) {  // NOLINT(runtime/int)
  long value = 0;  // NOLINT(runtime/int)
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1) {
    return Usage(std::string(option) + " '" + std::string(text) + "': expected a positive number");
  }
  return value;
}

Result<std::vector<std::string>> ReadArguments(int argc, char** argv, std::span<const std::string_view> flags,
                                               RequestOptions& o, const OwnOptionHandler& own) {
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    Own done = Own::kTaken;
    if (IsFlag(a, flags)) {
      SCEPD_TRY(done, own(a, nullptr));
    } else if (a.size() < 2 || a.front() != '-') {
      words.emplace_back(a);
      continue;
    } else {
      if (i + 1 >= argc) return Usage(std::string(a) + ": needs a value");
      std::string value = argv[++i];
      WipeOnExit wipe_value(value);  // -P and the command line's secrets
      SCEPD_TRY(bool shared, TakeShared(a, value, o));
      if (o.help_list != HelpList::kNone) break;
      if (!shared) {
        SCEPD_TRY(done, own(a, &value));
      }
    }
    if (done == Own::kStop) break;
    if (done == Own::kUnknown) return Usage("unknown option " + std::string(a));
  }
  return words;
}

std::string HelpListText(HelpList list) {
  switch (list) {
    case HelpList::kKeyUsages: return KeyUsageHelp();
    case HelpList::kExtendedKeyUsages: return ExtendedKeyUsageHelp();
    case HelpList::kNone: break;
  }
  return {};
}

Status CheckRequestOptions(const RequestOptions& o, KeyTypes key_types) {
  if (!o.key_url.empty()) {
    auto url = ParseKeyUrl(o.key_url);
    if (!url.ok()) return std::move(url).error();
    Wipe(url->passphrase);
    if (key_types == KeyTypes::kRsa && !url->ec_curve.empty()) {
      return Usage("-P: ec:" + url->ec_curve + ": this protocol needs an rsa key (the CA encrypts its reply to it)");
    }
  }
  if (!o.subject.empty()) SCEPD_TRY_STATUS(ParseSubjectNames(o.subject));
  if (!o.key_usage.empty()) SCEPD_TRY_STATUS(ParseKeyUsages(o.key_usage));
  if (!o.ext_key_usage.empty()) SCEPD_TRY_STATUS(ParseExtendedKeyUsages(o.ext_key_usage));
  return {};
}

void MaskKeyUrlPassphrase(char* argument) noexcept {
  const Span span = PassphraseSpan(argument);
  for (std::size_t k = 0; k < span.length; ++k) argument[span.first + k] = '*';
}

}  // namespace scepd::tectia
