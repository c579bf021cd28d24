#pragma once
// The test responder's state on disk: small files, written atomically (temp
// file, fsync, rename) so a responder killed at any moment leaves either the
// old or the new version. Internal to tests/responder.
//
// Layout of the state directory:
//   ca.key ca.crt                   CA key (0600) and certificate, PEM
//   ra-sign.* ra-enc.* next-ca.*    RA and rollover CA, when enabled
//   serial                          next serial number, decimal
//   issued/<SERIAL>.crt             every issued certificate, PEM
//   transactions/<SHA256(tid)>.txn  one transaction, key=value lines

#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace scepd::testing::rsp {

// An enrollment the CA has seen, keyed by transactionID.
struct Transaction {
  enum class Phase { kPending, kIssued, kFailed };
  std::string id;
  int message_type = 19;       // the request that started it (19 or 17)
  Phase phase = Phase::kPending;
  int polls_seen = 0;          // CertPolls (and repeated requests) while pending
  int pending_polls = 0;       // polls that still answer PENDING; -1: for ever
  std::optional<int> fail_info;  // FAILURE to give (now, or when pending ends)
  std::string fail_info_text;
  bool issue_for_other_key = false;  // issuance faults chosen at enrollment
  bool issue_for_other_subject = false;
  bool issue_expired = false;
  bool issue_forged = false;
  int issue_not_before_days = 0;
  Bytes csr;                   // DER PKCS#10
  std::string serial;          // hex, once issued
};

const char* PhaseName(Transaction::Phase phase) noexcept;

// key=value lines; the transactionID and failure text hex-encoded, the CSR
// base64. DecodeTransaction fails with kParse naming the bad line.
std::string EncodeTransaction(const Transaction& t);
Result<Transaction> DecodeTransaction(const std::string& text);

// The file name (no directory) a transaction is stored under.
std::string TransactionFileName(const std::string& transaction_id);

// Creates `path` and missing parents (mode 0700). Fails with kIo.
Status MakeDirs(const std::string& path);
// Writes `content` to `path` through a temporary file in the same directory
// with exactly `mode`, fsyncs and renames it. Fails with kIo.
Status WriteFileAtomic(const std::string& path, const std::string& content, unsigned mode);
// The file's contents, nullopt when it does not exist. Fails with kIo.
Result<std::optional<std::string>> ReadFileIfExists(const std::string& path);
// Names of the regular entries in `dir` ending with `suffix`, sorted.
Result<std::vector<std::string>> ListFiles(const std::string& dir, const std::string& suffix);
// Appends `line` and a newline with one write(2) on an O_APPEND descriptor.
Status AppendLine(const std::string& path, const std::string& line);

}  // namespace scepd::testing::rsp
