// CertificateJob, the per-certificate state machine, driven by a FakeClock
// against the test responder called in-process: no sockets, no processes,
// no sleeps. The daemon as a whole (signals, the event loop, real scripts,
// micromdm) is covered end to end in scepd_e2e_test.cc.

#include "daemon/certificate_job.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/cert_info.h"
#include "core/key.h"
#include "core/hook_runner.h"
#include "core/renewal_policy.h"
#include "core/scep/pki_message.h"
#include "core/scep/scep.h"
#include "daemon/cert_store.h"
#include "daemon/config.h"
#include "daemon/next_key.h"
#include "daemon/status_file.h"
#include "tests/core/fake_clock.h"
#include "tests/daemon/in_process_transport.h"
#include "tests/responder/responder.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/test_pki.h"

namespace scepd::testing {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kStart = 1767225600;      // 2026-01-01T00:00:00Z
constexpr std::int64_t kBuildTime = 1735689600;  // 2025-01-01T00:00:00Z
constexpr std::int64_t kInterval = kDay;         // check_interval
constexpr const char* kChallenge = "pa55-Chall3nge-q7Zx";
constexpr const char* kSubject = "/O=scepd test/CN=router-1";
constexpr const char* kHookDir = "/opt/scepd/bin";
// key_size of these tests: the job makes keys of this size itself, and
// RSA-2048 generation takes seconds under an emulator (cross builds).
constexpr int kKeyBits = 1024;

// Random values: SignedUnit() maps them to +0.5, just under +1 and -1.
constexpr std::uint64_t kPlusHalf = 0xC000000000000000ULL;
constexpr std::uint64_t kMax = ~0ULL;
constexpr std::uint64_t kMin = 0;

constexpr int kPKCSReq = static_cast<int>(scep::MessageType::kPKCSReq);
constexpr int kRenewalReq = static_cast<int>(scep::MessageType::kRenewalReq);
constexpr int kCertPoll = static_cast<int>(scep::MessageType::kCertPoll);

// The responder's own keys come from the cache: only the job's keys are new.
Result<ossl::Ptr<EVP_PKEY>> CachedResponderKey(KeyRole role) {
  switch (role) {
    case KeyRole::kCa: return CachedKey(7);
    case KeyRole::kRaSign: return CachedKey(6);
    case KeyRole::kRaEnc: return CachedKey(5);
    case KeyRole::kNextCa: return CachedKey(4);
    case KeyRole::kOtherSigner: return CachedKey(3);
    case KeyRole::kOtherIssuedKey: return CachedKey(2);
  }
  return CachedKey(2);
}

// One script run as the job asked for it.
struct HookCall {
  std::string script;
  std::map<std::string, std::string> env;
  int timeout_seconds = 0;
};

// A HookRunner that records every run and answers with a chosen exit code.
class RecordingHooks final : public HookRunner {
 public:
  Result<HookResult> Run(const std::string& script,
                         const std::vector<std::pair<std::string, std::string>>& env,
                         int timeout_seconds) override {
    calls.push_back({script, {env.begin(), env.end()}, timeout_seconds});
    HookResult r;
    r.exit_code = exit_code;
    r.output = output;
    return r;
  }

  int exit_code = 0;
  std::vector<std::string> output;
  std::vector<HookCall> calls;
};

std::string Get(const std::map<std::string, std::string>& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "<unset>" : it->second;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class CertificateJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_logger_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("certificate_job_test", std::move(sink));
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));

    ResponderOptions o;
    o.clock = [this] { return clock_.Now(); };
    o.key_source = CachedResponderKey;
    o.challenge = kChallenge;
    auto r = Responder::Create(std::move(o));
    ASSERT_TRUE(r.ok()) << r.error().message;
    responder_ = std::move(*r);
  }

  void TearDown() override {
    ExpectNoChallengeLeak();
    spdlog::set_default_logger(previous_logger_);
  }

  std::string data() const { return dir_.File("data"); }

  CertificateSettings Settings() const {
    CertificateSettings s;
    s.data_dir = data();
    s.url = "http://ca.example/scep";
    s.subject = kSubject;
    s.challenge_password = kChallenge;
    s.key_size = kKeyBits;
    s.renew_days = 30;
    s.renew_spread = 0;  // renew the moment the window opens; the spread has its own tests
    s.await_result = 60;
    s.success_script = "install-cert";
    s.failure_script = "report-failure";
    return s;
  }

  DaemonSettings Daemon() const {
    DaemonSettings d;
    d.enabled = true;
    d.data_dir = data();
    d.check_interval = kInterval;
    return d;
  }

  JobDeps Deps() {
    JobDeps d;
    d.clock = &clock_;
    d.random = &random_;
    d.hooks = &hooks_;
    d.make_transport =
        [this](const CertificateSettings& s) -> Result<std::unique_ptr<Transport>> {
      ++transports_made_;
      EXPECT_EQ(s.url, "http://ca.example/scep");
      return std::unique_ptr<Transport>(std::make_unique<InProcessTransport>(*responder_, &sent_));
    };
    d.publish_status = [this](const StatusReport& r) { statuses_.push_back(r); };
    if (prepare_keys_) {
      // As the daemon's child process would, but at once: the cached key 1.
      d.prepare_key = [this](const std::string& dir, int bits) {
        prepared_.push_back({dir, bits});
        if (!write_prepared_) return;
        auto st = SaveNextKey(dir, CachedKey(1, bits).get());
        EXPECT_TRUE(st.ok()) << st.error().message;
      };
    }
    d.hook_path_dir = kHookDir;
    d.build_time = kBuildTime;
    return d;
  }

  std::unique_ptr<CertificateJob> MakeJob(CertificateSettings s, DaemonSettings d) {
    return std::make_unique<CertificateJob>(std::move(s), std::move(d), Deps());
  }
  std::unique_ptr<CertificateJob> MakeJob() { return MakeJob(Settings(), Daemon()); }

  // Installs a pair issued by the responder's CA for a cached key, as a
  // previous enrollment would have; returns its serial ("7A01").
  std::string InstallPair(std::int64_t not_before, std::int64_t not_after,
                          long serial = 0x7A01) {  // NOLINT(runtime/int): CertSpec's type
    ossl::Ptr<EVP_PKEY> key = CachedKey(0);
    CertSpec spec;
    spec.subject = kSubject;
    spec.serial = serial;
    spec.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
    spec.not_before = not_before;
    spec.not_after = not_after;
    ossl::Ptr<X509> cert = MakeCert(spec, key.get(), responder_->ca_cert(), responder_->ca_key());
    CertStore store(data());
    auto prepared = store.Prepare();
    EXPECT_TRUE(prepared.ok()) << prepared.error().message;
    auto installed = store.Install(cert.get(), key.get(), {responder_->ca_cert()}, 2, clock_.Now());
    EXPECT_TRUE(installed.ok()) << installed.error().message;
    installed_cert_ = std::move(cert);
    return SerialHex(installed_cert_.get());
  }

  // The message types of every PKIOperation the responder saw, in order.
  std::vector<int> PkiTypes() const {
    std::vector<int> out;
    for (const auto& r : responder_->Requests()) {
      if (r.message_type) out.push_back(*r.message_type);
    }
    return out;
  }
  int Count(int type) const {
    int n = 0;
    for (int t : PkiTypes()) n += t == type ? 1 : 0;
    return n;
  }
  std::vector<RequestRecord> PkiRecords() const {
    std::vector<RequestRecord> out;
    for (const auto& r : responder_->Requests()) {
      if (r.message_type) out.push_back(r);
    }
    return out;
  }

  // The PKIOperation messages the job sent, parsed as the CA parses them.
  std::vector<scep::PkiMessage> SentPkiMessages() const {
    std::vector<scep::PkiMessage> out;
    for (const auto& s : sent_) {
      auto op = s.url.query.find("operation");
      if (op == s.url.query.end() || op->second != "PKIOperation") continue;
      Bytes der = s.body;
      if (s.method == "GET") {
        auto decoded = Base64Decode(s.url.query.at("message"));
        EXPECT_TRUE(decoded.ok());
        if (decoded.ok()) der = *decoded;
      }
      auto msg = scep::ParsePkiMessage(der, {});
      EXPECT_TRUE(msg.ok()) << msg.error().message;
      if (msg.ok()) out.push_back(std::move(*msg));
    }
    return out;
  }

  // "state/certificate" of every published status, consecutive repeats
  // folded: the transitions the web UI could have seen.
  std::vector<std::string> Transitions() const {
    std::vector<std::string> out;
    for (const auto& s : statuses_) {
      std::string t = s.state + "/" + CertStateName(s.cert);
      if (out.empty() || out.back() != t) out.push_back(t);
    }
    return out;
  }

  std::vector<HookCall> HooksRun(const std::string& script) const {
    std::vector<HookCall> out;
    for (const auto& c : hooks_.calls) {
      if (c.script == script) out.push_back(c);
    }
    return out;
  }

  std::string Log() const { return log_.str(); }

  std::optional<PendingTransaction> Pending() const {
    CertStore store(data());
    auto p = store.LoadPending();
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? *p : std::nullopt;
  }

  std::optional<std::string> ActiveSerial() const {
    CertStore store(data());
    auto a = store.LoadActive();
    EXPECT_TRUE(a.ok()) << a.error().message;
    if (!a.ok() || !a->has_value()) return std::nullopt;
    return (*a)->serial;
  }

  std::vector<std::string> CertFiles() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(data(), ec)) {
      std::string name = e.path().filename().string();
      if (name.size() > 4 && name.substr(name.size() - 4) == ".crt") out.push_back(name);
    }
    return out;
  }

  // The challenge reaches the CA inside the CSR and nowhere else: not a
  // script's environment or command, not a log line, not the status.
  void ExpectNoChallengeLeak() const {
    for (const auto& c : hooks_.calls) {
      EXPECT_FALSE(Contains(c.script, kChallenge));
      for (const auto& [name, value] : c.env) {
        EXPECT_FALSE(Contains(name, kChallenge) || Contains(value, kChallenge))
            << "challenge in the hook environment: " << name;
      }
    }
    EXPECT_FALSE(Contains(Log(), kChallenge)) << "challenge in the log:\n" << Log();
    for (const auto& s : statuses_) {
      EXPECT_EQ(FormatStatusJson(s).find(kChallenge), std::string::npos);
    }
  }

  // The key of the active pair (null when there is none).
  ossl::Ptr<EVP_PKEY> ActiveKey() const {
    CertStore store(data());
    auto a = store.LoadActive();
    if (!a.ok() || !a->has_value()) return nullptr;
    return std::move((*a)->key);
  }

  bool prepare_keys_ = false;   // give the job a prepare_key
  bool write_prepared_ = true;  // ... that writes the key at once
  std::vector<std::pair<std::string, int>> prepared_;  // its calls
  TempDir dir_{"scepd-job-"};
  FakeClock clock_{kStart};
  FixedRandom random_{kPlusHalf};
  RecordingHooks hooks_;
  std::unique_ptr<Responder> responder_;
  std::vector<SentRequest> sent_;
  std::vector<StatusReport> statuses_;
  int transports_made_ = 0;
  ossl::Ptr<X509> installed_cert_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> previous_logger_;
};

TEST(InProcessTransportTest, ParsesPathAndDecodesTheQuery) {
  ParsedUrl u = ParseUrl("http://ca.example:8080/cgi-bin/pkiclient.exe?operation=PKIOperation"
                         "&message=MIIB%2Bab%2Fc%3D%3D&x=a+b&bad=%zz%4");
  EXPECT_EQ(u.path, "/cgi-bin/pkiclient.exe");
  EXPECT_EQ(u.query["operation"], "PKIOperation");
  EXPECT_EQ(u.query["message"], "MIIB+ab/c==");
  EXPECT_EQ(u.query["x"], "a b");
  EXPECT_EQ(u.query["bad"], "%zz%4");
  EXPECT_EQ(ParseUrl("http://ca.example?operation=GetCACaps").path, "/");
  EXPECT_TRUE(ParseUrl("http://ca.example/scep").query.empty());
}

TEST_F(CertificateJobTest, FirstEnrollmentOnAMissingCertificate) {
  auto job = MakeJob();
  const std::int64_t next = job->Step();

  EXPECT_EQ(job->state(), JobState::kIdle);
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled);
  EXPECT_EQ(PkiTypes(), std::vector<int>{kPKCSReq});
  EXPECT_EQ(Transitions(), (std::vector<std::string>{"enrolling/enrollment", "idle/enrolled"}));
  EXPECT_EQ(statuses_.front().module, ModuleState::kRunning);
  EXPECT_EQ(statuses_.back().module, ModuleState::kNotRunning);

  auto serial = ActiveSerial();
  ASSERT_TRUE(serial.has_value());
  EXPECT_EQ(job->status().serial, *serial);
  EXPECT_EQ(job->status().subject, kSubject);
  EXPECT_EQ(job->status().last_result, "success");
  EXPECT_TRUE(job->status().transaction_id.empty());
  EXPECT_FALSE(Pending().has_value());
  ossl::Ptr<X509> issued = responder_->IssuedCert(*serial);
  ASSERT_TRUE(issued);
  EXPECT_EQ(*NotBefore(issued.get()), kStart) << "the CA runs on the fake clock";
  EXPECT_EQ(*NotAfter(issued.get()), kStart + 365 * kDay);

  // Next wake: the decision's next_check, check_interval with +5 % jitter
  // for kPlusHalf, inside the ±10 % band.
  EXPECT_EQ(next, kStart + kInterval + kInterval / 20);
  EXPECT_GE(next, kStart + kInterval * 9 / 10);
  EXPECT_LE(next, kStart + kInterval * 11 / 10);
  EXPECT_EQ(job->status().next_check, next);

  ASSERT_EQ(hooks_.calls.size(), 1u);
  const HookCall& hook = hooks_.calls[0];
  EXPECT_EQ(hook.script, "install-cert");
  EXPECT_EQ(hook.timeout_seconds, 300);
  EXPECT_EQ(Get(hook.env, "SCEP_EVENT"), "enrolled");
  EXPECT_EQ(Get(hook.env, "SCEP_SERIAL"), *serial);
  EXPECT_EQ(Get(hook.env, "SCEP_CERT"), data() + "/" + *serial + ".crt");
  EXPECT_EQ(Get(hook.env, "SCEP_KEY"), data() + "/" + *serial + ".key");
  EXPECT_EQ(Get(hook.env, "SCEP_CA"), data() + "/ca.crt-0");
  EXPECT_EQ(Get(hook.env, "SCEP_NOT_AFTER"), FormatUtc(kStart + 365 * kDay));
  EXPECT_EQ(Get(hook.env, "SCEP_SUBJECT"), kSubject);
  EXPECT_EQ(Get(hook.env, "SCEP_DATA_DIR"), data());
  EXPECT_EQ(Get(hook.env, "SCEP_NAME"), "");
  EXPECT_EQ(Get(hook.env, "PATH").rfind(std::string(kHookDir) + ":", 0), 0u)
      << Get(hook.env, "PATH");
  EXPECT_EQ(hook.env.count("SCEP_ERROR"), 0u);
  EXPECT_TRUE(Contains(Log(), "info certificate: enrolled: certificate " + *serial + " installed"))
      << Log();
}

TEST_F(CertificateJobTest, ValidCertificateSendsNothingAndWakesNoLaterThanTheWindow) {
  const std::int64_t not_after = kStart + 100 * kDay;
  const std::int64_t window = not_after - 30 * kDay;
  const std::string serial = InstallPair(kStart - kDay, not_after);

  auto job = MakeJob();
  const std::int64_t next = job->Step();
  EXPECT_EQ(transports_made_, 0);
  EXPECT_TRUE(responder_->Requests().empty());
  EXPECT_TRUE(hooks_.calls.empty());
  EXPECT_EQ(job->state(), JobState::kIdle);
  EXPECT_EQ(job->outcome(), JobOutcome::kValid);
  EXPECT_GT(next, kStart);
  EXPECT_LE(next, window);
  EXPECT_EQ(next, kStart + kInterval + kInterval / 20);
  EXPECT_EQ(Transitions(), std::vector<std::string>{"idle/enrolled"});
  EXPECT_EQ(job->status().serial, serial);
  EXPECT_EQ(job->status().days_left, 100);
  EXPECT_EQ(job->status().next_check, next);
  EXPECT_TRUE(Contains(Log(), "info certificate: " + serial + " valid")) << Log();

  // With a check interval longer than the time left, the window decides.
  DaemonSettings slow = Daemon();
  slow.check_interval = 200 * kDay;
  auto slow_job = MakeJob(Settings(), slow);
  EXPECT_EQ(slow_job->Step(), window);
  EXPECT_TRUE(responder_->Requests().empty());
}

TEST_F(CertificateJobTest, PastTheWindowRenewsWithRenewalReqAndKeepsTheOldPair) {
  const std::int64_t not_after = kStart + 100 * kDay;
  const std::string old_serial = InstallPair(kStart - kDay, not_after);
  DaemonSettings d = Daemon();
  d.check_interval = 200 * kDay;
  auto job = MakeJob(Settings(), d);

  const std::int64_t window = job->Step();
  ASSERT_EQ(window, not_after - 30 * kDay);
  ASSERT_TRUE(responder_->Requests().empty());

  clock_.Set(window + 1);  // fewer than renew_days left
  const std::int64_t next = job->Step();
  EXPECT_EQ(PkiTypes(), std::vector<int>{kRenewalReq});
  EXPECT_EQ(job->state(), JobState::kIdle);
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled);
  EXPECT_EQ(Transitions(), (std::vector<std::string>{"idle/enrolled", "enrolling/re-enrollment",
                                                     "idle/enrolled"}));

  // Signed with the current certificate, not a self-signed one.
  auto messages = SentPkiMessages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(X509_cmp(messages[0].signer.get(), installed_cert_.get()), 0);

  auto serial = ActiveSerial();
  ASSERT_TRUE(serial.has_value());
  EXPECT_NE(*serial, old_serial);
  EXPECT_TRUE(PathExists(data() + "/" + old_serial + ".crt")) << "old pair kept";
  EXPECT_TRUE(PathExists(data() + "/" + old_serial + ".key")) << "old pair kept";
  EXPECT_GT(next, window + 1);

  ASSERT_EQ(hooks_.calls.size(), 1u);
  EXPECT_EQ(hooks_.calls[0].script, "install-cert");
  EXPECT_EQ(Get(hooks_.calls[0].env, "SCEP_EVENT"), "renewed");
  EXPECT_EQ(Get(hooks_.calls[0].env, "SCEP_SERIAL"), *serial);
  EXPECT_TRUE(Contains(Log(), "renewed: certificate " + *serial + " installed")) << Log();
}

// renew_spread: the job wakes at the certificate's own point in the window
// (from a hash of the certificate, so the same at every check and in a new
// process), sends nothing before it and renews just after it.
TEST_F(CertificateJobTest, SpreadRenewsAtTheCertificatesOwnPointInsideTheWindow) {
  const std::int64_t not_after = kStart + 100 * kDay;
  const std::int64_t window = not_after - 30 * kDay;
  InstallPair(kStart - kDay, not_after, 0x5EED);
  CertificateSettings s = Settings();
  s.renew_spread = 50;
  DaemonSettings d = Daemon();
  d.check_interval = 200 * kDay;
  RenewalSettings rs;
  rs.renew_days = 30;
  rs.spread = 0.5;
  const CertSummary summary = SummaryOf(installed_cert_.get());
  const std::int64_t point =
      RenewalPoint(CertTimes{kStart - kDay, not_after, RenewalSeed(summary)}, rs);
  ASSERT_GT(point, window);            // this serial's point is not the opening
  ASSERT_LT(point, window + 15 * kDay);  // but inside the first half of the window

  auto job = MakeJob(s, d);
  EXPECT_EQ(job->Step(), point);
  // Inside the window, before the point: valid; checked again (SIGUSR1, a
  // restart) it keeps the same point.
  clock_.Set(window + 1);
  EXPECT_EQ(job->Step(), point);
  EXPECT_EQ(job->outcome(), JobOutcome::kValid);
  auto restarted = MakeJob(s, d);
  EXPECT_EQ(restarted->Step(), point);
  clock_.Set(point);
  EXPECT_EQ(job->Step(), point + 1);
  EXPECT_TRUE(responder_->Requests().empty());
  EXPECT_TRUE(Contains(Log(), "this certificate renews at " + FormatUtc(point))) << Log();

  clock_.Set(point + 1);
  job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_EQ(PkiTypes(), std::vector<int>{kRenewalReq});
  EXPECT_TRUE(Contains(Log(), "past its renewal point " + FormatUtc(point))) << Log();
}

TEST_F(CertificateJobTest, ExpiredCertificateEnrollsAnewWithASelfSignedSigner) {
  const std::string old_serial = InstallPair(kStart - kDay, kStart + 365 * kDay);
  clock_.Advance(2 * 365 * kDay);
  auto job = MakeJob();
  job->Step();

  EXPECT_EQ(PkiTypes(), std::vector<int>{kPKCSReq}) << "no RenewalReq with an expired certificate";
  auto messages = SentPkiMessages();
  ASSERT_EQ(messages.size(), 1u);
  X509* signer = messages[0].signer.get();
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(signer), X509_get_issuer_name(signer)), 0);
  EXPECT_EQ(X509_verify(signer, X509_get0_pubkey(signer)), 1) << "self-signed";
  EXPECT_NE(X509_cmp(signer, installed_cert_.get()), 0);
  EXPECT_NE(EVP_PKEY_eq(X509_get0_pubkey(signer), X509_get0_pubkey(installed_cert_.get())), 1)
      << "a new key, not the expired certificate's";

  auto serial = ActiveSerial();
  ASSERT_TRUE(serial.has_value());
  EXPECT_NE(*serial, old_serial);
  ossl::Ptr<X509> issued = responder_->IssuedCert(*serial);
  ASSERT_TRUE(issued);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(signer), X509_get0_pubkey(issued.get())), 1)
      << "the self-signed signer holds the new key";
  ASSERT_EQ(hooks_.calls.size(), 1u);
  EXPECT_EQ(Get(hooks_.calls[0].env, "SCEP_EVENT"), "enrolled");
  EXPECT_TRUE(Contains(Log(), "expired")) << Log();
}

TEST_F(CertificateJobTest, ClockBeforeTheBuildDateSendsNothing) {
  clock_.Set(10 * kDay);  // a router without an RTC, booted in 1970
  JobDeps deps = Deps();
  deps.build_time = kStart;
  CertificateJob job(Settings(), Daemon(), std::move(deps));

  const std::int64_t next = job.Step();
  EXPECT_EQ(job.state(), JobState::kClockWait);
  EXPECT_GT(next, 10 * kDay);
  EXPECT_LE(next, 10 * kDay + 3600);
  EXPECT_EQ(transports_made_, 0);
  EXPECT_TRUE(responder_->Requests().empty());
  EXPECT_TRUE(hooks_.calls.empty());
  EXPECT_FALSE(Pending().has_value());
  EXPECT_EQ(Transitions(), std::vector<std::string>{"clockwait/not enrolled"});
  EXPECT_EQ(job.status().next_check, next);

  // Still nothing an hour later while the clock stays wrong; a valid pair
  // is reported as enrolled and left alone.
  InstallPair(kStart - kDay, kStart + 365 * kDay);
  clock_.Set(next);
  const std::int64_t again = job.Step();
  EXPECT_EQ(job.state(), JobState::kClockWait);
  EXPECT_LE(again, next + 3600);
  EXPECT_TRUE(responder_->Requests().empty());
  EXPECT_EQ(statuses_.back().cert, CertState::kEnrolled);
}

TEST_F(CertificateJobTest, PendingIsPolledEveryAwaitResultUntilSuccess) {
  FaultPlan f;
  f.pending_polls = 2;
  responder_->SetFaults(f);
  auto job = MakeJob();

  std::int64_t now = clock_.Now();
  EXPECT_EQ(job->Step(), now + 60);
  EXPECT_EQ(job->state(), JobState::kPolling);
  EXPECT_EQ(job->outcome(), JobOutcome::kPending);
  EXPECT_EQ(job->status().last_result, "pending");
  ASSERT_FALSE(job->status().transaction_id.empty());
  const std::string tid = job->status().transaction_id;
  auto pending = Pending();
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(pending->transaction_id, tid);
  EXPECT_EQ(pending->polls, 1);

  // Before the poll time nothing is sent.
  clock_.Advance(30);
  EXPECT_EQ(job->Step(), now + 60);
  EXPECT_EQ(PkiTypes(), std::vector<int>{kPKCSReq});

  for (int poll = 1; poll <= 2; ++poll) {
    clock_.Set(now + 60);
    now = clock_.Now();
    EXPECT_EQ(job->Step(), now + 60) << "poll " << poll;
    EXPECT_EQ(job->state(), JobState::kPolling);
    EXPECT_EQ(Count(kCertPoll), poll);
    EXPECT_TRUE(hooks_.calls.empty());
  }
  clock_.Set(now + 60);
  job->Step();
  EXPECT_EQ(Count(kCertPoll), 3);
  EXPECT_EQ(Count(kPKCSReq), 1);
  EXPECT_EQ(job->state(), JobState::kIdle);
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled);
  auto records = PkiRecords();
  EXPECT_EQ(records.back().status, "SUCCESS");
  for (const auto& r : records) EXPECT_EQ(r.transaction_id, tid);
  EXPECT_FALSE(Pending().has_value());
  EXPECT_TRUE(ActiveSerial().has_value());
  EXPECT_EQ(Transitions(), (std::vector<std::string>{"enrolling/enrollment", "polling/enrollment",
                                                     "idle/enrolled"}));
  ASSERT_EQ(hooks_.calls.size(), 1u);
  EXPECT_EQ(Get(hooks_.calls[0].env, "SCEP_EVENT"), "enrolled");
}

TEST_F(CertificateJobTest, RestartWhilePollingResumesTheSameTransaction) {
  FaultPlan f;
  f.pending_polls = 2;
  responder_->SetFaults(f);
  std::string tid;
  {
    auto first = MakeJob();
    first->Step();
    clock_.Advance(60);
    first->Step();
    ASSERT_EQ(Count(kCertPoll), 1);
    tid = first->status().transaction_id;
  }  // the daemon stops

  auto second = MakeJob();
  clock_.Advance(60);
  EXPECT_EQ(second->Step(), clock_.Now() + 60);
  EXPECT_EQ(second->state(), JobState::kPolling);
  EXPECT_EQ(second->status().transaction_id, tid);
  clock_.Advance(60);
  second->Step();
  EXPECT_EQ(second->state(), JobState::kIdle);
  EXPECT_EQ(Count(kPKCSReq), 1) << "no second PKCSReq after the restart";
  EXPECT_EQ(Count(kCertPoll), 3);
  for (const auto& r : PkiRecords()) EXPECT_EQ(r.transaction_id, tid);
  EXPECT_TRUE(ActiveSerial().has_value());
  EXPECT_FALSE(Pending().has_value());
}

TEST_F(CertificateJobTest, PendingLongerThanMaxAwaitResultGivesUp) {
  FaultPlan f;
  f.pending_forever = true;
  responder_->SetFaults(f);
  CertificateSettings s = Settings();
  s.max_await_result = 1;  // minute
  auto job = MakeJob(s, Daemon());

  EXPECT_EQ(job->Step(), kStart + 60);
  ASSERT_TRUE(Pending().has_value());
  clock_.Advance(61);
  const std::int64_t next = job->Step();

  EXPECT_EQ(job->state(), JobState::kBackoff);
  EXPECT_EQ(job->outcome(), JobOutcome::kFailed);
  EXPECT_GT(next, clock_.Now());
  EXPECT_FALSE(Pending().has_value()) << "the abandoned transaction is cleared";
  EXPECT_FALSE(ActiveSerial().has_value());
  EXPECT_EQ(Count(kCertPoll), 0) << "no poll after the deadline";
  EXPECT_EQ(job->status().last_result, "error");
  EXPECT_TRUE(Contains(job->status().last_error, "max_await_result 1 min"))
      << job->status().last_error;
  ASSERT_EQ(hooks_.calls.size(), 1u);
  EXPECT_EQ(hooks_.calls[0].script, "report-failure");
  EXPECT_EQ(Get(hooks_.calls[0].env, "SCEP_EVENT"), "failed");
  EXPECT_TRUE(Contains(Get(hooks_.calls[0].env, "SCEP_ERROR"), "still PENDING"));
  EXPECT_EQ(statuses_.back().state, "backoff");
  EXPECT_EQ(statuses_.back().cert, CertState::kNotEnrolled);

  // The next attempt, at retry time, is a new transaction.
  clock_.Set(next);
  job->Step();
  EXPECT_EQ(Count(kPKCSReq), 2);
  auto records = PkiRecords();
  EXPECT_NE(records.front().transaction_id, records.back().transaction_id);
}

TEST_F(CertificateJobTest, FailureBacksOffWithGrowingDelaysAndCheckNowRetries) {
  random_ = FixedRandom{kMax, kMin};  // the first delay spread up, the second down
  hooks_.exit_code = 3;
  FaultPlan f;
  f.fail_info = scep::FailInfo::kBadRequest;
  f.fail_info_text = "not today";
  responder_->SetFaults(f);
  auto job = MakeJob();

  const std::int64_t t1 = clock_.Now();
  const std::int64_t retry1 = job->Step();
  const std::int64_t d1 = retry1 - t1;
  EXPECT_EQ(job->state(), JobState::kBackoff);
  EXPECT_EQ(job->outcome(), JobOutcome::kFailed);
  EXPECT_GE(d1, 48);
  EXPECT_LE(d1, 72);
  EXPECT_EQ(job->status().next_check, retry1);
  EXPECT_EQ(job->status().last_result, "failure");
  EXPECT_EQ(job->status().fail_info, "badRequest");
  EXPECT_EQ(Count(kPKCSReq), 1);
  EXPECT_FALSE(Pending().has_value());
  ASSERT_EQ(hooks_.calls.size(), 1u);
  EXPECT_EQ(hooks_.calls[0].script, "report-failure");
  EXPECT_EQ(Get(hooks_.calls[0].env, "SCEP_EVENT"), "failed");
  EXPECT_EQ(Get(hooks_.calls[0].env, "SCEP_FAIL_INFO"), "badRequest");
  EXPECT_TRUE(Contains(Get(hooks_.calls[0].env, "SCEP_ERROR"),
                       "the CA refused the request: FAILURE: badRequest"))
      << Get(hooks_.calls[0].env, "SCEP_ERROR");
  EXPECT_EQ(hooks_.calls[0].env.count("SCEP_SERIAL"), 0u) << "no certificate yet";
  EXPECT_TRUE(Contains(Log(), "failure script exited with 3")) << Log();
  EXPECT_EQ(Transitions(),
            (std::vector<std::string>{"enrolling/enrollment", "backoff/not enrolled"}));

  // Steps before the retry time do nothing at all.
  const std::size_t requests = responder_->Requests().size();
  for (std::int64_t at : {t1, t1 + 1, retry1 - 1}) {
    clock_.Set(at);
    EXPECT_EQ(job->Step(), retry1);
  }
  EXPECT_EQ(responder_->Requests().size(), requests);
  EXPECT_EQ(hooks_.calls.size(), 1u);

  clock_.Set(retry1);
  const std::int64_t retry2 = job->Step();
  const std::int64_t d2 = retry2 - retry1;
  EXPECT_EQ(Count(kPKCSReq), 2);
  EXPECT_GE(d2, 96);
  EXPECT_LE(d2, 144);
  EXPECT_GT(d2, d1) << "the delay grows";
  EXPECT_EQ(hooks_.calls.size(), 2u);
  EXPECT_TRUE(Contains(Log(), "failure 2 in a row")) << Log();

  // SIGUSR1: CheckNow retries at once, long before retry2 (and the success
  // script succeeds: a failing one is a hand-off failure of its own).
  responder_->SetFaults({});
  hooks_.exit_code = 0;
  clock_.Advance(1);
  job->CheckNow();
  job->Step();
  EXPECT_EQ(Count(kPKCSReq), 3);
  EXPECT_EQ(job->state(), JobState::kIdle);
  EXPECT_EQ(job->status().last_result, "success");
  EXPECT_TRUE(job->status().last_error.empty());
  EXPECT_TRUE(job->status().fail_info.empty());
  EXPECT_TRUE(ActiveSerial().has_value());
}

TEST_F(CertificateJobTest, RefusedRenewalFallsBackOnceToAFirstEnrollment) {
  const std::string old_serial = InstallPair(kStart - kDay, kStart + 20 * kDay);
  FaultPlan f;
  f.only_for = "RenewalReq";
  f.fail_info = scep::FailInfo::kBadRequest;
  responder_->SetFaults(f);
  auto job = MakeJob();
  job->Step();

  EXPECT_EQ(PkiTypes(), (std::vector<int>{kRenewalReq, kPKCSReq}));
  auto records = PkiRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].status, "FAILURE");
  EXPECT_EQ(records[1].status, "SUCCESS");
  EXPECT_NE(records[0].transaction_id, records[1].transaction_id);
  auto messages = SentPkiMessages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(X509_cmp(messages[0].signer.get(), installed_cert_.get()), 0);
  EXPECT_EQ(X509_verify(messages[1].signer.get(), X509_get0_pubkey(messages[1].signer.get())), 1)
      << "the fallback is signed by a self-signed certificate";

  EXPECT_EQ(job->state(), JobState::kIdle);
  auto serial = ActiveSerial();
  ASSERT_TRUE(serial.has_value());
  EXPECT_NE(*serial, old_serial);
  EXPECT_TRUE(PathExists(data() + "/" + old_serial + ".crt"));
  EXPECT_TRUE(Contains(Log(), "falling back to a first enrollment")) << Log();
  ASSERT_EQ(hooks_.calls.size(), 1u) << "no failure script for a refusal that was recovered";
  EXPECT_EQ(Get(hooks_.calls[0].env, "SCEP_EVENT"), "enrolled");
}

TEST_F(CertificateJobTest, RefusedFallbackFailsWithoutAnotherFallback) {
  const std::string old_serial = InstallPair(kStart - kDay, kStart + 20 * kDay);
  FaultPlan f;
  f.fail_info = scep::FailInfo::kBadRequest;
  responder_->SetFaults(f);
  auto job = MakeJob();
  job->Step();

  EXPECT_EQ(PkiTypes(), (std::vector<int>{kRenewalReq, kPKCSReq}));
  EXPECT_EQ(job->state(), JobState::kBackoff);
  EXPECT_EQ(ActiveSerial(), old_serial) << "the current pair stays active";
  EXPECT_FALSE(Pending().has_value());
  ASSERT_EQ(hooks_.calls.size(), 1u);
  const HookCall& hook = hooks_.calls[0];
  EXPECT_EQ(Get(hook.env, "SCEP_EVENT"), "failed");
  EXPECT_EQ(Get(hook.env, "SCEP_FAIL_INFO"), "badRequest");
  EXPECT_EQ(Get(hook.env, "SCEP_SERIAL"), old_serial);
  EXPECT_EQ(Get(hook.env, "SCEP_CERT"), data() + "/latest.crt");
  EXPECT_EQ(statuses_.back().cert, CertState::kEnrolled);
  EXPECT_EQ(statuses_.back().serial, old_serial);
}

TEST_F(CertificateJobTest, HttpErrorsRunTheFailureScriptAndInstallNothing) {
  FaultPlan f;
  f.http_status = 500;
  responder_->SetFaults(f);
  auto job = MakeJob();
  const std::int64_t next = job->Step();

  EXPECT_EQ(job->state(), JobState::kBackoff);
  EXPECT_EQ(job->outcome(), JobOutcome::kFailed);
  EXPECT_GT(next, kStart);
  EXPECT_TRUE(PkiTypes().empty()) << "no PKIOperation without the CA certificate";
  EXPECT_FALSE(ActiveSerial().has_value());
  EXPECT_FALSE(Pending().has_value());
  EXPECT_TRUE(CertFiles().empty());
  EXPECT_EQ(job->status().last_result, "error");
  EXPECT_TRUE(job->status().fail_info.empty());
  EXPECT_TRUE(Contains(job->status().last_error, "HTTP 500")) << job->status().last_error;
  ASSERT_EQ(hooks_.calls.size(), 1u);
  EXPECT_EQ(hooks_.calls[0].script, "report-failure");
  EXPECT_EQ(Get(hooks_.calls[0].env, "SCEP_EVENT"), "failed");
  EXPECT_TRUE(Contains(Get(hooks_.calls[0].env, "SCEP_ERROR"), "HTTP 500"))
      << Get(hooks_.calls[0].env, "SCEP_ERROR");
  EXPECT_EQ(Get(hooks_.calls[0].env, "SCEP_FAIL_INFO"), "");
  EXPECT_EQ(statuses_.back().cert, CertState::kNotEnrolled);
}

// A first enrollment makes its key while GetCACaps/GetCACert are asked; when
// the CA cannot be reached the key is not thrown away but kept as the key
// made ahead, and the next attempt uses it.
TEST_F(CertificateJobTest, KeyMadeWhileTheCaFailedIsKeptForTheRetry) {
  FaultPlan f;
  f.http_status = 500;
  responder_->SetFaults(f);
  auto job = MakeJob();
  job->Step();
  ASSERT_EQ(job->state(), JobState::kBackoff);
  EXPECT_TRUE(Contains(Log(), "generating a 1024-bit RSA key while the CA is asked")) << Log();
  auto kept = LoadNextKey(data(), kKeyBits);
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  ASSERT_NE(*kept, nullptr) << "the key made during the failed attempt is kept";
  struct stat st;
  ASSERT_EQ(::stat(NextKeyPath(data()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  responder_->SetFaults({});
  clock_.Advance(1);
  job->CheckNow();
  job->Step();
  ASSERT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_TRUE(Contains(Log(), "using the 1024-bit RSA key made ahead of time")) << Log();
  auto active = ActiveKey();
  ASSERT_NE(active, nullptr);
  EXPECT_TRUE(SamePublicKey(active.get(), kept->get()));
  EXPECT_FALSE(PathExists(NextKeyPath(data()))) << "one key, one request";
}

TEST_F(CertificateJobTest, UnansweredRequestIsSentAgainUnchangedAfterARestart) {
  FaultPlan f;
  f.http_status = 500;
  f.only_for = "PKIOperation";
  responder_->SetFaults(f);
  std::string tid;
  {
    auto first = MakeJob();
    const std::int64_t retry = first->Step();
    EXPECT_EQ(first->state(), JobState::kBackoff);
    auto pending = Pending();
    ASSERT_TRUE(pending.has_value()) << "the request was never acknowledged: keep it";
    EXPECT_EQ(pending->polls, 0);
    tid = pending->transaction_id;
    ASSERT_EQ(hooks_.calls.size(), 1u);
    EXPECT_TRUE(Contains(Get(hooks_.calls[0].env, "SCEP_ERROR"), "HTTP 500"));
    EXPECT_FALSE(ActiveSerial().has_value());
    // Backing off with a pending request: nothing is sent before retry time.
    clock_.Set(retry - 1);
    EXPECT_EQ(first->Step(), retry);
    EXPECT_EQ(Count(kPKCSReq), 1);
  }

  responder_->SetFaults({});
  auto second = MakeJob();
  second->Step();
  auto records = PkiRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].http_status, 500);
  EXPECT_EQ(records[1].message_type, kPKCSReq);
  EXPECT_EQ(records[1].status, "SUCCESS");
  EXPECT_EQ(records[0].transaction_id, tid);
  EXPECT_EQ(records[1].transaction_id, tid) << "the same transaction, not a new one";
  EXPECT_EQ(second->state(), JobState::kIdle);
  EXPECT_FALSE(Pending().has_value());
  EXPECT_TRUE(ActiveSerial().has_value());
}

TEST_F(CertificateJobTest, ChallengeNeverReachesScriptsLogsOrStatus) {
  // Every path that logs or runs a script: a refusal with text from the CA,
  // an HTTP error, a success; TearDown checks all of it once more.
  hooks_.output = {"script says hello"};
  FaultPlan f;
  f.fail_info = scep::FailInfo::kBadRequest;
  f.fail_info_text = "wrong challenge";
  responder_->SetFaults(f);
  auto job = MakeJob();
  job->Step();
  FaultPlan http;
  http.http_status = 500;
  responder_->SetFaults(http);
  job->CheckNow();
  job->Step();
  responder_->SetFaults({});
  job->CheckNow();
  job->Step();
  ASSERT_EQ(job->state(), JobState::kIdle);
  ASSERT_EQ(hooks_.calls.size(), 3u);
  EXPECT_TRUE(Contains(Log(), "success script: script says hello")) << Log();
  EXPECT_TRUE(Contains(Log(), "wrong challenge")) << "the CA's text is logged";
  EXPECT_FALSE(Contains(Log(), kChallenge));
  for (const auto& c : hooks_.calls) {
    for (const auto& [name, value] : c.env) EXPECT_FALSE(Contains(value, kChallenge)) << name;
  }
  // The CA did receive it (it demands it), so it was not simply left out.
  EXPECT_EQ(PkiRecords().back().status, "SUCCESS");
}

// ---- Found by these tests (fixed in certificate_job.cc) --------------------

TEST_F(CertificateJobTest, StatusForgetsTheTransactionOnceItHasEnded) {
  FaultPlan f;
  f.fail_info = scep::FailInfo::kBadRequest;
  responder_->SetFaults(f);
  auto job = MakeJob();
  job->Step();
  ASSERT_EQ(job->state(), JobState::kBackoff);
  ASSERT_FALSE(Pending().has_value());
  // status.json's transaction_id is "the pending transaction ID"; none is.
  EXPECT_EQ(job->status().transaction_id, "");
  EXPECT_EQ(statuses_.back().transaction_id, "");
}

TEST_F(CertificateJobTest, MaxAwaitResultZeroFailsAtTheFirstPending) {
  FaultPlan f;
  f.pending_polls = 3;
  responder_->SetFaults(f);
  CertificateSettings s = Settings();
  s.max_await_result = 0;  // config.h: "0 means a PENDING answer fails at once"
  auto job = MakeJob(s, Daemon());
  job->Step();
  EXPECT_EQ(job->state(), JobState::kBackoff);
  EXPECT_EQ(job->outcome(), JobOutcome::kFailed);
  EXPECT_FALSE(Pending().has_value());
  EXPECT_EQ(HooksRun("report-failure").size(), 1u);
}

TEST_F(CertificateJobTest, PollingWakesUpAtTheMaxAwaitResultDeadline) {
  FaultPlan f;
  f.pending_forever = true;
  responder_->SetFaults(f);
  CertificateSettings s = Settings();
  s.await_result = 300;
  s.max_await_result = 1;
  auto job = MakeJob(s, Daemon());
  const std::int64_t next = job->Step();
  ASSERT_EQ(job->state(), JobState::kPolling);
  // docs/daemon.md: polling is left when max_await_result minutes have
  // passed since the first submission.
  EXPECT_LE(next, kStart + 60);
}

TEST_F(CertificateJobTest, ExpiredIssuedCertificateDoesNotReplaceTheCurrentOne) {
  const std::string old_serial = InstallPair(kStart - kDay, kStart + 20 * kDay);
  FaultPlan f;
  f.issue_expired = true;
  responder_->SetFaults(f);
  auto job = MakeJob();
  job->Step();
  EXPECT_EQ(ActiveSerial(), old_serial) << "a valid certificate replaced by an expired one";
  EXPECT_EQ(job->state(), JobState::kBackoff);
  EXPECT_TRUE(HooksRun("install-cert").empty()) << "the success script installed it";
  EXPECT_EQ(HooksRun("report-failure").size(), 1u);
}

// Issue 14 point 5: a .pending/state edited by hand or copied from another
// router never blocks renewal and never installs a certificate for other
// settings: bounded, checked against the settings, set aside (kept) and a
// new transaction started.
TEST_F(CertificateJobTest, PendingStateThatIsHugeFromTheFutureOrForeignIsSetAside) {
  const std::string state = data() + "/.pending/state";
  std::string observed;
  // Over 1 MiB: corrupt, moved to state.corrupt, a new enrollment.
  ASSERT_EQ(::mkdir(data().c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((data() + "/.pending").c_str(), 0700), 0);
  WriteFile(state, "version=2\n" + std::string(1100000, '#') + "\n", 0600);
  auto job = MakeJob();
  job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_TRUE(PathExists(state + ".corrupt"));
  const std::string first = ActiveSerial().value_or("");
  observed += Log();

  // A transaction from another router (another subject), PENDING at its
  // CA, copied here over a valid pair: set aside, the pair stays.
  FaultPlan f;
  f.pending_forever = true;
  responder_->SetFaults(f);
  {
    const std::string other_dir = dir_.File("other");
    CertificateSettings other = Settings();
    other.subject = "/O=scepd test/CN=router-2";
    other.data_dir = other_dir;
    DaemonSettings d = Daemon();
    d.data_dir = other_dir;
    auto other_job = MakeJob(other, d);
    other_job->Step();
    ASSERT_EQ(other_job->outcome(), JobOutcome::kPending) << Log();
    WriteFile(state, ReadFile(other_dir + "/.pending/state"), 0600);
  }
  responder_->SetFaults({});
  job = MakeJob();
  job->Step();
  EXPECT_EQ(ActiveSerial(), first) << "a certificate for the other router was installed";
  EXPECT_TRUE(PathExists(state + ".stale")) << Log();
  EXPECT_FALSE(PathExists(state));
  EXPECT_EQ(job->outcome(), JobOutcome::kValid) << Log();

  // started= a year ahead (PENDING, so it would be polled for ever).
  responder_->SetFaults(f);
  job = MakeJob();
  job->RenewNow();
  job->Step();
  ASSERT_TRUE(Pending().has_value()) << Log();
  std::string text = ReadFile(state);
  const std::size_t at = text.find("started=");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, text.find('\n', at) - at, "started=" + std::to_string(kStart + 365 * kDay));
  WriteFile(state, text, 0600);
  responder_->SetFaults({});
  job = MakeJob();
  job->RenewNow();
  job->Step();
  EXPECT_TRUE(PathExists(state + ".stale.1")) << Log();
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_NE(ActiveSerial(), first);
  observed += Log();
  ExpectReliabilityRow("hardening.pending-state", observed);
}

// Issue 14 point 11: a success script that fails is a state of its own:
// the pair stays installed, the status says so, the failure script runs and
// the success script is run again with growing delays (after a restart too)
// until it succeeds; the CA is not asked again.
TEST_F(CertificateJobTest, FailedHandOffIsAStateAndTheSuccessScriptIsRetried) {
  hooks_.exit_code = 1;
  auto job = MakeJob();
  const std::int64_t retry1 = job->Step();
  ASSERT_TRUE(ActiveSerial().has_value()) << Log();
  const std::string serial = *ActiveSerial();
  EXPECT_EQ(job->outcome(), JobOutcome::kHandoffFailed) << Log();
  EXPECT_EQ(job->state(), JobState::kHandoffFailed);
  EXPECT_EQ(job->status().last_result, "handoff-failed");
  EXPECT_EQ(job->status().next_check, retry1);
  EXPECT_TRUE(Contains(job->status().last_error, "success script exited with 1"))
      << job->status().last_error;
  ASSERT_EQ(hooks_.calls.size(), 2u);
  EXPECT_EQ(hooks_.calls[0].script, "install-cert");
  EXPECT_EQ(hooks_.calls[1].script, "report-failure");
  EXPECT_EQ(Get(hooks_.calls[1].env, "SCEP_EVENT"), "handoff-failed");
  EXPECT_EQ(Get(hooks_.calls[1].env, "SCEP_SERIAL"), serial);
  EXPECT_TRUE(Pending().has_value()) << "the transaction is kept for the retry";
  const std::int64_t d1 = retry1 - clock_.Now();
  EXPECT_GE(d1, 48);
  EXPECT_LE(d1, 72);
  std::string observed = Log() + " state " + job->status().state + " last_result " +
                         job->status().last_result + " SCEP_EVENT=" +
                         Get(hooks_.calls[1].env, "SCEP_EVENT") + "\n";

  // Nothing happens before the retry time.
  clock_.Set(retry1 - 1);
  EXPECT_EQ(job->Step(), retry1);
  EXPECT_EQ(hooks_.calls.size(), 2u);

  // A restart runs the success script again at once; it fails again.
  job = MakeJob();
  const std::int64_t retry2 = job->Step();
  EXPECT_EQ(HooksRun("install-cert").size(), 2u) << Log();
  EXPECT_EQ(job->outcome(), JobOutcome::kHandoffFailed);
  clock_.Set(retry2);
  const std::int64_t retry3 = job->Step();
  EXPECT_EQ(HooksRun("install-cert").size(), 3u) << Log();
  EXPECT_GT(retry3 - retry2, retry2 - (retry1 - 1)) << "the delay grows";

  // It succeeds: the transaction is forgotten, the job is idle, the CA was
  // asked once.
  hooks_.exit_code = 0;
  clock_.Set(retry3);
  job->Step();
  EXPECT_EQ(HooksRun("install-cert").size(), 4u) << Log();
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_EQ(job->state(), JobState::kIdle);
  EXPECT_EQ(job->status().last_result, "success");
  EXPECT_FALSE(Pending().has_value());
  EXPECT_EQ(ActiveSerial(), serial);
  EXPECT_EQ(Count(kPKCSReq), 1);
  observed += Log() + "install-cert runs " + std::to_string(HooksRun("install-cert").size()) +
              ", PKCSReq sent " + std::to_string(Count(kPKCSReq)) + "\n";
  ExpectReliabilityRow("hardening.handoff-failed", observed);
}

// Issue 14 point 7: a certificate that is not valid yet never replaces a
// working pair: it is staged and installed when it becomes valid (one at
// most 5 min ahead is installed at once); a first enrollment installs it but says it is not valid yet.
TEST_F(CertificateJobTest, NotYetValidCertificateIsStagedUntilItsNotBefore) {
  const std::string old_serial = InstallPair(kStart - 300 * kDay, kStart + 25 * kDay);
  FaultPlan f;
  f.issue_not_before_days = 10;
  responder_->SetFaults(f);
  auto job = MakeJob();
  const std::int64_t wake = job->Step();
  EXPECT_EQ(wake, kStart + 10 * kDay) << Log();
  EXPECT_EQ(ActiveSerial(), old_serial) << "a certificate not valid yet replaced a working one";
  EXPECT_EQ(job->state(), JobState::kStaged);
  EXPECT_EQ(job->status().last_result, "staged");
  EXPECT_TRUE(HooksRun("install-cert").empty());
  ASSERT_TRUE(Pending().has_value());
  EXPECT_FALSE(Pending()->staged_cert_pem.empty());
  std::string observed = Log() + "state " + job->status().state + ", active " +
                         ActiveSerial().value_or("none") + " (the old one)\n";

  // A restart just before the switch: still staged, nothing asked.
  clock_.Set(wake - 1);
  job = MakeJob();
  EXPECT_EQ(job->Step(), wake);
  EXPECT_EQ(ActiveSerial(), old_serial);
  // At notBefore: installed, the success script runs, done.
  clock_.Set(wake);
  job->Step();
  EXPECT_NE(ActiveSerial(), old_serial) << Log();
  EXPECT_EQ(job->state(), JobState::kIdle) << Log();
  EXPECT_EQ(HooksRun("install-cert").size(), 1u);
  EXPECT_FALSE(Pending().has_value());
  EXPECT_EQ(Count(kRenewalReq) + Count(kPKCSReq), 1);
  observed += Log() + "requests " + std::to_string(Count(kRenewalReq) + Count(kPKCSReq)) + "\n";

  // A first enrollment installs it, and says it is not valid yet.
  RemoveTree(data());
  clock_.Set(kStart);
  job = MakeJob();
  job->Step();
  EXPECT_TRUE(ActiveSerial().has_value());
  EXPECT_EQ(job->state(), JobState::kClockWait);
  EXPECT_TRUE(Contains(job->status().last_error, "is not valid yet")) << job->status().last_error;
  observed += "first enrollment: state " + job->status().state + ", " + job->status().last_error;
  ExpectReliabilityRow("hardening.not-yet-valid", observed);
}

// Issue 14 point 6: a SUCCESS whose certificate names the CA as issuer but
// was signed by another key never reaches the disk.
TEST_F(CertificateJobTest, IssuedCertificateNotSignedByTheCaIsRefused) {
  const std::string old_serial = InstallPair(kStart - kDay, kStart + 20 * kDay);
  FaultPlan f;
  f.issue_forged = true;
  responder_->SetFaults(f);
  auto job = MakeJob();
  job->Step();
  EXPECT_EQ(ActiveSerial(), old_serial) << "a forged certificate replaced the working one";
  EXPECT_EQ(job->state(), JobState::kBackoff);
  EXPECT_EQ(job->outcome(), JobOutcome::kFailed);
  EXPECT_TRUE(HooksRun("install-cert").empty()) << "the success script installed it";
  std::size_t crt_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(data())) {
    if (e.path().extension() == ".crt" && e.path().filename() != "latest.crt") ++crt_files;
  }
  EXPECT_EQ(crt_files, 1u) << "the forged certificate was written";
  ExpectReliabilityRow("hardening.issued-signature",
                       Log() + " state " + JobStateName(job->state()) +
                           (crt_files == 1 ? " nothing written" : ""));
}

TEST_F(CertificateJobTest, NewCertificateNotYetValidWaitsForTheClock) {
  // The CA's clock is two hours ahead of the router's, and it does not
  // backdate notBefore.
  ResponderOptions o;
  o.clock = [this] { return clock_.Now() + 7200; };
  o.key_source = CachedResponderKey;
  o.challenge = kChallenge;
  auto r = Responder::Create(std::move(o));
  ASSERT_TRUE(r.ok()) << r.error().message;
  responder_ = std::move(*r);
  auto job = MakeJob();
  const std::int64_t next = job->Step();
  ASSERT_TRUE(ActiveSerial().has_value());
  EXPECT_EQ(job->state(), JobState::kClockWait);
  EXPECT_LE(next, kStart + 3600);
  EXPECT_FALSE(Contains(Log(), "renewal window")) << Log();
}

// Issue 7: a router whose time_t has 32 bits (Debian armhf, mipsel) must
// handle a certificate valid until 2050 and a clock past 2038 through the
// whole job: enrollment, the status, the next wake time and the renewal.
// The same test runs natively and under qemu-user in the cross builds.
TEST_F(CertificateJobTest, CertificateValidUntil2050IsEnrolledAndRenewedPast2038) {
  constexpr std::int64_t k2045 = 2366841600;  // 2045-01-01T00:00:00Z, past 2^31
  constexpr std::int64_t k2050 = 2524608000;  // 2050-01-01T00:00:00Z
  clock_.Set(k2045);
  ResponderOptions o;  // a CA made in 2045, issuing for 1826 days: until 2050
  o.clock = [this] { return clock_.Now(); };
  o.key_source = CachedResponderKey;
  o.challenge = kChallenge;
  o.valid_days = 1826;
  auto r = Responder::Create(std::move(o));
  ASSERT_TRUE(r.ok()) << r.error().message;
  responder_ = std::move(*r);
  DaemonSettings d = Daemon();
  d.check_interval = 365 * kDay;
  auto job = MakeJob(Settings(), d);

  const std::int64_t window = job->Step();
  EXPECT_EQ(PkiTypes(), std::vector<int>{kPKCSReq});
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled);
  ASSERT_TRUE(job->status().not_before.has_value());
  ASSERT_TRUE(job->status().not_after.has_value());
  EXPECT_EQ(*job->status().not_before, k2045);
  EXPECT_EQ(*job->status().not_after, k2050);
  EXPECT_EQ(job->status().days_left, 1826);
  // A year's interval with +1/20 jitter lands in early 2046.
  EXPECT_EQ(window, k2045 + 365 * kDay + 365 * kDay / 20);
  EXPECT_EQ(job->status().next_check, window);
  const std::string json = FormatStatusJson(job->status());
  EXPECT_TRUE(Contains(json, "\"not_after\": \"2050-01-01T00:00:00Z\"")) << json;
  EXPECT_TRUE(Contains(json, "\"not_after_epoch\": 2524608000")) << json;
  EXPECT_TRUE(Contains(json, "\"not_before\": \"2045-01-01T00:00:00Z\"")) << json;
  auto first = ActiveSerial();
  ASSERT_TRUE(first.has_value());

  // 2049: the next checks are valid until the window opens 30 days before 2050.
  clock_.Set(k2050 - 60 * kDay);
  EXPECT_EQ(job->Step(), k2050 - 30 * kDay);
  EXPECT_EQ(job->outcome(), JobOutcome::kValid);
  EXPECT_EQ(job->status().days_left, 60);
  EXPECT_EQ(PkiTypes().size(), 1u) << "nothing sent while valid";

  // Inside the window: renewed with RenewalReq, the new one runs to 2054.
  clock_.Set(k2050 - 10 * kDay);
  job->Step();
  EXPECT_EQ(PkiTypes(), (std::vector<int>{kPKCSReq, kRenewalReq}));
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled);
  auto second = ActiveSerial();
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*second, *first);
  EXPECT_EQ(job->status().not_after, k2050 - 10 * kDay + 1826 * kDay);
  EXPECT_TRUE(Contains(FormatStatusJson(job->status()), "\"not_after\": \"2054-12-22T00:00:00Z\""))
      << FormatStatusJson(job->status());
  EXPECT_FALSE(Contains(Log(), "expired")) << Log();
}

}  // namespace
}  // namespace scepd::testing

namespace scepd::testing {
namespace {

// A crash during Install leaves the CA's certificate on disk with the
// transaction still pending: the restart finishes the job from the files,
// runs the success script, and asks the CA nothing.
TEST_F(CertificateJobTest, CertificateOnDiskFromAnInterruptedInstallIsUsedWithoutTheCa) {
  FaultPlan f;
  f.pending_polls = 0;
  responder_->SetFaults(f);
  MakeJob()->Step();  // PENDING: the transaction is saved
  auto pending = Pending();
  ASSERT_TRUE(pending.has_value());
  auto key = ossl::PrivateKeyFromPem(pending->key_pem, "pending key");
  ASSERT_TRUE(key.ok());
  // What Install had written when the power went: <SERIAL>.crt, no links.
  CertSpec spec;
  spec.subject = kSubject;
  spec.serial = 0x5151;
  spec.not_before = clock_.Now() - 60;
  spec.not_after = clock_.Now() + 365 * kDay;
  auto cert = MakeCert(spec, key->get(), responder_->ca_cert(), responder_->ca_key());
  auto pem = ossl::CertToPem(cert.get());
  ASSERT_TRUE(pem.ok());
  WriteFile(data() + "/5151.crt", *pem, 0644);
  const std::size_t requests = PkiTypes().size();

  auto restarted = MakeJob();
  restarted->Step();
  EXPECT_EQ(restarted->outcome(), JobOutcome::kEnrolled);
  EXPECT_EQ(PkiTypes().size(), requests) << "the CA was asked again";
  EXPECT_EQ(ActiveSerial(), std::optional<std::string>("5151"));
  EXPECT_FALSE(Pending().has_value());
  ASSERT_EQ(HooksRun("install-cert").size(), 1u);
  EXPECT_EQ(Get(HooksRun("install-cert")[0].env, "SCEP_SERIAL"), "5151");
  EXPECT_TRUE(Contains(Log(), "certificate 5151 of transaction " + pending->transaction_id +
                                  " was stored before an interruption; installing it"))
      << Log();

  // Killed again while the success script ran: the transaction is still
  // there and the pair installed; the script runs once more.
  CertStore store(data());
  ASSERT_TRUE(store.SavePending(*pending).ok());
  auto again = MakeJob();
  again->Step();
  EXPECT_EQ(again->outcome(), JobOutcome::kEnrolled);
  EXPECT_EQ(PkiTypes().size(), requests);
  EXPECT_EQ(HooksRun("install-cert").size(), 2u);
  EXPECT_FALSE(Pending().has_value());
  EXPECT_TRUE(Contains(Log(), "certificate 5151 of transaction " + pending->transaction_id +
                                  " is installed; finishing what an interruption stopped"))
      << Log();
}

// The transaction is forgotten only after the success script has run.
TEST_F(CertificateJobTest, ThePendingTransactionOutlivesTheSuccessScript) {
  bool pending_during_script = false;
  struct Probe final : public HookRunner {
    std::string dir;
    bool* seen = nullptr;
    Result<HookResult> Run(const std::string&,
                           const std::vector<std::pair<std::string, std::string>>&,
                           int) override {
      *seen = PathExists(dir + "/.pending/state");
      HookResult r;
      r.exit_code = 0;
      return r;
    }
  } probe;
  probe.dir = data();
  probe.seen = &pending_during_script;
  JobDeps deps = Deps();
  deps.hooks = &probe;
  CertificateJob job(Settings(), Daemon(), std::move(deps));
  job.Step();
  EXPECT_EQ(job.outcome(), JobOutcome::kEnrolled);
  EXPECT_TRUE(pending_during_script);
  EXPECT_FALSE(Pending().has_value());
}

}  // namespace
}  // namespace scepd::testing

namespace scepd::testing {
namespace {

TEST_F(CertificateJobTest, NextKeyIsMadeAheadOnceTheWindowIsNearAndTheRenewalUsesIt) {
  prepare_keys_ = true;
  const std::int64_t not_after = kStart + 100 * kDay;
  const std::int64_t window = not_after - 30 * kDay;
  InstallPair(kStart - kDay, not_after);
  auto job = MakeJob();

  // Far from the window: nothing is made.
  job->Step();
  EXPECT_TRUE(prepared_.empty());
  EXPECT_FALSE(PathExists(NextKeyPath(data())));

  // Two check intervals before the window: made once, 0600.
  clock_.Set(window - 2 * kInterval);
  job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kValid);
  ASSERT_EQ(prepared_.size(), 1u);
  EXPECT_EQ(prepared_[0], (std::pair<std::string, int>{data(), kKeyBits}));
  struct stat st;
  ASSERT_EQ(::stat(NextKeyPath(data()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_TRUE(responder_->Requests().empty()) << "preparing sends nothing";

  // Still there and right at the next check: not made again.
  clock_.Set(window - kInterval);
  job->Step();
  EXPECT_EQ(prepared_.size(), 1u);

  // The renewal takes it: the new certificate is for the prepared key, and
  // the file is gone (one key, one request).
  clock_.Set(window + 1);
  job->Step();
  ASSERT_EQ(job->outcome(), JobOutcome::kEnrolled);
  EXPECT_EQ(PkiTypes(), std::vector<int>{kRenewalReq});
  auto active = ActiveKey();
  ASSERT_NE(active, nullptr);
  EXPECT_TRUE(SamePublicKey(active.get(), CachedKey(1, kKeyBits).get()));
  EXPECT_FALSE(PathExists(NextKeyPath(data())));
  EXPECT_TRUE(Contains(Log(), "using the 1024-bit RSA key made ahead of time")) << Log();
  EXPECT_FALSE(Contains(Log(), "generating a 1024-bit RSA key")) << Log();
}

TEST_F(CertificateJobTest, NextKeyOfAnotherSizeIsDiscardedAndMadeAgain) {
  prepare_keys_ = true;
  write_prepared_ = false;
  const std::int64_t not_after = kStart + 100 * kDay;
  InstallPair(kStart - kDay, not_after);
  // Made for 2048 bits; key_size is 3072 now (the fixture's is kKeyBits).
  ASSERT_TRUE(SaveNextKey(data(), CachedKey(1).get()).ok());
  CertificateSettings s = Settings();
  s.key_size = 3072;
  auto job = MakeJob(s, Daemon());

  clock_.Set(not_after - 30 * kDay - kInterval);
  job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kValid);
  ASSERT_EQ(prepared_.size(), 1u);
  EXPECT_EQ(prepared_[0].second, 3072);
  EXPECT_FALSE(PathExists(NextKeyPath(data()))) << "the stale key is removed";
  EXPECT_TRUE(Contains(Log(), "not the 3072-bit RSA key of key_size")) << Log();
}

TEST_F(CertificateJobTest, UnreadableNextKeyIsDiscardedAndTheRenewalMakesItsOwn) {
  prepare_keys_ = true;
  write_prepared_ = false;
  const std::int64_t not_after = kStart + 100 * kDay;
  InstallPair(kStart - kDay, not_after);
  WriteFile(NextKeyPath(data()), "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n");
  auto job = MakeJob();

  clock_.Set(not_after - 30 * kDay + 1);  // inside the window
  job->Step();
  ASSERT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_EQ(PkiTypes(), std::vector<int>{kRenewalReq});
  auto active = ActiveKey();
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(EVP_PKEY_get_bits(active.get()), kKeyBits);
  EXPECT_FALSE(SamePublicKey(active.get(), CachedKey(0).get())) << "a new key";
  EXPECT_TRUE(Contains(Log(), "discarding it")) << Log();
  EXPECT_TRUE(Contains(Log(), "generating a 1024-bit RSA key")) << Log();
  EXPECT_FALSE(PathExists(NextKeyPath(data()))) << "the unreadable key is removed";
}

}  // namespace
}  // namespace scepd::testing

namespace scepd::testing {
namespace {

// A pending file written by the release before the enrollment seam (version
// 1, SCEP only: tests/data/pending_v1, see its README) resumes as SCEP: a
// router upgraded while its CA considers a request finishes that same
// transaction with that same key, without sending a new request.
TEST_F(CertificateJobTest, ResumesAVersion1PendingFileAsScep) {
  const std::string src = std::string(SCEPD_SOURCE_DIR) + "/tests/data/pending_v1";
  const std::string v1 = ReadFile(src + "/data/.pending/state");
  ASSERT_NE(v1.find("\nversion=1\n"), std::string::npos);
  auto field = [&v1](const std::string& name) {
    const std::size_t at = v1.find("\n" + name + "=");
    if (at == std::string::npos) return std::string();
    const std::size_t from = at + name.size() + 2;
    return v1.substr(from, v1.find('\n', from) - from);
  };
  const std::string tid = field("transaction_id");
  const std::int64_t started = std::stoll(field("started"));
  ASSERT_FALSE(tid.empty());
  ASSERT_EQ(field("message_type"), "19");

  // The CA that answered PENDING, as it stopped: it knows the transaction.
  std::filesystem::copy(src + "/responder", dir_.File("responder"),
                        std::filesystem::copy_options::recursive);
  ResponderOptions o;
  o.state_dir = dir_.File("responder");
  o.clock = [this] { return clock_.Now(); };
  o.challenge = "secret";
  auto r = Responder::Create(std::move(o));
  ASSERT_TRUE(r.ok()) << r.error().message;
  responder_ = std::move(*r);

  ASSERT_EQ(::mkdir(data().c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((data() + "/.pending").c_str(), 0700), 0);
  WriteFile(data() + "/.pending/state", v1, 0600);
  clock_.Set(started + 300);

  auto job = MakeJob();
  job->Step();
  EXPECT_EQ(job->outcome(), JobOutcome::kEnrolled) << Log();
  EXPECT_EQ(PkiTypes(), std::vector<int>{kCertPoll}) << "the same transaction, polled";
  ASSERT_EQ(PkiRecords().size(), 1u);
  EXPECT_EQ(PkiRecords()[0].transaction_id, tid);
  EXPECT_TRUE(Contains(Log(), "resuming transaction " + tid + " (scep enrollment, 1 PENDING"))
      << Log();
  // The key of the version-1 file is the one installed.
  std::string key_pem;
  {
    const std::string escaped = field("key_pem");
    for (std::size_t i = 0; i < escaped.size(); ++i) {
      if (escaped[i] == '\\' && i + 1 < escaped.size()) {
        key_pem += escaped[i + 1] == 'n' ? '\n' : escaped[i + 1];
        ++i;
      } else {
        key_pem += escaped[i];
      }
    }
  }
  auto v1_key = ossl::PrivateKeyFromPem(key_pem, "v1 key");
  ASSERT_TRUE(v1_key.ok());
  ossl::Ptr<EVP_PKEY> active = ActiveKey();
  ASSERT_TRUE(active);
  EXPECT_TRUE(SamePublicKey(active.get(), v1_key->get()));
  EXPECT_FALSE(Pending().has_value());
}

}  // namespace
}  // namespace scepd::testing
