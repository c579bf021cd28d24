#include "core/est/est_url.h"

namespace scepd::est {
namespace {

constexpr std::string_view kWellKnown = "/.well-known/est";

bool LabelChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

}  // namespace

const char* OperationName(Operation op) noexcept {
  switch (op) {
    case Operation::kCaCerts: return "cacerts";
    case Operation::kSimpleEnroll: return "simpleenroll";
    case Operation::kSimpleReenroll: return "simplereenroll";
    case Operation::kCsrAttrs: return "csrattrs";
    case Operation::kServerKeygen: return "serverkeygen";
  }
  return "?";
}

Result<std::string> OperationUrl(std::string_view base_url, std::string_view label, Operation op) {
  constexpr std::string_view kScheme = "https://";
  if (base_url.size() <= kScheme.size() || base_url.substr(0, kScheme.size()) != kScheme) {
    return MakeError(ErrorCode::kInvalidArgument, "EST URL must start with https://");
  }
  if (base_url.find_first_of("?#") != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "EST URL must not carry a query or fragment");
  }
  const std::string_view rest = base_url.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.empty()) return MakeError(ErrorCode::kInvalidArgument, "EST URL without a host");
  if (authority.find('@') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "EST URL must not carry user information (give credentials separately)");
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (!path.empty() && path != kWellKnown) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "EST URL path must be empty or /.well-known/est (a CA label goes in the "
                     "label option)");
  }
  if (label == "." || label == "..") {
    return MakeError(ErrorCode::kInvalidArgument, "EST label must not be a dot segment");
  }
  for (char c : label) {
    if (!LabelChar(c)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "EST label may hold letters, digits and -._~!$&'()*+,;=:@ only");
    }
  }
  std::string url(kScheme);
  url.append(authority);
  url.append(kWellKnown);
  if (!label.empty()) {
    url += '/';
    url.append(label);
  }
  url += '/';
  url += OperationName(op);
  return url;
}

}  // namespace scepd::est
