// sscep getcert -O (the issuer to ask) and getcrl -O / -s (whose CRL, which
// serial), as sscep 0.10 has them, against the project's responder, which
// answers badCertId for an issuer that is not its CA.

#include <gtest/gtest.h>

#include "tests/support/built_binary.h"
#include "tests/support/process.h"
#include "tests/support/responder_process.h"

namespace scepd::testing {
namespace {

const std::string kSscep = BuiltBinary("cli/sscep");

class SscepQueryOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.Start({})) << TryReadFile(ca_.log_path()).value_or("");
    ASSERT_EQ(Sscep({"getca", "-u", ca_.url(), "-c", "ca.crt"}).exit_code, 0);
    ASSERT_EQ(Sscep({"mkrequest", "-k", "r.key", "-r", "r.csr", "--subject", "/CN=r", "--challenge", "secret",
                     "--key-size", "1024"})
                  .exit_code,
              0);
    auto e = Sscep({"enroll", "-u", ca_.url(), "-c", "ca.crt", "-k", "r.key", "-r", "r.csr", "-l", "r.crt"});
    ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
    // A certificate from some other issuer.
    auto o = RunProcess({"openssl", "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", "o.key", "-out",
                         "o.crt", "-subj", "/CN=other issuer", "-days", "2"},
                        {}, 30000, "", dir_.path());
    ASSERT_EQ(o.exit_code, 0) << o.err;
  }

  ProcessResult Sscep(std::vector<std::string> args) {
    args.insert(args.begin(), kSscep);
    return RunProcess(args, {}, 60000, "", dir_.path());
  }

  std::string DecimalSerial(const std::string& file) {
    auto r = RunProcess({"openssl", "x509", "-in", file, "-noout", "-serial"}, {}, 30000, "", dir_.path());
    std::string hex = r.out.substr(r.out.find('=') + 1);
    hex.erase(hex.find_last_not_of('\n') + 1);
    return std::to_string(std::stoull(hex, nullptr, 16));
  }

  TempDir dir_;
  ResponderProcess ca_;
};

TEST_F(SscepQueryOptionsTest, GetCertAsksTheIssuerNamedWithO) {
  const std::string serial = DecimalSerial(dir_.File("r.crt"));
  auto by_ca = Sscep({"getcert", "-u", ca_.url(), "-c", "ca.crt", "-k", "r.key", "-l", "r.crt", "-O", "ca.crt",
                      "-s", serial, "-w", "got.crt"});
  ASSERT_EQ(by_ca.exit_code, 0) << by_ca.out << by_ca.err;
  EXPECT_EQ(ReadFile(dir_.File("got.crt")), ReadFile(dir_.File("r.crt")));
  auto other = Sscep({"getcert", "-u", ca_.url(), "-c", "ca.crt", "-k", "r.key", "-l", "r.crt", "-O", "o.crt",
                      "-s", serial, "-w", "none.crt"});
  EXPECT_EQ(other.exit_code, 74) << other.out << other.err;  // badCertId: not this CA
  EXPECT_FALSE(PathExists(dir_.File("none.crt")));
}

TEST_F(SscepQueryOptionsTest, GetCrlForTheCertificateNamedWithOAndASerial) {
  auto own = Sscep({"getcrl", "-u", ca_.url(), "-c", "ca.crt", "-k", "r.key", "-l", "r.crt", "-O", "r.crt", "-s",
                    "12345", "-w", "a.crl"});
  ASSERT_EQ(own.exit_code, 0) << own.out << own.err;
  EXPECT_TRUE(PathExists(dir_.File("a.crl")));
  auto other = Sscep({"getcrl", "-u", ca_.url(), "-c", "ca.crt", "-k", "r.key", "-l", "r.crt", "-O", "o.crt",
                      "-w", "b.crl"});
  EXPECT_EQ(other.exit_code, 74) << other.out << other.err;
  EXPECT_FALSE(PathExists(dir_.File("b.crl")));
  auto bad = Sscep({"getcrl", "-u", ca_.url(), "-c", "ca.crt", "-k", "r.key", "-l", "r.crt", "-s", "12x!", "-w",
                    "c.crl"});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("12x!"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace scepd::testing
