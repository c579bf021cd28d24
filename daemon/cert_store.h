#pragma once
// The certificate store: one data directory (default /var/data/scepClient)
// in the layout the router's web UI, scripts and users rely on:
//
//   <SERIAL>.key   private key, PKCS#8 PEM, mode 0600
//   <SERIAL>.crt   certificate, PEM, mode 0644
//   ca.crt-0 ...   the CA chain, one PEM certificate per file, CA first
//   latest.crt     relative symlink "<SERIAL>.crt" to the active certificate
//   latest.key     relative symlink "<SERIAL>.key" to its key
//   ca.fingerprint the trusted CA: "sha256:AB:CD:..." of ca.crt-0, written
//                  with the chain (trust on first use)
//   ca-next.crt    the CA's successor from GetNextCACert, verified by the
//                  trusted CA, until it has become the trusted CA
//   .pending/state an enrollment in progress (key=value text, mode 0600)
//
// SERIAL is the serial as `openssl x509 -serial -noout` prints it.
//
// Crash safety (docs/daemon.md, "Write order"). Every file is written by
// temporary file + fsync + rename, every link by creating a temporary link
// and renaming it over the old one. Install syncs the directory twice: once
// after all new files are renamed into place (before the commit point), once
// after both links are switched. It switches latest.crt FIRST: that rename
// is the commit point of an installation. latest.key is switched right
// after. A crash between the two leaves latest.crt on the new
// certificate and latest.key on the old key (or absent, on a first install);
// LoadActive resolves that window by taking the key file named after the
// certificate's serial when it matches, and Prepare (at start-up) re-points
// latest.key. So after a crash at any step LoadActive yields a matching pair:
// the old one before the commit point, the new one after it. Nothing a link
// names is removed until both links are durably on the new pair, and the
// active pair never is.
//
// One exception: a CA that reissues the ACTIVE serial with a different key
// (never seen; serials are unique per CA) is installed over the same two
// files, and a crash between them leaves a mismatch that LoadActive reports,
// so the daemon enrolls again.
//
// Call Prepare before anything else. Not thread-safe; one process (the
// daemon) writes a given directory.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/cert_summary.h"
#include "core/ossl.h"
#include "core/result.h"

namespace scepd {

// What an enrollment in progress needs to resume after a restart, for any
// protocol (docs/daemon.md, "The pending file"). The protocol's own state is
// the back end's cookie (core/enroll/outcome.h), stored as it is.
struct PendingTransaction {
  std::string protocol = "scep";  // the back end that made it
  std::string transaction_id;     // the back end's name for it (logs, status)
  std::string key_pem;            // the NEW private key (secret: 0600 on disk)
  std::string csr_pem;            // the PKCS#10 request for it
  bool renewal = false;           // authenticated with the current latest.crt/latest.key
  std::int64_t started = 0;       // first submission (seconds since epoch)
  int polls = 0;                  // PENDING answers so far; 0: never acknowledged
  std::map<std::string, std::string> cookie;  // the back end's state (enroll::Cookie)
  // The CA's certificate when it arrived before its notBefore while a
  // working pair was installed: kept here (PEM) until it becomes valid.
  std::string staged_cert_pem;
  std::string url;                // the CA's URL when it was made ("" in older files)

  bool operator==(const PendingTransaction&) const = default;
};

// The active certificate and its key, both owned; `serial` as in file names.
struct InstalledPair {
  ossl::Ptr<X509> cert;
  ossl::Ptr<EVP_PKEY> key;
  std::string serial;
};

// A certificate for a pending transaction's key that is already on disk
// (see CertStore::FindIssued).
struct IssuedOnDisk {
  ossl::Ptr<X509> cert;
  bool active = false;  // latest.crt names it: the installation reached its commit point
};

class CertStore {
 public:
  // `data_dir` is used as given (trailing slashes dropped); nothing is
  // touched until a method is called.
  explicit CertStore(std::string data_dir);

  // Start-up: creates data_dir mode 0700 if missing (missing parents 0755),
  // forces it to 0700, removes temporary files (".*.tmp.*") left by an
  // interrupted write here and in .pending, and completes a link switch that
  // a crash interrupted (latest.key re-pointed to the key of latest.crt).
  // Fails with kIo naming the path.
  Status Prepare();

  // The active pair via latest.crt / latest.key; nullopt when neither link
  // exists (never enrolled). Fails, naming the file, with kIo when a link
  // dangles, a file is unreadable or latest.crt is missing while latest.key
  // exists, and with kParse when a file is garbage or the key does not match
  // the certificate. The daemon treats any error as "enroll" and logs it.
  // Tolerates the crash window described above: when latest.key does not
  // match but <SERIAL of latest.crt>.key does, that pair is returned.
  Result<std::optional<InstalledPair>> LoadActive() const;
  // The same checks, for the routine "still valid?" check, which needs
  // only the facts of the certificate: in the usual case (an RSA key file
  // holding the certificate's key) neither file is decoded as a whole
  // (core/cert_summary.h), which is most of the check's cost.
  Result<std::optional<CertSummary>> LoadActiveCertificate() const;

  // Installs a verified pair (borrowed) and makes it active, in this order:
  // ca.crt-0..N-1 (0644) from `ca_chain` (CA first, as given; an empty chain
  // leaves the stored one alone); <SERIAL>.key (0600), then <SERIAL>.crt
  // (0644), each written only when its content or mode differs (so a
  // <SERIAL>.crt on disk means its key and chain are too: FindIssued);
  // prunes old pairs that no link names; syncs the directory; latest.crt,
  // then latest.key; syncs; then removes stale ca.crt-N... and the pair the
  // links named before if it is due (and syncs once more). Pruning keeps
  // at most `keep_old` previous pairs (newest notBefore first), and none
  // whose notAfter is before `now`. Only pairs scepd wrote and can still
  // read are removed (both halves regular files, the certificate parses
  // and carries the serial of its name, the key matches it); anything else
  // named like a pair is left alone and named once in a warning. Every
  // removal is logged. Fails with kInvalidArgument when `key` does not match `cert` or the
  // serial cannot name a file, kIo naming the path when a write fails; on
  // failure before the commit point the previous pair is still active and
  // nothing a link names was removed (older pairs keep_old lets go may be).
  Status Install(X509* cert, EVP_PKEY* key, const std::vector<X509*>& ca_chain, int keep_old,
                 std::int64_t now);

  // The pending transaction in data_dir/.pending/state (directory 0700, file
  // 0600, written atomically; it holds the new private key). Save writes
  // version 2 and fails with kInvalidArgument for a protocol or cookie name
  // IsCookieName refuses; Load also reads version 1 (SCEP only: its
  // message_type and signer_cert_pem become the cookie). Load returns
  // nullopt when there is none and fails with kParse naming the file when it
  // is corrupt (unknown syntax, a missing or bad field, an unparsable key,
  // request or certificate), kIo when it cannot be read. Clear removes it,
  // durably (data_dir synced first, then .pending); clearing when there is
  // none succeeds. ClearInstalledPending removes it without a sync, for a
  // transaction whose certificate Install made active: one that a power cut
  // brings back is finished again from the files (FindIssued).
  Status SavePending(const PendingTransaction& pending);
  Result<std::optional<PendingTransaction>> LoadPending() const;
  Status ClearPending();
  Status ClearInstalledPending();
  // Syncs data_dir: every rename and removal in it so far is durable. For
  // a restart that finds an installation another process made (its link
  // switch may still be only in memory) before it forgets the transaction.
  Status Sync();
  // A corrupt state file is moved to .pending/state.corrupt (replacing an
  // older one) rather than deleted, for a person to look at; returns that
  // path. Fails with kIo naming the path.
  Result<std::string> SetAsidePending();
  // A valid transaction that no longer fits the settings (or came from
  // elsewhere) is moved to .pending/state.stale, .stale.1, ... (never
  // replacing one) and so kept; returns that path. Fails with kIo.
  Result<std::string> SetAsideStalePending();

  // The stored CA chain, ca.crt-0, ca.crt-1, ... up to the first missing
  // number; empty if there is none. Fails naming the file (kIo, kParse).
  Result<std::vector<ossl::Ptr<X509>>> LoadCaChain() const;
  // Whether LoadCaChain would succeed, for the routine check: each file is
  // read as core/cert_summary.h reads one (well-formed DER, the fields
  // found), not decoded as a whole; the same errors as LoadCaChain.
  Status CheckCaChain() const;
  // Rewrites ca.crt-0..N-1 from `ca_chain` (borrowed, CA first; not empty)
  // and removes ca.crt-N...: repairs a damaged chain without a new
  // certificate. Fails with kIo naming the path, kInvalidArgument for an
  // empty chain.
  Status WriteCaChain(const std::vector<X509*>& ca_chain);

  // After an interruption: the certificate already written here for `key`
  // (the pending transaction's new key, borrowed), if any. `active` when
  // latest.crt names it (after Prepare, latest.key then names its key too);
  // otherwise a <SERIAL>.crt that an Install wrote before its commit point,
  // which the caller can install from disk instead of asking the CA again.
  // Unreadable and unrelated files are skipped; nullopt when none matches.
  // Fails with kIo only when the directory cannot be listed.
  Result<std::optional<IssuedOnDisk>> FindIssued(EVP_PKEY* key) const;

  // The trusted CA's SHA-256 fingerprint ("AB:CD:...", no "sha256:"):
  // ca.fingerprint, else (a data_dir from before the pin file) that of
  // ca.crt-0; nullopt when neither exists (first use). Fails naming the
  // file with kParse when ca.fingerprint is not "sha256:" + 32 hex bytes,
  // kIo when unreadable.
  Result<std::optional<std::string>> LoadCaPin() const;
  // Writes ca.fingerprint for `ca` (borrowed), atomically, only when it
  // changes. Fails with kIo naming the path.
  Status SaveCaPin(X509* ca);

  // ca-next.crt: the verified successor of the trusted CA, or nullopt.
  // Fails naming the file (kIo, kParse). Save writes it atomically (0644)
  // only when it changes; Remove succeeds when there is none.
  Result<std::optional<ossl::Ptr<X509>>> LoadNextCa() const;
  Status SaveNextCa(X509* next);
  Status RemoveNextCa();

  // Paths for status files and script environments.
  const std::string& dir() const noexcept { return dir_; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // What Install's pruning learnt of an old pair it checked (both files
  // regular, the certificate's serial its name, the key matching), kept
  // with both files' identities (device, inode and the SHA-256 of the
  // content): while neither file is replaced or rewritten, the next pruning
  // reads them but does not decode them again.
  struct FileIdentity {
    std::uint64_t dev = 0, ino = 0;
    std::array<std::uint8_t, 32> sha256{};
    bool operator==(const FileIdentity&) const = default;
  };
  struct CheckedPair {
    FileIdentity crt, key;
    std::int64_t not_before = 0, not_after = 0;
  };

 private:
  std::string dir_;
  std::set<std::string> warned_;  // serials Install's pruning named as left alone
  std::map<std::string, CheckedPair> checked_;  // by serial
};

}  // namespace scepd
