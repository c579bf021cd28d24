// scepd.cgi's pieces and its request handling, in process: escaping, the
// CSRF token, strict form parsing, field errors from the daemon's checker,
// the settings file edited in place (comments, unknown lines and other
// sections kept) and the challenge password never sent to the browser.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "daemon/config.h"
#include "daemon/status_file.h"
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
                          "ca_fingerprint",
                          // The protocol and every protocol's own settings.
                          "protocol", "key_type", "ec_curve", "tls_ca_file", "ca_identifier",
                          "est_label", "est_username", "est_password", "cmp_reference",
                          "cmp_secret", "cmp_cert", "cmp_key", "recipient"}) {
    EXPECT_NE(FindFieldSpec(key), nullptr) << key;
  }
  // Secrets are password fields; what a choice offers is what the reader takes.
  for (const char* key : {"challenge_password", "est_password", "cmp_secret"}) {
    EXPECT_EQ(FindFieldSpec(key)->kind, FieldKind::kPassword) << key;
    EXPECT_EQ(FindSecretClearField(std::string(key) + "_clear"), FindFieldSpec(key));
  }
  EXPECT_EQ(FindSecretClearField("url_clear"), nullptr);
  EXPECT_EQ(FindSecretClearField("_clear"), nullptr);
  EXPECT_EQ(Choices(*FindFieldSpec("protocol")), (std::vector<std::string>{"scep", "est", "cmp"}));
  EXPECT_EQ(Choices(*FindFieldSpec("key_type")), (std::vector<std::string>{"rsa", "ec"}));
  EXPECT_EQ(Choices(*FindFieldSpec("ec_curve")), (std::vector<std::string>{"P-256", "P-384"}));
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
  EXPECT_EQ(std::string(FindFieldSpec("protocol")->default_value), d.protocol);
  EXPECT_EQ(std::string(FindFieldSpec("key_type")->default_value), "rsa");
  EXPECT_EQ(d.key_type, KeyType::kRsa);
  EXPECT_EQ(std::string(FindFieldSpec("ec_curve")->default_value), d.ec_curve);
  // Every protocol's own keys are grouped under it.
  EXPECT_EQ(std::string(FindFieldSpec("est_username")->protocol), "est");
  EXPECT_EQ(std::string(FindFieldSpec("cmp_secret")->protocol), "cmp");
  EXPECT_EQ(std::string(FindFieldSpec("ca_identifier")->protocol), "scep");
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

// The certificate section switched to CMP as the page sends it.
std::string CmpSection() {
  return "&protocol=cmp&key_type=rsa&ec_curve=P-256&tls_ca_file=&ca_identifier=&est_label="
         "&est_username=&est_password=&cmp_cert=&cmp_key=&recipient=%2FCN%3DTest+CA";
}

TEST_F(CgiTest, ProtocolSettingsAreShownButTheirSecretsNeverSent) {
  WriteFile(conf(), std::string(kSettings) +
                        "protocol = cmp\ncmp_reference = 4711\ncmp_secret = cmp-s3cret\n"
                        "recipient = /CN=Test CA\n");
  CgiResponse r = Get("page=config&cert=vpn");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<select id=\"f-protocol\" name=\"protocol\"><option value=\"scep\">"
                        "scep</option><option value=\"est\">est</option><option value=\"cmp\" "
                        "selected>cmp</option></select>"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("id=\"f-cmp_reference\" name=\"cmp_reference\" value=\"4711\""),
            std::string::npos);
  EXPECT_NE(r.body.find("id=\"f-recipient\" name=\"recipient\" value=\"/CN=Test CA\""),
            std::string::npos);
  EXPECT_EQ(r.body.find("cmp-s3cret"), std::string::npos);
  EXPECT_NE(r.body.find("name=\"cmp_secret\" value=\"\" placeholder=\"(set; empty keeps it)\""),
            std::string::npos);
  EXPECT_NE(r.body.find("id=\"f-cmp_secret_clear\""), std::string::npos);
  EXPECT_NE(r.body.find("name=\"est_password\" value=\"\" placeholder=\"(not set)\""),
            std::string::npos);
  EXPECT_EQ(r.body.find("id=\"f-est_password_clear\""), std::string::npos);
  for (const char* group : {"group-scep", "group-est", "group-cmp"}) {
    EXPECT_NE(r.body.find(std::string("id=\"") + group + "\""), std::string::npos) << group;
  }
  // A value the checker refuses is shown as it is, not replaced.
  WriteFile(conf(), std::string(kSettings) + "protocol = acme\n");
  EXPECT_NE(Get("page=config&cert=vpn").body.find("<option value=\"acme\" selected>"),
            std::string::npos);
}

TEST_F(CgiTest, SwitchingToCmpShowsTheCheckersErrorsBesideTheFieldsThenWritesTheSecret) {
  const std::string before = ReadFile(conf());
  // CMP without its credentials and with SCEP's challenge still set.
  CgiResponse bad = Post("page=config", Form(CmpSection()) + "&cmp_reference=&cmp_secret=");
  ASSERT_EQ(bad.status, 200);
  EXPECT_NE(bad.body.find("id=\"error-protocol\""), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("id=\"error-challenge_password\""), std::string::npos) << bad.body;
  EXPECT_EQ(ReadFile(conf()), before);
  // A secret without its reference number: the error is beside the secret,
  // which is never echoed.
  CgiResponse half = Post("page=config", Form(CmpSection()) +
                                             "&cmp_reference=&cmp_secret=half-s3cret"
                                             "&challenge_password_clear=yes");
  EXPECT_NE(half.body.find("id=\"error-cmp_secret\""), std::string::npos) << half.body;
  EXPECT_EQ(half.body.find("half-s3cret"), std::string::npos);
  EXPECT_EQ(ReadFile(conf()), before);

  CgiResponse ok = Post("page=config", Form(CmpSection()) +
                                           "&cmp_reference=4711&cmp_secret=n3w-cmp-s3cret"
                                           "&challenge_password_clear=yes");
  ASSERT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("class=\"ok\" id=\"apply-result\""), std::string::npos) << ok.body;
  EXPECT_EQ(ok.body.find("n3w-cmp-s3cret"), std::string::npos);
  const std::string after = ReadFile(conf());
  EXPECT_EQ(after.find("challenge_password"), std::string::npos) << after;
  EXPECT_NE(after.find("; comment inside the section\n"), std::string::npos) << after;
  EXPECT_NE(after.find("protocol = cmp\n"), std::string::npos) << after;
  EXPECT_NE(after.find("cmp_reference = 4711\n"), std::string::npos) << after;
  EXPECT_NE(after.find("cmp_secret = n3w-cmp-s3cret\n"), std::string::npos) << after;
  EXPECT_NE(after.find("recipient = /CN=Test CA\n"), std::string::npos) << after;
  EXPECT_NE(after.find("[certificate vpn]\ndata_dir = /tmp/vpn\nsubject = /CN=vpn\n"),
            std::string::npos);
  auto loaded = ParseConfig(after, conf(), SerialSources{});
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->certificates.front().protocol, "cmp");
  WipeSecrets(&*loaded);
  // Empty keeps the secret; Remove deletes it (and the checker objects).
  ASSERT_EQ(Post("page=config", Replace(Form(CmpSection()), "renew_days", "44") +
                                    "&cmp_reference=4711&cmp_secret=").status,
            200);
  EXPECT_NE(ReadFile(conf()).find("cmp_secret = n3w-cmp-s3cret\n"), std::string::npos);
  EXPECT_NE(ReadFile(conf()).find("renew_days = 44\n"), std::string::npos);
  const std::string kept = ReadFile(conf());
  CgiResponse removed = Post("page=config", Form(CmpSection()) +
                                                "&cmp_reference=4711&cmp_secret=&cmp_secret_clear=yes");
  EXPECT_NE(removed.body.find("id=\"error-cmp_reference\""), std::string::npos) << removed.body;
  EXPECT_EQ(ReadFile(conf()), kept);
}

TEST_F(CgiTest, EstSettingsErrorsAppearBesideTheirFieldsAndASecretFileCanBeReplaced) {
  const std::string password_file = dir_.File("est.pw");
  WriteFile(password_file, "old-est-pw\n", 0600);
  WriteFile(conf(), std::string(kSettings) + "protocol = est\nest_username = router\n"
                                             "est_password_file = relative.pw\n");
  const std::string before = ReadFile(conf());
  const std::string vpn = Replace(Replace(Form(""), "section", "certificate+vpn"), "subject",
                                  "%2FCN%3Dvpn") +
                          "&protocol=est&key_type=ec&ec_curve=P-384&tls_ca_file=&ca_identifier="
                          "&cmp_reference=&cmp_secret=&cmp_cert=&cmp_key=&recipient=";
  // The URL is https (EST), and challenge_password belongs to [certificate].
  auto form = [&](const std::string& extra) {
    return Replace(Replace(Replace(vpn, "url", "https%3A%2F%2F127.0.0.1%3A1%2F"),
                           "success_script", ""),
                   "challenge_password", "") +
           extra;
  };
  CgiResponse bad = Post("page=config", form("&est_label=a%2Fb&est_username=rou%3Ater&est_password="));
  ASSERT_EQ(bad.status, 200);
  for (const char* field : {"est_username", "est_label", "tls_ca_file", "est_password"}) {
    EXPECT_NE(bad.body.find(std::string("id=\"error-") + field + "\""), std::string::npos)
        << field << "\n" << bad.body;
  }
  EXPECT_NE(bad.body.find("relative.pw"), std::string::npos) << "the file's problem is said";
  EXPECT_EQ(ReadFile(conf()), before);

  // A new password replaces the file's line; the file itself stays.
  WriteFile(conf(), std::string(kSettings) + "protocol = est\nest_username = router\n"
                                             "est_password_file = " + password_file + "\n");
  CgiResponse ok =
      Post("page=config", Replace(form("&est_label=&est_username=router&est_password=n3w-est-pw"),
                                  "ca_fingerprint", "sha256%3A" + std::string(64, 'a')));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.body.find("class=\"ok\" id=\"apply-result\""), std::string::npos) << ok.body;
  EXPECT_EQ(ok.body.find("n3w-est-pw"), std::string::npos);
  const std::string after = ReadFile(conf());
  EXPECT_EQ(after.find("est_password_file"), std::string::npos) << after;
  EXPECT_NE(after.find("est_password = n3w-est-pw\n"), std::string::npos) << after;
  EXPECT_NE(after.find("\nkey_type = ec\n"), std::string::npos) << after;
  EXPECT_NE(after.find("\nec_curve = P-384\n"), std::string::npos) << after;
  EXPECT_NE(after.find("challenge_password = s3cr3t-pw\n"), std::string::npos) << "other section";
  EXPECT_EQ(ReadFile(password_file), "old-est-pw\n");
}

TEST_F(CgiTest, TheRemoveBoxExistsOnlyForSecrets) {
  const std::string before = ReadFile(conf());
  EXPECT_EQ(Post("page=config", Form("&url_clear=yes")).status, 400);
  EXPECT_EQ(Post("page=config", Form("&challenge_password_clear=1")).status, 400);
  EXPECT_EQ(ReadFile(conf()), before);
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

TEST_F(CgiTest, TheStatusPageRefreshesOnlyWhileAnEnrollmentRuns) {
  const std::string run = dir_.File("run");
  ASSERT_EQ(::mkdir(run.c_str(), 0755), 0);
  WriteFile(conf(), "[scepd]\nenabled = yes\nrun_dir = " + run + "\ndata_dir = " +
                        dir_.File("data") + "\n[certificate]\nurl = https://127.0.0.1:1/\n"
                        "subject = /CN=router\nprotocol = est\ntls_ca_file = " + conf() + "\n");
  StatusReport r;
  r.protocol = "est";
  r.state = "idle";
  ASSERT_TRUE(WriteStatus(run, r).ok());
  CgiResponse idle = Get("page=status");
  EXPECT_EQ(idle.body.find("http-equiv=\"refresh\""), std::string::npos) << idle.body;
  EXPECT_EQ(idle.body.find("id=\"refreshing\""), std::string::npos);
  EXPECT_NE(idle.body.find("<td id=\"protocol\">est</td>"), std::string::npos) << idle.body;
  for (const char* state : {"enrolling", "polling"}) {
    r.state = state;
    r.module = ModuleState::kRunning;
    r.cert = CertState::kEnrollment;
    ASSERT_TRUE(WriteStatus(run, r).ok());
    CgiResponse busy = Get("page=status");
    EXPECT_NE(busy.body.find("<meta http-equiv=\"refresh\" content=\"5\">"), std::string::npos)
        << state << busy.body;
    EXPECT_NE(busy.body.find("id=\"refreshing\""), std::string::npos) << state;
    EXPECT_NE(busy.body.find("Module scepClient running\nCertificate enrollment"),
              std::string::npos)
        << busy.body;
  }
}

TEST_F(CgiTest, TheResponseIsCgi) {
  std::string out = FormatCgiResponse(Get("page=status"));
  EXPECT_EQ(out.rfind("Status: 200 OK\r\n", 0), 0u);
  EXPECT_NE(out.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n<!DOCTYPE html>"), std::string::npos);
}

}  // namespace
}  // namespace scepd::web
