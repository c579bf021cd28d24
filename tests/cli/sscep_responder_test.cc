// The sscep binary against the project's fault-injecting responder: what the
// real CA cannot do (PENDING and CertPoll, resume, GetCert, GetCRL,
// GetNextCACert, RA certificates, failures and broken replies).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ostream>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/responder_process.h"

namespace scepd::testing {
namespace {

const std::string kSscep = BuiltBinary("cli/sscep");

class SscepResponderTest : public ::testing::Test {
 protected:
  void StartResponder(const std::vector<std::string>& flags) {
    ASSERT_TRUE(ca_.Start(flags)) << TryReadFile(ca_.log_path()).value_or("");
  }

  ProcessResult Sscep(std::vector<std::string> args) {
    args.insert(args.begin(), kSscep);
    return RunProcess(args, {}, 60000, "", dir_.path());
  }

  void MakeRequest(const std::string& name) {
    // 1024 bits: key size is not what these tests are about, and a 2048-bit
    // key takes seconds under an emulator.
    auto r = Sscep({"mkrequest", "-k", name + ".key", "-r", name + ".csr", "--subject",
                    "/CN=" + name, "--challenge", "secret", "--key-size", "1024"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  void GetCa() {
    auto r = Sscep({"getca", "-u", ca_.url(), "-c", "ca.crt"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  ProcessResult Enroll(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"enroll", "-u", ca_.url(), "-c", "ca.crt", "-k",
                                     name + ".key", "-r", name + ".csr", "-l", name + ".crt"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Sscep(args);
  }

  std::string Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    auto r = RunProcess(args, {}, 30000, "", dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  TempDir dir_;
  ResponderProcess ca_;
};

TEST_F(SscepResponderTest, PendingThenSuccessThroughCertPoll) {
  StartResponder({"--pending-polls", "2"});
  GetCa();
  MakeRequest("router");
  auto r = Enroll("router", {"-t", "1", "-T", "60", "-n", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("pkistatus: PENDING"), std::string::npos);
  EXPECT_NE(r.out.find("requesting certificate (#3)"), std::string::npos) << r.out;
  EXPECT_EQ(ca_.CountRequests("\"messageTypeName\":\"PKCSReq\""), 1);
  EXPECT_EQ(ca_.CountRequests("\"messageTypeName\":\"CertPoll\""), 3);
  EXPECT_TRUE(PathExists(dir_.File("router.crt")));
}

TEST_F(SscepResponderTest, PollCountAndPollTimeLimitsEndWithPendingExitCode) {
  StartResponder({"--pending-forever"});
  GetCa();
  MakeRequest("router");
  auto by_count = Enroll("router", {"-t", "1", "-n", "2"});
  EXPECT_EQ(by_count.exit_code, 3) << by_count.out << by_count.err;
  EXPECT_EQ(ca_.CountRequests("\"messageTypeName\":\"CertPoll\""), 2);
  EXPECT_NE(by_count.err.find("resume later with -R"), std::string::npos) << by_count.err;

  auto by_time = Enroll("router", {"-t", "1", "-T", "2", "-n", "100"});
  EXPECT_EQ(by_time.exit_code, 3);
  // -T 2 with -t 1 allows at most two more polls.
  EXPECT_LE(ca_.CountRequests("\"messageTypeName\":\"CertPoll\""), 4);
  EXPECT_FALSE(PathExists(dir_.File("router.crt")));
}

TEST_F(SscepResponderTest, ResumeContinuesTheSameTransaction) {
  StartResponder({"--pending-polls", "1"});
  GetCa();
  MakeRequest("router");
  auto first = Enroll("router", {"-t", "1", "-n", "0"});
  ASSERT_EQ(first.exit_code, 3) << first.out << first.err;
  auto resumed = Enroll("router", {"-R", "-t", "1", "-n", "5"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(ca_.CountRequests("\"messageTypeName\":\"PKCSReq\""), 1) << "no second submission";
  // Every PKIOperation carried one and the same transactionID.
  std::string log = ReadFile(ca_.request_log_path());
  auto tid_at = log.find("\"transactionId\":\"");
  ASSERT_NE(tid_at, std::string::npos);
  std::string tid = log.substr(tid_at + 17, 64);
  EXPECT_EQ(ca_.CountRequests("\"transactionId\":\"" + tid + "\""),
            ca_.CountRequests("\"operation\":\"PKIOperation\""));
}

TEST_F(SscepResponderTest, GetCertFetchesAnIssuedCertificateBySerial) {
  StartResponder({});
  GetCa();
  MakeRequest("router");
  ASSERT_EQ(Enroll("router").exit_code, 0);
  std::string serial_line = Openssl({"x509", "-in", "router.crt", "-noout", "-serial"});
  std::string hex = serial_line.substr(serial_line.find('=') + 1);
  hex.erase(hex.find_last_not_of('\n') + 1);
  long decimal = std::stol(hex, nullptr, 16);  // NOLINT(runtime/int)
  auto r = Sscep({"getcert", "-u", ca_.url(), "-c", "ca.crt", "-k", "router.key", "-l",
                  "router.crt", "-s", std::to_string(decimal), "-w", "fetched.crt"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFile(dir_.File("fetched.crt")), ReadFile(dir_.File("router.crt")));
  auto missing = Sscep({"getcert", "-u", ca_.url(), "-c", "ca.crt", "-k", "router.key", "-l",
                        "router.crt", "-s", "999999", "-w", "none.crt"});
  EXPECT_EQ(missing.exit_code, 74) << missing.out << missing.err;  // badCertId
  EXPECT_FALSE(PathExists(dir_.File("none.crt")));
}

TEST_F(SscepResponderTest, GetCrlWritesTheCaCrl) {
  StartResponder({"--revoke", "0BADC0DE"});
  GetCa();
  MakeRequest("router");
  ASSERT_EQ(Enroll("router").exit_code, 0);
  auto r = Sscep({"getcrl", "-u", ca_.url(), "-c", "ca.crt", "-k", "router.key", "-l",
                  "router.crt", "-w", "ca.crl"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string text = Openssl({"crl", "-in", "ca.crl", "-noout", "-text"});
  EXPECT_NE(text.find("0BADC0DE"), std::string::npos) << text;
  auto verify = RunProcess({"openssl", "crl", "-in", "ca.crl", "-CAfile", "ca.crt", "-noout"}, {},
                           30000, "", dir_.path());
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

TEST_F(SscepResponderTest, GetNextCaVerifiesTheRolloverAgainstTheCurrentCa) {
  StartResponder({"--next-ca"});
  GetCa();
  auto r = Sscep({"getnextca", "-u", ca_.url(), "-C", "ca.crt", "-c", "next.crt"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verified as signed by the current CA"), std::string::npos);
  EXPECT_NE(ReadFile(dir_.File("next.crt")), ReadFile(dir_.File("ca.crt")));
  // With some other CA as "current" the answer must be refused.
  ResponderProcess other;
  ASSERT_TRUE(other.Start({}));
  auto wrong = Sscep({"getnextca", "-u", ca_.url(), "-C", other.ca_cert_path(), "-c", "bad.crt"});
  EXPECT_EQ(wrong.exit_code, 97) << wrong.out << wrong.err;
  EXPECT_FALSE(PathExists(dir_.File("bad.crt")));
}

TEST_F(SscepResponderTest, SeparateRaSigningAndEncryptionCertificates) {
  for (std::string order : {"sign,enc,ca", "ca,enc,sign"}) {
    SCOPED_TRACE(order);
    ca_.Stop();
    StartResponder({"--ra", "--ra-order", order});
    auto g = Sscep({"getca", "-u", ca_.url(), "-c", "ra-" + order + ".crt"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    std::size_t found = 0;
    for (std::size_t p = 0; (p = g.out.find("found certificate with", p)) != std::string::npos; ++p) {
      ++found;
    }
    EXPECT_EQ(found, 3u) << g.out;
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(PathExists(dir_.File("ra-" + order + ".crt-" + std::to_string(i))));
    }
    MakeRequest("router-" + std::to_string(order.size()) + order.substr(0, 2));
    std::string name = "router-" + std::to_string(order.size()) + order.substr(0, 2);
    auto r = Sscep({"enroll", "-u", ca_.url(), "-c", "ra-" + order + ".crt", "-k", name + ".key",
                    "-r", name + ".csr", "-l", name + ".crt"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
}

TEST_F(SscepResponderTest, EachFailInfoHasItsExitCode) {
  const char* names[] = {"badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId"};
  MakeRequest("router");
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(names[i]);
    ca_.Stop();
    StartResponder({"--fail-info", names[i], "--fail-text", "policy says no"});
    if (i == 0) GetCa();
    auto r = Enroll("router");
    EXPECT_EQ(r.exit_code, 70 + i) << r.out << r.err;
    EXPECT_NE(r.err.find(names[i]), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("policy says no"), std::string::npos) << r.err;
    EXPECT_FALSE(PathExists(dir_.File("router.crt")));
  }
}

TEST_F(SscepResponderTest, ForcedAlgorithmsSelfSignedFileAndEncryptionCertificate) {
  StartResponder({});
  GetCa();
  MakeRequest("router");
  // -E/-S force the choice; the self-signed signer goes to -L.
  auto r = Enroll("router", {"-E", "3des", "-S", "sha1", "-L", "self.crt", "-d"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("using DES-EDE3-CBC and SHA1"), std::string::npos) << r.out;
  std::string self = Openssl({"x509", "-in", "self.crt", "-noout", "-subject", "-issuer"});
  EXPECT_NE(self.find("subject=CN = router"), std::string::npos) << self;
  EXPECT_NE(self.find("issuer=CN = router"), std::string::npos) << self;

  // Single DES only with --legacy.
  auto des = Enroll("router", {"-E", "des"});
  EXPECT_EQ(des.exit_code, 1) << des.err;
  EXPECT_NE(des.err.find("legacy"), std::string::npos) << des.err;

  // -e: the request is encrypted to that certificate instead of the CA's, so
  // this CA cannot open it and says badMessageCheck.
  ResponderProcess other;
  ASSERT_TRUE(other.Start({}));
  auto wrong_enc = Enroll("router", {"-e", other.ca_cert_path()});
  EXPECT_EQ(wrong_enc.exit_code, 71) << wrong_enc.out << wrong_enc.err;
}

TEST_F(SscepResponderTest, WaitForConnectivityGivesUpWithTheNetworkExitCode) {
  StartResponder({});
  std::string url = ca_.url();
  ca_.Stop();
  auto start = std::chrono::steady_clock::now();
  auto r = Sscep({"getcaps", "-u", url, "-W", "2"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 95) << r.err;
  EXPECT_GE(took, std::chrono::milliseconds(1500));
  EXPECT_LT(took, std::chrono::seconds(20));
  // With the server back, -W returns at once and the operation runs.
  ASSERT_TRUE(ca_.Start({}));
  auto ok = Sscep({"getcaps", "-u", ca_.url(), "-W", "5"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

struct BrokenReply {
  const char* id;                  // docs/reliability.md row
  std::vector<std::string> flags;  // scep_responder fault flags
  int exit_code;
  const char* message;
  // --timeout: short where the fault is the wait itself, else generous.
  int timeout = 60;
};

// gtest prints the row id instead of the bytes of the struct.
void PrintTo(const BrokenReply& b, std::ostream* os) { *os << b.id; }

class SscepBrokenReplyTest : public SscepResponderTest,
                             public ::testing::WithParamInterface<BrokenReply> {};

TEST_P(SscepBrokenReplyTest, IsRefusedWithAClearErrorAndNothingWritten) {
  const BrokenReply& b = GetParam();
  std::vector<std::string> flags = b.flags;
  if (std::find(flags.begin(), flags.end(), "--only-for") == flags.end()) {
    flags.insert(flags.end(), {"--only-for", "PKIOperation"});
  }
  flags.insert(flags.end(), {"--key-bits", "1024"});  // CA and "other" keys made quickly
  StartResponder(flags);
  GetCa();
  MakeRequest("router");
  auto r = Enroll("router", {"--timeout", std::to_string(b.timeout)});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, b.exit_code) << r.out << r.err;
  EXPECT_NE(r.err.find(b.message), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("router.crt")));
  EXPECT_FALSE(PathExists(dir_.File("router.crt.chain")));
  ExpectReliabilityRow(b.id, r.err + "exit " + std::to_string(r.exit_code));
}

INSTANTIATE_TEST_SUITE_P(
    Faults, SscepBrokenReplyTest,
    ::testing::Values(
        BrokenReply{"cli.http-500", {"--http-status", "500"}, 95, "server answered HTTP 500"},
        BrokenReply{"cli.http-404", {"--http-status", "404"}, 95, "server answered HTTP 404"},
        BrokenReply{"cli.html-page", {"--html-error"}, 95, "HTML page"},
        BrokenReply{"cli.empty-body", {"--empty-body"}, 97, "empty body"},
        BrokenReply{"cli.truncated-der", {"--truncate"}, 97, "not a DER"},
        BrokenReply{"cli.random-bytes", {"--garbage"}, 97, "not a DER"},
        BrokenReply{"cli.wrong-transaction-id", {"--wrong-tid"}, 97, "is not ours"},
        BrokenReply{"cli.wrong-nonce", {"--wrong-nonce"}, 97, "does not match our senderNonce"},
        BrokenReply{"cli.missing-nonce", {"--no-nonce"}, 97, "no recipientNonce"},
        BrokenReply{"cli.other-signer", {"--other-signer"}, 97, "signature does not verify"},
        BrokenReply{"cli.issued-other-key", {"--other-key"}, 97, "none for our public key"},
        BrokenReply{"cli.issued-other-subject", {"--other-subject"}, 97, "not the requested"},
        BrokenReply{"cli.issued-forged", {"--forged-issued"}, 97,
                    "does not verify against the CA certificates held"},
        BrokenReply{"cli.issued-expired", {"--expired"}, 97,
                    "issued a certificate that expired at"},
        BrokenReply{"cli.huge-response", {"--huge-body", "104857600"}, 95,
                    "response larger than 4194304 bytes"},
        BrokenReply{"cli.never-answers", {"--never-answer"}, 89, "no answer from 127.0.0.1", 3},
        BrokenReply{"cli.byte-a-second", {"--drip-ms", "1000"}, 89,
                    "incomplete answer from 127.0.0.1", 3}),
    [](const auto& param_info) {
      std::string n = std::string(param_info.param.id).substr(4);
      for (char& c : n) {
        if (c == '-') c = '_';
      }
      return n;
    });

// Issue 14 point 7: a certificate valid only from 30 days ahead is written
// (sscep leaves the choice to its caller) with a warning.
TEST_F(SscepResponderTest, NotYetValidCertificateIsWrittenWithAWarning) {
  StartResponder({"--not-before-days", "30"});
  GetCa();
  MakeRequest("router");
  auto r = Enroll("router");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(PathExists(dir_.File("router.crt")));
  ExpectReliabilityRow("cli.not-yet-valid", r.err + "exit " + std::to_string(r.exit_code));
}

// The CA replaced its key (a rollover the client was not told about): a
// request made with the old CA certificate is refused, nothing is written.
TEST_F(SscepResponderTest, ChangedCaIsRefused) {
  StartResponder({"--next-ca"});
  GetCa();
  MakeRequest("router");
  ca_.Stop();
  StartResponder({"--promote-next-ca"});
  auto r = Enroll("router", {"--timeout", "10"});
  EXPECT_EQ(r.exit_code, 97) << r.out << r.err;
  EXPECT_NE(r.err.find("signed by a certificate we do not trust"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("router.crt")));
  // getca shows the new fingerprint for checking out of band.
  auto g = Sscep({"getca", "-u", ca_.url(), "-c", "new-ca.crt", "-F", "sha256"});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE(ReadFile(dir_.File("new-ca.crt")), ReadFile(dir_.File("ca.crt")));
  ExpectReliabilityRow("cli.ca-changed", r.err + "exit " + std::to_string(r.exit_code));
}

// A name under .invalid (RFC 6761) is looked up in a network namespace of
// its own, so the lookup cannot reach a real DNS server.
TEST_F(SscepResponderTest, NameThatDoesNotResolveIsANetworkError) {
  if (RunProcess({"unshare", "-rn", "true"}, {}, 10000).exit_code != 0) {
    GTEST_SKIP() << "unshare -rn is not available: the lookup would reach the real DNS server";
  }
  auto r = RunProcess({"unshare", "-rn", kSscep, "getca", "-u", "http://scepd-test.invalid/scep",
                       "-c", "ca.crt"},
                      {}, 60000, "", dir_.path());
  EXPECT_EQ(r.exit_code, 95) << r.err;
  EXPECT_NE(r.err.find("scepd-test.invalid"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(dir_.File("ca.crt")));
  ExpectReliabilityRow("cli.name-does-not-resolve", r.err + "exit " + std::to_string(r.exit_code));
}

}  // namespace
}  // namespace scepd::testing
