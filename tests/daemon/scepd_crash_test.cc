// Crashes and power loss: the real scepd SIGKILLed at every step of a first
// enrollment, a renewal and a PENDING enrollment, against the project's
// responder, micromdm's scepserver and (EST renewal) the test EST server,
// then started again; for CMP, a first enrollment against OpenSSL's mock
// and a renewal (kur) against the test CMP server that issues.
//
// tests/support/crash_shim.c, preloaded into scepd, first records the steps
// of a whole run (every file-system change, every request sent, the fork of
// the success script); then each step in turn gets a fresh copy of the same
// starting state and a run that the shim kills right before that step (and
// right after the sends and the fork, whose effect is outside the process).
// After each kill, and after a restart without the shim, the files must
// hold what docs/daemon.md promises. Rows: docs/reliability.md, "Crashes and
// power loss".

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/cert_info.h"
#include "core/ossl.h"
#include "daemon/cert_store.h"
#include "tests/cmp_server/issuing_cmp_server.h"
#include "tests/est_server/est_server.h"
#include "tests/support/built_binary.h"
#include "tests/support/cmp_server.h"
#include "tests/support/process.h"
#include "tests/support/reliability_doc.h"
#include "tests/support/responder_process.h"
#include "tests/support/scep_server.h"
#include "tests/support/scepd_conf.h"
#include "tests/support/test_pki.h"

namespace scepd::testing {
namespace {

const std::string kScepd = BuiltBinary("daemon/scepd");
constexpr int kKilledBySigkill = 128 + SIGKILL;

// ---- the shim and its step log ----------------------------------------------

// Environment that loads the shim into scepd: for the target program, not
// for the emulator that runs it in a cross build; ASan must not insist on
// being first in the library list.
std::vector<std::string> ShimEnv(const std::vector<std::string>& settings) {
  std::vector<std::string> env = settings;
  if (RunningUnderEmulator()) {
    env.push_back(std::string("QEMU_SET_ENV=LD_PRELOAD=") + SCEPD_CRASH_SHIM);
  } else {
    env.push_back(std::string("LD_PRELOAD=") + SCEPD_CRASH_SHIM);
  }
  const char* asan = std::getenv("ASAN_OPTIONS");
  env.push_back(std::string("ASAN_OPTIONS=") + (asan ? std::string(asan) + ":" : "") +
                "verify_asan_link_order=0");
  return env;
}

struct Step {
  long n = 0;  // NOLINT(runtime/int)
  std::string op;
  std::string path;    // for send: the HTTP request line
  std::string target;  // rename/link: destination; symlink: the link's content
  bool failed = false;  // the call failed (EEXIST, ENOENT...): nothing changed
};

std::vector<Step> ParseSteps(const std::string& text) {
  std::vector<Step> steps;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    Step s;
    words >> s.n >> s.op;
    if (s.op == "failed") {
      if (!steps.empty() && steps.back().n == s.n) steps.back().failed = true;
      continue;
    }
    std::string rest;
    std::getline(words, rest);
    if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    auto arrow = rest.find(" -> ");
    s.path = arrow == std::string::npos ? rest : rest.substr(0, arrow);
    if (arrow != std::string::npos) s.target = rest.substr(arrow + 4);
    steps.push_back(s);
  }
  return steps;
}

// "data/.02.key.tmp.PID" for "<root>/data/.02.key.tmp.12345"; "." for the
// run directory itself, "(parent)" for the directories above it.
std::string Short(std::string path, const std::string& root) {
  if (path == root) return ".";
  if (root.rfind(path + "/", 0) == 0) return "(parent)";
  if (path.rfind(root + "/", 0) == 0) path.erase(0, root.size() + 1);
  auto tmp = path.find(".tmp.");
  if (tmp != std::string::npos) path = path.substr(0, tmp + 5) + "PID";
  // Serials differ between runs (one CA serves them all): "data/SERIAL.key".
  auto slash = path.rfind('/');
  std::size_t name = slash == std::string::npos ? 0 : slash + 1;
  if (name < path.size() && path[name] == '.') ++name;
  std::size_t end = name;
  while (end < path.size() && std::isxdigit(static_cast<unsigned char>(path[end])) &&
         !std::islower(static_cast<unsigned char>(path[end]))) {
    ++end;
  }
  if (end > name && (path.compare(end, 4, ".key") == 0 || path.compare(end, 4, ".crt") == 0)) {
    path.replace(name, end - name, "SERIAL");
  }
  return path;
}

std::string Describe(const Step& s, const std::string& root) {
  std::string text = s.op + " " + Short(s.path, root);
  if (!s.target.empty()) text += " -> " + Short(s.target, root);
  return text;
}

std::string Parent(const std::string& path) { return path.substr(0, path.rfind('/')); }

// ReplaceLink's temporary link (".latest.crt.tmp.PID"), removed before it is made.
bool IsTempLink(const std::string& path) { return path.find(".tmp.") != std::string::npos; }

bool IsUnder(const std::string& path, const std::string& dir) {
  return path == dir || path.rfind(dir + "/", 0) == 0;
}

// ---- files ---------------------------------------------------------------------



bool IsRegular(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  return names;
}

// Temporary files (".<name>.tmp.<pid>") anywhere scepd writes.
std::vector<std::string> TempFiles(const std::string& data, const std::string& run) {
  std::vector<std::string> found;
  for (const std::string& dir : {data, data + "/.pending", run}) {
    for (const std::string& name : Names(dir)) {
      if (name.find(".tmp.") != std::string::npos) found.push_back(dir + "/" + name);
    }
  }
  return found;
}

ossl::Ptr<X509> LoadCert(const std::string& path) {
  auto text = TryReadFile(path);
  if (!text) return nullptr;
  auto cert = ossl::CertFromPem(*text, path);
  return cert.ok() ? std::move(*cert) : nullptr;
}

ossl::Ptr<EVP_PKEY> LoadKey(const std::string& path) {
  auto text = TryReadFile(path);
  if (!text) return nullptr;
  auto key = ossl::PrivateKeyFromPem(*text, path);
  return key.ok() ? std::move(*key) : nullptr;
}

bool IssuedBy(X509* cert, X509* ca) {
  return cert != nullptr && ca != nullptr && X509_verify(cert, X509_get0_pubkey(ca)) == 1;
}

// Lines of a scepd log that say what a restart did, for the observations.
std::string Interesting(const std::string& log) {
  static const char* kWords[] = {"resuming transaction", "installed", "stored before",
                                 "generating a",         "sending ",  "valid:",
                                 "made ahead of time"};
  std::string out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    for (const char* w : kWords) {
      if (line.find(w) != std::string::npos) {
        out += "  " + line + "\n";
        break;
      }
    }
  }
  return out;
}

// ---- power cuts ------------------------------------------------------------------

// A SIGKILL loses nothing the kernel already has; a power cut loses what
// was not synced, and keeps unsynced directory changes in any order. So the
// recorded steps must show, for data_dir and .pending, the write order of
// docs/daemon.md ("Write order"):
// - every renamed file synced after its last write and before the rename
//   (except .next.key, a cache that is checked when read);
// - every rename followed by a sync of its directory before the commit
//   point (the rename onto latest.crt) and before the next request, script
//   or exit; several renames may share one sync;
// - the switch of latest.crt and latest.key synced before anything in
//   data_dir is removed, and before the next request, script or exit;
// - every other change of a directory (unlink, symlink, mkdir) synced before
//   the next request or script or the end, except two removals whose
//   undoing is harmless: .next.key's, which must be synced before
//   .pending/state (which holds that key) is removed, and .pending/state's
//   once latest.crt names its certificate (a restart finishes it again).
// Returns what was checked; problems go to *problems.
std::string AuditDurability(const std::vector<Step>& steps, const std::string& data,
                            const std::string& root, std::vector<std::string>* problems) {
  int renames = 0, changes = 0;
  const std::string latest_crt = data + "/latest.crt", latest_key = data + "/latest.key";
  const std::string next_key = data + "/.next.key", state = data + "/.pending/state";
  // Whether `dir` is synced after step `from` before the end, a step `stop`
  // says stops the search and (`going_on`) a request or a script.
  auto synced = [&](std::size_t from, const std::string& dir,
                    const std::function<bool(const Step&)>& stop, bool going_on = true) {
    for (std::size_t j = from + 1; j < steps.size(); ++j) {
      const Step& s = steps[j];
      if (s.op == "fsync" && s.path == dir) return true;
      if ((going_on && (s.op == "send" || s.op == "fork")) || (!s.failed && stop(s))) {
        return false;
      }
    }
    return false;
  };
  auto never = [](const Step&) { return false; };
  bool committed = false;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    const std::string& changed = s.op == "rename" ? s.target : s.path;
    if (s.failed || !IsUnder(changed, data)) continue;
    if (s.op == "rename") {
      ++renames;
      if (s.target == next_key) continue;  // a cache
      std::size_t last_write = steps.size(), last_sync = steps.size();
      for (std::size_t j = 0; j < i; ++j) {
        if (steps[j].path != s.path) continue;
        if (steps[j].op == "write") last_write = j;
        if (steps[j].op == "fsync") last_sync = j;
      }
      if (last_write != steps.size() && (last_sync == steps.size() || last_sync < last_write)) {
        problems->push_back(Describe(s, root) + ": the file was not synced before the rename");
      }
      const bool link = s.target == latest_crt || s.target == latest_key;
      committed = committed || s.target == latest_crt;
      auto stop = [&](const Step& t) {
        return link ? t.op == "unlink" && Parent(t.path) == data && !IsTempLink(t.path)
                    : t.op == "rename" && t.target == latest_crt;
      };
      if (!synced(i, Parent(s.target), stop)) {
        problems->push_back(Describe(s, root) + (link ? ": the switch is not synced before "
                                                        "anything is removed or the run goes on"
                                                      : ": the directory is not synced before "
                                                        "the commit point or going on"));
      }
    } else if (s.op == "unlink" || s.op == "symlink" || s.op == "mkdir" || s.op == "link" ||
               s.op == "rmdir") {
      ++changes;
      if (s.op == "unlink" && s.path == next_key) {
        auto state_removed = [&](const Step& t) { return t.op == "unlink" && t.path == state; };
        bool removed_later = false;
        for (std::size_t j = i + 1; j < steps.size(); ++j) removed_later |= state_removed(steps[j]);
        if (removed_later && !synced(i, data, state_removed, /*going_on=*/false)) {
          problems->push_back(Describe(s, root) +
                              ": not synced before the pending file holding its key is removed");
        }
        continue;
      }
      if (s.op == "unlink" && s.path == state && committed) continue;
      if (!synced(i, Parent(s.path), never)) {
        problems->push_back(Describe(s, root) + ": the directory is never synced afterwards");
      }
    }
  }
  return std::to_string(renames) + " renames and " + std::to_string(changes) +
         " other directory changes in data_dir checked: every rename after an fsync of the "
         "file (but .next.key's) and followed by an fsync of the directory before the commit "
         "point, the links' switch synced before anything is removed, every other change "
         "synced before the next request, script or exit (but the removals of .next.key and, "
         "once installed, of .pending/state)\n";
}

// ---- the matrix -------------------------------------------------------------------

// What a kill point is between: the phases of docs/reliability.md.
const char* const kPhases[] = {"crash.before-request", "crash.request-saved",
                               "crash.request-sent",   "crash.writing-files",
                               "crash.between-links",  "crash.after-commit",
                               "crash.success-script"};

struct Ca {
  Ca(std::string url_, std::string cert_path_, const ResponderProcess* responder_ = nullptr)
      : url(std::move(url_)), cert_path(std::move(cert_path_)), responder(responder_) {}

  std::string url;
  std::string cert_path;
  const ResponderProcess* responder = nullptr;  // its request log shows transaction IDs
  // Another protocol than SCEP: more [certificate] lines (protocol = est or
  // cmp and its credentials) and no challenge password...
  std::string extra_lines;
  std::string challenge = "secret";
  // ...the request line of the enrollment request, as the shim logs it;
  // empty over TLS, where the shim sees only records: then the first send
  // after the request was saved...
  std::string request_marker = "PKIOperation";
  // ...the key: 1024-bit RSA keeps the matrices fast; a TLS client
  // certificate (EST renewal) needs 2048 at OpenSSL's default security
  // level...
  std::string key_lines = "key_size = 1024\n";
  // ...and the key every run directory starts with as data/.next.key (a CA
  // that answers with a fixed certificate needs its key), "" for none.
  std::string next_key_pem;
};

struct KillPoint {
  std::size_t index;  // into the recorded steps
  bool after;
};

class CrashMatrix {
 public:
  CrashMatrix(const std::string& root, Ca ca, bool renewal)
      : root_(root), ca_(std::move(ca)), renewal_(renewal) {}

  // The config of one run directory; renewal runs want a renewal now.
  void WriteConfig(const std::string& dir, int renew_days) const {
    const std::string log = dir + "/script.log";
    ScepdConf c;
    c.data_dir = dir + "/data";
    c.run_dir = dir + "/run";
    c.url = ca_.url;
    c.challenge = ca_.challenge;
    c.certificate_lines = ca_.extra_lines + ca_.key_lines +
              "await_result = 1\n"
              "renew_days = " + std::to_string(renew_days) + "\n"
              "success_script = echo \"start $SCEP_EVENT $SCEP_SERIAL\" >> " + log +
              "; if [ -e " + dir + "/kill-scepd ]; then rm -f " + dir +
              "/kill-scepd; kill -KILL $PPID; exit 0; fi; echo \"done $SCEP_EVENT $SCEP_SERIAL\" >> " +
              log + "\n"
              "failure_script = echo \"failed $SCEP_ERROR\" >> " + log + "\n";
    WriteScepdConf(dir + "/scepd.conf", c);
  }

  // A run directory in its starting state: empty, or (renewal) a copy of a
  // data_dir holding one enrolled pair.
  std::string NewRunDir(const std::string& name) {
    const std::string dir = root_ + "/" + name;
    EXPECT_EQ(::mkdir(dir.c_str(), 0700), 0) << dir;
    if (renewal_) {
      if (base_.empty()) {
        base_ = root_ + "/base";
        EXPECT_EQ(::mkdir(base_.c_str(), 0700), 0);
        WriteConfig(base_, 30);
        auto r = RunProcess({kScepd, "-c", base_ + "/scepd.conf", "--once"}, {}, 240000);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        base_serial_ = LinkTarget(base_ + "/data/latest.crt");
        base_serial_ = base_serial_.substr(0, base_serial_.find('.'));
      }
      auto cp = RunProcess({"cp", "-a", base_ + "/data", dir + "/data"});
      EXPECT_EQ(cp.exit_code, 0) << cp.err;
    }
    WriteConfig(dir, renewal_ ? 400 : 30);
    if (!ca_.next_key_pem.empty()) {
      ::mkdir((dir + "/data").c_str(), 0700);
      WriteFile(dir + "/data/.next.key", ca_.next_key_pem, 0600);
    }
    return dir;
  }

  // A whole run with the shim logging: the steps to kill at.
  void Record() {
    const std::string dir = NewRunDir("record");
    auto r = RunProcess({kScepd, "-c", dir + "/scepd.conf", "--once"},
                        ShimEnv({"SCEPD_CRASH_LOG=" + dir + "/steps.log"}), 240000);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    steps_ = ParseSteps(ReadFile(dir + "/steps.log"));
    record_dir_ = dir;
    ASSERT_FALSE(steps_.empty()) << "the shim logged nothing: was it preloaded?";
    const std::string data = dir + "/data";
    auto find = [&](const std::function<bool(const Step&)>& pred, std::size_t from = 0) {
      for (std::size_t i = from; i < steps_.size(); ++i) {
        if (pred(steps_[i])) return i;
      }
      ADD_FAILURE() << "a landmark is missing from the recorded steps:\n" << Listing();
      return steps_.size();
    };
    landmarks_.clear();
    landmarks_.push_back(find([&](const Step& s) { return IsUnder(s.path, data + "/.pending"); }));
    const std::string& marker = ca_.request_marker;
    landmarks_.push_back(find(
        [&](const Step& s) {
          return s.op == "send" && (marker.empty() || s.path.find(marker) != std::string::npos);
        },
        landmarks_[0]));
    // The first new file of the installation (ca.crt-0, or the key when
    // the chain is unchanged).
    landmarks_.push_back(find(
        [&](const Step& s) { return s.op == "open" && Parent(s.path) == data; }, landmarks_[1]));
    landmarks_.push_back(find([&](const Step& s) {
      return s.op == "rename" && s.target == data + "/latest.crt";
    }));
    landmarks_.push_back(find([&](const Step& s) {
      return s.op == "rename" && s.target == data + "/latest.key";
    }));
    landmarks_.push_back(find([](const Step& s) { return s.op == "fork"; }));
  }

  std::string Listing() const {
    std::string out;
    for (const Step& s : steps_) {
      out += std::to_string(s.n) + " " + Describe(s, record_dir_) + "\n";
    }
    return out;
  }

  // Every step, before it; after the sends and the fork too. Left out, as
  // they would find the same files as another point: a kill before a step
  // that follows an fsync or a call that failed (same as before that
  // call); in run_dir, where
  // only the status files live, one point per file: before its first
  // rename, with the temporary file complete.
  std::vector<KillPoint> KillPoints() const {
    std::vector<KillPoint> points;
    const std::string run = record_dir_ + "/run";
    std::set<std::string> renamed_in_run;
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      const Step& s = steps_[i];
      const Step* prev = i > 0 ? &steps_[i - 1] : nullptr;
      bool same = prev && (prev->op == "fsync" || prev->failed);
      // A temporary file or link is removed (a no-op) before it is made,
      // and a new temporary file is chmod-ed before anything is in it.
      same = same || (prev && prev->op == "unlink" && prev->path == s.path);
      same = same || (s.op == "chmod" && s.path.find(".tmp.") != std::string::npos);
      if (IsUnder(s.path, run)) {
        same = s.op != "rename" || !renamed_in_run.insert(s.target).second;
      }
      if (i == 0 || !same) points.push_back({i, false});
      if (steps_[i].op == "send" || steps_[i].op == "fork") points.push_back({i, true});
    }
    return points;
  }

  std::string PhaseOf(const KillPoint& p) const {
    // Position between steps: before i = i - 0.5, after i = i + 0.5 (doubled).
    const std::size_t pos = 2 * p.index + (p.after ? 1 : 0);
    std::size_t phase = 0;
    while (phase < landmarks_.size() && pos >= 2 * landmarks_[phase]) ++phase;
    return kPhases[phase];
  }

  // Kills scepd at `p`, checks the files, restarts it, checks again. Adds
  // what happened to observed_[phase].
  void Try(const KillPoint& p, int number) {
    const Step& step = steps_[p.index];
    const std::string dir = NewRunDir("k" + std::to_string(number));
    const std::string data = dir + "/data", run = dir + "/run";
    const std::string what = std::string(p.after ? "after " : "before ") +
                             Describe(step, record_dir_) + " (step " + std::to_string(step.n) +
                             ")";
    SCOPED_TRACE(what);
    auto killed = RunProcess(
        {kScepd, "-c", dir + "/scepd.conf", "--once"},
        ShimEnv({"SCEPD_CRASH_LOG=" + dir + "/steps.log", "SCEPD_CRASH_AT=" + std::to_string(step.n),
                 std::string("SCEPD_CRASH_WHEN=") + (p.after ? "after" : "before")}),
        240000);
    ASSERT_EQ(killed.exit_code, kKilledBySigkill) << killed.err;
    auto run_steps = ParseSteps(ReadFile(dir + "/steps.log"));
    ASSERT_FALSE(run_steps.empty());
    ASSERT_EQ(Describe(run_steps.back(), dir), Describe(step, record_dir_))
        << "the killed run took other steps than the recorded one";

    // Right after the kill: what any reader of latest.* finds.
    auto ca_cert = LoadCert(ca_.cert_path);
    ASSERT_TRUE(ca_cert);
    CertStore store(data);
    auto active = store.LoadActive();
    ASSERT_TRUE(active.ok()) << active.error().message;
    if (active->has_value()) {
      const std::string serial = (*active)->serial;
      EXPECT_TRUE(IssuedBy((*active)->cert.get(), ca_cert.get())) << serial;
    } else {
      EXPECT_FALSE(renewal_) << "the enrolled pair vanished";
    }
    for (const std::string& name : Names(data)) {
      if (name.find(".key") != std::string::npos && IsRegular(data + "/" + name)) {
        EXPECT_EQ(Mode(data + "/" + name), 0600u) << name << " is not private";
      }
    }
    auto pending = store.LoadPending();
    ASSERT_TRUE(pending.ok()) << pending.error().message;
    std::string tid;
    ossl::Ptr<EVP_PKEY> pending_key;
    if (pending->has_value()) {
      tid = (*pending)->transaction_id;
      auto k = ossl::PrivateKeyFromPem((*pending)->key_pem, "pending key");
      ASSERT_TRUE(k.ok());
      pending_key = std::move(*k);
      EXPECT_EQ(Mode(data + "/.pending/state"), 0600u);
    }
    // The CA's answer already on disk: the restart must not ask again.
    bool issued_on_disk = false;
    for (const std::string& name : Names(data)) {
      if (!pending_key || name.size() < 5 || name.compare(name.size() - 4, 4, ".crt") != 0 ||
          name[0] == '.' || !IsRegular(data + "/" + name)) {
        continue;
      }
      auto c = LoadCert(data + "/" + name);
      issued_on_disk = issued_on_disk || (c && KeyMatchesCert(c.get(), pending_key.get()));
    }
    const int requests_before =
        ca_.responder ? ca_.responder->CountRequests("\"operation\":\"PKIOperation\"") : 0;

    // The restart, as procd or a reboot would do it.
    auto again = RunProcess({kScepd, "-c", dir + "/scepd.conf", "--once"}, {}, 240000);
    EXPECT_EQ(again.exit_code, 0) << again.err;
    const std::string crt = LinkTarget(data + "/latest.crt");
    const std::string key = LinkTarget(data + "/latest.key");
    ASSERT_FALSE(crt.empty()) << again.err;
    const std::string serial = crt.substr(0, crt.find('.'));
    EXPECT_EQ(crt, serial + ".crt");
    EXPECT_EQ(key, serial + ".key");
    auto cert = LoadCert(data + "/" + crt);
    auto cert_key = LoadKey(data + "/" + key);
    ASSERT_TRUE(cert && cert_key);
    EXPECT_TRUE(KeyMatchesCert(cert.get(), cert_key.get()));
    EXPECT_TRUE(IssuedBy(cert.get(), ca_cert.get()));
    auto not_after = NotAfter(cert.get());
    EXPECT_TRUE(not_after.ok() && *not_after > std::time(nullptr));
    EXPECT_EQ(Mode(data + "/" + key), 0600u);
    if (renewal_) {
      EXPECT_NE(serial, base_serial_) << "not renewed";
    }
    EXPECT_EQ(TempFiles(data, run), std::vector<std::string>());
    EXPECT_FALSE(PathExists(data + "/.pending/state"));
    std::string resumed;
    if (pending_key) {
      // Transaction IDs derive from the key: the same key, the same transaction.
      EXPECT_TRUE(KeyMatchesCert(cert.get(), pending_key.get()))
          << "transaction " << tid << " was not the one completed";
      resumed = "same key and transaction ID";
      if (ca_.responder) {
        auto log = ReadFile(ca_.responder->request_log_path());
        std::istringstream lines(log);
        std::string line;
        int seen = 0, other = 0;
        while (std::getline(lines, line)) {
          if (line.find("\"operation\":\"PKIOperation\"") == std::string::npos) continue;
          if (seen++ < requests_before) continue;
          if (line.find("\"transactionId\":\"" + tid + "\"") == std::string::npos) ++other;
        }
        EXPECT_EQ(other, 0) << "the restart sent another transaction than " << tid;
        if (issued_on_disk) {
          EXPECT_EQ(seen, requests_before) << "asked the CA again for a certificate on disk";
        }
        resumed += ", " + std::to_string(seen - requests_before) + " request(s) after the restart";
      }
    }
    const std::string event = renewal_ ? "renewed" : "enrolled";
    std::string script_log = TryReadFile(dir + "/script.log").value_or("");
    EXPECT_NE(script_log.find("done " + event + " " + serial + "\n"), std::string::npos)
        << "the success script never completed for " << serial << ":\n" << script_log;
    EXPECT_EQ(ReadFile(run + "/status"),
              "Module scepClient not running\nCertificate enrolled " + serial + "\n");

    observed_[PhaseOf(p)] += what + ": killed; restart exit " + std::to_string(again.exit_code) +
                             ", latest.crt -> " + crt + " with latest.key -> " + key +
                             (resumed.empty() ? "" : ", " + resumed) + "\n" +
                             Interesting(again.err) + script_log;
    ++tried_;
    if (!::testing::Test::HasFailure()) RemoveTree(dir);
  }

  // Every kill point, under the emulator too (the rows of
  // docs/reliability.md quote what particular points show); returns how
  // many were tried.
  int TryAll() {
    int number = 0;
    for (const KillPoint& p : KillPoints()) {
      ++number;
      Try(p, number);
      if (::testing::Test::HasFatalFailure()) break;
    }
    return tried_;
  }

  const std::vector<Step>& steps() const { return steps_; }
  const std::string& record_dir() const { return record_dir_; }
  const std::map<std::string, std::string>& observed() const { return observed_; }

 private:
  std::string root_;
  Ca ca_;
  bool renewal_;
  std::string base_, base_serial_;
  std::string record_dir_;
  std::vector<Step> steps_;
  std::vector<std::size_t> landmarks_;
  std::map<std::string, std::string> observed_;
  int tried_ = 0;
};

class ScepdCrashTest : public ::testing::Test {
 protected:
  // Runs the matrix and checks the phase rows against what was seen.
  // `phase_rows`: the crash.* rows quote SCEP runs (other protocols check
  // only their matrix row).
  // `fsyncs`: how many the recorded run must make (-1: not checked).
  void RunMatrix(const Ca& ca, bool renewal, const std::string& row, bool phase_rows = true,
                 int fsyncs = -1) {
    CrashMatrix m(dir_.path() + (renewal ? "/renew" : "/enroll"), ca, renewal);
    ASSERT_EQ(::mkdir((dir_.path() + (renewal ? "/renew" : "/enroll")).c_str(), 0700), 0);
    m.Record();
    if (HasFatalFailure()) return;
    std::vector<std::string> problems;
    std::string audit =
        AuditDurability(m.steps(), m.record_dir() + "/data", m.record_dir(), &problems);
    for (const std::string& p : problems) ADD_FAILURE() << "power cut: " << p;
    if (problems.empty() && phase_rows) ExpectReliabilityRow("crash.power-cut-order", audit);
    if (fsyncs >= 0) {
      int made = 0;
      for (const Step& s : m.steps()) made += s.op == "fsync" && !s.failed ? 1 : 0;
      EXPECT_EQ(made, fsyncs) << "fsyncs of the recorded run (docs/daemon.md, \"Write order\")\n"
                              << m.Listing();
    }
    int tried = m.TryAll();
    std::string all;
    for (const auto& [phase, text] : m.observed()) {
      if (phase_rows) ExpectReliabilityRow(phase, text);
      all += text;
    }
    for (const char* phase : kPhases) {
      EXPECT_EQ(m.observed().count(phase), 1u) << "no kill point in " << phase << "\n"
                                               << m.Listing();
    }
    ExpectReliabilityRow(row, "steps recorded: " + std::to_string(m.steps().size()) +
                                  ", kill points tried: " + std::to_string(tried) + "\n" +
                                  m.Listing() + all);
    std::printf("[ crash    ] %s: %zu steps, %d kill points\n", row.c_str(), m.steps().size(),
                tried);
  }

  TempDir dir_{"scepd-crash-"};
};

TEST_F(ScepdCrashTest, ResponderFirstEnrollmentSurvivesAKillAtEveryStep) {
  ResponderProcess ca;
  ASSERT_TRUE(ca.Start({"--key-bits", "1024"}));
  RunMatrix({ca.url(), ca.ca_cert_path(), &ca}, false, "crash.matrix.responder-enroll");
}

TEST_F(ScepdCrashTest, ResponderRenewalSurvivesAKillAtEveryStep) {
  ResponderProcess ca;
  ASSERT_TRUE(ca.Start({"--key-bits", "1024"}));
  // A renewal with the chain unchanged and nothing pruned: 6 fsyncs
  // (docs/daemon.md, "Write order"); the child that makes the next key
  // syncs nothing.
  RunMatrix({ca.url(), ca.ca_cert_path(), &ca}, true, "crash.matrix.responder-renew", true, 6);
}

TEST_F(ScepdCrashTest, ResponderPendingEnrollmentSurvivesAKillAtEveryStep) {
  ResponderProcess ca;
  // PENDING once, then the first CertPoll (1 s later) is answered SUCCESS.
  ASSERT_TRUE(ca.Start({"--key-bits", "1024", "--pending-polls", "0"}));
  RunMatrix({ca.url(), ca.ca_cert_path(), &ca}, false, "crash.matrix.responder-pending");
}

TEST_F(ScepdCrashTest, MicromdmFirstEnrollmentSurvivesAKillAtEveryStep) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  RunMatrix({ca.url(), ca.ca_cert_path(), nullptr}, false, "crash.matrix.micromdm-enroll");
}

TEST_F(ScepdCrashTest, MicromdmRenewalSurvivesAKillAtEveryStep) {
  ScepServer ca;
  ASSERT_TRUE(ca.Start());
  RunMatrix({ca.url(), ca.ca_cert_path(), nullptr}, true, "crash.matrix.micromdm-renew");
}

// EST (RFC 7030) renewal: /simplereenroll over TLS with the current pair as
// client certificate, against the test EST server.
TEST_F(ScepdCrashTest, EstRenewalSurvivesAKillAtEveryStep) {
  EstServer est;
  ASSERT_TRUE(est.ok());
  const std::string ca_file = dir_.File("est-ca.pem");
  WriteFile(ca_file, est.ca_pem());
  WriteFile(dir_.File("est-tls-ca.pem"), est.tls_ca_pem());
  WriteFile(dir_.File("est-password"), "estpass\n", 0600);
  Ca ca{est.url(), ca_file};
  ca.extra_lines = "protocol = est\ntls_ca_file = " + dir_.File("est-tls-ca.pem") +
                   "\nest_username = estuser\nest_password_file = " + dir_.File("est-password") +
                   "\n";
  ca.request_marker = "";
  ca.key_lines = "key_size = 2048\n";
  RunMatrix(ca, true, "crash.matrix.est-renew");
  EXPECT_GE(est.reenrollments(), 1);
}

// protocol = cmp: an ir with PBM against OpenSSL's own CMP server, which
// answers every request with the same certificate (for the key each run
// directory starts with as the key made ahead). The renewal (kur) runs
// against the test server that issues (CmpRenewal... below): the mock
// answers a kur only with the old certificate's serial number, which a
// real CA never reuses.
TEST_F(ScepdCrashTest, CmpFirstEnrollmentSurvivesAKillAtEveryStep) {
  auto ca = MakeTestCa("/CN=Test CA");
  auto key = CachedKey(5, 1024);
  CertSpec spec;
  spec.subject = "/O=scepd test/CN=router-A1B2";
  spec.serial = 0x1C;
  spec.not_after = std::time(nullptr) + 60 * 86400;
  auto cert = MakeCert(spec, key.get(), ca.cert.get(), ca.key.get());
  WriteFile(dir_.File("ca.crt"), *ossl::CertToPem(ca.cert.get()));
  WriteFile(dir_.File("ee.crt"), *ossl::CertToPem(cert.get()));
  OpenSslCmpServer server(dir_.path());
  std::string error;
  ASSERT_TRUE(server.Start({"-srv_ref", "62154", "-srv_secret", "pass:crash-secret", "-rsp_cert",
                            "ee.crt", "-rsp_capubs", "ca.crt", "-grant_implicitconf"},
                           &error))
      << error;
  Ca cmp{server.url(), dir_.File("ca.crt"), nullptr};
  cmp.extra_lines = "protocol = cmp\ncmp_reference = 62154\ncmp_secret = crash-secret\n";
  cmp.challenge = "";
  cmp.request_marker = "/pkix/";
  cmp.next_key_pem = *ossl::PrivateKeyToPem(key.get());
  RunMatrix(cmp, false, "crash.matrix.cmp-enroll", false);
}

// protocol = cmp renewal: a kur signed with the current pair, for the key
// made ahead of time, against the test CMP server that really issues
// (tests/cmp_server). Its certificates live a day, so the run that enrolls
// the starting pair (an ir with PBM) also makes the next key ahead, and
// every run directory starts with it.
TEST_F(ScepdCrashTest, CmpRenewalSurvivesAKillAtEveryStep) {
  IssuingCmpServer server;
  ASSERT_TRUE(server.ok());
  const std::string ca_file = dir_.File("cmp-ca.pem");
  WriteFile(ca_file, server.ca_pem());
  Ca cmp{server.url(), ca_file};
  // The settings could enroll anew: a refused kur would fall back to an ir.
  cmp.extra_lines = "protocol = cmp\ncmp_reference = 62154\ncmp_secret = cmp-test-secret\n";
  cmp.challenge = "";
  cmp.request_marker = "/pkix/";
  RunMatrix(cmp, true, "crash.matrix.cmp-renew");
  // Every renewal was a kur: the only ir is the starting pair's.
  EXPECT_EQ(server.count("ir"), 1) << server.log();
  EXPECT_GE(server.count("kur"), 2);
}

TEST_F(ScepdCrashTest, TheSuccessScriptKillingScepdRunsAgainAfterTheRestart) {
  ResponderProcess ca;
  ASSERT_TRUE(ca.Start({"--key-bits", "1024"}));
  CrashMatrix m(dir_.path(), {ca.url(), ca.ca_cert_path(), &ca}, false);
  const std::string dir = m.NewRunDir("script");
  WriteFile(dir + "/kill-scepd", "");
  auto killed = RunProcess({kScepd, "-c", dir + "/scepd.conf", "--once"}, {}, 240000);
  ASSERT_EQ(killed.exit_code, kKilledBySigkill) << killed.err;
  const std::string crt = LinkTarget(dir + "/data/latest.crt");
  ASSERT_FALSE(crt.empty());
  const std::string serial = crt.substr(0, crt.find('.'));
  EXPECT_EQ(ReadFile(dir + "/script.log"), "start enrolled " + serial + "\n");
  EXPECT_TRUE(PathExists(dir + "/data/.pending/state")) << "forgotten before the script ran";
  const int requests = ca.CountRequests("\"operation\":\"PKIOperation\"");

  auto again = RunProcess({kScepd, "-c", dir + "/scepd.conf", "--once"}, {}, 240000);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(LinkTarget(dir + "/data/latest.crt"), crt);
  EXPECT_EQ(ReadFile(dir + "/script.log"),
            "start enrolled " + serial + "\nstart enrolled " + serial + "\ndone enrolled " +
                serial + "\n");
  EXPECT_EQ(ca.CountRequests("\"operation\":\"PKIOperation\""), requests)
      << "the CA was asked again";
  EXPECT_FALSE(PathExists(dir + "/data/.pending/state"));
  ExpectReliabilityRow("crash.script-kills-scepd",
                       killed.err + again.err + ReadFile(dir + "/script.log"));
}

TEST_F(ScepdCrashTest, TemporaryFilesLeftByACrashAreRemovedAtTheNextStart) {
  ResponderProcess ca;
  ASSERT_TRUE(ca.Start({"--key-bits", "1024"}));
  CrashMatrix m(dir_.path(), {ca.url(), ca.ca_cert_path(), &ca}, false);
  const std::string dir = m.NewRunDir("temps");
  const std::string data = dir + "/data", run = dir + "/run";
  // What a crash in the middle of each kind of write leaves, from a
  // process that is gone (no such pid), and a status file that a live
  // process (this test, standing in for a daemon beside `scepd --once`)
  // is still writing.
  const std::string dead = "2147483646";
  const std::string live = std::to_string(::getpid());
  ASSERT_EQ(::mkdir(data.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((data + "/.pending").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(run.c_str(), 0755), 0);
  const std::vector<std::string> stale = {
      data + "/.0A.key.tmp." + dead,  data + "/.0A.crt.tmp." + dead,
      data + "/.ca.crt-0.tmp." + dead, data + "/.pending/.state.tmp." + dead,
      run + "/.status.tmp." + dead,   run + "/.status.json.tmp." + dead};
  for (const std::string& path : stale) WriteFile(path, "half a file", 0600);
  ASSERT_EQ(::symlink("0A.crt", (data + "/.latest.crt.tmp." + dead).c_str()), 0);
  WriteFile(run + "/.status.tmp." + live, "being written", 0644);

  auto r = RunProcess({kScepd, "-c", dir + "/scepd.conf", "--once"}, {}, 240000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string observed;
  for (const std::string& path : stale) {
    EXPECT_FALSE(PathExists(path)) << path;
    observed += Short(path, dir) + (PathExists(path) ? " kept\n" : " removed\n");
  }
  EXPECT_FALSE(PathExists(data + "/.latest.crt.tmp." + dead));
  EXPECT_TRUE(PathExists(run + "/.status.tmp." + live)) << "a live writer's file was removed";
  observed += "the temporary status file of a running process kept\n";
  EXPECT_EQ(TempFiles(data, run), std::vector<std::string>{run + "/.status.tmp." + live});
  ExpectReliabilityRow("crash.temp-files", observed);
}

}  // namespace
}  // namespace scepd::testing
