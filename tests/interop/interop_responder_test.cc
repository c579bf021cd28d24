// sscep and scepd against a second, independent SCEP responder
// (tests/interop/interop_responder.py: Python, python3-asn1crypto and
// python3-cryptography; it shares no code with core/ or tests/responder/).
// Its PENDING and FAILURE CertReps carry no eContent, as RFC 5652 allows;
// its CertPoll check is strict about the issuer name (RFC 8894 3.3.3); its
// other options copy what real CAs do (docs/interop.md).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "tests/interop/interop_python.h"
#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"

namespace scepd::testing {
namespace {

const std::string kSscep = BuiltBinary("cli/sscep");
const std::string kScepd = BuiltBinary("daemon/scepd");


int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The Python responder (interop_responder.py) and its SCEP URL.
class InteropCa {
 public:
  explicit InteropCa(const std::string& dir) : server_("interop_responder.py", dir) {}
  bool Start(const std::vector<std::string>& flags) {
    if (!server_.Start(flags)) return false;
    url_ = "http://127.0.0.1:" + server_.port() + "/cgi-bin/pkiclient.exe";
    return true;
  }
  const std::string& url() const { return url_; }
  std::string Log() const { return server_.Log(); }

 private:
  InteropServer server_;
  std::string url_;
};

class InteropResponderTest : public ::testing::Test {
 protected:
  void SetUp() override { ::mkdir(dir_.File("ca").c_str(), 0700); }

  ProcessResult Sscep(std::vector<std::string> args) {
    args.insert(args.begin(), kSscep);
    return RunProcess(args, {}, 60000, "", dir_.path());
  }
  // getca, then a request (1024-bit key unless `key_bits` says otherwise:
  // key size is not what these tests are about).
  // Files of an earlier round in the same test go first.
  void Prepare(InteropCa& ca, int key_bits = 1024) {
    for (const char* f : {"ca.crt", "ca.crt-0", "ca.crt-1", "ca.crt-2", "ca.crt-3", "router.key",
                          "router.csr", "router.crt"}) {
      RemoveTree(dir_.File(f));
    }
    auto get = Sscep({"getca", "-u", ca.url(), "-c", "ca.crt"});
    ASSERT_EQ(get.exit_code, 0) << get.out << get.err;
    auto r = Sscep({"mkrequest", "-k", "router.key", "-r", "router.csr", "--subject",
                    "/CN=router", "--challenge", "one-time-secret", "--key-size",
                    std::to_string(key_bits)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ProcessResult Enroll(const InteropCa& ca, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"enroll", "-u", ca.url(), "-c", "ca.crt", "-k", "router.key",
                                     "-r", "router.csr", "-l", "router.crt", "-t", "1", "-n", "5"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Sscep(args);
  }

  TempDir dir_{"scepd-interop-"};
};

TEST_F(InteropResponderTest, SscepPollsPendingRepliesWithoutEContentUntilIssued) {
  for (const char* form : {"absent", "octets", "constructed-empty"}) {
    SCOPED_TRACE(form);
    TempDir ca_dir("scepd-interop-ca-");
    InteropCa ca(ca_dir.path());
    ASSERT_TRUE(ca.Start({"--pending", "1", "--econtent", form}));
    Prepare(ca);
    auto r = Enroll(ca);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("pkistatus: PENDING"), std::string::npos) << r.out;
    EXPECT_EQ(Count(ca.Log(), "messageType=20"), 2) << ca.Log();
    EXPECT_TRUE(PathExists(dir_.File("router.crt")));
    ExpectReliabilityRow("interop.pending-without-econtent",
                         "exit " + std::to_string(r.exit_code) + "\n" + r.out + r.err);
  }
}

TEST_F(InteropResponderTest, SscepReportsTheFailInfoOfAFailureWithoutEContent) {
  InteropCa ca(dir_.File("ca"));
  ASSERT_TRUE(ca.Start({"--fail", "2", "--fail-text", "Anfrage abgelehnt – Prüfung"}));
  Prepare(ca);
  auto r = Enroll(ca);
  EXPECT_EQ(r.exit_code, 72) << r.out << r.err;
  EXPECT_NE(r.err.find("FAILURE: badRequest"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("signature does not verify"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("router.crt")));
  ExpectReliabilityRow("interop.failure-without-econtent",
                       "exit " + std::to_string(r.exit_code) + "\n" + r.err);
}

TEST_F(InteropResponderTest, CertPollNamesTheIssuingCaWithAndWithoutAnRa) {
  for (bool ra : {false, true}) {
    SCOPED_TRACE(ra ? "RA + issuing CA + root" : "CA alone");
    TempDir ca_dir("scepd-interop-ca-");
    InteropCa ca(ca_dir.path());
    std::vector<std::string> flags = {"--pending", "1", "--ber"};
    if (ra) flags.push_back("--ra");
    ASSERT_TRUE(ca.Start(flags));
    Prepare(ca);
    auto r = Enroll(ca);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << ca.Log();
    EXPECT_EQ(ca.Log().find("CertPoll issuer is not the issuing CA"), std::string::npos);
    EXPECT_EQ(Count(ca.Log(), "messageType=20"), 2) << ca.Log();
  }
}

TEST_F(InteropResponderTest, NdesOneTimeChallengeReusedIsRefusedClearly) {
  for (const char* answer : {"failure", "html"}) {
    SCOPED_TRACE(answer);
    TempDir ca_dir("scepd-interop-ca-");
    InteropCa ca(ca_dir.path());
    ASSERT_TRUE(ca.Start({"--ra", "--one-time-challenge", answer}));
    Prepare(ca);
    auto first = Enroll(ca);
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    // A second router (another key, so another transaction) with the same
    // challenge: NDES has already consumed it.
    auto mk = Sscep({"mkrequest", "-k", "router2.key", "-r", "router2.csr", "--subject",
                     "/CN=router2", "--challenge", "one-time-secret", "--key-size", "1024"});
    ASSERT_EQ(mk.exit_code, 0) << mk.err;
    auto again = Sscep({"enroll", "-u", ca.url(), "-c", "ca.crt", "-k", "router2.key", "-r",
                        "router2.csr", "-l", "router2.crt", "-t", "1", "-n", "5"});
    EXPECT_FALSE(PathExists(dir_.File("router2.crt")));
    if (std::string(answer) == "failure") {
      EXPECT_EQ(again.exit_code, 72) << again.err;
      EXPECT_NE(again.err.find("the challenge password was used before"), std::string::npos)
          << again.err;
    } else {
      EXPECT_EQ(again.exit_code, 95) << again.err;
      EXPECT_NE(again.err.find("HTML page"), std::string::npos) << again.err;
      EXPECT_NE(again.err.find("may have been used already"), std::string::npos) << again.err;
    }
    for (const char* f : {"router2.key", "router2.csr"}) RemoveTree(dir_.File(f));
  }
}

TEST_F(InteropResponderTest, RefusalAsHttp500IsReportedWithTheStatus) {
  InteropCa ca(dir_.File("ca"));
  ASSERT_TRUE(ca.Start({"--fail", "2", "--refuse-with-http-500"}));
  Prepare(ca);
  auto r = Enroll(ca);
  EXPECT_EQ(r.exit_code, 95) << r.err;
  EXPECT_NE(r.err.find("server answered HTTP 500"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Request refused by policy"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("router.crt")));
}

TEST_F(InteropResponderTest, PostIsPreferredAndALongGetRefusedByIisIsExplained) {
  {
    // POSTPKIOperation offered: the request goes by POST and is never cut.
    InteropCa ca(dir_.File("ca"));
    ASSERT_TRUE(ca.Start({"--max-url", "2048"}));
    Prepare(ca);
    auto r = Enroll(ca);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(ca.Log().find("POST PKIOperation"), std::string::npos) << ca.Log();
    EXPECT_EQ(ca.Log().find("GET PKIOperation"), std::string::npos) << ca.Log();
  }
  // Only GET (no POSTPKIOperation in the caps) and IIS's default 2048-byte
  // query string limit: a clear message instead of a bare 404.
  TempDir ca_dir("scepd-interop-ca-");
  InteropCa ca(ca_dir.path());
  ASSERT_TRUE(ca.Start({"--max-url", "2048", "--caps", "SHA-256\\nAES\\nRenewal"}));
  Prepare(ca, 2048);  // a request of a realistic size: longer than 2048 bytes in a GET
  auto r = Enroll(ca);
  EXPECT_EQ(r.exit_code, 95) << r.err;
  EXPECT_NE(r.err.find("server answered HTTP 404"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("query string"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("POSTPKIOperation"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("router.crt")));
  ExpectReliabilityRow("interop.iis-long-get",
                       "exit " + std::to_string(r.exit_code) + "\n" + r.err);
}

TEST_F(InteropResponderTest, EmptyGetCaCapsMeansNoCapabilities) {
  InteropCa ca(dir_.File("ca"));
  ASSERT_TRUE(ca.Start({"--caps", ""}));
  auto caps = Sscep({"getcaps", "-u", ca.url()});
  EXPECT_EQ(caps.exit_code, 0) << caps.err;
  EXPECT_EQ(caps.out, "");
  Prepare(ca);
  // Nothing advertised: GET, and the RFC's defaults (DES3 and SHA-1 here).
  auto r = Enroll(ca);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ca.Log().find("GET PKIOperation"), std::string::npos) << ca.Log();
  ExpectReliabilityRow("interop.empty-caps", "exit " + std::to_string(r.exit_code) + "\n" +
                                                 caps.err + r.err + ca.Log());
}

// Microsoft NDES through sscep as its users call it: getca writes the RA
// signature certificate, the RA encryption certificate, the CA and the root
// as ca.crt-0..3, and enroll is given -c ca.crt-0 -e ca.crt-1. The CA is
// taken from the files beside ca.crt-0, or, with the two RA files alone,
// from the reply (it signed the RA certificates); CertPoll names it either
// way (the responder refuses another issuer).
TEST_F(InteropResponderTest, SscepNdesRaCertificatesAsMinusCAndMinusE) {
  for (bool beside : {true, false}) {
    SCOPED_TRACE(beside ? "ca.crt-0..3 as getca wrote them" : "the two RA files alone");
    TempDir ca_dir("scepd-interop-ca-");
    InteropCa ca(ca_dir.path());
    ASSERT_TRUE(ca.Start({"--ra", "--pending", "0"}));  // one PENDING, one CertPoll
    Prepare(ca);
    ASSERT_TRUE(PathExists(dir_.File("ca.crt-3"))) << "getca wrote RA, RA, CA, root";
    std::string c = "ca.crt-0", e = "ca.crt-1";
    if (!beside) {
      c = "ra-sign.pem";
      e = "ra-enc.pem";
      WriteFile(dir_.File(c), ReadFile(dir_.File("ca.crt-0")));
      WriteFile(dir_.File(e), ReadFile(dir_.File("ca.crt-1")));
    }
    auto r = Sscep({"enroll", "-u", ca.url(), "-c", c, "-e", e, "-k", "router.key", "-r",
                    "router.csr", "-l", "router.crt", "-t", "1", "-n", "5", "-v"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << ca.Log();
    EXPECT_EQ(r.err.find("is a CA"), std::string::npos) << r.err;
    EXPECT_EQ(ca.Log().find("CertPoll issuer is not the issuing CA"), std::string::npos)
        << ca.Log();
    EXPECT_EQ(Count(ca.Log(), "messageType=20"), 1) << ca.Log();
    EXPECT_EQ(ca.Log().find("bad request"), std::string::npos) << "not encrypted to the RA";
    ASSERT_TRUE(PathExists(dir_.File("router.crt")));
    if (beside) {
      EXPECT_NE((r.out + r.err).find("taken from ca.crt-2"), std::string::npos) << r.out << r.err;
    }
    // The chain beside the certificate ends in the issuing CA, not an RA.
    std::string chain = ReadFile(dir_.File("router.crt.chain"));
    EXPECT_NE(chain.find(ReadFile(dir_.File("ca.crt-2"))), std::string::npos) << chain;
    EXPECT_EQ(chain.find(ReadFile(dir_.File("ca.crt-0"))), std::string::npos) << chain;
    for (const char* f : {"ra-sign.pem", "ra-enc.pem", "router.crt.chain"}) {
      RemoveTree(dir_.File(f));
    }
  }
}

// scepd itself: an enrollment left PENDING by a CA that omits eContent, the
// daemon killed and started again, the same transaction polled to the end.
TEST_F(InteropResponderTest, ScepdRestartedWhilePendingFinishesWithDetachedReplies) {
  InteropCa ca(dir_.File("ca"));
  ASSERT_TRUE(ca.Start({"--pending", "3", "--ra"}));
  const std::string conf = dir_.File("scepd.conf");
  WriteFile(conf,
            "[scepd]\nenabled = yes\ndata_dir = " + dir_.File("data") + "\nrun_dir = " +
                dir_.File("run") +
                "\nlog_level = debug\nlog_target = stderr\nserial_number = A1B2\n"
                "[certificate]\nurl = " + ca.url() +
                "\nsubject = /O=scepd test/CN=router-SN\nchallenge_password = secret\n"
                "renew_days = 30\nawait_result = 1\nkey_size = 1024\n");
  {
    BackgroundProcess d;
    ASSERT_TRUE(d.Start({kScepd, "-c", conf}, dir_.File("scepd1.log")));
    ASSERT_TRUE(WaitFor([&] { return Count(ca.Log(), "messageType=20") >= 1; }))
        << ReadFile(dir_.File("scepd1.log")) << ca.Log();
    d.Signal(SIGKILL);
    d.Wait(30000);
  }
  EXPECT_TRUE(PathExists(dir_.File("data") + "/.pending/state"));
  auto r = RunProcess({kScepd, "-c", conf, "--once"}, {}, 120000);
  EXPECT_EQ(r.exit_code, 0) << r.err << ca.Log();
  EXPECT_EQ(Count(ca.Log(), "messageType=19"), 1) << "not submitted again: " << ca.Log();
  EXPECT_EQ(ca.Log().find("CertPoll issuer is not the issuing CA"), std::string::npos);
  EXPECT_EQ(r.err.find("signature does not verify"), std::string::npos) << r.err;
  EXPECT_TRUE(PathExists(dir_.File("data") + "/latest.crt"));
}

// scepd refused by a CA whose FAILURE carries no eContent: the failInfo and
// the CA's text are reported, not a bad signature, and nothing is installed.
TEST_F(InteropResponderTest, ScepdReportsTheFailInfoOfADetachedFailure) {
  InteropCa ca(dir_.File("ca"));
  ASSERT_TRUE(ca.Start({"--fail", "2", "--fail-text", "Anfrage abgelehnt", "--ra"}));
  const std::string conf = dir_.File("scepd.conf");
  WriteFile(conf,
            "[scepd]\nenabled = yes\ndata_dir = " + dir_.File("data") + "\nrun_dir = " +
                dir_.File("run") +
                "\nlog_level = debug\nlog_target = stderr\nserial_number = A1B2\n"
                "[certificate]\nurl = " + ca.url() +
                "\nsubject = /O=scepd test/CN=router-SN\nchallenge_password = secret\n"
                "renew_days = 30\nawait_result = 1\nkey_size = 1024\n");
  auto r = RunProcess({kScepd, "-c", conf, "--once"}, {}, 120000);
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("badRequest"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Anfrage abgelehnt"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("signature does not verify"), std::string::npos) << r.err;
  EXPECT_EQ(Count(ca.Log(), "refused failInfo=2"), 1) << ca.Log();
  EXPECT_FALSE(PathExists(dir_.File("data") + "/latest.crt"));
}

}  // namespace
}  // namespace scepd::testing
