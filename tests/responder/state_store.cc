#include "tests/responder/state_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <charconv>
#include <cstring>
#include <memory>
#include <sstream>

#include "io/unique_fd.h"

namespace scepd::testing::rsp {
namespace {

Error IoError(const std::string& what, const std::string& path) {
  return MakeError(ErrorCode::kIo, what + " " + path + ": " + std::strerror(errno));
}

bool WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

struct DirCloser {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};

Result<int> ParseInt(const std::string& text, const std::string& key) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return MakeError(ErrorCode::kParse, "transaction: " + key + " '" + text + "' is not a number");
  }
  return v;
}

}  // namespace

const char* PhaseName(Transaction::Phase phase) noexcept {
  switch (phase) {
    case Transaction::Phase::kPending: return "pending";
    case Transaction::Phase::kIssued: return "issued";
    case Transaction::Phase::kFailed: return "failed";
  }
  return "pending";
}

std::string EncodeTransaction(const Transaction& t) {
  std::ostringstream out;
  out << "id=" << HexEncode(ToBytes(t.id)) << "\n"
      << "message_type=" << t.message_type << "\n"
      << "phase=" << PhaseName(t.phase) << "\n"
      << "polls_seen=" << t.polls_seen << "\n"
      << "pending_polls=" << t.pending_polls << "\n"
      << "fail_info=" << (t.fail_info ? *t.fail_info : -1) << "\n"
      << "fail_info_text=" << HexEncode(ToBytes(t.fail_info_text)) << "\n"
      << "issue_for_other_key=" << (t.issue_for_other_key ? 1 : 0) << "\n"
      << "issue_for_other_subject=" << (t.issue_for_other_subject ? 1 : 0) << "\n"
      << "issue_expired=" << (t.issue_expired ? 1 : 0) << "\n"
      << "issue_forged=" << (t.issue_forged ? 1 : 0) << "\n"
      << "issue_not_before_days=" << t.issue_not_before_days << "\n"
      << "csr=" << Base64Encode(t.csr) << "\n"
      << "serial=" << t.serial << "\n";
  return out.str();
}

Result<Transaction> DecodeTransaction(const std::string& text) {
  Transaction t;
  std::istringstream in(text);
  std::string line;
  bool have_id = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return MakeError(ErrorCode::kParse, "transaction: line without '=': " + line);
    }
    std::string key = line.substr(0, eq);
    std::string value = line.substr(eq + 1);
    if (key == "id") {
      SCEPD_TRY(Bytes id, HexDecode(value));
      t.id = ToString(id);
      have_id = true;
    } else if (key == "message_type") {
      SCEPD_TRY(t.message_type, ParseInt(value, key));
    } else if (key == "phase") {
      if (value == "pending") {
        t.phase = Transaction::Phase::kPending;
      } else if (value == "issued") {
        t.phase = Transaction::Phase::kIssued;
      } else if (value == "failed") {
        t.phase = Transaction::Phase::kFailed;
      } else {
        return MakeError(ErrorCode::kParse, "transaction: unknown phase '" + value + "'");
      }
    } else if (key == "polls_seen") {
      SCEPD_TRY(t.polls_seen, ParseInt(value, key));
    } else if (key == "pending_polls") {
      SCEPD_TRY(t.pending_polls, ParseInt(value, key));
    } else if (key == "fail_info") {
      SCEPD_TRY(int v, ParseInt(value, key));
      if (v >= 0) t.fail_info = v;
    } else if (key == "fail_info_text") {
      SCEPD_TRY(Bytes b, HexDecode(value));
      t.fail_info_text = ToString(b);
    } else if (key == "issue_for_other_key") {
      t.issue_for_other_key = value == "1";
    } else if (key == "issue_for_other_subject") {
      t.issue_for_other_subject = value == "1";
    } else if (key == "issue_expired") {
      t.issue_expired = value == "1";
    } else if (key == "issue_forged") {
      t.issue_forged = value == "1";
    } else if (key == "issue_not_before_days") {
      t.issue_not_before_days = std::atoi(value.c_str());
    } else if (key == "csr") {
      SCEPD_TRY(t.csr, Base64Decode(value));
    } else if (key == "serial") {
      t.serial = value;
    }
    // Unknown keys are ignored: newer responders may add fields.
  }
  if (!have_id || t.id.empty()) return MakeError(ErrorCode::kParse, "transaction: no id");
  return t;
}

std::string TransactionFileName(const std::string& transaction_id) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(transaction_id.data(), transaction_id.size(), md, &len, EVP_sha256(), nullptr);
  return HexEncode(std::span<const std::uint8_t>(md, len)) + ".txn";
}

Status MakeDirs(const std::string& path) {
  if (path.empty()) return MakeError(ErrorCode::kIo, "empty directory path");
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (part.empty()) continue;
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      return IoError("creating directory", part);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return MakeError(ErrorCode::kIo, "not a directory: " + path);
  }
  return {};
}

Status WriteFileAtomic(const std::string& path, const std::string& content, unsigned mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) return IoError("creating", tmp);
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0 || !WriteAll(fd.get(), content) ||
        ::fsync(fd.get()) != 0) {
      Error e = IoError("writing", tmp);
      ::unlink(tmp.c_str());
      return e;
    }
    if (::close(fd.release()) != 0) {
      Error e = IoError("closing", tmp);
      ::unlink(tmp.c_str());
      return e;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = IoError("renaming to", path);
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

Result<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return IoError("opening", path);
  }
  std::string out;
  char buf[8192];
  // Bounded: state files are small; refuse anything over 16 MiB.
  while (out.size() < (16u << 20)) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("reading", path);
    if (n == 0) return std::optional<std::string>(std::move(out));
    out.append(buf, static_cast<std::size_t>(n));
  }
  return MakeError(ErrorCode::kIo, "file too large: " + path);
}

Result<std::vector<std::string>> ListFiles(const std::string& dir, const std::string& suffix) {
  std::unique_ptr<DIR, DirCloser> d(::opendir(dir.c_str()));
  if (!d) {
    if (errno == ENOENT) return std::vector<std::string>();
    return IoError("listing", dir);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      names.push_back(std::move(name));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status AppendLine(const std::string& path, const std::string& line) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (fd.get() < 0) return IoError("opening", path);
  if (!WriteAll(fd.get(), line + "\n")) return IoError("appending to", path);
  return {};
}

}  // namespace scepd::testing::rsp
