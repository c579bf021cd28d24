// scep-client (the Tectia ssh-scepclient-g3 command line) end to end:
// against micromdm's scepserver for the manual's example command lines (only
// the URL changed), through tinyproxy (-H) and microsocks (-S) on loopback,
// and against the project's responder for RA certificates and PENDING.

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/ossl.h"
#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/responder_process.h"
#include "tests/support/scep_server.h"
#include "tests/support/tinyproxy.h"

namespace scepd::testing {
namespace {

const std::string kScepClient = BuiltBinary("cli/scep-client");

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class ScepClientTest : public ::testing::Test {
 protected:
  void StartServer(ScepServer::Options options = {}) {
    server_ = std::make_unique<ScepServer>(std::move(options));
    ASSERT_TRUE(server_->Start()) << ReadFile(server_->log_path());
  }

  ProcessResult Client(std::vector<std::string> args) {
    args.insert(args.begin(), kScepClient);
    return RunProcess(args, {}, 60000, "", dir_.path());
  }

  std::string Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    auto r = RunProcess(args, {}, 30000, "", dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  // "md5 Fingerprint=AB:CD..." -> "AB:CD...".
  std::string OpensslFingerprint(const std::string& file, const char* alg) {
    std::string out = Openssl({"x509", "-in", file, "-noout", "-fingerprint", std::string("-") + alg});
    std::string hex = out.substr(out.find('=') + 1);
    hex.erase(hex.find_last_not_of('\n') + 1);
    return hex;
  }

  // The manual's GET-CA example: `GET-CA -o ca URL`.
  void GetCa(const std::string& url) {
    auto r = Client({"GET-CA", "-o", "ca", url});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  TempDir dir_;
  std::unique_ptr<ScepServer> server_;
};

TEST_F(ScepClientTest, ManualGetCaExamplePrintsTheFingerprintsOpensslComputes) {
  StartServer();
  auto r = Client({"GET-CA", "-o", "ca", server_->url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(PathExists(dir_.File("ca-0.ca"))) << r.out;
  EXPECT_FALSE(PathExists(dir_.File("ca-1.ca")));
  EXPECT_TRUE(Contains(r.out, "Received CA/RA certificate ca-0.ca:\n")) << r.out;
  // The CA's own file and the one written agree with openssl's fingerprints.
  for (const std::string& file : {server_->ca_cert_path(), dir_.File("ca-0.ca")}) {
    EXPECT_TRUE(Contains(r.out, "\nfingerprint " + Lower(OpensslFingerprint(file, "md5")) + "\n")) << r.out;
    EXPECT_TRUE(Contains(r.out, "\nsha256 fingerprint " + OpensslFingerprint(file, "sha256") + "\n")) << r.out;
  }
}

TEST_F(ScepClientTest, CommandsInAnyCaseAndAbbreviatedIpv6AccessUrl) {
  StartServer();
  const std::string v6 = "http://[::1]:" + std::to_string(server_->port()) + "/scep";
  for (const char* command : {"get-ca", "Get-Ca", "GET-CA"}) {
    auto r = Client({command, v6});
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.out << r.err;
    EXPECT_TRUE(Contains(r.out, "Received CA/RA certificate:\n")) << r.out;
  }
  auto chain = Client({"get-ch", "-o", "chain", server_->url()});
  ASSERT_EQ(chain.exit_code, 0) << chain.out << chain.err;
  EXPECT_TRUE(PathExists(dir_.File("chain-0.ca")));
  auto short_word = Client({"get", server_->url()});
  EXPECT_EQ(short_word.exit_code, 1);
  EXPECT_TRUE(Contains(short_word.err, "more than three letters")) << short_word.err;
  auto ambiguous = Client({"GET-C", server_->url()});
  EXPECT_EQ(ambiguous.exit_code, 1);
  EXPECT_TRUE(Contains(ambiguous.err, "ambiguous")) << ambiguous.err;
}

TEST_F(ScepClientTest, ManualEnrollExampleWritesTheSeedsFileNames) {
  ScepServer::Options options;
  options.challenge = "ssh";
  options.capture_csr_to = dir_.File("seen.csr");
  StartServer(options);
  GetCa(server_->url());
  // The manual's example, only the URL (and the CA file it names) filled in.
  auto r = Client({"ENROLL", "-C", "ca-0.ca", "-p", "ssh", "-o", "subject", "-P",
                   "generate://pkcs8:ssh@rsa:1024/subject", "-s", "C=FI,O=SSH,CN=SCEP Example;IP=192.0.2.10",
                   "-u", "digitalsignature", server_->url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "Received user certificate subject-0.crt:\nfingerprint ")) << r.out;
  // `ls subject*` of the manual: the certificate and the key, nothing else.
  auto ls = RunProcess({"sh", "-c", "ls subject*"}, {}, 10000, "", dir_.path());
  EXPECT_EQ(ls.out, "subject-0.crt\nsubject.prv\n");
  EXPECT_TRUE(Contains(r.out, "fingerprint " + Lower(OpensslFingerprint(dir_.File("subject-0.crt"), "md5"))));
  struct stat st{};
  ASSERT_EQ(::stat(dir_.File("subject.prv").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(Contains(ReadFile(dir_.File("subject.prv")), "-----BEGIN PRIVATE KEY-----"));
  // The certificate is for that key, issued by the CA, with that subject.
  EXPECT_EQ(Openssl({"x509", "-in", "subject-0.crt", "-noout", "-pubkey"}),
            Openssl({"pkey", "-in", "subject.prv", "-pubout"}));
  EXPECT_EQ(Openssl({"verify", "-CAfile", "ca-0.ca", "subject-0.crt"}), "subject-0.crt: OK\n");
  EXPECT_TRUE(Contains(Openssl({"x509", "-in", "subject-0.crt", "-noout", "-subject"}),
                       "C = FI, O = SSH, CN = SCEP Example"));
  std::string csr = Openssl({"req", "-inform", "DER", "-in", "seen.csr", "-noout", "-text"});
  EXPECT_TRUE(Contains(csr, "IP Address:192.0.2.10")) << csr;
  EXPECT_TRUE(Contains(csr, "Digital Signature")) << csr;
  EXPECT_TRUE(Contains(csr, "Subject: C = FI, O = SSH, CN = SCEP Example")) << csr;
  // The passphrase and the challenge never reach the output.
  EXPECT_FALSE(Contains(r.out + r.err, "ssh@")) << r.out << r.err;

  // A second enrollment does not overwrite the key or the first certificate.
  auto again = Client({"ENROLL", "-C", "ca-0.ca", "-p", "ssh", "-o", "subject", "-P",
                       "generate://pkcs8@rsa:1024/subject", "-s", "CN=again", server_->url()});
  EXPECT_EQ(again.exit_code, 93) << again.out << again.err;
  EXPECT_TRUE(Contains(again.err, "subject.prv exists")) << again.err;
  auto reuse = Client({"enroll", "-C", "ca-0.ca", "-p", "ssh", "-o", "subject", "-P", "subject.prv", "-s",
                       "CN=again", server_->url()});
  ASSERT_EQ(reuse.exit_code, 0) << reuse.out << reuse.err;
  EXPECT_TRUE(Contains(reuse.out, "Received user certificate subject-1.crt:")) << reuse.out;
}

TEST_F(ScepClientTest, EnrollSendsNamesUsagesAndTemplateFields) {
  ScepServer::Options options;
  options.capture_csr_to = dir_.File("seen.csr");
  StartServer(options);
  GetCa(server_->url());
  auto r = Client({"ENROLL", "-C", "ca-0.ca", "-p", "secret", "-o", "router", "-P",
                   "generate://pkcs8s:k3y@rsa:1024/router", "-s",
                   "C=FI,O=Example Oy,OU=Routers,CN=gw1;ip=192.0.2.1;ip=2001:db8::1;dns=gw1.example.org;"
                   "email=ops@example.org;uri=https://gw1.example.org/;rid=1.3.6.1.4.1.99999.1;"
                   "dn=O=Example Oy,CN=gw1 dir",
                   "-u", "digitalSignature;keyEncipherment;nonRepudiation", "-U",
                   "serverAuth;clientAuth;ikeIntermediate;1.3.6.1.5.5.7.3.17", server_->url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string csr = Openssl({"req", "-inform", "DER", "-in", "seen.csr", "-noout", "-text"});
  for (const char* part : {"Subject: C = FI, O = Example Oy, OU = Routers, CN = gw1", "IP Address:192.0.2.1",
                           "IP Address:2001:DB8:0:0:0:0:0:1", "DNS:gw1.example.org", "email:ops@example.org",
                           "URI:https://gw1.example.org/", "Registered ID:1.3.6.1.4.1.99999.1",
                           "DirName:/O=Example Oy/CN=gw1 dir",
                           "Digital Signature, Non Repudiation, Key Encipherment",
                           "TLS Web Server Authentication", "TLS Web Client Authentication",
                           "1.3.6.1.5.5.8.2.2", "ipsec Internet Key Exchange"}) {
    EXPECT_TRUE(Contains(csr, part)) << part << "\n" << csr;
  }
  EXPECT_TRUE(Contains(ReadFile(dir_.File("router.prv")), "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
  EXPECT_EQ(Openssl({"x509", "-in", "router-0.crt", "-noout", "-pubkey"}),
            Openssl({"pkey", "-in", "router.prv", "-passin", "pass:k3y", "-pubout"}));

  // -T: the issued certificate as the template; -u overrides its usage.
  auto t = Client({"ENROLL", "-C", "ca-0.ca", "-p", "secret", "-o", "copy", "-P",
                   "generate://pkcs1@rsa:1024/copy", "-T", "router-0.crt", "-u", "keyAgreement", server_->url()});
  ASSERT_EQ(t.exit_code, 0) << t.out << t.err;
  std::string copy = Openssl({"req", "-inform", "DER", "-in", "seen.csr", "-noout", "-text"});
  EXPECT_TRUE(Contains(copy, "Subject: C = FI, O = Example Oy, OU = Routers, CN = gw1")) << copy;
  EXPECT_TRUE(Contains(copy, "DNS:gw1.example.org")) << copy;
  EXPECT_TRUE(Contains(copy, "Key Agreement")) << copy;
  EXPECT_FALSE(Contains(copy, "Key Encipherment")) << copy;
  EXPECT_TRUE(Contains(ReadFile(dir_.File("copy.prv")), "-----BEGIN RSA PRIVATE KEY-----"));
}

TEST_F(ScepClientTest, BadArgumentsFailBeforeAnyRequest) {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {{"ENROLL", "-C", "ca", "-P", "generate://ssh2@rsa:2048/k", "-s", "CN=x", "http://127.0.0.1:9/"},
            "proprietary"},
           {{"ENROLL", "-u", "signing", "http://127.0.0.1:9/"}, "'signing'"},
           {{"ENROLL", "-U", "fooAuth", "http://127.0.0.1:9/"}, "'fooAuth'"},
           {{"GET-CA", "-S", "socks://fw/10.0.0.0/8", "http://127.0.0.1:9/"}, "network/bits"},
           {{"GET-CA", "-H", "https://p:1/", "http://127.0.0.1:9/"}, "http://"},
           {{"GET-CA"}, "no access URL"},
           {{"GET-CA", "-q", "x", "http://127.0.0.1:9/"}, "unknown option -q"},
       }) {
    auto r = Client(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args[1] << "\n" << r.err;
    EXPECT_TRUE(Contains(r.err, c.says)) << c.says << "\n" << r.err;
  }
  EXPECT_FALSE(PathExists(dir_.File("k.prv")));
  auto none = Client({});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_TRUE(Contains(none.out, "Usage: scep-client command [options] access [name]")) << none.out;
  auto help = Client({"-U", "help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(Contains(help.out, "smartCardLogon")) << help.out;
  auto ku_help = Client({"ENROLL", "-u", "help", "http://127.0.0.1:9/"});
  EXPECT_EQ(ku_help.exit_code, 0);
  for (const char* name : {"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
                           "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"}) {
    EXPECT_TRUE(Contains(ku_help.out, name)) << name << "\n" << ku_help.out;
  }
  // A proprietary key format is refused with the reason, without the usage.
  auto refused = Client({"ENROLL", "-P", "generate://x509@rsa:2048/k", "http://127.0.0.1:9/"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(Contains(refused.err, "refused: -P: savetype 'x509' is a proprietary format")) << refused.err;
  EXPECT_FALSE(Contains(refused.err, "Usage:")) << refused.err;
}

// ---- proxies ----------------------------------------------------------------

class ProxyTest : public ScepClientTest {
 protected:
  // Starts `argv` (a proxy on `port`) and waits, bounded, until it accepts.
  void StartProxy(const std::vector<std::string>& argv, int port) {
    std::string error;
    ASSERT_TRUE(proxy_.Start(argv, dir_.File("proxy.log"), {}, dir_.path(), &error)) << error;
    for (int i = 0; i < 100; ++i) {
      if (TcpOpen(port)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "proxy did not come up: " << TryReadFile(dir_.File("proxy.log")).value_or("");
  }

  // True when something accepts TCP connections on 127.0.0.1:port.
  static bool TcpOpen(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  BackgroundProcess proxy_;
};

TEST_F(ProxyTest, GetCaAndEnrollThroughTinyproxy) {
  StartServer();
  Tinyproxy tinyproxy;
  std::string error;
  ASSERT_TRUE(tinyproxy.Start(dir_.path(), &error)) << error;
  const int port = tinyproxy.port();
  const std::string proxy = "http://127.0.0.1:" + std::to_string(port) + "/";
  // The manual's GET-CA example names the CA after the URL: it goes out as
  // GetCACert's message (seen in the proxy's log).
  auto r = Client({"GET-CA", "-H", proxy, "-o", "ca", server_->url(), "ssh-scep-ca"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto e = Client({"ENROLL", "-H", proxy, "-C", "ca-0.ca", "-p", "secret", "-o", "p", "-P",
                   "generate://pkcs8@rsa:1024/p", "-s", "CN=via proxy", server_->url()});
  ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  tinyproxy.Stop();
  std::string log = tinyproxy.Log();
  const std::string target = "127.0.0.1:" + std::to_string(server_->port()) + "/scep?operation=";
  EXPECT_TRUE(Contains(log, "GET http://" + target + "GetCACert&message=ssh-scep-ca ")) << log;
  EXPECT_TRUE(Contains(log, "PKIOperation")) << log;
}

TEST_F(ProxyTest, GetCaThroughMicrosocks) {
  StartServer();
  const int port = FreeLoopbackPort();
  StartProxy({"microsocks", "-i", "127.0.0.1", "-p", std::to_string(port)}, port);
  auto r = Client({"GET-CA", "-S", "socks://127.0.0.1:" + std::to_string(port), "-o", "ca", server_->url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(PathExists(dir_.File("ca-0.ca")));
  proxy_.Stop();
  std::string log = TryReadFile(dir_.File("proxy.log")).value_or("");
  EXPECT_TRUE(Contains(log, "connected to 127.0.0.1:" + std::to_string(server_->port()))) << log;
  // And without the proxy running, the same command fails: it did go through it.
  auto down = Client({"GET-CA", "-S", "socks://127.0.0.1:" + std::to_string(port), server_->url()});
  EXPECT_EQ(down.exit_code, 95) << down.out << down.err;
}

TEST_F(ProxyTest, SscepMonitorInformationIsAddedToEveryRequest) {
  StartServer();
  Tinyproxy tinyproxy;
  std::string error;
  ASSERT_TRUE(tinyproxy.Start(dir_.path(), &error)) << error;
  const int port = tinyproxy.port();
  auto r = RunProcess({BuiltBinary("cli/sscep"), "getca", "-u", server_->url(), "-c", "ca.crt", "-p",
                       "127.0.0.1:" + std::to_string(port), "-M", "router=gw1", "-M", "site=hq&rack=4"},
                      {}, 60000, "", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  tinyproxy.Stop();
  std::string log = tinyproxy.Log();
  EXPECT_TRUE(Contains(log, "?operation=GetCACert&router=gw1&site=hq&rack=4")) << log;
  auto bad = RunProcess({BuiltBinary("cli/sscep"), "getca", "-u", server_->url(), "-c", "ca.crt", "-M", "novalue"},
                        {}, 60000, "", dir_.path());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.err, "-M 'novalue'")) << bad.err;
}

// ---- the project's responder: RA certificates, PENDING -----------------------

TEST(ScepClientResponderTest, RaCertificatesGivenWithEAndV) {
  TempDir dir;
  ResponderProcess ca;
  ASSERT_TRUE(ca.Start({"--ra", "--ra-order", "sign,enc,ca"})) << TryReadFile(ca.log_path()).value_or("");
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), kScepClient);
    return RunProcess(args, {}, 60000, "", dir.path());
  };
  auto g = run({"GET-CA", "-o", "ra", ca.url()});
  ASSERT_EQ(g.exit_code, 0) << g.out << g.err;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(PathExists(dir.File("ra-" + std::to_string(i) + ".ca")));
  // GET-CHAIN: the RA certificates first, then the CA up to the top level
  // (here the CA itself, self-signed), each saved under -o.
  auto chain = run({"GET-CHAIN", "-o", "chain", ca.url()});
  ASSERT_EQ(chain.exit_code, 0) << chain.out << chain.err;
  EXPECT_TRUE(Contains(chain.out, "Received RA certificate chain-0.ca:\n")) << chain.out;
  EXPECT_TRUE(Contains(chain.out, "Received RA certificate chain-1.ca:\n")) << chain.out;
  EXPECT_TRUE(Contains(chain.out, "Received CA certificate chain-2.ca:\n")) << chain.out;
  EXPECT_FALSE(PathExists(dir.File("chain-3.ca")));
  EXPECT_EQ(ReadFile(dir.File("chain-2.ca")), ReadFile(dir.File("ra-2.ca")));  // sign,enc,ca: the CA last
  EXPECT_EQ(chain.err, "");  // the chain reached a self-signed top
  // The RA signs, another RA certificate encrypts, the CA issues.
  auto e = run({"ENROLL", "-C", "ra-2.ca", "-E", "ra-1.ca", "-V", "ra-0.ca", "-p", "secret", "-o", "r", "-P",
                "generate://pkcs8@rsa:1024/r", "-s", "CN=behind an RA", ca.url()});
  ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  EXPECT_TRUE(PathExists(dir.File("r-0.crt")));
  // Swapped: the reply's signer is not the one -V names, so it is refused.
  auto wrong = run({"ENROLL", "-C", "ra-2.ca", "-E", "ra-0.ca", "-V", "ra-1.ca", "-p", "secret", "-o", "w", "-P",
                    "generate://pkcs8@rsa:1024/w", "-s", "CN=wrong", ca.url()});
  EXPECT_NE(wrong.exit_code, 0) << wrong.out << wrong.err;
  EXPECT_FALSE(PathExists(dir.File("w-0.crt")));
}

TEST(ScepClientResponderTest, PendingIsPolledThenGivenUpWithExitThree) {
  TempDir dir;
  ResponderProcess ca;
  ASSERT_TRUE(ca.Start({"--pending-polls", "2"})) << TryReadFile(ca.log_path()).value_or("");
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), kScepClient);
    return RunProcess(args, {}, 60000, "", dir.path());
  };
  ASSERT_EQ(run({"GET-CA", "-o", "ca", ca.url()}).exit_code, 0);
  auto e = run({"ENROLL", "-C", "ca-0.ca", "-p", "secret", "-o", "r", "-P", "generate://pkcs8@rsa:1024/r", "-s",
                "CN=pending", "--poll-interval", "1", ca.url()});
  ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  EXPECT_EQ(ca.CountRequests("CertPoll"), 3) << ReadFile(ca.request_log_path());
  EXPECT_TRUE(Contains(e.out, "Request pending, polling again in 1 s\n")) << e.out;
  EXPECT_TRUE(PathExists(dir.File("r-0.crt")));

  ca.Stop();
  ASSERT_TRUE(ca.Start({"--pending-forever"}));
  auto forever = run({"ENROLL", "-C", "ca-0.ca", "-p", "secret", "-o", "f", "-P", "generate://pkcs8@rsa:1024/f",
                      "-s", "CN=forever", "--poll-interval", "1", "--max-polls", "2", ca.url()});
  EXPECT_EQ(forever.exit_code, 3) << forever.out << forever.err;
  EXPECT_TRUE(Contains(forever.err, "still PENDING after 2 poll(s)")) << forever.err;
  EXPECT_FALSE(PathExists(dir.File("f-0.crt")));
  EXPECT_TRUE(PathExists(dir.File("f.prv")));  // the key stays for a later enrollment
}

}  // namespace
}  // namespace scepd::testing
