// cmp-client (the Tectia ssh-cmpclient-g3 command line) end to end against
// OpenSSL's own CMP server (`openssl cmp -port`, started and stopped by each
// test on 127.0.0.1), also through tinyproxy (-H) and microsocks (-S). The
// mock issues nothing: it answers with a fixed -rsp_cert, so each test makes
// that certificate for the key the client is given first.

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

#include "core/csr.h"
#include "core/ossl.h"
#include "tests/cmp_server/issuing_cmp_server.h"
#include "tests/support/built_binary.h"
#include "tests/support/cmp_server.h"
#include "tests/support/microsocks.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"
#include "tests/support/tinyproxy.h"

namespace scepd::testing {
namespace {

const std::string kCmpClient = BuiltBinary("cli/cmp-client");
const std::string kCaName = "C=FI, O=SSH Communications Security Corp, CN=SSH Test CA 1 No Liabilities";

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class CmpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = MakeTestCa("/CN=Test CA");
    key_ = CachedKey(1);
    ra_key_ = CachedKey(2);
    CertSpec issued;
    issued.subject = "/C=FI/O=SSH/CN=Example initial";
    issued.serial = 8017690;
    issued.key_usage = KU_DIGITAL_SIGNATURE;
    issued.alt_names = "IP:127.0.0.1";
    issued_ = MakeCert(issued, key_.get(), ca_.cert.get(), ca_.key.get());
    CertSpec old_spec;
    old_spec.subject = "/CN=router-1";
    old_spec.serial = 5;
    old_ = MakeCert(old_spec, key_.get(), ca_.cert.get(), ca_.key.get());
    CertSpec ra_spec;
    ra_spec.subject = "/CN=CMP RA";
    ra_spec.serial = 7;
    ra_ = MakeCert(ra_spec, ra_key_.get(), ca_.cert.get(), ca_.key.get());
    WriteCert("ca.crt", ca_.cert.get());
    WriteCert("issued.crt", issued_.get());
    WriteCert("old.crt", old_.get());
    WriteCert("ra.crt", ra_.get());
    WriteFile(dir_.File("ee.key"), *ossl::PrivateKeyToPem(key_.get()), 0600);
    WriteFile(dir_.File("ra.key"), *ossl::PrivateKeyToPem(ra_key_.get()), 0600);
  }

  void WriteCert(const std::string& name, X509* cert) { WriteFile(dir_.File(name), *ossl::CertToPem(cert)); }

  void StartServer(const std::vector<std::string>& args) {
    std::string error;
    ASSERT_TRUE(server_.Start(args, &error)) << error;
  }
  // The MAC (PBM) server of the manual's example: reference 62154, key ssh.
  std::vector<std::string> MacServer(const std::string& rsp = "issued.crt") {
    return {"-srv_ref", "62154", "-srv_secret", "pass:ssh", "-rsp_cert", rsp,
            "-rsp_extracerts", "ca.crt", "-rsp_capubs", "ca.crt"};
  }
  // A signature-protected server (the CMP RA's pair signs its answers).
  std::vector<std::string> SignatureServer(const std::string& rsp = "issued.crt") {
    return {"-srv_cert", "ra.crt", "-srv_key", "ra.key", "-srv_trusted", "ca.crt",
            "-rsp_cert", rsp, "-rsp_extracerts", "ca.crt"};
  }

  ProcessResult Client(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), kCmpClient);
    return RunProcess(args, {}, 60000, input, dir_.path());
  }

  // How many requests the mock has received so far.
  int Requests() const {
    const std::string log = server_.log();
    int n = 0;
    for (auto at = log.find("Received request"); at != std::string::npos; at = log.find("Received request", at + 1)) {
      ++n;
    }
    return n;
  }

  std::string OpensslFingerprint(const std::string& file, const char* alg) {
    auto r = RunProcess({"openssl", "x509", "-in", file, "-noout", "-fingerprint", std::string("-") + alg}, {},
                        30000, "", dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string hex = r.out.substr(r.out.find('=') + 1);
    hex.erase(hex.find_last_not_of('\n') + 1);
    return Lower(hex);
  }

  // The manual's INITIALIZE example with the URL changed (and the key pair
  // a file: the mock's answer must carry a key known in advance).
  std::vector<std::string> ManualInitialize(const std::string& secret = "62154:ssh") {
    return {"INITIALIZE", "-P", "ee.key", "-o", "initial", "-p", secret,
            "-s", "C=FI,O=SSH,CN=Example/initial;IP=127.0.0.1", "-u", "digitalsignature",
            server_.url(), kCaName};
  }

  TempDir dir_{"scepd-cmpcli-"};
  TestCa ca_;
  ossl::Ptr<EVP_PKEY> key_, ra_key_;
  ossl::Ptr<X509> issued_, old_, ra_;
  OpenSslCmpServer server_{dir_.path()};
};

TEST_F(CmpClientTest, ManualInitializeExampleShowsAsksAndSaves) {
  StartServer(MacServer());
  auto r = Client(ManualInitialize(), "yes\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "Certificate =\n  SubjectName = <C=FI, O=SSH, CN=Example initial>\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "  IssuerName = <CN=Test CA>\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "  SerialNumber= 8017690\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "    KeyUsage = Digital Signature\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "IP Address:127.0.0.1")) << r.out;
  EXPECT_TRUE(Contains(r.out, "    MD5 = " + OpensslFingerprint("issued.crt", "md5") + "\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "    SHA-1 = " + OpensslFingerprint("issued.crt", "sha1") + "\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "Do you accept the certificate above? ")) << r.out;
  EXPECT_EQ(ReadFile(dir_.File("initial-0.crt")), ReadFile(dir_.File("issued.crt")));
  EXPECT_EQ(ReadFile(dir_.File("initial-0.ca")), ReadFile(dir_.File("ca.crt")));
  // The secret on the command line: a warning that offers the file form.
  EXPECT_TRUE(Contains(r.err, "-p FILE")) << r.err;
  EXPECT_FALSE(Contains(r.out + r.err, "ssh\n")) << r.out << r.err;
}

TEST_F(CmpClientTest, SecretFromFileAndYesNeedNoPrompt) {
  StartServer(MacServer());
  WriteFile(dir_.File("refnum.txt"), "62154:ssh\n", 0600);
  auto args = ManualInitialize("refnum.txt");
  args.insert(args.begin() + 1, "-y");
  auto r = Client(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(Contains(r.out, "Do you accept")) << r.out;
  EXPECT_FALSE(Contains(r.err, "warning")) << r.err;
  EXPECT_TRUE(PathExists(dir_.File("initial-0.crt")));
}

TEST_F(CmpClientTest, DecliningTheCertificateWritesNothing) {
  StartServer(MacServer());
  auto r = Client(ManualInitialize(), "no\n");
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "Do you accept the certificate above? ")) << r.out;
  EXPECT_TRUE(Contains(r.err, "declined")) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("initial-0.crt")));
  EXPECT_FALSE(PathExists(dir_.File("initial-0.ca")));
  EXPECT_EQ(Requests(), 2) << server_.log();  // ir, then the rejecting certConf
}

TEST_F(CmpClientTest, WrongSecretFailsClearlyAndWritesNothing) {
  StartServer(MacServer());
  auto r = Client(ManualInitialize("62154:not-ssh"), "yes\n");
  EXPECT_EQ(r.exit_code, 97) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "wrong reference number or secret")) << r.err;
  EXPECT_FALSE(Contains(r.out + r.err, "not-ssh"));
  EXPECT_FALSE(PathExists(dir_.File("initial-0.crt")));
  EXPECT_FALSE(PathExists(dir_.File("initial-0.ca")));
}

TEST_F(CmpClientTest, GeneratedKeyIsSavedOnlyWithItsCertificate) {
  // The mock answers with a certificate for another key: OpenSSL refuses
  // it, and the key made for this request is not left behind.
  StartServer(MacServer());
  auto r = Client({"INITIALIZE", "-y", "-P", "generate://pkcs8@ec:P-256/initial", "-o", "initial", "-p",
                   "62154:ssh", "-s", "C=FI,O=SSH,CN=Example/initial", server_.url()});
  EXPECT_EQ(r.exit_code, 97) << r.out << r.err;
  EXPECT_FALSE(PathExists(dir_.File("initial.prv")));
  EXPECT_FALSE(PathExists(dir_.File("initial-0.crt")));
}

TEST_F(CmpClientTest, SeedsFirstExampleEnrollsAgainstAServerThatIssues) {
  // Seed 004's first example, the URL changed, against the test server that
  // issues for the key in the request (the mock cannot: see above): the key
  // made by generate:// is saved with the certificate issued for it.
  IssuingCmpServerOptions options;
  options.secret = "ssh";
  IssuingCmpServer issuing(options);
  ASSERT_TRUE(issuing.ok());
  auto r = Client({"INITIALIZE", "-P", "generate://pkcs8@rsa:1024/initial", "-o", "initial", "-p", "62154:ssh",
                   "-s", "C=FI,O=SSH,CN=Example/initial;ip=127.0.0.2", "-u", "digitalsignature", issuing.url(),
                   kCaName},
                  "yes\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "Do you accept the certificate above?")) << r.out;
  EXPECT_TRUE(Contains(r.out, "Saved initial-0.crt")) << r.out;
  auto cert = ossl::CertFromPem(ReadFile(dir_.File("initial-0.crt")), "initial-0.crt");
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  auto key = ossl::PrivateKeyFromPem(ReadFile(dir_.File("initial.prv")), "initial.prv");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(EVP_PKEY_get_bits(key->get()), 1024);
  EXPECT_EQ(X509_check_private_key(cert->get(), key->get()), 1) << "the certificate is not for the key saved";
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert->get()), X509_get_subject_name(issuing.ca_cert())), 0);
  EXPECT_EQ(X509_check_ip_asc(cert->get(), "127.0.0.2", 0), 1) << "the ip= alternative name is missing";
  EXPECT_EQ(issuing.count("ir"), 1);
  EXPECT_EQ(issuing.issued(), 1);
}

TEST_F(CmpClientTest, EnrollWithCertificateAuthentication) {
  StartServer(SignatureServer());
  auto r = Client({"ENROLL", "-y", "-P", "ee.key", "-o", "encryption", "-c", "file://old.crt", "-k",
                   "file://pkcs8@" + dir_.File("ee.key"), "-s", "C=FI,O=SSH,CN=Example/encryption", "-u",
                   "keyencipherment", "-C", "ca.crt", server_.url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFile(dir_.File("encryption-0.crt")), ReadFile(dir_.File("issued.crt")));
  EXPECT_TRUE(Contains(r.out, "Saved encryption-0.crt")) << r.out;
}

TEST_F(CmpClientTest, CaNotMatchingTheGivenOneIsRefused) {
  StartServer(SignatureServer());
  auto other = MakeTestCa("/CN=Other CA", 4);
  WriteCert("other-ca.crt", other.cert.get());
  auto r = Client({"ENROLL", "-y", "-P", "ee.key", "-o", "enc", "-c", "old.crt", "-k", "ee.key", "-s",
                   "CN=x", "-C", "other-ca.crt", server_.url()});
  EXPECT_EQ(r.exit_code, 97) << r.out << r.err;
  EXPECT_FALSE(PathExists(dir_.File("enc-0.crt")));
  EXPECT_FALSE(Contains(r.out, "Certificate =")) << r.out;
}

TEST_F(CmpClientTest, UpdatePollsWhileTheCaSaysWaiting) {
  // For kur the mock's answer must name the old certificate's issuer and serial.
  auto args = SignatureServer("old.crt");
  // Three polls on the server give two waiting answers here (OpenSSL's
  // first pollReq follows the waiting answer at once).
  for (const char* a : {"-poll_count", "3", "-check_after", "1"}) args.emplace_back(a);
  StartServer(args);
  auto r = Client({"UPDATE", "-y", "-c", "old.crt", "-k", "ee.key", "-o", "updated", "-C", "ca.crt",
                   server_.url(), kCaName});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::size_t polls = 0;
  for (auto at = r.out.find("pending"); at != std::string::npos; at = r.out.find("pending", at + 1)) ++polls;
  EXPECT_EQ(polls, 2u) << r.out;
  EXPECT_TRUE(Contains(r.out, "polling again in 1 s")) << r.out;  // the server's checkAfter
  EXPECT_EQ(ReadFile(dir_.File("updated-0.crt")), ReadFile(dir_.File("old.crt")));
}

TEST_F(CmpClientTest, Revoke) {
  StartServer(SignatureServer("old.crt"));  // the mock revokes only its -rsp_cert
  auto r = Client({"REVOKE", "-c", "old.crt", "-k", "ee.key", "-T", "old.crt", "-C", "ca.crt", server_.url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "Revoked: serial 05, CN=router-1")) << r.out;
  EXPECT_EQ(Requests(), 1) << server_.log();
}

TEST_F(CmpClientTest, TunnelSendsTheEndEntitysRequestRaVerified) {
  auto args = SignatureServer();
  args.emplace_back("-accept_raverified");
  StartServer(args);
  CsrSpec spec;
  spec.subject = "/CN=router-1";
  auto csr = BuildCsr(spec, key_.get());
  ASSERT_TRUE(csr.ok());
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_X509_REQ(bio.get(), csr->get()), 1);
  Bytes pem = ossl::BioToBytes(bio.get());
  WriteFile(dir_.File("ee.req"), std::string(pem.begin(), pem.end()));
  auto r = Client({"TUNNEL", "-y", "-R", "ra.crt", "-k", "ra.key", "-T", "ee.req", "-o", "ee", "-C", "ca.crt",
                   server_.url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFile(dir_.File("ee-0.crt")), ReadFile(dir_.File("issued.crt")));
  // Without -accept_raverified the same request is refused: the RA's word is what counts.
  server_.Stop();
  StartServer(SignatureServer());
  auto refused = Client({"TUNNEL", "-y", "-R", "ra.crt", "-k", "ra.key", "-T", "ee.req", "-o", "ee2", "-C",
                         "ca.crt", server_.url()});
  EXPECT_NE(refused.exit_code, 0) << refused.out << refused.err;
  EXPECT_FALSE(PathExists(dir_.File("ee2-0.crt")));
}

TEST_F(CmpClientTest, UnprotectedErrorOnlyWhenAllowedAndThenShown) {
  auto args = MacServer();
  for (const char* a : {"-pkistatus", "2", "-failure", "2", "-statusstring", "policy says no", "-send_unprot_err"}) {
    args.emplace_back(a);
  }
  StartServer(args);
  auto strict = Client(ManualInitialize(), "yes\n");
  EXPECT_EQ(strict.exit_code, 97) << strict.out << strict.err;
  EXPECT_TRUE(Contains(strict.err, "without protection")) << strict.err;
  auto allowed_args = ManualInitialize();
  allowed_args.insert(allowed_args.begin() + 1, "--unprotected-errors");
  auto allowed = Client(allowed_args, "yes\n");
  EXPECT_EQ(allowed.exit_code, 2) << allowed.out << allowed.err;
  EXPECT_TRUE(Contains(allowed.err, "policy says no")) << allowed.err;
  EXPECT_TRUE(Contains(allowed.err, "badRequest")) << allowed.err;
  EXPECT_FALSE(PathExists(dir_.File("initial-0.crt")));
}

TEST_F(CmpClientTest, PopByEncryptionIsSentAndTheServersAnswerShown) {
  StartServer(SignatureServer());
  auto r = Client({"ENROLL", "-y", "-E", "-P", "ee.key", "-o", "enc", "-c", "old.crt", "-k", "ee.key", "-s",
                   "CN=router-1", "-C", "ca.crt", server_.url()});
  // OpenSSL's server cannot verify this POPO: its refusal reaches the user.
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "the CA refused: rejected (badPOP")) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("enc-0.crt")));
}

TEST_F(CmpClientTest, ThroughTinyproxy) {
  StartServer(MacServer());
  Tinyproxy proxy;
  std::string error;
  ASSERT_TRUE(proxy.Start(dir_.path(), &error)) << error;
  auto args = ManualInitialize();
  args.insert(args.begin() + 1, {"-H", "http://127.0.0.1:" + std::to_string(proxy.port()) + "/"});
  auto r = Client(args, "yes\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  proxy.Stop();
  EXPECT_TRUE(Contains(proxy.Log(), "POST " + server_.url())) << proxy.Log();
}

TEST_F(CmpClientTest, ThroughMicrosocks) {
  StartServer(MacServer());
  Microsocks proxy;
  std::string error;
  ASSERT_TRUE(proxy.Start(dir_.path(), &error)) << error;
  const std::string socks = "socks://127.0.0.1:" + std::to_string(proxy.port());
  auto args = ManualInitialize();
  args.insert(args.begin() + 1, {"-S", socks});
  auto r = Client(args, "yes\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  proxy.Stop();
  EXPECT_TRUE(Contains(proxy.Log(), "connected to 127.0.0.1:" + std::to_string(server_.port()))) << proxy.Log();
  // Without the proxy the same command fails: it did go through it.
  auto down_args = ManualInitialize();
  down_args.insert(down_args.end(), {"-S", socks, "-o", "again"});
  auto down = Client(down_args, "yes\n");
  EXPECT_EQ(down.exit_code, 95) << down.out << down.err;
}

// Each refusal of what OpenSSL 3.0 cannot do: exit 1, the reason, and
// nothing sent (the server saw no request).
TEST_F(CmpClientTest, RefusalsComeBeforeAnythingIsSent) {
  StartServer(MacServer());
  const std::string url = server_.url();
  struct Case {
    std::vector<std::string> args;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {{"RECOVER", "-p", "62154:ssh", "-T", "issued.crt", url}, "key recovery"},
      {{"reco", "-p", "62154:ssh", "-T", "issued.crt", url}, "key recovery"},
      {{"INITIALIZE", "-B", "-P", "ee.key", "-p", "62154:ssh", "-s", "CN=x", url}, "key backup"},
      {{"INITIALIZE", "-v", "1", "-P", "ee.key", "-p", "62154:ssh", "-s", "CN=x", url}, "CMPv2 only"},
      {{"INITIALIZE", "-i", "1024", "-P", "ee.key", "-p", "62154:ssh", "-s", "CN=x", url}, "iteration count of 500"},
      {{"INITIALIZE", "-P", "generate://ssh2@rsa:2048/k", "-p", "62154:ssh", "-s", "CN=x", url}, "proprietary"},
      {{"INITIALIZE", "-P", "generate://x509@rsa:2048/k", "-p", "62154:ssh", "-s", "CN=x", url}, "proprietary"},
      {{"INITIALIZE", "-P", "ee.key", "-p", "62154:ssh", "-s", "CN=x",
        "tcp://127.0.0.1:" + std::to_string(server_.port()) + "/"}, "plain TCP"},
      {{"POLL", "-p", "62154:ssh", "-I", "4121205509", url}, "only in the process that sent it"},
  };
  for (const Case& c : cases) {
    auto r = Client(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args[0] << ": " << r.out << r.err;
    EXPECT_TRUE(Contains(r.err, "refused: ")) << r.err;
    EXPECT_TRUE(Contains(r.err, c.reason)) << r.err;
  }
  EXPECT_EQ(Requests(), 0) << server_.log();
  EXPECT_FALSE(PathExists(dir_.File("k.prv")));
  // -i 500 is what OpenSSL sends: accepted.
  auto args = ManualInitialize();
  args.insert(args.begin() + 1, {"-i", "500", "-y"});
  EXPECT_EQ(Client(args).exit_code, 0);
}

TEST_F(CmpClientTest, HelpListsExitCodesAndExamples) {
  auto h = Client({"-h"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_TRUE(Contains(h.out, "Exit status: 0 done; 1 usage")) << h.out;
  auto f = Client({"-F"});
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_TRUE(Contains(f.out, "digitalSignature")) << f.out;
  EXPECT_TRUE(Contains(f.out, "ec:CURVE")) << f.out;
  auto e = Client({"-e"});
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_TRUE(Contains(e.out, "cmp-client INITIALIZE")) << e.out;
  auto bad = Client({"ENROLL", "-p", "1:2", "-P", "ee.key", "-s", "CN=x", "http://127.0.0.1:9/"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.err, "ENROLL takes no -p")) << bad.err;
}

}  // namespace
}  // namespace scepd::testing
