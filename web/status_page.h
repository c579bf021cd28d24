#pragma once
// Information -> Status: the router app's two status lines, then each
// certificate's details and CA chain from the public files the daemon keeps
// in run_dir (daemon/status_publisher.h), with Renew now / Check now.

#include <string>

namespace scepd::web {

// The page body wrapped by Page(). `done` is "renew" or "check" after those
// buttons (a fixed notice; never the text of the request). Refreshes every 5
// seconds while an enrollment runs. Never fails: what cannot be read is
// said on the page.
std::string StatusPage(const std::string& config_path, const std::string& csrf_token,
                       const std::string& done);

}  // namespace scepd::web
