// CertificateJob through the enrollment seam only: a FakeEnroller whose
// answers each test scripts, so the state machine is checked without any
// protocol (SCEP on the wire is certificate_job_test.cc's business). Issued,
// pending then issued (across a restart), pending then "start over", a
// refused renewal falling back to a first enrollment, an EC key.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/cert_info.h"
#include "core/enroll/enroller.h"
#include "core/key.h"
#include "daemon/cert_store.h"
#include "daemon/certificate_job.h"
#include "daemon/config.h"
#include "tests/core/fake_clock.h"
#include "tests/support/process.h"
#include "tests/support/test_pki.h"

namespace scepd::testing {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kStart = 1767225600;      // 2026-01-01T00:00:00Z
constexpr std::int64_t kBuildTime = 1735689600;  // 2025-01-01T00:00:00Z
constexpr const char* kSubject = "/O=scepd test/CN=router-1";

// What the job asked of the back end, in order.
struct Call {
  explicit Call(std::string w) : what(std::move(w)) {}
  std::string what;          // "ca", "prepare", "submit", "poll"
  bool renewal = false;      // prepare: a current pair was given
  bool with_current = false; // submit/poll: a current pair was given
  enroll::Cookie cookie;     // submit/poll: the transaction's cookie
  std::string key_sha256;    // prepare/submit/poll: the transaction's key
};

// The script and the record, shared by every FakeEnroller of one test (the
// job makes one per attempt).
struct Script {
  TestCa ca = MakeTestCa("/O=scepd test/CN=fake CA");
  std::deque<enroll::Outcome> answers;  // for Submit and Poll, in order
  std::vector<Call> calls;
  long next_serial = 0x100;  // NOLINT(runtime/int): CertSpec's type
  const FakeClock* clock = nullptr;

  // An Issued answer for the transaction's key, by the fake CA.
  enroll::Issued IssueFor(EVP_PKEY* key) {
    CertSpec spec;
    spec.subject = kSubject;
    spec.serial = next_serial++;
    spec.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
    spec.not_before = clock->Now();
    spec.not_after = clock->Now() + 365 * kDay;
    enroll::Issued issued;
    issued.cert = MakeCert(spec, key, ca.cert.get(), ca.key.get());
    issued.chain.push_back(ossl::UpRef(ca.cert.get()));
    return issued;
  }
};

// Marks an answer that is to be an Issued for whatever key is asked about.
struct IssueMarker {};

std::string KeyHash(EVP_PKEY* key) {
  auto h = PublicKeySha256Hex(key);
  return h.ok() ? *h : "?";
}

class FakeEnroller final : public enroll::Enroller {
 public:
  explicit FakeEnroller(Script& script) : script_(script) {}

  const char* protocol() const noexcept override { return "fake"; }

  Result<enroll::CaCertificates> FetchCaCertificates() override {
    script_.calls.push_back(Call("ca"));
    enroll::CaCertificates out;
    out.ca = ossl::UpRef(script_.ca.cert.get());
    out.chain.push_back(ossl::UpRef(script_.ca.cert.get()));
    return out;
  }

  enroll::AttemptFacts facts() const override { return {"fake caps", "", "SHA256"}; }

  Result<enroll::Transaction> Prepare(ossl::Ptr<EVP_PKEY> key, const CsrSpec& spec,
                                      const enroll::CurrentPair* current,
                                      std::int64_t) override {
    Call c("prepare");
    c.renewal = current != nullptr;
    c.key_sha256 = KeyHash(key.get());
    script_.calls.push_back(c);
    enroll::Transaction t;
    SCEPD_TRY(t.request, BuildCsr(spec, key.get()));
    t.id = "fake-" + c.key_sha256.substr(0, 8);
    t.key = std::move(key);
    t.renewal = current != nullptr;
    t.cookie["round"] = "0";
    t.cookie["note"] = "a value with = and\nnewline";
    return t;
  }

  enroll::Outcome Submit(const enroll::Transaction& t, const enroll::CurrentPair* c) override {
    return Answer("submit", t, c);
  }
  enroll::Outcome Poll(const enroll::Transaction& t, const enroll::CurrentPair* c) override {
    return Answer("poll", t, c);
  }
  std::string RequestName(const enroll::Transaction& t) const override {
    return t.renewal ? "fake renewal" : "fake enrollment";
  }

 private:
  enroll::Outcome Answer(const char* what, const enroll::Transaction& t,
                         const enroll::CurrentPair* current) {
    Call c(what);
    c.with_current = current != nullptr;
    c.cookie = t.cookie;
    c.key_sha256 = KeyHash(t.key.get());
    script_.calls.push_back(c);
    if (script_.answers.empty()) return enroll::Failed{enroll::FailureKind::kNetwork, "no answer"};
    enroll::Outcome out = std::move(script_.answers.front());
    script_.answers.pop_front();
    // An Issued without a certificate: issue one for this transaction's key.
    if (auto* issued = std::get_if<enroll::Issued>(&out); issued && !issued->cert) {
      return script_.IssueFor(t.key.get());
    }
    return out;
  }

  Script& script_;
};

class CertificateJobSeamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_logger_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("certificate_job_seam_test", std::move(sink));
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
    script_.clock = &clock_;
  }
  void TearDown() override { spdlog::set_default_logger(previous_logger_); }

  std::string data() const { return dir_.File("data"); }

  std::unique_ptr<CertificateJob> MakeJob() {
    CertificateSettings s;
    s.protocol = "fake";
    s.data_dir = data();
    s.url = "http://ca.example/fake";
    s.subject = kSubject;
    s.key_size = 1024;
    s.key_type = key_type_;
    s.ec_curve = "P-384";
    s.renew_days = 30;
    s.renew_spread = 0;  // renew the moment the window opens; the spread has its own tests
    s.await_result = 60;
    DaemonSettings d;
    d.enabled = true;
    d.data_dir = data();
    d.check_interval = kDay;
    JobDeps deps;
    deps.clock = &clock_;
    deps.random = &random_;
    deps.make_transport = [](const CertificateSettings&) -> Result<std::unique_ptr<Transport>> {
      ADD_FAILURE() << "the job made a transport although make_enroller is set";
      return MakeError(ErrorCode::kInternal, "no transport in this test");
    };
    deps.make_enroller =
        [this](const CertificateSettings&) -> Result<std::unique_ptr<enroll::Enroller>> {
      return std::unique_ptr<enroll::Enroller>(std::make_unique<FakeEnroller>(script_));
    };
    deps.build_time = kBuildTime;
    return std::make_unique<CertificateJob>(std::move(s), std::move(d), std::move(deps));
  }

  std::optional<PendingTransaction> Pending() const {
    CertStore store(data());
    auto p = store.LoadPending();
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? *p : std::nullopt;
  }

  std::string ActiveKeyHash() const {
    CertStore store(data());
    auto a = store.LoadActive();
    if (!a.ok() || !a->has_value()) return "";
    return KeyHash((*a)->key.get());
  }

  std::vector<std::string> Calls() const {
    std::vector<std::string> out;
    for (const auto& c : script_.calls) out.push_back(c.what);
    return out;
  }

  std::string Log() const { return log_.str(); }

  KeyType key_type_ = KeyType::kRsa;
  TempDir dir_{"scepd-seam-"};
  FakeClock clock_{kStart};
  FixedRandom random_{0xC000000000000000ULL};
  Script script_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> previous_logger_;
};

TEST_F(CertificateJobSeamTest, IssuedAtOnceInstallsAndForgetsTheTransaction) {
  script_.answers.push_back(enroll::Issued{});
  auto job = MakeJob();
  job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_EQ(Calls(), (std::vector<std::string>{"ca", "prepare", "submit"}));
  EXPECT_FALSE(script_.calls[1].renewal);
  EXPECT_FALSE(script_.calls[2].with_current);
  // The key the back end was given is the one installed.
  EXPECT_EQ(ActiveKeyHash(), script_.calls[1].key_sha256);
  EXPECT_EQ(script_.calls[2].key_sha256, script_.calls[1].key_sha256);
  EXPECT_FALSE(Pending().has_value());
  EXPECT_EQ(job->status().ca_caps, "fake caps");
  EXPECT_NE(Log().find("sending fake enrollment (transaction fake-"), std::string::npos) << Log();
  // The fake CA is now the pinned one.
  CertStore store(data());
  auto pin = store.LoadCaPin();
  ASSERT_TRUE(pin.ok() && pin->has_value());
  EXPECT_EQ("sha256:" + **pin, "sha256:" + *Fingerprint(script_.ca.cert.get(), "sha256"));
}

TEST_F(CertificateJobSeamTest, PendingThenIssuedAcrossARestartKeepsKeyAndCookie) {
  script_.answers.push_back(enroll::Pending{{{"round", "1"}, {"ticket", "T-42"}}, 120});
  auto job = MakeJob();
  const std::int64_t next = job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kPending) << Log();
  EXPECT_EQ(job->state(), JobState::kPolling);
  EXPECT_EQ(next, kStart + 120) << "the back end's retry_after, not await_result";
  auto saved = Pending();
  ASSERT_TRUE(saved.has_value());
  EXPECT_EQ(saved->protocol, "fake");
  EXPECT_EQ(saved->polls, 1);
  EXPECT_EQ(saved->cookie, (enroll::Cookie{{"round", "1"}, {"ticket", "T-42"}}));
  const std::string text = ReadFile(data() + "/.pending/state");
  EXPECT_NE(text.find("\nversion=2\nprotocol=fake\n"), std::string::npos) << "[redacted]";
  EXPECT_NE(text.find("\ncookie.ticket=T-42\n"), std::string::npos);

  // A restart: a new job resumes from the file alone.
  job.reset();
  clock_.Advance(120);
  script_.answers.push_back(enroll::Issued{});
  auto again = MakeJob();
  again->Step();
  EXPECT_EQ(again->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_EQ(Calls(), (std::vector<std::string>{"ca", "prepare", "submit", "ca", "poll"}));
  const Call& poll = script_.calls.back();
  EXPECT_EQ(poll.cookie, (enroll::Cookie{{"round", "1"}, {"ticket", "T-42"}}));
  EXPECT_EQ(poll.key_sha256, script_.calls[1].key_sha256);
  EXPECT_EQ(ActiveKeyHash(), script_.calls[1].key_sha256);
  EXPECT_FALSE(Pending().has_value());
  EXPECT_NE(Log().find("resuming transaction fake-"), std::string::npos) << Log();
}

TEST_F(CertificateJobSeamTest, PendingThenStartOverEnrollsAnewWithANewKey) {
  script_.answers.push_back(enroll::Pending{{{"round", "1"}}, 0});
  auto job = MakeJob();
  EXPECT_EQ(job->Step(), kStart + 60) << "await_result when the back end names no delay";
  ASSERT_TRUE(Pending().has_value());
  const std::string first_key = script_.calls[1].key_sha256;

  job.reset();
  clock_.Advance(60);
  script_.answers.push_back(enroll::StartOver{"cannot resume this transaction; starting over"});
  script_.answers.push_back(enroll::Issued{});
  auto again = MakeJob();
  again->Step();
  EXPECT_EQ(again->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_EQ(Calls(), (std::vector<std::string>{"ca", "prepare", "submit", "ca", "poll", "ca",
                                               "prepare", "submit"}));
  EXPECT_NE(script_.calls[6].key_sha256, first_key) << "a new transaction, a new key";
  EXPECT_EQ(ActiveKeyHash(), script_.calls[6].key_sha256);
  EXPECT_FALSE(Pending().has_value());
  EXPECT_NE(Log().find("cannot resume this transaction; starting over"), std::string::npos)
      << Log();
}

TEST_F(CertificateJobSeamTest, RefusedRenewalFallsBackToAFirstEnrollment) {
  // A pair inside its renewal window.
  script_.answers.push_back(enroll::Issued{});
  auto job = MakeJob();
  job->Step();
  ASSERT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  const std::string old_key = ActiveKeyHash();
  script_.calls.clear();

  clock_.Advance(340 * kDay);
  script_.answers.push_back(enroll::Rejected{"renewal not allowed", "badRequest", true});
  script_.answers.push_back(enroll::Issued{});
  job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_EQ(Calls(),
            (std::vector<std::string>{"ca", "prepare", "submit", "ca", "prepare", "submit"}));
  EXPECT_TRUE(script_.calls[1].renewal);
  EXPECT_TRUE(script_.calls[2].with_current) << "a renewal is sent with the current pair";
  EXPECT_FALSE(script_.calls[4].renewal) << "the fallback is a first enrollment";
  EXPECT_FALSE(script_.calls[5].with_current);
  EXPECT_NE(ActiveKeyHash(), old_key);
  EXPECT_EQ(ActiveKeyHash(), script_.calls[4].key_sha256);
  EXPECT_NE(Log().find("the CA refused the renewal (renewal not allowed); falling back to a "
                       "first enrollment"),
            std::string::npos)
      << Log();
}

TEST_F(CertificateJobSeamTest, RefusalWithoutFallbackFailsWithTheBackEndsCode) {
  script_.answers.push_back(enroll::Rejected{"not on the list", "badRequest", false});
  auto job = MakeJob();
  job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kFailed);
  EXPECT_EQ(job->status().fail_info, "badRequest");
  EXPECT_EQ(job->status().last_error, "the CA refused the request: not on the list");
  EXPECT_EQ(Calls(), (std::vector<std::string>{"ca", "prepare", "submit"}));
  EXPECT_FALSE(Pending().has_value());
}

TEST_F(CertificateJobSeamTest, NoAnswerKeepsThePendingTransaction) {
  script_.answers.push_back(enroll::Failed{enroll::FailureKind::kNetwork, "connection refused"});
  auto job = MakeJob();
  job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kFailed);
  EXPECT_EQ(job->status().last_error, "connection refused");
  auto saved = Pending();
  ASSERT_TRUE(saved.has_value()) << "the CA may have the request: it is kept";
  EXPECT_EQ(saved->polls, 0);
}

TEST_F(CertificateJobSeamTest, EcKeyIsMadeStoredAndReported) {
  key_type_ = KeyType::kEc;
  script_.answers.push_back(enroll::Issued{});
  auto job = MakeJob();
  job->Step();
  ASSERT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  CertStore store(data());
  auto active = store.LoadActive();
  ASSERT_TRUE(active.ok()) << active.error().message;
  ASSERT_TRUE(active->has_value());
  EXPECT_EQ(EVP_PKEY_get_base_id((*active)->key.get()), EVP_PKEY_EC);
  KeySpec p384;
  p384.type = KeyType::kEc;
  p384.ec_curve = "P-384";
  EXPECT_TRUE(KeyFitsSpec((*active)->key.get(), p384));
  EXPECT_NE(Log().find("generating a P-384 EC key"), std::string::npos) << Log();
  // The routine check reads the EC pair (fast summary or its fallback).
  auto summary = store.LoadActiveCertificate();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  ASSERT_TRUE(summary->has_value());
  EXPECT_EQ((*summary)->serial, (*active)->serial);
  clock_.Advance(kDay * 2);
  job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kValid) << Log();
  EXPECT_EQ(job->status().serial, (*active)->serial);
  EXPECT_EQ(job->status().days_left, 363);
}

}  // namespace
}  // namespace scepd::testing
