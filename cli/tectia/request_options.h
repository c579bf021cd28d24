#pragma once
// The options the Tectia command lines share: scep-client and cmp-client
// take -o, -S, -H, -C, -P, -T, -s, -u and -U (each list, or `help`), and
// scepd's --max-polls, --timeout and --tls-ca-file, in the same form and with
// the same meaning. One parser serves both, so the two cannot drift apart;
// each command line keeps only its own options (-p, -E, -V, -c, -k, ...).

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scepd::tectia {

// -u help or -U help: the list to print instead of running.
enum class HelpList { kNone, kKeyUsages, kExtendedKeyUsages };

struct RequestOptions {
  std::string output_prefix;    // -o
  std::string proxy;            // -S or -H, as TransportOptions::proxy takes it
  std::string ca_file;          // -C
  std::string key_url;          // -P (a secret when it holds a passphrase)
  std::string template_file;    // -T
  std::string subject;          // -s
  std::string key_usage;        // -u
  std::string ext_key_usage;    // -U
  long max_polls = 60;          // --max-polls  NOLINT(runtime/int)
  long timeout_seconds = 120;   // --timeout  NOLINT(runtime/int)
  std::string tls_ca_file;      // --tls-ca-file
  HelpList help_list = HelpList::kNone;  // -u help / -U help
  std::string proxy_option;     // which of -S and -H gave `proxy` (parse state)
};

// What a command line's own option handler did with an option.
enum class Own {
  kTaken,    // stored; go on
  kStop,     // an answer by itself (help, version): stop reading arguments
  kUnknown,  // not an option of this command line
};
// Called with an option that is not a shared one: `value` is null for the
// options listed as flags, else the option's value (which it may move from).
using OwnOptionHandler = std::function<Result<Own>(std::string_view option, std::string* value)>;

// Reads a Tectia command line, argv[1] to argv[argc - 1], options anywhere
// among the words: the shared options are stored in `options`, `-u help`
// and `-U help` set options.help_list and stop the walk, every other option
// goes to `own` (`flags` names those that take no value). Returns the words
// (command, access URL, name) in order. Fails with kInvalidArgument naming
// the option: an option without its value, an unknown one, a bad -S/-H URL
// (proxy_url.h), -S together with -H, a --max-polls or --timeout that is not
// a positive number; or with `own`'s error. The value of -P is wiped from
// the walk's copy once stored. The lists (-P, -s, -u, -U) are checked whole
// by CheckRequestOptions.
Result<std::vector<std::string>> ReadArguments(int argc, char** argv, std::span<const std::string_view> flags,
                                               RequestOptions& options, const OwnOptionHandler& own);

// The text `-u help` / `-U help` prints (usage_names.h); empty for kNone.
std::string HelpListText(HelpList list);

// The key types a protocol can use for the key pair (-P).
enum class KeyTypes { kRsa, kRsaOrEc };

// After all arguments, before anything is sent: the key URL (-P, key_url.h;
// a proprietary savetype fails with kUnsupported, an ec key where only rsa
// is usable with kInvalidArgument), the subject with names (-s) and the
// usage lists (-u, -U) parse. Fails naming the option and the part at fault.
Status CheckRequestOptions(const RequestOptions& options, KeyTypes key_types);

// `text` as a positive whole number, else kInvalidArgument naming `option`.
Result<long> ParsePositiveNumber(std::string_view option, std::string_view text);  // NOLINT(runtime/int)

// Overwrites with '*' the passphrase of a generate:// key URL given as an
// argument (argv), so ps stops showing it; other text is left alone.
void MaskKeyUrlPassphrase(char* argument) noexcept;

}  // namespace scepd::tectia
