#include "core/est/est_outcome.h"

#include <array>
#include <cstdio>
#include <cstring>

#include "core/bytes.h"
#include "core/cert_info.h"
#include "core/key.h"
#include "core/scep/certs_only.h"

namespace scepd::est {
namespace {

// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

int MonthIndex(const char* name) {
  static constexpr std::array<const char*, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (std::strcmp(name, kMonths[i]) == 0) return static_cast<int>(i) + 1;
  }
  return 0;
}

// Seconds since the epoch of an HTTP-date (RFC 9110 section 5.6.7), or -1.
std::int64_t ParseHttpDate(const std::string& text) {
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  char month[4] = {};
  char zone[4] = {};
  char rest = 0;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (std::sscanf(text.c_str(), "%*3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%c",  // NOLINT
                  &day, month, &year, &hour, &minute, &second, zone, &rest) != 7 ||
      std::strcmp(zone, "GMT") != 0) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit years: 19xx
    // from 70, else 20xx; a date 50 years ahead would not be a retry time).
    if (std::sscanf(text.c_str(), "%*[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3[A-Z]%c",  // NOLINT
                    &day, month, &year, &hour, &minute, &second, zone, &rest) == 7 &&
        std::strcmp(zone, "GMT") == 0) {
      year += year >= 70 ? 1900 : 2000;
    } else if (std::sscanf(text.c_str(), "%*3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%c",  // NOLINT
                           month, &day, &hour, &minute, &second, &year, &rest) != 6) {
      return -1;  // not asctime either: "Sun Nov  6 08:49:37 1994"
    }
  }
  const int mon = MonthIndex(month);
  if (mon == 0 || day < 1 || day > 31 || year < 1970 || hour > 23 || minute > 59 ||
      second > 60 || hour < 0 || minute < 0 || second < 0) {
    return -1;
  }
  return DaysFromCivil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day)) * 86400 +
         hour * 3600 + minute * 60 + second;
}

std::string StatusText(const HttpResponse& r) {
  std::string s = "HTTP " + std::to_string(r.status);
  if (!r.content_type.empty()) s += " (" + CleanServerText(r.content_type, 60) + ")";
  return s;
}

// The start of a body for a message: text only, else its size.
std::string BodyExcerpt(const HttpResponse& r) {
  if (r.body.empty()) return std::string();
  const bool texty = r.content_type.empty() || r.content_type.rfind("text/", 0) == 0 ||
                     r.content_type == "application/json";
  if (!texty) return std::to_string(r.body.size()) + " bytes";
  return "\"" + CleanServerText(ToString(r.body), 160) + "\"";
}

std::string AuthenticationText(const HttpResponse& r) {
  return r.www_authenticate.empty()
             ? std::string("no WWW-Authenticate header")
             : "WWW-Authenticate: " + CleanServerText(r.www_authenticate, 120);
}

Error UnexpectedStatus(const HttpResponse& r, std::string_view operation) {
  std::string msg = std::string(operation) + ": server answered " + StatusText(r);
  if (r.status == 401) msg += ": authentication required (" + AuthenticationText(r) + ")";
  const std::string excerpt = BodyExcerpt(r);
  if (!excerpt.empty()) msg += ": " + excerpt;
  return MakeError(ErrorCode::kHttp, std::move(msg));
}

}  // namespace

const char* RejectCodeName(RejectCode code) noexcept {
  switch (code) {
    case RejectCode::kAuthentication: return "authentication";
    case RejectCode::kForbidden: return "forbidden";
    case RejectCode::kBadRequest: return "bad-request";
  }
  return "?";
}

std::string CleanServerText(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : (c == '\n' || c == '\r' || c == '\t' ? ' ' : '?');
  }
  return out;
}

Result<std::int64_t> ParseRetryAfter(std::string_view value, std::int64_t now) {
  if (value.empty()) return MakeError(ErrorCode::kProtocol, "202 without Retry-After");
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    if (value.size() > 9) {
      return MakeError(ErrorCode::kProtocol,
                       "Retry-After " + CleanServerText(value, 40) + ": too many seconds");
    }
    return now + std::stoll(std::string(value));
  }
  const std::int64_t at = ParseHttpDate(std::string(value));
  if (at < 0) {
    return MakeError(ErrorCode::kProtocol, "Retry-After \"" + CleanServerText(value, 60) +
                                               "\": neither seconds nor an HTTP date");
  }
  return at < now ? now : at;
}

Result<std::vector<ossl::Ptr<X509>>> ParseCertsOnlyBody(const HttpResponse& response,
                                                        std::string_view operation) {
  const std::string op(operation);
  if (response.content_type != "application/pkcs7-mime") {
    std::string what = response.content_type.empty()
                           ? std::string("no content type")
                           : "content type " + CleanServerText(response.content_type, 60);
    if (response.content_type == "text/html") what += " (an HTML page, not EST)";
    return MakeError(ErrorCode::kHttp,
                     op + ": expected application/pkcs7-mime, got " + what);
  }
  auto der = Base64Decode(ToString(response.body));
  if (!der.ok()) return MakeError(ErrorCode::kParse, op + ": body: " + der.error().message);
  if (der->empty()) return MakeError(ErrorCode::kParse, op + ": empty body");
  auto p7 = scep::ParseCertsOnly(*der);
  if (!p7.ok()) return MakeError(ErrorCode::kParse, op + ": " + p7.error().message);
  if (p7->certs.empty()) {
    return MakeError(ErrorCode::kProtocol, op + ": the PKCS#7 answer holds no certificate");
  }
  return std::move(p7->certs);
}

Result<std::vector<ossl::Ptr<X509>>> InterpretCaCerts(const HttpResponse& response) {
  if (response.status != 200) return UnexpectedStatus(response, "cacerts");
  return ParseCertsOnlyBody(response, "cacerts");
}

Result<EnrollOutcome> InterpretEnroll(const HttpResponse& response, EVP_PKEY* key,
                                      std::int64_t now) {
  const long status = response.status;  // NOLINT(runtime/int)
  if (status == 200) {
    auto certs = ParseCertsOnlyBody(response, "enroll");
    if (!certs.ok()) return std::move(certs).error();
    Issued issued;
    for (auto& c : *certs) {
      ossl::Ptr<EVP_PKEY> pub(X509_get_pubkey(c.get()));
      if (!issued.cert && key != nullptr && SamePublicKey(pub.get(), key)) {
        issued.cert = std::move(c);
      } else {
        issued.chain.push_back(std::move(c));
      }
    }
    if (!issued.cert) {
      return MakeError(ErrorCode::kVerify,
                       "enroll: none of the " + std::to_string(issued.chain.size()) +
                           " certificate(s) in the answer is for the requested key");
    }
    return EnrollOutcome(std::move(issued));
  }
  if (status == 202) {
    auto at = ParseRetryAfter(response.retry_after, now);
    if (!at.ok()) return MakeError(ErrorCode::kProtocol, "enroll: " + at.error().message);
    return EnrollOutcome(Pending{*at});
  }
  if (status >= 400 && status < 500) {
    Rejected r;
    r.status = status;
    r.code = status == 401   ? RejectCode::kAuthentication
             : status == 403 ? RejectCode::kForbidden
                             : RejectCode::kBadRequest;
    r.reason = "HTTP " + std::to_string(status);
    if (status == 401) r.reason += ": authentication failed (" + AuthenticationText(response) + ")";
    const std::string excerpt = BodyExcerpt(response);
    if (!excerpt.empty()) r.reason += ": " + excerpt;
    return EnrollOutcome(std::move(r));
  }
  return UnexpectedStatus(response, "enroll");
}

X509* FindByFingerprint(std::span<const ossl::Ptr<X509>> certs, std::string_view sha256_hex) {
  std::string want;
  for (char c : sha256_hex) {
    if (c == ':' || c == ' ') continue;
    want += (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  if (want.size() != 64) return nullptr;
  for (const auto& c : certs) {
    auto fp = Fingerprint(c.get(), "sha256");
    if (!fp.ok()) continue;
    std::string plain;
    for (char ch : *fp) {
      if (ch != ':') plain += ch;
    }
    if (plain == want) return c.get();
  }
  return nullptr;
}

}  // namespace scepd::est
