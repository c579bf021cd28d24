// The sscep binary end to end against the real CA: micromdm scepserver on
// 127.0.0.1, started and stopped by each test.

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "core/ossl.h"
#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/scep_server.h"

namespace scepd::testing {
namespace {

const std::string kSscep = BuiltBinary("cli/sscep");

class SscepScepServerTest : public ::testing::Test {
 protected:
  void StartServer(ScepServer::Options options = {}) {
    server_ = std::make_unique<ScepServer>(std::move(options));
    ASSERT_TRUE(server_->Start()) << ReadFile(server_->log_path());
  }

  ProcessResult Sscep(std::vector<std::string> args) {
    args.insert(args.begin(), kSscep);
    return RunProcess(args, {}, 60000, "", dir_.path());
  }

  // mkrequest + getca, so enroll has what it needs.
  void PrepareRequest(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"mkrequest", "-k", name + ".key", "-r", name + ".csr",
                                     "--subject", "/CN=" + name + "/O=scepd test",
                                     "--challenge", "secret"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Sscep(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  void GetCa() {
    auto r = Sscep({"getca", "-u", server_->url(), "-c", "ca.crt"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::string Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    auto r = RunProcess(args, {}, 30000, "", dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  TempDir dir_;
  std::unique_ptr<ScepServer> server_;
};

TEST_F(SscepScepServerTest, GetCapsListsMicromdmCapabilities) {
  StartServer();
  auto r = Sscep({"getcaps", "-u", server_->url()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* cap : {"POSTPKIOperation", "Renewal", "SHA-256", "AES", "SCEPStandard"}) {
    EXPECT_NE(r.out.find(std::string(cap) + "\n"), std::string::npos) << cap << " in\n" << r.out;
  }
  EXPECT_EQ(r.out.find("SHA-512"), std::string::npos);
}

TEST_F(SscepScepServerTest, GetCaWritesTheCaCertificateAndPrintsItsFingerprint) {
  StartServer();
  for (const char* alg : {"sha256", "sha1", "md5"}) {
    auto r = Sscep({"getca", "-u", server_->url(), "-c", "ca.crt", "-F", alg});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string expected = Openssl({"x509", "-in", server_->ca_cert_path(), "-noout",
                                    "-fingerprint", std::string("-") + alg});
    // "sha256 Fingerprint=AB:CD..." -> the hex part.
    std::string hex = expected.substr(expected.find('=') + 1);
    hex.erase(hex.find_last_not_of("\n") + 1);
    EXPECT_NE(r.out.find("fingerprint: " + hex), std::string::npos) << alg << "\n" << r.out;
  }
  EXPECT_EQ(Openssl({"x509", "-in", "ca.crt", "-noout", "-serial"}),
            Openssl({"x509", "-in", server_->ca_cert_path(), "-noout", "-serial"}));
}

TEST_F(SscepScepServerTest, EnrollSendsEveryRequestedFieldAndGetsAVerifiableCertificate) {
  ScepServer::Options options;
  options.capture_csr_to = dir_.File("seen.csr");
  StartServer(options);
  GetCa();
  PrepareRequest("router", {"--alt-names",
                            "DNS:r1.example.org,email:ops@example.org,URI:https://r1.example.org/,"
                            "IP:192.0.2.7,IP:2001:db8::7,RID:1.2.3.4,dirName:/O=Dir/CN=dn,"
                            "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:upn@example.org",
                            "--template", "IPSECIntermediateOffline", "--key-usage",
                            "digitalSignature,keyEncipherment", "--eku", "serverAuth,clientAuth"});
  auto r = Sscep({"enroll", "-u", server_->url(), "-c", "ca.crt", "-k", "router.key", "-r",
                  "router.csr", "-l", "router.crt"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // What the CA received, field by field.
  std::string text = Openssl({"req", "-inform", "DER", "-in", "seen.csr", "-noout", "-text"});
  for (const char* want : {"CN = router, O = scepd test", "challengePassword", "secret",
                           "DNS:r1.example.org", "email:ops@example.org",
                           "URI:https://r1.example.org/", "IP Address:192.0.2.7",
                           "IP Address:2001:DB8:0:0:0:0:0:7", "Registered ID:1.2.3.4",
                           "DirName:/O=Dir/CN=dn", "UPN::upn@example.org",
                           "1.3.6.1.4.1.311.20.2", "Digital Signature, Key Encipherment",
                           "TLS Web Server Authentication, TLS Web Client Authentication"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << " missing in\n" << text;
  }
  // The template name travels as a BMPString: UTF-16BE bytes in the DER.
  std::string der = ReadFile(dir_.File("seen.csr"));
  std::string bmp;
  for (char c : std::string("IPSECIntermediateOffline")) bmp += std::string{'\0', c};
  EXPECT_NE(der.find(bmp), std::string::npos);

  auto verify = RunProcess({"openssl", "verify", "-CAfile", "ca.crt", "router.crt"}, {}, 30000,
                           "", dir_.path());
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(Openssl({"x509", "-in", "router.crt", "-noout", "-pubkey"}),
            Openssl({"pkey", "-in", "router.key", "-pubout"}));
  // The chain file holds the leaf then the CA.
  std::string chain = ReadFile(dir_.File("router.crt.chain"));
  EXPECT_EQ(chain.find(ReadFile(dir_.File("router.crt"))), 0u);
  EXPECT_NE(chain.find(ReadFile(dir_.File("ca.crt"))), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat(dir_.File("router.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SscepScepServerTest, RenewalWithExistingCertificateSendsRenewalReq) {
  ScepServer::Options options;
  options.debug = true;  // the server logs the message type it parsed
  StartServer(options);
  GetCa();
  PrepareRequest("old");
  ASSERT_EQ(Sscep({"enroll", "-u", server_->url(), "-c", "ca.crt", "-k", "old.key", "-r",
                   "old.csr", "-l", "old.crt"}).exit_code, 0);
  PrepareRequest("new");
  auto r = Sscep({"enroll", "-u", server_->url(), "-c", "ca.crt", "-k", "new.key", "-r",
                  "new.csr", "-K", "old.key", "-O", "old.crt", "-l", "new.crt"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string log = ReadFile(server_->log_path());
  EXPECT_NE(log.find("PKCSReq (19)"), std::string::npos) << log;
  EXPECT_NE(log.find("RenewalReq (17)"), std::string::npos) << log;
  EXPECT_NE(Openssl({"x509", "-in", "new.crt", "-noout", "-serial"}),
            Openssl({"x509", "-in", "old.crt", "-noout", "-serial"}));
  EXPECT_EQ(Openssl({"x509", "-in", "new.crt", "-noout", "-pubkey"}),
            Openssl({"pkey", "-in", "new.key", "-pubout"}));
}

TEST_F(SscepScepServerTest, WrongChallengeGivesBadRequestExitCodeAndWritesNothing) {
  ScepServer::Options options;
  options.challenge = "the-real-one";
  StartServer(options);
  GetCa();
  PrepareRequest("router");  // challenge "secret"
  auto r = Sscep({"enroll", "-u", server_->url(), "-c", "ca.crt", "-k", "router.key", "-r",
                  "router.csr", "-l", "router.crt"});
  EXPECT_EQ(r.exit_code, 72) << r.out << r.err;  // 70 + failInfo badRequest
  EXPECT_NE(r.err.find("FAILURE: badRequest"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("router.crt")));
  EXPECT_FALSE(PathExists(dir_.File("router.crt.chain")));
  ExpectReliabilityRow("cli.wrong-challenge",
                       "exit " + std::to_string(r.exit_code) + "\n" + r.err);
}

TEST_F(SscepScepServerTest, StoppedServerGivesTheNetworkExitCode) {
  StartServer();
  GetCa();
  PrepareRequest("router");
  std::string url = server_->url();
  server_->Stop();
  auto r = Sscep({"enroll", "-u", url, "-c", "ca.crt", "-k", "router.key", "-r", "router.csr",
                  "-l", "router.crt"});
  EXPECT_EQ(r.exit_code, 95) << r.out << r.err;
  EXPECT_NE(r.err.find("127.0.0.1"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("router.crt")));
  ExpectReliabilityRow("cli.connection-refused",
                       "exit " + std::to_string(r.exit_code) + "\n" + r.err);
  EXPECT_EQ(Sscep({"getcaps", "-u", url}).exit_code, 95);
}

TEST_F(SscepScepServerTest, ConfigurationFileSuppliesTheOptions) {
  StartServer();
  GetCa();
  PrepareRequest("router");
  WriteFile(dir_.File("sscep.conf"),
            "# sscep configuration\n"
            "URL " + server_->url() + "\n"
            "CACertFile ./ca.crt\n"
            "PrivateKeyFile ./router.key\n"
            "CertReqFile \"./router.csr\"\n"
            "LocalCertFile ./router.crt\n"
            "Verbose yes\n");
  auto r = Sscep({"enroll", "-f", "sscep.conf"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(PathExists(dir_.File("router.crt")));
  EXPECT_NE(r.out.find("CA capabilities"), std::string::npos) << "Verbose yes";

  WriteFile(dir_.File("bad.conf"), "URL http://x\nNoSuchKey 1\n");
  auto bad = Sscep({"getcaps", "-f", "bad.conf"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("bad.conf:2: unknown key 'NoSuchKey'"), std::string::npos) << bad.err;
}

TEST_F(SscepScepServerTest, UsageErrorsNameTheMissingPiece) {
  // Without arguments the usage is the answer, on stdout, as in sscep.
  auto none = Sscep({});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_NE(none.out.find("Usage:"), std::string::npos);
  auto no_url = Sscep({"getca", "-c", "ca.crt"});
  EXPECT_EQ(no_url.exit_code, 1);
  EXPECT_NE(no_url.err.find("missing SCEP server URL (-u)"), std::string::npos) << no_url.err;
  auto engine = Sscep({"getca", "-u", "http://127.0.0.1:1/scep", "-c", "ca.crt", "-g", "pkcs11"});
  EXPECT_EQ(engine.exit_code, 1);
  EXPECT_NE(engine.err.find("not supported"), std::string::npos) << engine.err;
  auto bad_fp = Sscep({"getca", "-u", "http://127.0.0.1:1/scep", "-c", "ca.crt", "-F", "crc32"});
  EXPECT_EQ(bad_fp.exit_code, 1);
  EXPECT_NE(bad_fp.err.find("-F crc32"), std::string::npos) << bad_fp.err;
}

}  // namespace
}  // namespace scepd::testing
