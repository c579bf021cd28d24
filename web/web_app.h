#pragma once
// The router app's pages as one CGI program: Configuration -> Global (the
// settings form) and Information -> Status, rendered on the server; no
// JavaScript anywhere. Authentication is the web server's; this program
// guards against forged and malformed requests itself (csrf.h,
// cgi_request.h). It reads and checks the settings with the daemon's own
// reader (daemon/config.h) and talks to the daemon by signals only (SIGHUP
// reload, SIGUSR1 check now, SIGUSR2 renew now), never through a shell.

#include <string>
#include <utility>
#include <vector>

#include "web/cgi_request.h"

namespace scepd::web {

struct WebOptions {
  // The settings file (SCEPD_CONFIG, else /etc/scepd.conf).
  std::string config_path;
  // How long Apply waits for the daemon to report its reload.
  int reload_wait_ms = 5000;
};

struct CgiResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Status
  std::string body;
};

// Answers one request. Never fails: problems become error pages (400 bad
// request, 403 wrong token, 405 wrong method, 413 too large, 500 when the
// settings cannot be written), and nothing is changed by a refused request.
CgiResponse HandleRequest(const WebOptions& options, const CgiRequest& request);

// The response in CGI form: "Status:" and the headers, a blank line, the body.
std::string FormatCgiResponse(const CgiResponse& response);

}  // namespace scepd::web
