// scepd.cgi's pieces and its request handling, in process: escaping, the
// CSRF token, strict form parsing, field errors from the daemon's checker,
// the settings file edited in place (comments, unknown lines and other
// sections kept) and the challenge password never sent to the browser.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "daemon/config.h"
#include "tests/support/process.h"
#include "web/cgi_request.h"
#include "web/csrf.h"
#include "web/field_specs.h"
#include "web/html.h"
#include "web/settings_edit.h"
#include "web/web_app.h"

namespace scepd::web {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

const std::string kToken(64, 'a');

TEST(HtmlTest, EscapesEveryCharacterThatCouldEndTextOrAnAttribute) {
  EXPECT_EQ(Escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
  EXPECT_EQ(Escape("plain /CN=router"), "plain /CN=router");
  EXPECT_EQ(UrlEncode("a b&c=/"), "a%20b%26c%3D%2F");
}

TEST(CsrfTest, TokensAreRandomWellFormedAndComparedExactly) {
  auto a = NewCsrfToken(), b = NewCsrfToken();
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(WellFormedCsrfToken(*a));
  EXPECT_TRUE(CsrfTokensMatch(*a, *a));
  EXPECT_FALSE(CsrfTokensMatch(*a, *b));
  EXPECT_FALSE(CsrfTokensMatch("", ""));
  EXPECT_FALSE(CsrfTokensMatch("abc", "abc"));
  EXPECT_NE(CsrfCookieHeader(*a).find("HttpOnly; SameSite=Strict"), std::string::npos);
  EXPECT_EQ(CookieValue("x=1; scepd_csrf=" + *a + "; y=2", kCsrfCookie), *a);
  EXPECT_EQ(CookieValue("x=1", kCsrfCookie), std::nullopt);
}

TEST(FormTest, DecodesAndRefusesWhatThePagesNeverSend) {
  auto ok = ParseForm("a=1+2&b=%2Fx%0D%0Ay&c=");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->at("a"), "1 2");
  EXPECT_EQ(ok->at("b"), "/x\ny");  // CRLF from a textarea becomes LF
  EXPECT_EQ(ok->at("c"), "");
  EXPECT_FALSE(ParseForm("a=%0Dx").ok());   // a lone CR
  EXPECT_FALSE(ParseForm("a=x%00y").ok());  // NUL
  EXPECT_FALSE(ParseForm("a=x%1By").ok());  // ESC
  EXPECT_FALSE(ParseForm("a=x%7F").ok());   // DEL
  EXPECT_FALSE(ParseForm("a=%4").ok());
  EXPECT_FALSE(ParseForm("a=%zz").ok());
  EXPECT_FALSE(ParseForm("a=1&a=2").ok());
  EXPECT_FALSE(ParseForm("A=1").ok());
  EXPECT_FALSE(ParseForm("=1").ok());
  EXPECT_FALSE(ParseForm("a=" + std::string(17 * 1024, 'x')).ok());
}

TEST(FieldSpecsTest, EverySeedSettingIsOnThePageAndEveryKeyIsOneTheReaderKnows) {
  for (const char* key : {"enabled", "url", "renew_days", "await_result", "max_await_result",
                          "legacy_ciphers", "key_size", "subject", "alt_name", "template",
                          "digital_signature", "key_encipherment", "server_auth", "client_auth",
                          "success_script", "failure_script", "challenge_password",
                          "ca_fingerprint"}) {
    EXPECT_NE(FindFieldSpec(key), nullptr) << key;
  }
  const CertificateSettings d;
  for (const FieldSpec& f : FieldSpecs()) {
    auto keys = f.global ? ScepdSettingsKeys() : CertificateSettingsKeys();
    EXPECT_NE(std::find(keys.begin(), keys.end(), std::string_view(f.key)), keys.end()) << f.key;
    EXPECT_NE(std::string(f.help), "") << f.key;
  }
  // The defaults the page shows are the reader's.
  EXPECT_EQ(std::string(FindFieldSpec("renew_days")->default_value), std::to_string(d.renew_days));
  EXPECT_EQ(std::string(FindFieldSpec("await_result")->default_value),
            std::to_string(d.await_result));
  EXPECT_EQ(std::string(FindFieldSpec("max_await_result")->default_value),
            std::to_string(d.max_await_result));
  EXPECT_EQ(std::string(FindFieldSpec("key_size")->default_value), std::to_string(d.key_size));
  EXPECT_EQ(FindFieldSpec("digital_signature")->default_checked, d.digital_signature);
  EXPECT_EQ(FindFieldSpec("key_encipherment")->default_checked, d.key_encipherment);
  EXPECT_EQ(FindFieldSpec("server_auth")->default_checked, d.server_auth);
  EXPECT_EQ(FindFieldSpec("client_auth")->default_checked, d.client_auth);
  EXPECT_EQ(FindFieldSpec("legacy_ciphers")->default_checked, d.legacy_ciphers);
}

const char kSettings[] =
    "; the router's settings\n"
    "[scepd]\n"
    "enabled = no\n"
    "# keep this comment\n"
    "serial_number = A1B2\n"
    "\n"
    "[certificate]\n"
    "url = http://127.0.0.1:1/scep\n"
    "subject = /CN=router-SN\n"
    "renew_days: 30\n"
    "success_script = echo one\n"
    "    echo two\n"
    "; comment inside the section\n"
    "challenge_password = s3cr3t-pw\n"
    "\n"
    "[certificate vpn]\n"
    "data_dir = /tmp/vpn\n"
    "subject = /CN=vpn\n";

TEST(SettingsEditTest, ReplacesLinesInPlaceAndKeepsEverythingElse) {
  const std::string text = kSettings;
  EXPECT_EQ(RawValue(text, "certificate", "success_script"), "echo one\necho two");
  EXPECT_EQ(RawValue(text, "certificate", "renew_days"), "30");
  EXPECT_EQ(RawValue(text, "certificate vpn", "renew_days"), std::nullopt);
  EXPECT_EQ(CertificateHeaders(text), (std::vector<std::string>{"certificate", "certificate vpn"}));

  std::string edited = SetValues(text, "certificate",
                                 {{"renew_days", "45"},
                                  {"success_script", "echo three"},
                                  {"template", "Router"},
                                  {"url", std::nullopt}});
  EXPECT_EQ(edited,
            "; the router's settings\n"
            "[scepd]\n"
            "enabled = no\n"
            "# keep this comment\n"
            "serial_number = A1B2\n"
            "\n"
            "[certificate]\n"
            "subject = /CN=router-SN\n"
            "renew_days = 45\n"
            "success_script = echo three\n"
            "; comment inside the section\n"
            "challenge_password = s3cr3t-pw\n"
            "template = Router\n"
            "\n"
            "[certificate vpn]\n"
            "data_dir = /tmp/vpn\n"
            "subject = /CN=vpn\n");
  std::string vpn = SetValues(text, "certificate vpn", {{"renew_days", "10"}});
  EXPECT_NE(vpn.find("subject = /CN=vpn\nrenew_days = 10\n"), std::string::npos) << vpn;
  std::string fresh = SetValues("[scepd]\n", "certificate", {{"url", "http://x/"}});
  EXPECT_EQ(fresh, "[scepd]\n\n[certificate]\nurl = http://x/\n");
}

class CgiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(conf(), kSettings, 0640);
    options_.config_path = conf();
    options_.reload_wait_ms = 0;
  }
  std::string conf() const { return dir_.File("scepd.conf"); }

  CgiResponse Get(const std::string& query, const std::string& cookie = "") {
    CgiRequest r;
    r.method = "GET";
    r.query = query;
    r.cookie = cookie;
    return HandleRequest(options_, r);
  }
  CgiResponse Post(const std::string& query, const std::string& body,
                   const std::string& cookie = "scepd_csrf=" + kToken) {
    CgiRequest r;
    r.method = "POST";
    r.query = query;
    r.cookie = cookie;
    r.content_type = "application/x-www-form-urlencoded";
    r.body = body;
    return HandleRequest(options_, r);
  }
  // The form as the page sends it, with `changes` replacing fields.
  std::string Form(const std::string& changes) {
    std::string base = "csrf=" + kToken +
                       "&action=apply&section=certificate&enabled=&url=http%3A%2F%2F127.0.0.1%3A1%2F"
                       "scep&renew_days=30&await_result=300&max_await_result=480&key_size=2048"
                       "&subject=%2FCN%3Drouter-SN&alt_name=&template=&digital_signature=yes"
                       "&key_encipherment=yes&client_auth=yes&success_script=echo+one%0D%0Aecho+two"
                       "&failure_script=&challenge_password=&ca_fingerprint=";
    return base + changes;
  }
  std::string Replace(std::string form, const std::string& field, const std::string& value) {
    const std::size_t at = form.find("&" + field + "=");
    const std::size_t end = form.find('&', at + 1);
    form.replace(at, end == std::string::npos ? std::string::npos : end - at,
                 "&" + field + "=" + value);
    return form;
  }

  TempDir dir_;
  WebOptions options_;
};

TEST_F(CgiTest, ConfigPageShowsTheFileButNeverTheChallengePassword) {
  CgiResponse r = Get("page=config");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("s3cr3t-pw"), std::string::npos);
  EXPECT_NE(r.body.find("name=\"challenge_password\" value=\"\""), std::string::npos);
  EXPECT_NE(r.body.find("value=\"/CN=router-SN\""), std::string::npos);
  EXPECT_NE(r.body.find("echo one\necho two</textarea>"), std::string::npos);
  EXPECT_NE(r.body.find("certificate vpn"), std::string::npos) << "sections offered";
  bool cookie = false;
  for (const auto& [k, v] : r.headers) cookie |= k == "Set-Cookie" && v.find("scepd_csrf=") == 0;
  EXPECT_TRUE(cookie);
  CgiResponse vpn = Get("page=config&cert=vpn");
  EXPECT_NE(vpn.body.find("value=\"/CN=vpn\""), std::string::npos);
  EXPECT_EQ(Get("page=config&cert=nope").status, 400);
}

TEST_F(CgiTest, ValuesAreEscapedOnThePage) {
  WriteFile(conf(), std::string(kSettings) + "template = <script>x</script>\"\n");
  CgiResponse r = Get("page=config&cert=vpn");
  EXPECT_EQ(r.body.find("<script>x"), std::string::npos);
  EXPECT_NE(r.body.find("&lt;script&gt;x&lt;/script&gt;&quot;"), std::string::npos);
}

TEST_F(CgiTest, ApplyWritesOnlyWhatChangedKeepingCommentsAndSections) {
  CgiResponse r = Post("page=config", Replace(Form(""), "renew_days", "45"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("id=\"apply-result\""), std::string::npos);
  EXPECT_NE(r.body.find("daemon is not running"), std::string::npos) << r.body;
  std::string expected = kSettings;
  expected.replace(expected.find("renew_days: 30"), 14, "renew_days = 45");
  EXPECT_EQ(ReadFile(conf()), expected);
  struct stat st;
  ASSERT_EQ(::stat(conf().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u) << "mode kept";
  EXPECT_EQ(r.body.find("s3cr3t-pw"), std::string::npos);
}

TEST_F(CgiTest, ANewChallengeIsWrittenButNeverEchoedAndEmptyKeepsTheOld) {
  CgiResponse r = Post("page=config", Replace(Form(""), "challenge_password", "n3w-pw"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("n3w-pw"), std::string::npos);
  EXPECT_NE(ReadFile(conf()).find("challenge_password = n3w-pw\n"), std::string::npos);
  // With a field error the page comes back: still without the password.
  CgiResponse bad = Post("page=config", Replace(Replace(Form(""), "challenge_password", "p%C3%A4ss-x"),
                                                "key_size", "huge"));
  EXPECT_EQ(bad.body.find("p\xC3\xA4ss-x"), std::string::npos);
  EXPECT_EQ(bad.body.find("n3w-pw"), std::string::npos);
}

TEST_F(CgiTest, FieldErrorsAppearBesideTheirFieldsAndNothingIsWritten) {
  const std::string before = ReadFile(conf());
  CgiResponse r = Post("page=config", Replace(Replace(Form(""), "subject", "no-slash%3Cb%3E"),
                                              "renew_days", "0"));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("id=\"error-subject\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("id=\"error-renew_days\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("no-slash<b>"), std::string::npos) << "escaped";
  EXPECT_NE(r.body.find("value=\"no-slash&lt;b&gt;\""), std::string::npos) << "value kept";
  EXPECT_EQ(ReadFile(conf()), before);
}

TEST_F(CgiTest, BadRequestsGetAnErrorPageAndChangeNothing) {
  const std::string before = ReadFile(conf());
  const std::string good = Replace(Form(""), "renew_days", "45");
  // Wrong token, missing cookie, missing field.
  EXPECT_EQ(Post("page=config", good, "scepd_csrf=" + std::string(64, 'b')).status, 403);
  EXPECT_EQ(Post("page=config", good, "").status, 403);
  EXPECT_EQ(Post("page=config", good.substr(good.find('&'))).status, 403);
  // Unknown field, control character, a second copy of a field.
  EXPECT_EQ(Post("page=config", good + "&evil=1").status, 400);
  EXPECT_EQ(Post("page=config", Replace(good, "subject", "%2FCN%3Da%1Bb")).status, 400);
  EXPECT_EQ(Post("page=config", good + "&url=http%3A%2F%2Fx%2F").status, 400);
  EXPECT_EQ(Post("page=config", Replace(good, "subject", "%2FCN%3Da%0Ab")).status, 400);
  EXPECT_EQ(Post("page=config", Replace(good, "section", "certificate+nope")).status, 400);
  // Too large, not a form, wrong method.
  CgiRequest big;
  big.method = "POST";
  big.cookie = "scepd_csrf=" + kToken;
  big.content_type = "application/x-www-form-urlencoded";
  big.body_too_large = true;
  EXPECT_EQ(HandleRequest(options_, big).status, 413);
  CgiRequest json = big;
  json.body_too_large = false;
  json.content_type = "application/json";
  json.body = good;
  EXPECT_EQ(HandleRequest(options_, json).status, 400);
  CgiRequest put = json;
  put.method = "PUT";
  EXPECT_EQ(HandleRequest(options_, put).status, 405);
  CgiResponse page = Post("page=config", good + "&evil=%3Cx%3E");
  EXPECT_NE(page.body.find("id=\"request-error\""), std::string::npos);
  EXPECT_NE(page.body.find("Nothing was changed"), std::string::npos);
  EXPECT_EQ(ReadFile(conf()), before);
  // Renew/Check without a running daemon: said, nothing sent.
  EXPECT_EQ(Post("page=status", "csrf=" + kToken + "&action=renew").status, 400);
}

TEST_F(CgiTest, StatusPageShowsTheTwoLinesAndTheButtons) {
  CgiResponse r = Get("page=status");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("Module scepClient disabled\nCertificate not enrolled"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("id=\"renew-now\""), std::string::npos);
  EXPECT_NE(r.body.find("id=\"check-now\""), std::string::npos);
  EXPECT_EQ(r.body.find("s3cr3t-pw"), std::string::npos);
  // A settings error is said as such, with its line.
  WriteFile(conf(), std::string(kSettings) + "key_size = huge\n");
  CgiResponse bad = Get("page=status");
  EXPECT_NE(bad.body.find("id=\"settings-error\""), std::string::npos);
  EXPECT_NE(bad.body.find(conf() + ":19: [certificate vpn] key_size"), std::string::npos)
      << bad.body;
}

TEST_F(CgiTest, TheResponseIsCgi) {
  std::string out = FormatCgiResponse(Get("page=status"));
  EXPECT_EQ(out.rfind("Status: 200 OK\r\n", 0), 0u);
  EXPECT_NE(out.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n<!DOCTYPE html>"), std::string::npos);
}

}  // namespace
}  // namespace scepd::web
