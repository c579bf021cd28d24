#include "web/html.h"

#include <cctype>

namespace scepd::web {

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Page(std::string_view title, const std::string& body, int refresh_seconds) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      // No favicon request (busybox httpd would answer 404).
      "<link rel=\"icon\" href=\"data:,\">\n";
  if (refresh_seconds > 0) {
    out += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(refresh_seconds) + "\">\n";
  }
  out += "<title>" + Escape(title) + " - SCEP Client</title>\n<style>\n"
         "body{font-family:sans-serif;margin:0;display:flex}\n"
         "nav{background:#234;color:#fff;min-width:11em;padding:1em;min-height:100vh}\n"
         "nav a{color:#fff;display:block;margin:.3em 0}nav h2{font-size:1em;margin:1em 0 .2em}\n"
         "main{padding:1em 2em;max-width:60em}\n"
         "table{border-collapse:collapse}th{white-space:nowrap}td,th{padding:.3em .6em;vertical-align:top;text-align:left}\n"
         ".help{color:#555;font-size:.9em;max-width:28em}.error{color:#b00;font-weight:bold}\n"
         "tr.group th{border-bottom:1px solid #999;padding-top:1.2em}\n"
         ".ok{color:#070;font-weight:bold}.banner{border:1px solid #b00;padding:.5em;margin:.5em 0}\n"
         "input[type=text],textarea{width:24em}code{word-break:break-all}\n"
         "</style></head>\n<body><nav><strong>SCEP Client</strong>\n"
         "<h2>Configuration</h2><a id=\"menu-global\" href=\"?page=config\">Global</a>\n"
         "<h2>Information</h2><a id=\"menu-status\" href=\"?page=status\">Status</a>\n"
         "</nav><main>\n<h1>" + Escape(title) + "</h1>\n" + body + "</main></body></html>\n";
  return out;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

}  // namespace scepd::web
