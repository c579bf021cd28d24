// The request options scep-client and cmp-client share
// (cli/tectia/request_options.h), and that both command lines parse them
// through it alike: the same option gives the same value or the same error.

#include "cli/tectia/request_options.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "cli/cmp_client_options.h"
#include "cli/scep_client_options.h"
#include "tests/support/argv.h"

namespace scepd::tectia {
namespace {

bool Mentions(const Error& e, const std::string& text) { return e.message.find(text) != std::string::npos; }

using testing::Argv;

// argv of a program named "client" with these words.
std::vector<std::string> Words(std::vector<std::string> words) {
  words.insert(words.begin(), "client");
  return words;
}

// A command line with one flag (-f, stops at -h) and one option of its own
// (-p); what it was handed is recorded.
struct Reader {
  Result<std::vector<std::string>> Read(std::vector<std::string> words) {
    Argv a(Words(std::move(words)));
    constexpr std::array<std::string_view, 2> kFlags = {"-f", "-h"};
    return ReadArguments(a.argc(), a.argv(), kFlags, options, [this](std::string_view o, std::string* value) {
      if (o == "-h") return Result<Own>(Own::kStop);
      if (o == "-f") {
        EXPECT_EQ(value, nullptr);
        own.push_back("-f");
        return Result<Own>(Own::kTaken);
      }
      if (o != "-p") return Result<Own>(Own::kUnknown);
      own.push_back("-p " + *value);
      return Result<Own>(Own::kTaken);
    });
  }
  RequestOptions options;
  std::vector<std::string> own;
};

TEST(TectiaRequestOptions, EachSharedOptionIsStoredAndTheRestHandedOn) {
  Reader r;
  auto words = r.Read({"-o", "subject", "ENROLL", "-C", "ca-0.ca", "-P", "generate://pkcs8s:pw@rsa:2048/k",
                       "-T", "old.crt", "-s", "C=FI,CN=gw1;ip=192.0.2.1", "-f", "-u", "digitalSignature",
                       "http://127.0.0.1:1/scep", "-U", "serverAuth;1.2.3.4", "--max-polls", "7", "--timeout",
                       "9", "--tls-ca-file", "tls.pem", "-H", "http://127.0.0.1:3128/", "-p", "x", "name"});
  ASSERT_TRUE(words.ok()) << words.error().message;
  EXPECT_EQ(*words, (std::vector<std::string>{"ENROLL", "http://127.0.0.1:1/scep", "name"}));
  EXPECT_EQ(r.own, (std::vector<std::string>{"-f", "-p x"}));
  const RequestOptions& o = r.options;
  EXPECT_EQ(o.output_prefix, "subject");
  EXPECT_EQ(o.ca_file, "ca-0.ca");
  EXPECT_EQ(o.key_url, "generate://pkcs8s:pw@rsa:2048/k");
  EXPECT_EQ(o.template_file, "old.crt");
  EXPECT_EQ(o.subject, "C=FI,CN=gw1;ip=192.0.2.1");
  EXPECT_EQ(o.key_usage, "digitalSignature");
  EXPECT_EQ(o.ext_key_usage, "serverAuth;1.2.3.4");
  EXPECT_EQ(o.max_polls, 7);
  EXPECT_EQ(o.timeout_seconds, 9);
  EXPECT_EQ(o.tls_ca_file, "tls.pem");
  EXPECT_EQ(o.proxy, "http://127.0.0.1:3128");
  EXPECT_EQ(o.help_list, HelpList::kNone);
  EXPECT_TRUE(CheckRequestOptions(o, KeyTypes::kRsa).ok());
}

TEST(TectiaRequestOptions, UnknownMissingValuesAndStops) {
  Reader unknown;
  auto u = unknown.Read({"GET-CA", "-q", "x", "http://x/"});
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().message, "unknown option -q");
  Reader missing;
  auto m = missing.Read({"GET-CA", "http://x/", "-o"});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "-o: needs a value");
  Reader stop;  // -h ends the walk: what follows is not read
  auto s = stop.Read({"GET-CA", "-h", "-q"});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*s, std::vector<std::string>{"GET-CA"});
}

TEST(TectiaRequestOptions, HelpListsAndProxies) {
  Reader ku;
  ASSERT_TRUE(ku.Read({"-u", "help", "-q"}).ok());  // stops before -q
  EXPECT_EQ(ku.options.help_list, HelpList::kKeyUsages);
  EXPECT_EQ(ku.options.key_usage, "");
  EXPECT_NE(HelpListText(HelpList::kKeyUsages).find("decipherOnly"), std::string::npos);
  Reader eku;
  ASSERT_TRUE(eku.Read({"ENROLL", "-U", "HELP"}).ok());
  EXPECT_EQ(eku.options.help_list, HelpList::kExtendedKeyUsages);
  EXPECT_NE(HelpListText(HelpList::kExtendedKeyUsages).find("smartCardLogon"), std::string::npos);
  EXPECT_EQ(HelpListText(HelpList::kNone), "");
  Reader socks;
  ASSERT_TRUE(socks.Read({"-S", "socks://me@127.0.0.1:1081", "-S", "socks://127.0.0.1"}).ok());
  EXPECT_EQ(socks.options.proxy, "socks5h://127.0.0.1:1080");  // the last -S wins
  Reader both;
  auto b = both.Read({"-S", "socks://127.0.0.1", "-H", "http://127.0.0.1:3128/"});
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(Mentions(b.error(), "-S and -H")) << b.error().message;
  Reader nets;
  auto n = nets.Read({"-S", "socks://fw/10.0.0.0/8"});
  ASSERT_FALSE(n.ok());
  EXPECT_TRUE(Mentions(n.error(), "network/bits")) << n.error().message;
}

TEST(TectiaRequestOptions, NumbersArePositive) {
  for (const char* bad : {"0", "-1", "x", "", "5s"}) {
    Reader r;
    auto t = r.Read({"--max-polls", bad});
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_TRUE(Mentions(t.error(), "--max-polls '" + std::string(bad) + "'")) << t.error().message;
  }
  EXPECT_EQ(*ParsePositiveNumber("-i", "500"), 500);
}

TEST(TectiaRequestOptions, ListsAreCheckedWhole) {
  struct Case {
    std::string option, value, says;
    ErrorCode code;
  };
  for (const Case& c : std::vector<Case>{
           {"-P", "generate://ssh2@rsa:2048/k", "proprietary", ErrorCode::kUnsupported},
           {"-P", "generate://pkcs8@rsa:99/k", "-P", ErrorCode::kInvalidArgument},
           {"-s", "CN=x;foo=bar", "foo", ErrorCode::kInvalidArgument},
           {"-u", "digitalSignature;signing", "'signing'", ErrorCode::kInvalidArgument},
           {"-U", "serverAuth;fooAuth", "'fooAuth'", ErrorCode::kInvalidArgument}}) {
    Reader r;
    ASSERT_TRUE(r.Read({c.option, c.value}).ok());
    Status st = CheckRequestOptions(r.options, KeyTypes::kRsaOrEc);
    ASSERT_FALSE(st.ok()) << c.value;
    EXPECT_EQ(st.error().code, c.code) << st.error().message;
    EXPECT_TRUE(Mentions(st.error(), c.says)) << c.says << ": " << st.error().message;
  }
  Reader ec;
  ASSERT_TRUE(ec.Read({"-P", "generate://pkcs8@ec:P-256/k"}).ok());
  EXPECT_TRUE(CheckRequestOptions(ec.options, KeyTypes::kRsaOrEc).ok());
  Status rsa_only = CheckRequestOptions(ec.options, KeyTypes::kRsa);
  ASSERT_FALSE(rsa_only.ok());
  EXPECT_TRUE(Mentions(rsa_only.error(), "rsa key")) << rsa_only.error().message;
  EXPECT_FALSE(Mentions(rsa_only.error(), "pkcs8@")) << rsa_only.error().message;
}

TEST(TectiaRequestOptions, PassphraseMaskedInTheArgument) {
  std::string arg = "generate://pkcs8s:p@ss:w@rsa:2048/k";
  MaskKeyUrlPassphrase(arg.data());
  EXPECT_EQ(arg, "generate://pkcs8s:******@rsa:2048/k");
  std::string file = "keys/my:key@file";
  MaskKeyUrlPassphrase(file.data());
  EXPECT_EQ(file, "keys/my:key@file");
}

// The shared options, given to each command line with what it needs besides.
TEST(TectiaRequestOptions, BothCommandLinesReadThemAlike) {
  const std::vector<std::string> shared = {
      "-o", "out", "-C", "ca.crt", "-P", "generate://pkcs8@rsa:2048/k", "-s", "C=FI,CN=gw1;dns=gw1.example",
      "-u", "keyEncipherment", "-U", "clientAuth", "-S", "socks://127.0.0.1:1081", "--max-polls", "3",
      "--timeout", "4", "--tls-ca-file", "t.pem"};
  std::vector<std::string> scep_words = {"ENROLL", "-p", "secret", "http://127.0.0.1:1/scep"};
  scep_words.insert(scep_words.end(), shared.begin(), shared.end());
  Argv scep_argv(Words(scep_words));
  auto scep = cli::ParseScepClientArgs(scep_argv.argc(), scep_argv.argv());
  ASSERT_TRUE(scep.ok()) << scep.error().message;
  std::vector<std::string> cmp_words = {"INITIALIZE", "-p", "1:secret", "http://127.0.0.1:1/pkix/"};
  cmp_words.insert(cmp_words.end(), shared.begin(), shared.end());
  Argv cmp_argv(Words(cmp_words));
  auto cmp = cli::ParseCmpClientArgs(cmp_argv.argc(), cmp_argv.argv());
  ASSERT_TRUE(cmp.ok()) << cmp.error().message;
  const RequestOptions& a = scep->options;
  const RequestOptions& b = cmp->options;
  for (const RequestOptions* o : {&a, &b}) {
    EXPECT_EQ(o->output_prefix, "out");
    EXPECT_EQ(o->ca_file, "ca.crt");
    EXPECT_EQ(o->key_url, "generate://pkcs8@rsa:2048/k");
    EXPECT_EQ(o->subject, "C=FI,CN=gw1;dns=gw1.example");
    EXPECT_EQ(o->key_usage, "keyEncipherment");
    EXPECT_EQ(o->ext_key_usage, "clientAuth");
    EXPECT_EQ(o->proxy, "socks5h://127.0.0.1:1081");
    EXPECT_EQ(o->max_polls, 3);
    EXPECT_EQ(o->timeout_seconds, 4);
    EXPECT_EQ(o->tls_ca_file, "t.pem");
  }
  // The same bad value fails the same way in both.
  for (const auto& [option, value] : std::vector<std::pair<std::string, std::string>>{
           {"-u", "signing"}, {"-P", "generate://x509@rsa:2048/k"}, {"-H", "https://p:1/"}, {"--timeout", "0"}}) {
    Argv s(Words({"ENROLL", option, value, "http://127.0.0.1:1/scep"}));
    // INITIALIZE needs a key pair: k.pem unless -P is the option tried.
    Argv c(Words({"INITIALIZE", "-p", "1:x", "-P", "k.pem", option, value, "http://127.0.0.1:1/pkix/"}));
    auto rs = cli::ParseScepClientArgs(s.argc(), s.argv());
    auto rc = cli::ParseCmpClientArgs(c.argc(), c.argv());
    ASSERT_FALSE(rs.ok()) << option;
    ASSERT_FALSE(rc.ok()) << option;
    EXPECT_EQ(rs.error().message, rc.error().message) << option;
    EXPECT_EQ(rs.error().code, rc.error().code) << option;
  }
}

}  // namespace
}  // namespace scepd::tectia
