// scepd.cgi: the router app's web pages (web/web_app.h). The web server runs
// it for every request; SCEPD_CONFIG names the settings file.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "web/web_app.h"

int main() {
  scepd::web::WebOptions options;
  const char* config = std::getenv("SCEPD_CONFIG");
  options.config_path = config != nullptr && *config != '\0' ? config : "/etc/scepd.conf";
  const scepd::web::CgiRequest request = scepd::web::ReadCgiRequest();
  const std::string out = scepd::web::FormatCgiResponse(scepd::web::HandleRequest(options, request));
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
