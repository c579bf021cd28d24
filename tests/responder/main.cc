// scep_responder: the test SCEP CA (tests/responder/responder.h) behind a
// loopback HTTP server. Tests start it with --port 0 --port-file F, poll F
// for the port, and stop it with SIGINT or SIGTERM.

#include <getopt.h>
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/responder/responder.h"
#include "tests/responder/state_store.h"

namespace {

using scepd::testing::FaultPlan;
using scepd::testing::Responder;
using scepd::testing::ResponderOptions;

constexpr const char* kUsage = R"(Usage: scep_responder [options]
A fault-injecting SCEP CA for tests, on 127.0.0.1 (or ::1) only, serving
/scep and /cgi-bin/pkiclient.exe.

Server:
  --port N             TCP port (default 0: any free port)
  --port-file F        write the port to F once listening (atomically)
  --ipv6               listen on ::1 instead of 127.0.0.1
  --state-dir D        keep CA key/cert, serial counter, issued certificates
                       and transactions in D (D/ca.crt is the CA certificate)
  --ca-cert-out F      also write the CA certificate (PEM) to F
  --log-requests F     append one JSON line per request to F
CA behaviour:
  --caps "A,B,..."     GetCACaps text; commas become newlines
                       (default POSTPKIOperation,Renewal,SHA-256,SHA-512,AES,
                       DES3,GetNextCACert,SCEPStandard)
  --ca-cn NAME         CA common name for a new CA (default "scepd test CA")
  --ra                 RA mode: separate RA signing and encryption certificates
  --ra-order LIST      GetCACert order in RA mode (default sign,enc,ca)
  --next-ca            offer a rollover CA through GetNextCACert
  --promote-next-ca    the rollover happened: the next CA of the state
                       directory becomes the CA (the old one stays trusted
                       for RenewalReq)
  --tls-cert F         serve HTTPS with this PEM certificate (and --tls-key)
  --tls-key F          its PEM private key
  --reply-cipher C     CertRep envelope cipher (default AES-256-CBC; DES-CBC)
  --reply-digest D     CertRep signature digest (default SHA256; SHA1)
  --challenge S        require this challengePassword on PKCSReq
  --renewal-challenge  require the challenge on RenewalReq too
  --valid-days N       issued certificate lifetime (default 365)
  --valid-seconds N    issued certificate lifetime in seconds (overrides days)
  --revoke SERIAL      list SERIAL (hex) in the CRL; repeatable
  --key-bits N         RSA size of generated CA/RA keys (default 2048)
Faults (for the requests --only-for selects; all of them by default):
  --pending-polls N    enrollment answers PENDING, then N CertPolls PENDING,
                       poll N+1 SUCCESS
  --pending-forever    enrollment and every CertPoll answer PENDING
  --fail-info NAME     FAILURE with failInfo NAME (badAlg, badMessageCheck,
                       badRequest, badTime, badCertId) for enrollments
  --fail-text S        failInfoText for --fail-info
  --http-status N      answer HTTP N with a text body (request not processed)
  --html-error         answer 200 with an HTML page (request not processed)
  --empty-body         empty body, right content type
  --truncate           first half of the reply only
  --garbage            random bytes with the right content type
  --wrong-tid          CertRep carries another transactionID
  --wrong-nonce        CertRep carries a random recipientNonce
  --no-nonce           CertRep carries no recipientNonce
  --other-signer       CertRep signed by another key with the CA's name
  --other-key          issued certificate holds another public key
  --other-subject      issued certificate has another subject
  --expired            issued certificate expired yesterday
  --forged-issued      issued certificate names the CA but another key signed it
  --not-before-days N  issued certificate valid from N days ahead
  --delay-ms N         wait N ms before answering
  --other-ca           GetCACert answers another CA certificate (same name,
                       another key): the CA "changed"
  --huge-body N        answer N filler bytes instead (request not processed)
  --never-answer       accept the request and never answer
  --drip-ms N          send the answer one byte every N ms
  --only-for X         GetCACaps, GetCACert, GetNextCACert, PKIOperation,
                       PKCSReq, RenewalReq, CertPoll, GetCert or GetCRL
  --help               this text
)";

enum Opt {
  kPort = 1000, kPortFile, kIpv6, kStateDir, kCaCertOut, kLogRequests, kCaps, kCaCn, kRa,
  kRaOrder, kNextCa, kReplyCipher, kReplyDigest, kChallenge, kRenewalChallenge, kValidDays,
  kValidSeconds, kRevoke, kKeyBits, kPendingPolls, kPendingForever, kFailInfo, kFailText,
  kHttpStatus, kHtmlError, kEmptyBody, kTruncate, kGarbage, kWrongTid, kWrongNonce, kNoNonce,
  kOtherSigner, kOtherKey, kOtherSubject, kExpired, kForgedIssued, kNotBeforeDays, kDelayMs, kOnlyFor, kHelp,
  kPromoteNextCa, kTlsCert, kTlsKey, kOtherCa, kHugeBody, kNeverAnswer, kDripMs,
};

const option kOptions[] = {
    {"port", required_argument, nullptr, kPort},
    {"port-file", required_argument, nullptr, kPortFile},
    {"ipv6", no_argument, nullptr, kIpv6},
    {"state-dir", required_argument, nullptr, kStateDir},
    {"ca-cert-out", required_argument, nullptr, kCaCertOut},
    {"log-requests", required_argument, nullptr, kLogRequests},
    {"caps", required_argument, nullptr, kCaps},
    {"ca-cn", required_argument, nullptr, kCaCn},
    {"ra", no_argument, nullptr, kRa},
    {"ra-order", required_argument, nullptr, kRaOrder},
    {"next-ca", no_argument, nullptr, kNextCa},
    {"reply-cipher", required_argument, nullptr, kReplyCipher},
    {"reply-digest", required_argument, nullptr, kReplyDigest},
    {"challenge", required_argument, nullptr, kChallenge},
    {"renewal-challenge", no_argument, nullptr, kRenewalChallenge},
    {"valid-days", required_argument, nullptr, kValidDays},
    {"valid-seconds", required_argument, nullptr, kValidSeconds},
    {"revoke", required_argument, nullptr, kRevoke},
    {"key-bits", required_argument, nullptr, kKeyBits},
    {"pending-polls", required_argument, nullptr, kPendingPolls},
    {"pending-forever", no_argument, nullptr, kPendingForever},
    {"fail-info", required_argument, nullptr, kFailInfo},
    {"fail-text", required_argument, nullptr, kFailText},
    {"http-status", required_argument, nullptr, kHttpStatus},
    {"html-error", no_argument, nullptr, kHtmlError},
    {"empty-body", no_argument, nullptr, kEmptyBody},
    {"truncate", no_argument, nullptr, kTruncate},
    {"garbage", no_argument, nullptr, kGarbage},
    {"wrong-tid", no_argument, nullptr, kWrongTid},
    {"wrong-nonce", no_argument, nullptr, kWrongNonce},
    {"no-nonce", no_argument, nullptr, kNoNonce},
    {"other-signer", no_argument, nullptr, kOtherSigner},
    {"other-key", no_argument, nullptr, kOtherKey},
    {"other-subject", no_argument, nullptr, kOtherSubject},
    {"expired", no_argument, nullptr, kExpired},
    {"forged-issued", no_argument, nullptr, kForgedIssued},
    {"not-before-days", required_argument, nullptr, kNotBeforeDays},
    {"delay-ms", required_argument, nullptr, kDelayMs},
    {"only-for", required_argument, nullptr, kOnlyFor},
    {"help", no_argument, nullptr, kHelp},
    {"promote-next-ca", no_argument, nullptr, kPromoteNextCa},
    {"tls-cert", required_argument, nullptr, kTlsCert},
    {"tls-key", required_argument, nullptr, kTlsKey},
    {"other-ca", no_argument, nullptr, kOtherCa},
    {"huge-body", required_argument, nullptr, kHugeBody},
    {"never-answer", no_argument, nullptr, kNeverAnswer},
    {"drip-ms", required_argument, nullptr, kDripMs},
    {nullptr, 0, nullptr, 0},
};

bool ParseNumber(const char* text, long long min, long long max, long long* out) {  // NOLINT
  std::string s = text;
  long long v = 0;  // NOLINT(runtime/int)
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < min || v > max) {
    return false;
  }
  *out = v;
  return true;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

struct Settings {
  ResponderOptions options;
  int port = 0;
  std::string port_file;
  std::string ca_cert_out;
  std::string tls_cert;
  std::string tls_key;
  bool ipv6 = false;
};

// Parses argv into *settings. Returns -1 to go on, else the exit code.
int ParseArgs(int argc, char** argv, Settings* settings) {
  ResponderOptions& o = settings->options;
  FaultPlan& f = o.faults;
  auto number = [&](const char* name, long long min, long long max, long long* v) {  // NOLINT
    if (ParseNumber(optarg, min, max, v)) return true;
    std::fprintf(stderr, "scep_responder: --%s: '%s' is not a number in [%lld, %lld]\n", name,
                 optarg, min, max);
    return false;
  };
  long long v = 0;  // NOLINT(runtime/int)
  int c;
  while ((c = getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    switch (c) {
      case kPort:
        if (!number("port", 0, 65535, &v)) return 2;
        settings->port = static_cast<int>(v);
        break;
      case kPortFile: settings->port_file = optarg; break;
      case kIpv6: settings->ipv6 = true; break;
      case kStateDir: o.state_dir = optarg; break;
      case kCaCertOut: settings->ca_cert_out = optarg; break;
      case kLogRequests: o.request_log_path = optarg; break;
      case kCaps: {
        std::string caps = optarg;
        for (char& ch : caps) {
          if (ch == ',') ch = '\n';
        }
        o.caps = caps;
        break;
      }
      case kCaCn: o.ca_common_name = optarg; break;
      case kRa: o.ra = true; break;
      case kRaOrder: o.ra_order = SplitComma(optarg); break;
      case kNextCa: o.next_ca = true; break;
      case kReplyCipher: o.reply_cipher = optarg; break;
      case kReplyDigest: o.reply_digest = optarg; break;
      case kChallenge: o.challenge = optarg; break;
      case kRenewalChallenge: o.renewal_needs_challenge = true; break;
      case kValidDays:
        if (!number("valid-days", 1, 36500, &v)) return 2;
        o.valid_days = static_cast<int>(v);
        break;
      case kValidSeconds:
        if (!number("valid-seconds", 1, 3153600000LL, &v)) return 2;
        o.valid_seconds = v;
        break;
      case kRevoke: o.revoked_serials.push_back(optarg); break;
      case kKeyBits:
        if (!number("key-bits", 1024, 8192, &v)) return 2;
        o.key_bits = static_cast<int>(v);
        break;
      case kPendingPolls:
        if (!number("pending-polls", 0, 1000000, &v)) return 2;
        f.pending_polls = static_cast<int>(v);
        break;
      case kPendingForever: f.pending_forever = true; break;
      case kFailInfo: {
        auto fi = scepd::testing::FailInfoFromName(optarg);
        if (!fi) {
          std::fprintf(stderr, "scep_responder: --fail-info: unknown failInfo '%s'\n", optarg);
          return 2;
        }
        f.fail_info = fi;
        break;
      }
      case kFailText: f.fail_info_text = optarg; break;
      case kHttpStatus:
        if (!number("http-status", 100, 599, &v)) return 2;
        f.http_status = static_cast<int>(v);
        break;
      case kHtmlError: f.html_error = true; break;
      case kEmptyBody: f.empty_body = true; break;
      case kTruncate: f.truncate_reply = true; break;
      case kGarbage: f.garbage_reply = true; break;
      case kWrongTid: f.wrong_transaction_id = true; break;
      case kWrongNonce: f.wrong_recipient_nonce = true; break;
      case kNoNonce: f.omit_recipient_nonce = true; break;
      case kOtherSigner: f.sign_with_other_key = true; break;
      case kOtherKey: f.issue_for_other_key = true; break;
      case kOtherSubject: f.issue_for_other_subject = true; break;
      case kExpired: f.issue_expired = true; break;
      case kForgedIssued: f.issue_forged = true; break;
      case kNotBeforeDays:
        if (!number("not-before-days", 1, 3650, &v)) return 2;
        f.issue_not_before_days = static_cast<int>(v);
        break;
      case kDelayMs:
        if (!number("delay-ms", 0, 600000, &v)) return 2;
        f.delay_ms = static_cast<int>(v);
        break;
      case kOnlyFor: f.only_for = optarg; break;
      case kPromoteNextCa: o.promote_next_ca = true; break;
      case kTlsCert: settings->tls_cert = optarg; break;
      case kTlsKey: settings->tls_key = optarg; break;
      case kOtherCa: f.other_ca = true; break;
      case kHugeBody:
        if (!number("huge-body", 1, 1LL << 40, &v)) return 2;
        f.huge_body_bytes = v;
        break;
      case kNeverAnswer: f.never_answer = true; break;
      case kDripMs:
        if (!number("drip-ms", 1, 600000, &v)) return 2;
        f.drip_ms = static_cast<int>(v);
        break;
      case kHelp: std::fputs(kUsage, stdout); return 0;
      default: std::fputs(kUsage, stderr); return 2;
    }
  }
  if (settings->tls_cert.empty() != settings->tls_key.empty()) {
    std::fprintf(stderr, "scep_responder: --tls-cert and --tls-key go together\n");
    return 2;
  }
  if (optind != argc) {
    std::fprintf(stderr, "scep_responder: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  int rc = ParseArgs(argc, argv, &settings);
  if (rc >= 0) return rc;

  auto created = Responder::Create(settings.options);
  if (!created.ok()) {
    std::fprintf(stderr, "scep_responder: %s\n", created.error().message.c_str());
    return 1;
  }
  std::unique_ptr<Responder> responder = std::move(created).value();
  if (!settings.ca_cert_out.empty()) {
    auto pem = scepd::ossl::CertToPem(responder->ca_cert());
    scepd::Status st = pem.ok() ? scepd::testing::rsp::WriteFileAtomic(settings.ca_cert_out,
                                                                      *pem, 0644)
                                : scepd::Status(pem.error());
    if (!st.ok()) {
      std::fprintf(stderr, "scep_responder: %s\n", st.error().message.c_str());
      return 1;
    }
  }

  // Signals are taken by a watcher thread with sigwait, so no handler runs
  // in signal context; block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Set when stopping: handlers that hold a connection (never answer, drip)
  // let go, so the server's worker threads can be joined.
  static std::atomic<bool> stopping{false};
  std::unique_ptr<httplib::Server> server_ptr;
  if (settings.tls_cert.empty()) {
    server_ptr = std::make_unique<httplib::Server>();
  } else {
    server_ptr = std::make_unique<httplib::SSLServer>(settings.tls_cert.c_str(),
                                                      settings.tls_key.c_str());
    if (!server_ptr->is_valid()) {
      std::fprintf(stderr, "scep_responder: cannot load %s / %s\n", settings.tls_cert.c_str(),
                   settings.tls_key.c_str());
      return 1;
    }
  }
  httplib::Server& server = *server_ptr;
  server.set_payload_max_length(1 << 20);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  // Sleeps up to `ms`, in short slices; false once stopping.
  auto nap = [](int ms) {
    for (int slept = 0; slept < ms && !stopping; slept += 20) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20, ms - slept)));
    }
    return !stopping;
  };
  auto handler = [&responder, nap](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> query;
    for (const auto& [k, val] : req.params) query.emplace(k, val);
    scepd::testing::Delivery delivery;
    scepd::HttpResponse r =
        responder->Handle(req.method, req.path, query, scepd::ToBytes(req.body), &delivery);
    res.status = static_cast<int>(r.status);
    if (delivery.never_answer) {
      // Bounded: an hour at most, and over as soon as the server stops.
      nap(3600 * 1000);
      return;
    }
    if (delivery.huge_body_bytes > 0) {
      const auto total = static_cast<std::size_t>(delivery.huge_body_bytes);
      res.set_content_provider(total, r.content_type.c_str(),
                               [](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                 static const std::string chunk(64 * 1024, 'A');
                                 (void)offset;
                                 std::size_t n = std::min(length, chunk.size());
                                 return !stopping && sink.write(chunk.data(), n);
                               });
      return;
    }
    if (delivery.drip_ms > 0 && !r.body.empty()) {
      auto body = std::make_shared<std::string>(r.body.begin(), r.body.end());
      const int ms = delivery.drip_ms;
      res.set_content_provider(body->size(), r.content_type.c_str(),
                               [body, ms, nap](std::size_t offset, std::size_t,
                                               httplib::DataSink& sink) {
                                 if (!sink.write(body->data() + offset, 1)) return false;
                                 return nap(ms);
                               });
      return;
    }
    res.set_content(std::string(r.body.begin(), r.body.end()), r.content_type.c_str());
  };
  for (const char* pattern : {"/scep", "/cgi-bin/pkiclient\\.exe"}) {
    server.Get(pattern, handler);
    server.Post(pattern, handler);
  }

  const char* host = settings.ipv6 ? "::1" : "127.0.0.1";
  int port = settings.port;
  if (port == 0) {
    port = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::fprintf(stderr, "scep_responder: cannot listen on %s port %d\n", host, settings.port);
    return 1;
  }
  if (!settings.port_file.empty()) {
    auto st = scepd::testing::rsp::WriteFileAtomic(settings.port_file,
                                                   std::to_string(port) + "\n", 0644);
    if (!st.ok()) {
      std::fprintf(stderr, "scep_responder: %s\n", st.error().message.c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "scep_responder: listening on %s port %d\n", host, port);

  std::atomic<bool> listen_done{false};
  std::atomic<bool> stopped_by_signal{false};
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (listen_done) return;  // woken by main after the server ended
    stopped_by_signal = true;
    std::fprintf(stderr, "scep_responder: %s, stopping\n", strsignal(sig));
    stopping = true;
    // The signal may come before listen_after_bind has started: wait for
    // it (bounded), then stop.
    for (int i = 0; i < 500 && !server.is_running() && !listen_done; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    server.stop();
  });

  bool ok = server.listen_after_bind();
  listen_done = true;
  if (!stopped_by_signal) pthread_kill(watcher.native_handle(), SIGTERM);  // wakes sigwait
  watcher.join();
  if (stopped_by_signal) return 0;
  std::fprintf(stderr, "scep_responder: server ended unexpectedly\n");
  return ok ? 0 : 1;
}
