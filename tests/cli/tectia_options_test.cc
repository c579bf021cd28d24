// The option layer shared by the Tectia-style command lines (cli/tectia/):
// key URLs, subjects with names, usage names, -o names, proxy URLs, command
// keywords.

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <array>

#include "cli/tectia/command_word.h"
#include "cli/tectia/key_url.h"
#include "cli/tectia/output_names.h"
#include "cli/tectia/proxy_url.h"
#include "cli/tectia/subject_names.h"
#include "cli/tectia/template_cert.h"
#include "cli/tectia/usage_names.h"
#include "core/key.h"
#include "core/subject.h"

namespace scepd::tectia {
namespace {

bool Mentions(const Error& e, const std::string& text) { return e.message.find(text) != std::string::npos; }

constexpr std::array<std::string_view, 3> kScep = {"GET-CA", "GET-CHAIN", "ENROLL"};

TEST(CommandWord, MatchesWholeWordsInAnyCaseAndUniqueAbbreviationsOverThreeLetters) {
  EXPECT_EQ(*MatchCommand("GET-CA", kScep), 0u);  // a whole word that is also a prefix
  EXPECT_EQ(*MatchCommand("get-ca", kScep), 0u);
  EXPECT_EQ(*MatchCommand("Get-Chain", kScep), 1u);
  EXPECT_EQ(*MatchCommand("get-ch", kScep), 1u);
  EXPECT_EQ(*MatchCommand("enro", kScep), 2u);
  EXPECT_EQ(*MatchCommand("ENROLL", kScep), 2u);
  auto short_word = MatchCommand("enr", kScep);
  ASSERT_FALSE(short_word.ok());
  EXPECT_TRUE(Mentions(short_word.error(), "more than three letters")) << short_word.error().message;
  auto ambiguous = MatchCommand("get-", kScep);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_TRUE(Mentions(ambiguous.error(), "ambiguous")) << ambiguous.error().message;
  auto unknown = MatchCommand("revoke", kScep);
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(Mentions(unknown.error(), "'revoke'")) << unknown.error().message;
  EXPECT_FALSE(MatchCommand("enrollx", kScep).ok());
}

TEST(KeyUrl, GenerateUrlsOfTheThreeOpenFormats) {
  // The manual's example: plain PKCS#8 is unencrypted, its passphrase unused.
  auto url = ParseKeyUrl("generate://pkcs8:ssh@rsa:1024/subject");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_TRUE(url->passphrase_ignored);
  EXPECT_EQ(url->passphrase, "");

  url = ParseKeyUrl("generate://pkcs8@rsa:1024/subject");
  ASSERT_TRUE(url.ok());
  EXPECT_FALSE(url->passphrase_ignored);
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_TRUE(url->generate);
  EXPECT_EQ(url->save_type, KeySaveType::kPkcs8);
  EXPECT_EQ(url->bits, 1024);
  EXPECT_EQ(url->SavePath(), "subject.prv");

  url = ParseKeyUrl("generate://PKCS8S:se:cr@t@RSA:2048/dir/router");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->save_type, KeySaveType::kPkcs8Shrouded);
  EXPECT_EQ(url->passphrase, "se:cr@t");
  EXPECT_EQ(url->SavePath(), "dir/router.prv");

  url = ParseKeyUrl("generate://pkcs1@rsa:3072/k");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->save_type, KeySaveType::kPkcs1);
}

TEST(KeyUrl, EcCurvesAndTectiasExternalKeyForm) {
  auto url = ParseKeyUrl("generate://pkcs8@ec:P-256/k");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->ec_curve, "P-256");
  EXPECT_EQ(ParseKeyUrl("generate://pkcs1@EC:secp384r1/k")->ec_curve, "P-384");
  EXPECT_EQ(ParseKeyUrl("generate://pkcs8@ec:prime256v1/k")->ec_curve, "P-256");
  EXPECT_EQ(ParseKeyUrl("generate://pkcs8@rsa:2048/k")->ec_curve, "");
  auto bad = ParseKeyUrl("generate://pkcs8@ec:P-192/k");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Mentions(bad.error(), "P-192")) << bad.error().message;
  // The format word before the path, as the vendor's examples write -k.
  EXPECT_EQ(ParseKeyUrl("file://pkcs8@/initial.prv")->path, "/initial.prv");
  auto ssh2 = ParseKeyUrl("file://ssh2@/initial.prv");
  ASSERT_FALSE(ssh2.ok());
  EXPECT_TRUE(Mentions(ssh2.error(), "proprietary")) << ssh2.error().message;
  // An EC key saves in every savetype.
  auto key = GenerateEcKey("P-256");
  ASSERT_TRUE(key.ok());
  for (const char* u : {"generate://pkcs1@ec:P-256/k", "generate://pkcs8@ec:P-256/k",
                        "generate://pkcs8s:pw@ec:P-256/k"}) {
    auto pem = EncodeKey(key->get(), *ParseKeyUrl(u));
    ASSERT_TRUE(pem.ok()) << u << ": " << pem.error().message;
    EXPECT_NE(pem->find("PRIVATE KEY-----"), std::string::npos) << u;
  }
}

TEST(KeyUrl, ProprietaryFormatsAndBadPartsAreRefusedWithTheReason) {
  for (const char* type : {"ssh2", "ssh1", "ssh", "x509"}) {
    auto url = ParseKeyUrl(std::string("generate://") + type + "@rsa:2048/k");
    ASSERT_FALSE(url.ok()) << type;
    EXPECT_TRUE(Mentions(url.error(), "proprietary")) << url.error().message;
  }
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : {Case{"generate://pkcs8s@rsa:2048/k", "needs a passphrase"},
                        Case{"generate://pkcs8@dsa:2048/k", "rsa"},
                        Case{"generate://pkcs8@rsa:512/k", "512"},
                        Case{"generate://pkcs8@rsa:20x/k", "20x"},
                        Case{"generate://pkcs8@rsa:2048/", "prefix"},
                        Case{"generate://pkcs8@rsa:2048", "keytype:bits/prefix"},
                        Case{"generate://pem@rsa:2048/k", "unknown savetype"},
                        Case{"generate://pkcs8", "without '@"},
                        Case{"ldap://x/y", "only key files"}}) {
    auto url = ParseKeyUrl(c.url);
    ASSERT_FALSE(url.ok()) << c.url;
    EXPECT_TRUE(Mentions(url.error(), c.says)) << c.url << ": " << url.error().message;
  }
  auto file = ParseKeyUrl("keys/router.key");
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE(file->generate);
  EXPECT_EQ(file->path, "keys/router.key");
  EXPECT_EQ(ParseKeyUrl("file:///etc/k.pem")->path, "/etc/k.pem");
}

TEST(KeyUrl, PassphraseSpanCoversExactlyThePassphrase) {
  std::string arg = "generate://pkcs8s:p@ss:w@rsa:2048/k";
  Span s = PassphraseSpan(arg);
  EXPECT_EQ(arg.substr(s.first, s.length), "p@ss:w");
  EXPECT_EQ(PassphraseSpan("generate://pkcs8@rsa:2048/k").length, 0u);
  EXPECT_EQ(PassphraseSpan("my:key@file").length, 0u);
}

TEST(KeyUrl, EncodesEachSaveTypeSoOpenSslReadsItBack) {
  auto key = GenerateRsaKey(1024);
  ASSERT_TRUE(key.ok());
  struct Case {
    const char* url;
    const char* header;
  };
  for (const Case& c : {Case{"generate://pkcs1@rsa:1024/k", "-----BEGIN RSA PRIVATE KEY-----"},
                        Case{"generate://pkcs8@rsa:1024/k", "-----BEGIN PRIVATE KEY-----"},
                        Case{"generate://pkcs8s:pw1@rsa:1024/k", "-----BEGIN ENCRYPTED PRIVATE KEY-----"}}) {
    auto url = ParseKeyUrl(c.url);
    ASSERT_TRUE(url.ok());
    auto pem = EncodeKey(key->get(), *url);
    ASSERT_TRUE(pem.ok()) << pem.error().message;
    EXPECT_EQ(pem->rfind(c.header, 0), 0u) << *pem;
    ossl::Ptr<BIO> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
    char pass[] = "pw1";
    ossl::Ptr<EVP_PKEY> back(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, pass));
    ASSERT_TRUE(back) << c.url;
    EXPECT_TRUE(SamePublicKey(back.get(), key->get()));
  }
  // The shrouded key does not open with another passphrase.
  auto url = ParseKeyUrl("generate://pkcs8s:right@rsa:1024/k");
  auto pem = EncodeKey(key->get(), *url);
  ossl::Ptr<BIO> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  char wrong[] = "wrong";
  EXPECT_FALSE(ossl::Ptr<EVP_PKEY>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, wrong)));
  ClearOpenSslErrors();
}

TEST(SubjectNames, ReverseLdapOrderIsKeptAndNamesBecomeAltNames) {
  auto n = ParseSubjectNames("C=FI,O=SSH,CN=SCEP Example;IP=192.0.2.7;dns=gw.example.org;"
                             "email=ops@example.org;uri=https://gw.example.org/;rid=1.2.3.4;"
                             "dn=C=FI,O=Other\\, Inc.,CN=x");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->subject, "/C=FI/O=SSH/CN=SCEP Example");
  EXPECT_EQ(n->alt_names,
            "IP:192.0.2.7,DNS:gw.example.org,email:ops@example.org,URI:https://gw.example.org/,"
            "RID:1.2.3.4,dirName:/C=FI/O=Other\\, Inc./CN=x");
  auto parsed = ParseSubject(n->subject);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(FormatSubject(parsed->get()), "/C=FI/O=SSH/CN=SCEP Example");
}

TEST(SubjectNames, EscapesMultiValuedRdnsAndSlashesInValues) {
  EXPECT_EQ(*LdapDnToSubject("O=a/b, CN=x+UID=7, OU=c\\,d"), "/O=a\\/b/CN=x+UID=7/OU=c,d");
  auto ipv6 = ParseSubjectNames("CN=r;ip=2001:db8::1");
  ASSERT_TRUE(ipv6.ok()) << ipv6.error().message;
  EXPECT_EQ(ipv6->alt_names, "IP:2001:db8::1");
  auto names_only = ParseSubjectNames(";dns=a.example");
  ASSERT_TRUE(names_only.ok());
  EXPECT_EQ(names_only->subject, "");
}

TEST(SubjectNames, BadPartsAreNamed) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c : {Case{"CN=x;phone=123", "unknown name type 'phone'"},
                        Case{"CN=x;ip=300.1.1.1", "300.1.1.1"},
                        Case{"CN=x;dns", "not type=value"},
                        Case{"CN=x,,O=y", "empty component"},
                        Case{"CN", "has no '='"},
                        Case{"XYZ=1", "XYZ"},
                        Case{"CN=x;rid=not-an-oid", "not-an-oid"}}) {
    auto n = ParseSubjectNames(c.text);
    ASSERT_FALSE(n.ok()) << c.text;
    EXPECT_EQ(n.error().message.rfind("-s: ", 0), 0u) << n.error().message;
    EXPECT_TRUE(Mentions(n.error(), c.says)) << c.text << ": " << n.error().message;
  }
}

TEST(UsageNames, KeyUsagesInAnyCaseToRfc5280Bits) {
  EXPECT_EQ(*ParseKeyUsages("digitalsignature"), 1u << 0);
  EXPECT_EQ(*ParseKeyUsages("digitalSignature;keyEncipherment"), (1u << 0) | (1u << 2));
  EXPECT_EQ(*ParseKeyUsages("nonRepudiation;dataEncipherment;keyAgreement;keyCertSign;cRLSign;"
                            "encipherOnly;decipherOnly"),
            0x1FAu);
  EXPECT_EQ(KeyUsageNames(0x1FFu),
            "digitalSignature;nonRepudiation;keyEncipherment;dataEncipherment;keyAgreement;"
            "keyCertSign;cRLSign;encipherOnly;decipherOnly");
  auto bad = ParseKeyUsages("digitalSignature;signing");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Mentions(bad.error(), "'signing'")) << bad.error().message;
  EXPECT_TRUE(IsHelp("HELP"));
  EXPECT_FALSE(IsHelp("help;digitalSignature"));
  for (const char* name : {"digitalSignature", "decipherOnly", "cRLSign"}) {
    EXPECT_TRUE(KeyUsageHelp().find(name) != std::string::npos) << name;
  }
}

TEST(UsageNames, ExtendedKeyUsagesByNameOrDottedOid) {
  auto ekus = ParseExtendedKeyUsages(
      "serverAuth;clientauth;codeSigning;emailProtection;timeStamping;ikeIntermediate;"
      "smartCardLogon;1.3.6.1.5.5.7.3.17;serverAuth");
  ASSERT_TRUE(ekus.ok()) << ekus.error().message;
  EXPECT_EQ(*ekus, (std::vector<std::string>{"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.3",
                                             "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.8", "1.3.6.1.5.5.8.2.2",
                                             "1.3.6.1.4.1.311.20.2.2", "1.3.6.1.5.5.7.3.17"}));
  for (const char* bad : {"fooAuth", "1..2", "AES-128-OCB", "1.2."}) {
    auto r = ParseExtendedKeyUsages(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(Mentions(r.error(), bad)) << r.error().message;
  }
  EXPECT_TRUE(ExtendedKeyUsageHelp().find("ikeIntermediate") != std::string::npos);
}

TEST(OutputNames, PrefixDashNumberAndKind) {
  EXPECT_EQ(OutputFileName("ca", 0, OutputKind::kCaCertificate), "ca-0.ca");
  EXPECT_EQ(OutputFileName("ca", 12, OutputKind::kCaCertificate), "ca-12.ca");
  EXPECT_EQ(OutputFileName("subject", 0, OutputKind::kUserCertificate), "subject-0.crt");
  EXPECT_EQ(OutputFileName("dir/x", 1, OutputKind::kUserCertificate), "dir/x-1.crt");
}

TEST(ProxyUrl, SocksUrls) {
  EXPECT_EQ(*SocksProxy("socks://fw.example"), "socks5h://fw.example:1080");
  EXPECT_EQ(*SocksProxy("socks://me@127.0.0.1:1081/"), "socks5h://me@127.0.0.1:1081");
  EXPECT_EQ(*SocksProxy("SOCKS://[::1]:9050"), "socks5h://[::1]:9050");
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : {Case{"socks://fw/10.0.0.0/8,192.168.0.0/16", "network/bits lists are not supported"},
                        Case{"http://fw:1080", "not a socks://"},
                        Case{"socks://fw:0", "port '0'"},
                        Case{"socks://fw:99999", "99999"},
                        Case{"socks://u:pw@fw", "password"},
                        Case{"socks://", "no server"},
                        Case{"socks://[::1", "closing ']'"}}) {
    auto r = SocksProxy(c.url);
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_TRUE(Mentions(r.error(), c.says)) << c.url << ": " << r.error().message;
  }
}

TEST(ProxyUrl, HttpUrls) {
  EXPECT_EQ(*HttpProxy("http://proxy.example/"), "http://proxy.example:8080");
  EXPECT_EQ(*HttpProxy("http://127.0.0.1:3128/"), "http://127.0.0.1:3128");
  EXPECT_EQ(*HttpProxy("http://[2001:db8::5]:3128"), "http://[2001:db8::5]:3128");
  for (const char* bad : {"https://p:1/", "http://p:1/path", "http://u@p:1/", "http://:8080/", "p:3128"}) {
    EXPECT_FALSE(HttpProxy(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace scepd::tectia
