#include "core/url_mask.h"

namespace scepd {

std::string MaskUrlUserInfo(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t authority_end = url.find_first_of("/?#", authority);
  const std::string_view host_part = url.substr(
      authority, authority_end == std::string_view::npos ? std::string_view::npos
                                                         : authority_end - authority);
  const std::size_t at = host_part.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, authority));
  out += "***";
  out += url.substr(authority + at);
  return out;
}

}  // namespace scepd
