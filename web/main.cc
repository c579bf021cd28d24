// scepd.cgi: the router app's web pages (web/web_app.h). The web server runs
// it for every request. The settings file: SCEPD_CONFIG when set; else
// APP/etc/scepd.conf when the program is installed as
// APP/www/cgi-bin/scepd.cgi and that file exists (the router app archive,
// /opt/scepClient); else /etc/scepd.conf.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "web/web_app.h"

namespace {

std::string DefaultConfigPath() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0) {
    std::string dir(buf, static_cast<std::size_t>(n));
    dir.erase(dir.rfind('/'));
    const std::string suffix = "/www/cgi-bin";
    if (dir.size() > suffix.size() && dir.compare(dir.size() - suffix.size(), suffix.size(), suffix) == 0) {
      const std::string app_conf = dir.substr(0, dir.size() - suffix.size()) + "/etc/scepd.conf";
      if (::access(app_conf.c_str(), F_OK) == 0) return app_conf;
    }
  }
  return "/etc/scepd.conf";
}

}  // namespace

int main() {
  scepd::web::WebOptions options;
  const char* config = std::getenv("SCEPD_CONFIG");
  options.config_path = config != nullptr && *config != '\0' ? config : DefaultConfigPath();
  const scepd::web::CgiRequest request = scepd::web::ReadCgiRequest();
  const std::string out = scepd::web::FormatCgiResponse(scepd::web::HandleRequest(options, request));
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
