#include "daemon/cert_store.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <sstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/cert_info.h"
#include "core/csr.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/test_pki.h"

namespace scepd {
namespace {

using testing::CachedKey;
using testing::CertSpec;
using testing::MakeCert;
using testing::MakeTestCa;
using testing::ExpectReliabilityRow;
using testing::ReadFile;
using testing::TempDir;
using testing::TestCa;
using testing::WriteFile;

constexpr std::int64_t kDay = 86400;

unsigned Mode(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 07777;
}

bool IsLink(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

std::string LinkTarget(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? "(not a link)" : std::string(buf, static_cast<std::size_t>(n));
}

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.insert(name);
  }
  ::closedir(d);
  return names;
}

std::string Pem(X509* cert) {
  auto pem = ossl::CertToPem(cert);
  EXPECT_TRUE(pem.ok());
  return pem.ok() ? *pem : "";
}

// Sets the umask for one scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

struct Pair {
  ossl::Ptr<EVP_PKEY> key;
  ossl::Ptr<X509> cert;
  std::string serial;
};

class CertStoreTest : public ::testing::Test {
 protected:
  CertStoreTest() : ca_(MakeTestCa()), store_(dir_.File("data")) {}

  std::string File(const std::string& name) const { return store_.dir() + "/" + name; }

  // A certificate from the test CA for cached key `key_index`, valid from
  // `not_before` for `days` days.
  Pair Issue(long serial, int key_index, std::int64_t not_before = 0,  // NOLINT(runtime/int)
             std::int64_t days = 30) {
    Pair p;
    p.key = CachedKey(key_index);
    CertSpec spec;
    spec.subject = "/CN=router-" + std::to_string(serial);
    spec.serial = serial;
    spec.not_before = not_before != 0 ? not_before : now_ - 3600;
    spec.not_after = spec.not_before + days * kDay;
    p.cert = MakeCert(spec, p.key.get(), ca_.cert.get(), ca_.key.get());
    p.serial = SerialHex(p.cert.get());
    return p;
  }

  Status Install(const Pair& p, int keep_old = 2, std::vector<X509*> chain = {}) {
    if (chain.empty()) chain = {ca_.cert.get()};
    return store_.Install(p.cert.get(), p.key.get(), chain, keep_old, now_);
  }

  // LoadActive must give exactly pair `p`.
  void ExpectActive(const Pair& p) {
    auto active = store_.LoadActive();
    ASSERT_TRUE(active.ok()) << active.error().message;
    ASSERT_TRUE(active->has_value());
    EXPECT_EQ((*active)->serial, p.serial);
    EXPECT_EQ(X509_cmp((*active)->cert.get(), p.cert.get()), 0);
    EXPECT_EQ(EVP_PKEY_eq((*active)->key.get(), p.key.get()), 1);
    // The routine check's reading agrees, whichever way it gets there.
    auto light = store_.LoadActiveCertificate();
    ASSERT_TRUE(light.ok()) << light.error().message;
    ASSERT_TRUE(light->has_value());
    EXPECT_EQ(**light, SummaryOf(p.cert.get()));
  }

  // LoadActive and LoadActiveCertificate fail alike; returns the message.
  std::string ExpectBothFail(ErrorCode code) {
    auto active = store_.LoadActive();
    auto light = store_.LoadActiveCertificate();
    EXPECT_FALSE(active.ok());
    EXPECT_FALSE(light.ok());
    if (active.ok() || light.ok()) return "";
    EXPECT_EQ(active.error().code, code);
    EXPECT_EQ(light.error().code, code);
    EXPECT_EQ(light.error().message, active.error().message);
    return active.error().message;
  }

  std::set<std::string> PairFiles(std::initializer_list<const Pair*> pairs) {
    std::set<std::string> names;
    for (const Pair* p : pairs) {
      names.insert(p->serial + ".crt");
      names.insert(p->serial + ".key");
    }
    return names;
  }

  std::int64_t now_ = static_cast<std::int64_t>(std::time(nullptr));
  TempDir dir_;
  TestCa ca_;
  CertStore store_;
};

// --- Layout ---

class CertStoreUmaskTest : public CertStoreTest, public ::testing::WithParamInterface<mode_t> {};

TEST_P(CertStoreUmaskTest, FirstInstallWritesTheExactLayout) {
  ScopedUmask umask(GetParam());
  ASSERT_TRUE(store_.Prepare().ok());
  EXPECT_EQ(Mode(store_.dir()), 0700u);
  Pair p = Issue(0x1A2B, 0);
  ASSERT_EQ(p.serial, "1A2B");
  Status s = Install(p);
  ASSERT_TRUE(s.ok()) << s.error().message;

  EXPECT_EQ(Names(store_.dir()), (std::set<std::string>{"1A2B.crt", "1A2B.key", "ca.crt-0",
                                                        "latest.crt", "latest.key"}));
  EXPECT_EQ(Mode(File("1A2B.key")), 0600u);
  EXPECT_EQ(Mode(File("1A2B.crt")), 0644u);
  EXPECT_EQ(Mode(File("ca.crt-0")), 0644u);
  EXPECT_EQ(Mode(store_.dir()), 0700u);
  ASSERT_TRUE(IsLink(File("latest.crt")));
  ASSERT_TRUE(IsLink(File("latest.key")));
  EXPECT_EQ(LinkTarget(File("latest.crt")), "1A2B.crt");
  EXPECT_EQ(LinkTarget(File("latest.key")), "1A2B.key");
  EXPECT_EQ(ReadFile(File("ca.crt-0")), Pem(ca_.cert.get()));
  EXPECT_EQ(ReadFile(File("1A2B.crt")), Pem(p.cert.get()));
  std::string key_pem = ReadFile(File("1A2B.key"));
  EXPECT_EQ(key_pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  auto key = ossl::PrivateKeyFromPem(key_pem, "key");
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(KeyMatchesCert(p.cert.get(), key->get()));
  ExpectActive(p);

  auto chain = store_.LoadCaChain();
  ASSERT_TRUE(chain.ok()) << chain.error().message;
  ASSERT_EQ(chain->size(), 1u);
  EXPECT_EQ(X509_cmp((*chain)[0].get(), ca_.cert.get()), 0);
}

INSTANTIATE_TEST_SUITE_P(Umask, CertStoreUmaskTest, ::testing::Values(mode_t{0}, mode_t{077}));

TEST_F(CertStoreTest, PrepareCreatesParentsAndForcesPrivateMode) {
  CertStore nested(dir_.File("a/b/scepClient/"));
  EXPECT_EQ(nested.dir(), dir_.File("a/b/scepClient"));
  ASSERT_TRUE(nested.Prepare().ok());
  EXPECT_EQ(Mode(nested.dir()), 0700u);
  ASSERT_EQ(::chmod(nested.dir().c_str(), 0755), 0);
  ASSERT_TRUE(nested.Prepare().ok());
  EXPECT_EQ(Mode(nested.dir()), 0700u);
}

TEST_F(CertStoreTest, SecondInstallSwitchesLinksAndKeepsTheOldPair) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair first = Issue(0x10, 0, now_ - 2 * kDay);
  Pair second = Issue(0x11, 1, now_ - kDay);
  ASSERT_TRUE(Install(first).ok());
  Status s = Install(second);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(LinkTarget(File("latest.crt")), "11.crt");
  EXPECT_EQ(LinkTarget(File("latest.key")), "11.key");
  auto names = PairFiles({&first, &second});
  names.insert({"ca.crt-0", "latest.crt", "latest.key"});
  EXPECT_EQ(Names(store_.dir()), names);
  ExpectActive(second);
}

TEST_F(CertStoreTest, ReinstallingTheSamePairRewritesNothing) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair p = Issue(0x20, 0);
  ASSERT_TRUE(Install(p).ok());
  struct stat before;
  ASSERT_EQ(::lstat(File("20.key").c_str(), &before), 0);
  ASSERT_TRUE(Install(p).ok());
  struct stat after;
  ASSERT_EQ(::lstat(File("20.key").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  ExpectActive(p);
}

TEST_F(CertStoreTest, KeepOldOnePrunesTheOldest) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair a = Issue(0x01, 0, now_ - 3 * kDay);
  Pair b = Issue(0x02, 1, now_ - 2 * kDay);
  Pair c = Issue(0x03, 2, now_ - kDay);
  ASSERT_TRUE(Install(a, 1).ok());
  ASSERT_TRUE(Install(b, 1).ok());
  ASSERT_TRUE(Install(c, 1).ok());
  auto names = PairFiles({&b, &c});
  names.insert({"ca.crt-0", "latest.crt", "latest.key"});
  EXPECT_EQ(Names(store_.dir()), names);
  ExpectActive(c);
}

TEST_F(CertStoreTest, KeepOldZeroKeepsOnlyTheActivePair) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair a = Issue(0x01, 0, now_ - 2 * kDay);
  Pair b = Issue(0x02, 1, now_ - kDay);
  ASSERT_TRUE(Install(a, 0).ok());
  ASSERT_TRUE(Install(b, 0).ok());
  auto names = PairFiles({&b});
  names.insert({"ca.crt-0", "latest.crt", "latest.key"});
  EXPECT_EQ(Names(store_.dir()), names);
}

TEST_F(CertStoreTest, ExpiredOldPairsArePrunedButNeverTheActiveOne) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair expired = Issue(0x30, 0, now_ - 40 * kDay, 30);  // ended 10 days ago
  // Even an expired pair stays while it is the active one.
  ASSERT_TRUE(Install(expired).ok());
  EXPECT_TRUE(testing::PathExists(File("30.key")));
  Pair fresh = Issue(0x31, 1);
  ASSERT_TRUE(Install(fresh, 5).ok());
  auto names = PairFiles({&fresh});
  names.insert({"ca.crt-0", "latest.crt", "latest.key"});
  EXPECT_EQ(Names(store_.dir()), names);
  ExpectActive(fresh);
}

// Issue 14 point 1: pruning removes only pairs scepd installed and can
// read; the rest stays, named once in a warning; each removal is logged.
class PruneLogTest : public CertStoreTest {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("cert_store_test", std::move(sink));
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }
  std::string Log() const { return log_.str(); }
  static std::size_t Count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(PruneLogTest, StrayHalvesAndForeignFilesStayAndAreNamedOnce) {
  ASSERT_TRUE(store_.Prepare().ok());
  // A first install into a data_dir that already holds foreign files.
  WriteFile(File("CAFE.key"), "-----BEGIN PRIVATE KEY-----\nforeign\n", 0600);
  WriteFile(File("1234.crt"), "garbage\n", 0644);
  WriteFile(File("DEADBEEF.crt"), "a certificate without its key\n", 0644);
  Pair other = Issue(0x99, 3);
  WriteFile(File("99.crt"), Pem(other.cert.get()), 0644);  // a real one, no key
  WriteFile(File("notes.txt"), "not ours\n", 0644);
  Pair p = Issue(0x40, 0);
  ASSERT_TRUE(Install(p, 0).ok());
  Pair q = Issue(0x41, 1);
  ASSERT_TRUE(Install(q, 0).ok());  // a second install warns no more
  auto names = PairFiles({&q});
  names.insert({"ca.crt-0", "latest.crt", "latest.key", "notes.txt", "CAFE.key", "1234.crt",
                "DEADBEEF.crt", "99.crt"});
  EXPECT_EQ(Names(store_.dir()), names);
  const std::string log = Log();
  for (const char* serial : {"CAFE", "1234", "DEADBEEF", "99"}) {
    EXPECT_EQ(Count(log, "/" + std::string(serial) + ".crt, " + serial + ".key: "), 1u)
        << serial << "\n" << log;
  }
  EXPECT_NE(log.find("removed old pair " + store_.dir() + "/40.crt and 40.key (older than the 0 kept"),
            std::string::npos)
      << log;
  ExpectReliabilityRow("hardening.prune-foreign-files",
                       log + "\n" + std::to_string(Names(store_.dir()).size()) + " files");
}

// Issue 22: pruning remembers the old pairs it has checked (or written)
// so that a renewal does not decode them again. A pair replaced after that
// check is checked again: a foreign key put in place of one scepd wrote,
// or a certificate rewritten, is never taken for the pair it checked.
TEST_F(PruneLogTest, APairChangedAfterItWasCheckedIsCheckedAgain) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair a = Issue(0x50, 0, now_ - 4 * kDay);
  Pair b = Issue(0x51, 1, now_ - 3 * kDay);
  Pair c = Issue(0x52, 2, now_ - 2 * kDay);
  Pair d = Issue(0x53, 3, now_ - kDay);
  ASSERT_TRUE(Install(a, 1).ok());
  ASSERT_TRUE(Install(b, 1).ok());  // a: old, kept (keep_old 1), remembered
  // Someone puts another key where a's was (a new file, as an editor or
  // cp --remove-destination would).
  ASSERT_EQ(::unlink(File("50.key").c_str()), 0);
  WriteFile(File("50.key"), *ossl::PrivateKeyToPem(CachedKey(5).get()), 0600);
  ASSERT_TRUE(Install(c, 1).ok());  // a is due now; its key no longer matches
  EXPECT_TRUE(testing::PathExists(File("50.crt")));
  EXPECT_TRUE(testing::PathExists(File("50.key")));
  EXPECT_NE(Log().find("50.crt, 50.key: the key does not match the certificate"), std::string::npos)
      << Log();
  // A certificate rewritten in place (same inode, same size) is read again.
  const std::string c_pem = Pem(c.cert.get());
  const std::string d_pem = Pem(d.cert.get());
  ASSERT_EQ(c_pem.size(), d_pem.size());
  WriteFile(File("52.crt"), d_pem, 0644);
  ASSERT_TRUE(Install(d, 1).ok());
  EXPECT_NE(Log().find("52.crt, 52.key: the certificate's serial is 53"), std::string::npos)
      << Log();
  EXPECT_TRUE(testing::PathExists(File("52.key")));
  // b, remembered since Install wrote it, is still the one old pair kept,
  // and goes as usual once it is due.
  EXPECT_TRUE(testing::PathExists(File("51.key")));
  Pair e = Issue(0x54, 4);
  ASSERT_TRUE(Install(e, 0).ok());
  auto names = PairFiles({&e});
  names.insert({"ca.crt-0", "latest.crt", "latest.key", "50.crt", "50.key", "52.crt", "52.key"});
  EXPECT_EQ(Names(store_.dir()), names);
}

TEST_F(PruneLogTest, ActivePairWhoseCertificateWentAwayKeepsItsKey) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair m = Issue(0x01, 0, now_ - 2 * kDay);
  Pair n = Issue(0x02, 1, now_ - kDay);
  ASSERT_TRUE(Install(m, 2).ok());
  ASSERT_TRUE(Install(n, 2).ok());
  // The active certificate moved away: latest.crt dangles; a new enrollment.
  ASSERT_EQ(::rename(File("02.crt").c_str(), (dir_.path() + "/02.crt.saved").c_str()), 0);
  Pair p = Issue(0x03, 2);
  ASSERT_TRUE(Install(p, 2).ok());
  auto names = PairFiles({&m, &p});
  names.insert({"ca.crt-0", "latest.crt", "latest.key", "02.key"});
  EXPECT_EQ(Names(store_.dir()), names);
  EXPECT_NE(Log().find("02.key: the certificate is missing"), std::string::npos) << Log();
  ExpectReliabilityRow("hardening.prune-dangling-active", Log());
}

TEST_F(PruneLogTest, GarbageActiveCertificateKeepsBothHalves) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair n = Issue(0x02, 1, now_ - kDay);
  ASSERT_TRUE(Install(n, 0).ok());
  WriteFile(File("02.crt"), "garbage\n", 0644);
  Pair p = Issue(0x03, 2);
  ASSERT_TRUE(Install(p, 0).ok());
  auto names = PairFiles({&n, &p});
  names.insert({"ca.crt-0", "latest.crt", "latest.key"});
  EXPECT_EQ(Names(store_.dir()), names);
  EXPECT_EQ(ReadFile(File("02.crt")), "garbage\n");
  ExpectReliabilityRow("hardening.prune-garbage-active", Log());
}

TEST_F(CertStoreTest, AShorterChainRemovesStaleChainFiles) {
  ASSERT_TRUE(store_.Prepare().ok());
  TestCa root = MakeTestCa("/CN=Root", 6);
  TestCa mid = MakeTestCa("/CN=Intermediate", 5);
  Pair p = Issue(0x50, 0);
  ASSERT_TRUE(Install(p, 2, {ca_.cert.get(), mid.cert.get(), root.cert.get()}).ok());
  EXPECT_EQ(ReadFile(File("ca.crt-0")), Pem(ca_.cert.get()));
  EXPECT_EQ(ReadFile(File("ca.crt-1")), Pem(mid.cert.get()));
  EXPECT_EQ(ReadFile(File("ca.crt-2")), Pem(root.cert.get()));
  auto chain = store_.LoadCaChain();
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ(X509_cmp((*chain)[2].get(), root.cert.get()), 0);

  Pair q = Issue(0x51, 1);
  ASSERT_TRUE(Install(q, 2, {mid.cert.get()}).ok());
  EXPECT_EQ(ReadFile(File("ca.crt-0")), Pem(mid.cert.get()));
  EXPECT_FALSE(testing::PathExists(File("ca.crt-1")));
  EXPECT_FALSE(testing::PathExists(File("ca.crt-2")));
  chain = store_.LoadCaChain();
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->size(), 1u);
}

TEST_F(CertStoreTest, LoadCaChainEmptyAndCorrupt) {
  ASSERT_TRUE(store_.Prepare().ok());
  auto chain = store_.LoadCaChain();
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(chain->empty());
  WriteFile(File("ca.crt-0"), Pem(ca_.cert.get()));
  WriteFile(File("ca.crt-1"), "garbage\n");
  chain = store_.LoadCaChain();
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.error().code, ErrorCode::kParse);
  EXPECT_NE(chain.error().message.find(File("ca.crt-1")), std::string::npos)
      << chain.error().message;
}

TEST_F(CertStoreTest, CheckCaChainReadsEachFileAndNamesTheBadOne) {
  ASSERT_TRUE(store_.Prepare().ok());
  EXPECT_TRUE(store_.CheckCaChain().ok());  // no chain yet
  WriteFile(File("ca.crt-0"), Pem(ca_.cert.get()));
  auto der = ossl::CertToDer(ca_.cert.get());
  ASSERT_TRUE(der.ok());
  WriteFile(File("ca.crt-1"), std::string(der->begin(), der->end()));  // DER is read too
  Status st = store_.CheckCaChain();
  EXPECT_TRUE(st.ok()) << st.error().message;
  // Truncated: the message is LoadCaChain's, naming the file.
  const std::string pem = Pem(ca_.cert.get());
  WriteFile(File("ca.crt-1"), pem.substr(0, pem.size() / 2));
  st = store_.CheckCaChain();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kParse);
  EXPECT_NE(st.error().message.find(File("ca.crt-1")), std::string::npos) << st.error().message;
  // Unreadable (a directory in its place).
  ASSERT_EQ(::unlink(File("ca.crt-1").c_str()), 0);
  ASSERT_EQ(::mkdir(File("ca.crt-1").c_str(), 0755), 0);
  st = store_.CheckCaChain();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(File("ca.crt-1")), std::string::npos) << st.error().message;
}

TEST_F(CertStoreTest, LoadActiveCertificateOfAnEcPairTakesTheFullPath) {
  ASSERT_TRUE(store_.Prepare().ok());
  ossl::Ptr<EVP_PKEY> ec(EVP_EC_gen("P-256"));
  ASSERT_TRUE(ec);
  CertSpec spec;
  spec.subject = "/CN=ec router";
  spec.serial = 0x5E;
  auto cert = MakeCert(spec, ec.get(), ca_.cert.get(), ca_.key.get());
  ASSERT_TRUE(store_.Install(cert.get(), ec.get(), {ca_.cert.get()}, 2, now_).ok());
  auto light = store_.LoadActiveCertificate();
  ASSERT_TRUE(light.ok()) << light.error().message;
  ASSERT_TRUE(light->has_value());
  EXPECT_EQ(**light, SummaryOf(cert.get()));
  EXPECT_EQ((*light)->serial, "5E");
  // An RSA key under the EC certificate's name is a mismatch, as for LoadActive.
  auto rsa = ossl::PrivateKeyToPem(CachedKey(0).get());
  ASSERT_TRUE(rsa.ok());
  WriteFile(File("5E.key"), *rsa, 0600);
  ExpectBothFail(ErrorCode::kVerify);
}

TEST_F(CertStoreTest, InstallRefusesAKeyThatDoesNotMatch) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair p = Issue(0x60, 0);
  ossl::Ptr<EVP_PKEY> other = CachedKey(3);
  Status s = store_.Install(p.cert.get(), other.get(), {ca_.cert.get()}, 2, now_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Names(store_.dir()).empty());
}

// --- LoadActive on broken directories ---

TEST_F(CertStoreTest, LoadActiveOnAnEmptyDirectoryIsNothing) {
  ASSERT_TRUE(store_.Prepare().ok());
  auto active = store_.LoadActive();
  ASSERT_TRUE(active.ok()) << active.error().message;
  EXPECT_FALSE(active->has_value());
  auto light = store_.LoadActiveCertificate();
  ASSERT_TRUE(light.ok()) << light.error().message;
  EXPECT_FALSE(light->has_value());
}

TEST_F(CertStoreTest, LoadActiveOnAMissingDirectoryIsNothing) {
  auto active = store_.LoadActive();
  ASSERT_TRUE(active.ok()) << active.error().message;
  EXPECT_FALSE(active->has_value());
}

TEST_F(CertStoreTest, LoadActiveNamesADanglingLink) {
  ASSERT_TRUE(store_.Prepare().ok());
  ASSERT_EQ(::symlink("77.crt", File("latest.crt").c_str()), 0);
  ASSERT_EQ(::symlink("77.key", File("latest.key").c_str()), 0);
  const std::string message = ExpectBothFail(ErrorCode::kIo);
  EXPECT_NE(message.find(File("latest.crt") + " is a dangling link to \"77.crt\""),
            std::string::npos)
      << message;
}

TEST_F(CertStoreTest, LoadActiveNamesAGarbageCertificate) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair p = Issue(0x70, 0);
  ASSERT_TRUE(Install(p).ok());
  WriteFile(File("70.crt"), "-----BEGIN CERTIFICATE-----\nnonsense\n", 0644);
  const std::string message = ExpectBothFail(ErrorCode::kParse);
  EXPECT_NE(message.find(File("latest.crt")), std::string::npos)
      << message;
}

TEST_F(CertStoreTest, LoadActiveNamesAKeyThatDoesNotMatch) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair p = Issue(0x71, 0);
  ASSERT_TRUE(Install(p).ok());
  auto other = ossl::PrivateKeyToPem(CachedKey(4).get());
  ASSERT_TRUE(other.ok());
  WriteFile(File("71.key"), *other, 0600);
  const std::string message = ExpectBothFail(ErrorCode::kVerify);
  EXPECT_NE(message.find("the key " + File("latest.key") + " does not match"),
            std::string::npos)
      << message;
}

TEST_F(CertStoreTest, LoadActiveNamesAGarbageKey) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair p = Issue(0x72, 0);
  ASSERT_TRUE(Install(p).ok());
  WriteFile(File("72.key"), "garbage\n", 0600);
  const std::string message = ExpectBothFail(ErrorCode::kParse);
  EXPECT_NE(message.find(File("latest.key")), std::string::npos)
      << message;
}

TEST_F(CertStoreTest, LoadActiveNamesAMissingCertificateLink) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair p = Issue(0x73, 0);
  ASSERT_TRUE(Install(p).ok());
  ASSERT_EQ(::unlink(File("latest.crt").c_str()), 0);
  const std::string message = ExpectBothFail(ErrorCode::kIo);
  EXPECT_NE(message.find(File("latest.crt") + " is missing"), std::string::npos)
      << message;
}

// --- Crash windows, set up by hand as Install would leave them ---

TEST_F(CertStoreTest, CrashAfterNewFilesBeforeLinksKeepsTheOldPair) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair old_pair = Issue(0x80, 0, now_ - kDay);
  ASSERT_TRUE(Install(old_pair).ok());
  Pair new_pair = Issue(0x81, 1);
  auto key_pem = ossl::PrivateKeyToPem(new_pair.key.get());
  ASSERT_TRUE(key_pem.ok());
  WriteFile(File("81.key"), *key_pem, 0600);
  WriteFile(File("81.crt"), Pem(new_pair.cert.get()));
  // What WriteFileAtomic and the link switch leave when killed mid-way.
  WriteFile(File(".81.crt.tmp.4242"), "half a certi", 0644);
  WriteFile(File(".ca.crt-0.tmp.4242"), "", 0644);
  ASSERT_EQ(::symlink("81.crt", File(".latest.crt.tmp.4242").c_str()), 0);
  ASSERT_TRUE(store_.Prepare().ok());
  ExpectActive(old_pair);
  auto names = PairFiles({&old_pair, &new_pair});
  names.insert({"ca.crt-0", "latest.crt", "latest.key"});
  EXPECT_EQ(Names(store_.dir()), names);
  // The next install of the new pair completes normally.
  ASSERT_TRUE(Install(new_pair).ok());
  ExpectActive(new_pair);
}

TEST_F(CertStoreTest, CrashBetweenTheLinksYieldsTheNewPairAndPrepareRepairs) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair old_pair = Issue(0x90, 0, now_ - kDay);
  Pair new_pair = Issue(0x91, 1);
  ASSERT_TRUE(Install(new_pair).ok());
  ASSERT_TRUE(Install(old_pair).ok());  // old_pair active, new_pair's files present
  // Install switches latest.crt first: the crash left latest.key behind.
  ASSERT_EQ(::unlink(File("latest.crt").c_str()), 0);
  ASSERT_EQ(::symlink("91.crt", File("latest.crt").c_str()), 0);
  EXPECT_EQ(LinkTarget(File("latest.key")), "90.key");
  ExpectActive(new_pair);
  ASSERT_TRUE(store_.Prepare().ok());
  EXPECT_EQ(LinkTarget(File("latest.key")), "91.key");
  ExpectActive(new_pair);
}

TEST_F(CertStoreTest, KeyLinkAheadOfCertificateLinkYieldsTheOldPair) {
  // The other order, e.g. from a hand edit: the certificate link decides.
  ASSERT_TRUE(store_.Prepare().ok());
  Pair old_pair = Issue(0xA0, 0, now_ - kDay);
  Pair new_pair = Issue(0xA1, 1);
  ASSERT_TRUE(Install(new_pair).ok());
  ASSERT_TRUE(Install(old_pair).ok());
  ASSERT_EQ(::unlink(File("latest.key").c_str()), 0);
  ASSERT_EQ(::symlink("A1.key", File("latest.key").c_str()), 0);
  ExpectActive(old_pair);
  ASSERT_TRUE(store_.Prepare().ok());
  EXPECT_EQ(LinkTarget(File("latest.key")), "A0.key");
}

TEST_F(CertStoreTest, CrashInAFirstInstallBeforeTheKeyLink) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair p = Issue(0xB0, 0);
  ASSERT_TRUE(Install(p).ok());
  ASSERT_EQ(::unlink(File("latest.key").c_str()), 0);
  ExpectActive(p);
  ASSERT_TRUE(store_.Prepare().ok());
  EXPECT_EQ(LinkTarget(File("latest.key")), "B0.key");
}

TEST_F(CertStoreTest, PrepareRemovesTemporaryFilesInPendingToo) {
  ASSERT_TRUE(store_.Prepare().ok());
  ASSERT_EQ(::mkdir(File(".pending").c_str(), 0700), 0);
  WriteFile(File(".pending/.state.tmp.99"), "half", 0600);
  WriteFile(File(".latest.key.tmp.12"), "", 0600);
  ASSERT_TRUE(store_.Prepare().ok());
  EXPECT_EQ(Names(store_.dir()), std::set<std::string>{".pending"});
  EXPECT_TRUE(Names(File(".pending")).empty());
}

// --- Failures leave the previous pair ---

TEST_F(CertStoreTest, AnImpossibleDirectoryIsAnIoErrorNamingThePath) {
  CertStore store("/dev/null/x");
  Status s = store.Prepare();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find("/dev/null/x"), std::string::npos) << s.error().message;
  Pair p = Issue(0xC0, 0);
  s = store.Install(p.cert.get(), p.key.get(), {ca_.cert.get()}, 2, now_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find("/dev/null/x/"), std::string::npos) << s.error().message;
  PendingTransaction pending;
  s = store.SavePending(pending);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("/dev/null/x/.pending"), std::string::npos) << s.error().message;
}

TEST_F(CertStoreTest, AFailedWriteLeavesTheOldPairActive) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair old_pair = Issue(0xD0, 0, now_ - kDay);
  ASSERT_TRUE(Install(old_pair).ok());
  Pair new_pair = Issue(0xD1, 1);
  // A directory where the new certificate should go: rename() must fail.
  ASSERT_EQ(::mkdir(File("D1.crt").c_str(), 0700), 0);
  WriteFile(File("D1.crt/x"), "", 0600);
  Status s = Install(new_pair);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find(File("D1.crt")), std::string::npos) << s.error().message;
  ExpectActive(old_pair);
  EXPECT_EQ(LinkTarget(File("latest.crt")), "D0.crt");
  EXPECT_EQ(LinkTarget(File("latest.key")), "D0.key");
}

TEST_F(CertStoreTest, AFailedLinkSwitchLeavesTheOldPairActive) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair old_pair = Issue(0xE0, 0, now_ - kDay);
  ASSERT_TRUE(Install(old_pair).ok());
  Pair new_pair = Issue(0xE1, 1);
  // Block the temporary link's name with a non-empty directory.
  const std::string blocker = File(".latest.crt.tmp." + std::to_string(::getpid()));
  ASSERT_EQ(::mkdir(blocker.c_str(), 0700), 0);
  WriteFile(blocker + "/x", "", 0600);
  Status s = Install(new_pair, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find(blocker), std::string::npos) << s.error().message;
  ExpectActive(old_pair);
  EXPECT_TRUE(testing::PathExists(File("E0.key")));  // keep_old 0, but nothing was pruned
}

TEST_F(CertStoreTest, AReadOnlyDirectoryLeavesTheOldPairIntact) {
  ASSERT_TRUE(store_.Prepare().ok());
  Pair old_pair = Issue(0xF0, 0, now_ - kDay);
  ASSERT_TRUE(Install(old_pair).ok());
  ASSERT_EQ(::chmod(store_.dir().c_str(), 0500), 0);
  if (::access(store_.dir().c_str(), W_OK) == 0) {
    ::chmod(store_.dir().c_str(), 0700);
    GTEST_SKIP() << "permissions do not bind this user (root); see the /dev/null/x and "
                    "blocked-rename tests";
  }
  Pair new_pair = Issue(0xF1, 1);
  Status s = Install(new_pair);
  ::chmod(store_.dir().c_str(), 0700);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find(store_.dir()), std::string::npos) << s.error().message;
  ExpectActive(old_pair);
}

// --- Pending transaction ---

PendingTransaction MakePending(EVP_PKEY* key, std::int64_t now) {
  CsrSpec spec;
  spec.subject = "/CN=router";
  spec.challenge_password = "secret";
  auto req = BuildCsr(spec, key);
  EXPECT_TRUE(req.ok());
  auto signer = MakeSelfSignedCert(req->get(), key, "SHA256", now);
  EXPECT_TRUE(signer.ok());
  PendingTransaction p;
  p.protocol = "scep";
  p.transaction_id = "4F2A9C0D1E";
  p.cookie["message_type"] = "17";
  p.cookie["signer_cert_pem"] = *ossl::CertToPem(signer->get());
  p.key_pem = *ossl::PrivateKeyToPem(key);
  p.csr_pem = *ossl::CsrToPem(req->get());
  p.renewal = true;
  p.started = now;
  p.polls = 3;
  return p;
}

TEST_F(CertStoreTest, PendingRoundTrip) {
  ScopedUmask umask(0);
  ASSERT_TRUE(store_.Prepare().ok());
  auto none = store_.LoadPending();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  ossl::Ptr<EVP_PKEY> key = CachedKey(2);
  PendingTransaction p = MakePending(key.get(), now_);
  Status s = store_.SavePending(p);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(Mode(File(".pending")), 0700u);
  EXPECT_EQ(Mode(File(".pending/state")), 0600u);
  EXPECT_EQ(Names(File(".pending")), std::set<std::string>{"state"});
  auto loaded = store_.LoadPending();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, p);

  p.polls = 4;
  p.cookie["message_type"] = "19";
  p.renewal = false;
  ASSERT_TRUE(store_.SavePending(p).ok());
  loaded = store_.LoadPending();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(**loaded, p);

  ASSERT_TRUE(store_.ClearPending().ok());
  loaded = store_.LoadPending();
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->has_value());
  EXPECT_TRUE(store_.ClearPending().ok());
  // The pending state is not a certificate pair: Install leaves it alone.
  ASSERT_TRUE(store_.SavePending(p).ok());
  Pair pair = Issue(0x99, 0);
  ASSERT_TRUE(Install(pair, 0).ok());
  EXPECT_TRUE(testing::PathExists(File(".pending/state")));
}

class CertStorePendingCorruptTest : public CertStoreTest {
 protected:
  // Saves a good state, edits its text, and returns LoadPending's error.
  std::string LoadEdited(const std::string& from, const std::string& to) {
    ossl::Ptr<EVP_PKEY> key = CachedKey(2);
    EXPECT_TRUE(store_.SavePending(MakePending(key.get(), now_)).ok());
    std::string text = ReadFile(File(".pending/state"));
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    WriteFile(File(".pending/state"), text, 0600);
    auto loaded = store_.LoadPending();
    if (loaded.ok()) return "(loaded without error)";
    EXPECT_EQ(loaded.error().code, ErrorCode::kParse);
    EXPECT_EQ(loaded.error().message.rfind(File(".pending/state") + ": corrupt pending", 0), 0u)
        << loaded.error().message;
    return loaded.error().message;
  }
};

TEST_F(CertStorePendingCorruptTest, EachDamageIsNamed) {
  ASSERT_TRUE(store_.Prepare().ok());
  EXPECT_NE(LoadEdited("renewal=yes", "renewal=maybe").find("at line 5: bad value for renewal"),
            std::string::npos);
  EXPECT_NE(LoadEdited("polls=3", "polls=-1").find("bad value for polls"), std::string::npos);
  EXPECT_NE(LoadEdited("polls=3\n", "").find("missing polls"), std::string::npos);
  EXPECT_NE(LoadEdited("polls=3", "polls=3\npolls=4").find("duplicate polls"), std::string::npos);
  EXPECT_NE(LoadEdited("polls=3", "colour=blue").find("unknown key colour"), std::string::npos);
  EXPECT_NE(LoadEdited("polls=3", "polls 3").find("expected key=value"), std::string::npos);
  EXPECT_NE(LoadEdited("key_pem=-----BEGIN", "key_pem=-----BEGIN\\q").find("bad escape in key_pem"),
            std::string::npos);
  EXPECT_NE(LoadEdited("-----BEGIN PRIVATE KEY-----\\nMII", "-----BEGIN PRIVATE KEY-----\\nXII")
                .find("key_pem does not parse"),
            std::string::npos);
  EXPECT_NE(LoadEdited("version=2", "version=3").find("bad value for version"), std::string::npos);
  EXPECT_NE(LoadEdited("cookie.message_type=", "cookie.Message-Type=")
                .find("bad value for cookie.Message-Type"),
            std::string::npos);
  EXPECT_NE(LoadEdited("protocol=scep\n", "").find("missing protocol"), std::string::npos);
}

// Version 1, as scepd wrote it before the enrollment seam (SCEP only): still
// read, its SCEP fields becoming the cookie; its own damage still named.
TEST_F(CertStorePendingCorruptTest, Version1IsReadAsScep) {
  ASSERT_TRUE(store_.Prepare().ok());
  ossl::Ptr<EVP_PKEY> key = CachedKey(2);
  PendingTransaction p = MakePending(key.get(), now_);
  std::string text = "# scepd: enrollment in progress (holds its private key); do not edit\n";
  auto escape = [](const std::string& v) {
    std::string out;
    for (char c : v) out += c == '\n' ? std::string("\\n") : std::string(1, c);
    return out;
  };
  text += "version=1\ntransaction_id=" + p.transaction_id + "\nmessage_type=17\n";
  text += "signer_is_new_key=no\nstarted=" + std::to_string(p.started) + "\npolls=3\n";
  text += "csr_pem=" + escape(p.csr_pem) + "\n";
  text += "signer_cert_pem=" + escape(p.cookie["signer_cert_pem"]) + "\n";
  text += "key_pem=" + escape(p.key_pem) + "\n";
  ASSERT_EQ(::mkdir(File(".pending").c_str(), 0700), 0);
  WriteFile(File(".pending/state"), text, 0600);
  auto loaded = store_.LoadPending();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, p);

  auto edited = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    WriteFile(File(".pending/state"), t, 0600);
    auto l = store_.LoadPending();
    return l.ok() ? std::string("(loaded without error)") : l.error().message;
  };
  EXPECT_NE(edited("message_type=17", "message_type=18").find("at line 4: bad value for message_type"),
            std::string::npos);
  EXPECT_NE(edited("signer_is_new_key=no\n", "").find("missing signer_is_new_key"),
            std::string::npos);
  EXPECT_NE(edited("signer_cert_pem=-----BEGIN", "signer_cert_pem=-----BEGXN")
                .find("signer_cert_pem does not parse"),
            std::string::npos);
  EXPECT_NE(edited("message_type=17", "protocol=scep").find("unknown key protocol"),
            std::string::npos);
}

TEST_F(CertStoreTest, GarbagePendingStateIsAnError) {
  ASSERT_TRUE(store_.Prepare().ok());
  ASSERT_EQ(::mkdir(File(".pending").c_str(), 0700), 0);
  WriteFile(File(".pending/state"), std::string("\x01\x02garbage", 9), 0600);
  auto loaded = store_.LoadPending();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ErrorCode::kParse);
  EXPECT_NE(loaded.error().message.find(File(".pending/state")), std::string::npos);
}

}  // namespace
}  // namespace scepd

namespace scepd {
namespace {

TEST_F(CertStoreTest, CaPinIsStoredWithTheChainAndReadBack) {
  ASSERT_TRUE(store_.Prepare().ok());
  auto none = store_.LoadCaPin();
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->has_value()) << "first use: nothing pinned";

  // A data_dir from before ca.fingerprint: the stored ca.crt-0 is the pin.
  Pair p = Issue(2, 0);
  ASSERT_TRUE(Install(p).ok());
  auto fp = Fingerprint(ca_.cert.get(), "sha256");
  ASSERT_TRUE(fp.ok());
  auto legacy = store_.LoadCaPin();
  ASSERT_TRUE(legacy.ok()) << legacy.error().message;
  EXPECT_EQ(legacy->value_or(""), *fp);

  ASSERT_TRUE(store_.SaveCaPin(ca_.cert.get()).ok());
  EXPECT_EQ(ReadFile(File("ca.fingerprint")), "sha256:" + *fp + "\n");
  EXPECT_EQ(Mode(File("ca.fingerprint")), 0644u);
  auto pinned = store_.LoadCaPin();
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->value_or(""), *fp);

  WriteFile(File("ca.fingerprint"), "sha256:12:34\n");
  auto bad = store_.LoadCaPin();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kParse);
  EXPECT_NE(bad.error().message.find(File("ca.fingerprint")), std::string::npos);
}

TEST_F(CertStoreTest, NextCaIsKeptUntilRemoved) {
  ASSERT_TRUE(store_.Prepare().ok());
  auto none = store_.LoadNextCa();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  TestCa next = MakeTestCa("/O=Test CA/CN=Test CA", 6);
  ASSERT_TRUE(store_.SaveNextCa(next.cert.get()).ok());
  auto loaded = store_.LoadNextCa();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(X509_cmp(loaded->value().get(), next.cert.get()), 0);
  // Not mistaken for an old pair by the pruning of an installation.
  ASSERT_TRUE(Install(Issue(2, 0)).ok());
  EXPECT_TRUE(testing::PathExists(File("ca-next.crt")));
  ASSERT_TRUE(store_.RemoveNextCa().ok());
  EXPECT_FALSE(testing::PathExists(File("ca-next.crt")));
  EXPECT_TRUE(store_.RemoveNextCa().ok()) << "removing none succeeds";
}

}  // namespace
}  // namespace scepd
