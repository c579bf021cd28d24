#include "daemon/cert_store.h"

#include <dirent.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "core/cert_info.h"
#include "core/enroll/outcome.h"
#include "io/files.h"

namespace scepd {

namespace {

constexpr char kLatestCrt[] = "latest.crt";
constexpr char kLatestKey[] = "latest.key";
constexpr char kCaPrefix[] = "ca.crt-";
constexpr char kCaPin[] = "ca.fingerprint";
constexpr char kNextCa[] = "ca-next.crt";
constexpr char kPendingDir[] = ".pending";
constexpr char kPendingState[] = "state";

Error IoError(const std::string& what, const std::string& path, int err) {
  return MakeError(ErrorCode::kIo, what + " " + path + ": " + std::strerror(err));
}

// Wipes a buffer that held key material when the scope ends, on every path.
template <class Buffer>
class WipeOnExit {
 public:
  explicit WipeOnExit(Buffer& buffer) noexcept : buffer_(buffer) {}
  ~WipeOnExit() { OPENSSL_cleanse(buffer_.data(), buffer_.size()); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  Buffer& buffer_;
};

struct DirCloser {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};

Result<std::vector<std::string>> ListDir(const std::string& dir) {
  std::unique_ptr<DIR, DirCloser> d(::opendir(dir.c_str()));
  if (!d) return IoError("cannot list directory", dir, errno);
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(d.get());
    if (entry == nullptr) {
      if (errno != 0) return IoError("cannot list directory", dir, errno);
      break;
    }
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  return names;
}

std::optional<std::string> ReadLink(const std::string& path) {
  std::string target(4096, '\0');
  ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
  if (n < 0 || static_cast<std::size_t>(n) >= target.size()) return std::nullopt;
  target.resize(static_cast<std::size_t>(n));
  return target;
}

// Temporary files of WriteFileAtomic (".<name>.tmp.<pid>") and ReplaceLink.
bool IsTempName(std::string_view name) {
  return name.size() > 1 && name[0] == '.' && name.find(".tmp.") != std::string_view::npos;
}

// A serial usable as a file name: what SerialHex prints, upper-case hex with
// an optional leading '-'; never '/', '.' or anything a shell would expand.
bool IsSafeSerial(std::string_view serial) {
  if (!serial.empty() && serial[0] == '-') serial.remove_prefix(1);
  if (serial.empty()) return false;
  return std::all_of(serial.begin(), serial.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); });
}

// "<SERIAL>.<ext>" -> SERIAL, or "" when `name` is not such a file name.
std::string SerialOfName(std::string_view name, std::string_view ext) {
  if (name.size() <= ext.size() + 1) return "";
  if (name.substr(name.size() - ext.size()) != ext) return "";
  if (name[name.size() - ext.size() - 1] != '.') return "";
  std::string_view serial = name.substr(0, name.size() - ext.size() - 1);
  return IsSafeSerial(serial) ? std::string(serial) : "";
}

// "ca.crt-<N>" -> N, or -1.
long CaIndexOfName(std::string_view name) {  // NOLINT(runtime/int)
  std::string_view prefix = kCaPrefix;
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return -1;
  std::string_view digits = name.substr(prefix.size());
  if (digits.size() > 6) return -1;
  long index = 0;  // NOLINT(runtime/int)
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc() || end != digits.data() + digits.size()) return -1;
  return index;
}

// A link whose target is gone gets its own message: "cannot open: No such
// file" would hide that latest.crt itself exists.
Status CheckNotDangling(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode) && ::stat(path.c_str(), &st) != 0 &&
      errno == ENOENT) {
    return MakeError(ErrorCode::kIo,
                     path + " is a dangling link to \"" + ReadLink(path).value_or("?") + "\"");
  }
  return {};
}

Result<ossl::Ptr<X509>> LoadCertFile(const std::string& path) {
  SCEPD_TRY_STATUS(CheckNotDangling(path));
  SCEPD_TRY(Bytes bytes, ReadFileBytes(path));
  return ossl::CertFromPemOrDer(bytes, path);
}

// A key file's bytes (the caller wipes them).
Result<Bytes> ReadKeyFile(const std::string& path) {
  SCEPD_TRY_STATUS(CheckNotDangling(path));
  return ReadFileBytes(path);
}

std::string_view AsText(const Bytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Result<ossl::Ptr<EVP_PKEY>> LoadKeyFile(const std::string& path) {
  SCEPD_TRY(Bytes bytes, ReadKeyFile(path));
  WipeOnExit wipe(bytes);
  return ossl::PrivateKeyFromPem(AsText(bytes), path);
}

// Writes `data` atomically unless `path` is already a regular file with
// exactly this content and mode: no flash wear for a repeated install.
Status WriteIfChanged(const std::string& path, std::string_view data, mode_t mode,
                      FileSync sync = FileSync::kDataAndDirectory) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == mode &&
      static_cast<std::size_t>(st.st_size) == data.size()) {
    auto old = ReadFileBytes(path);
    if (old.ok()) {
      WipeOnExit wipe(*old);
      if (std::string_view(reinterpret_cast<const char*>(old->data()), old->size()) == data) {
        return {};
      }
    }
  }
  return WriteFileAtomic(path, data, mode, sync);
}

// Points dir/name at `target` by renaming a fresh temporary link over it, so
// the name always exists and resolves to the old or the new target. With
// `sync` false the caller syncs the directory.
Status ReplaceLink(const std::string& dir, const std::string& name, const std::string& target,
                   bool sync = true) {
  const std::string path = dir + "/" + name;
  const std::string tmp = dir + "/." + name + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0) return IoError("cannot create link", tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = IoError("cannot replace link", path, errno);
    ::unlink(tmp.c_str());
    return e;
  }
  return sync ? SyncDirectory(dir) : Status{};
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("cannot remove", path, errno);
  return {};
}

// Removes <serial>.crt and <serial>.key, and logs it; no directory sync.
Status RemovePair(const std::string& dir, const std::string& serial, const std::string& why) {
  SCEPD_TRY_STATUS(RemoveFile(dir + "/" + serial + ".crt"));
  SCEPD_TRY_STATUS(RemoveFile(dir + "/" + serial + ".key"));
  spdlog::info("removed old pair {}/{}.crt and {}.key ({})", dir, serial, serial, why);
  return {};
}

struct ActivePair {
  InstalledPair pair;
  bool key_link_stale = false;  // the key came from <SERIAL>.key, not latest.key
};

// True when latest.crt and latest.key are links to <S>.crt and <S>.key of
// one S: as Install leaves them, never as a crash between its two link
// switches does.
bool LinksNameOnePair(const std::string& dir) {
  const std::string crt = ReadLink(dir + "/" + kLatestCrt).value_or("");
  const std::string key = ReadLink(dir + "/" + kLatestKey).value_or("");
  const std::string crt_serial = SerialOfName(crt, "crt");
  return !crt_serial.empty() && crt_serial == SerialOfName(key, "key");
}

Result<std::optional<ActivePair>> LoadActivePair(const std::string& dir) {
  const std::string crt_path = dir + "/" + kLatestCrt;
  const std::string key_path = dir + "/" + kLatestKey;
  const bool have_crt = PathExists(crt_path);
  const bool have_key = PathExists(key_path);
  if (!have_crt && !have_key) return std::optional<ActivePair>();
  if (!have_crt) {
    return MakeError(ErrorCode::kIo, crt_path + " is missing (but " + key_path + " exists)");
  }
  SCEPD_TRY(ossl::Ptr<X509> cert, LoadCertFile(crt_path));
  std::string serial = SerialHex(cert.get());

  Error key_error;
  if (have_key) {
    auto key = LoadKeyFile(key_path);
    if (key.ok() && KeyMatchesCert(cert.get(), key->get())) {
      return std::optional<ActivePair>(
          ActivePair{{std::move(cert), std::move(*key), serial}, false});
    }
    key_error = key.ok() ? MakeError(ErrorCode::kVerify, "the key " + key_path +
                                                             " does not match the certificate " +
                                                             crt_path + " (serial " + serial + ")")
                         : std::move(key).error();
  } else {
    key_error = MakeError(ErrorCode::kIo, key_path + " is missing (but " + crt_path + " exists)");
  }

  // Crash window of Install: latest.crt already switched, latest.key not yet.
  if (IsSafeSerial(serial)) {
    const std::string named = dir + "/" + serial + ".key";
    if (PathExists(named)) {
      auto key = LoadKeyFile(named);
      if (key.ok() && KeyMatchesCert(cert.get(), key->get())) {
        return std::optional<ActivePair>(
            ActivePair{{std::move(cert), std::move(*key), serial}, true});
      }
      ClearOpenSslErrors();
    }
  }
  return key_error;
}

// Removes `<dir>/ca.crt-N` for every N >= first; *removed set when one was.
// No directory sync.
Status RemoveStaleChain(const std::string& dir, std::size_t first, bool* removed) {
  SCEPD_TRY(std::vector<std::string> names, ListDir(dir));
  for (const std::string& name : names) {
    long index = CaIndexOfName(name);  // NOLINT(runtime/int)
    if (index >= 0 && static_cast<std::size_t>(index) >= first) {
      SCEPD_TRY_STATUS(RemoveFile(dir + "/" + name));
      *removed = true;
      spdlog::info("removed {}/{} (the CA chain is shorter now)", dir, name);
    }
  }
  return {};
}

// Removes old pairs beyond the active one: expired ones, and all but the
// `keep_old` newest of the rest. Only a pair scepd installed and can still
// read is ever removed: <S>.crt and <S>.key both regular files, the
// certificate parses and its serial is S, the key parses and matches it.
// Anything else named like a pair (a half without its partner, garbage, a
// foreign key, a link) stays where it is and is named once (per `warned`)
// in the log; every removal is logged. Leaves the directory sync to the
// caller. The pairs in `spare` (those the links name before this
// installation) are not removed here even when due: their serials and the
// reasons go to *spared, for Install to remove once the new links are
// durable.
struct Spared {
  std::string serial;
  std::string why;
};
// The identity of the regular file at `path` (not following a link), or
// nullopt when it is not one or cannot be read.
std::optional<CertStore::FileIdentity> IdentityOf(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return std::nullopt;
  WipeOnExit wipe(*bytes);  // a key file's
  CertStore::FileIdentity id{static_cast<std::uint64_t>(st.st_dev),
                             static_cast<std::uint64_t>(st.st_ino), {}};
  if (EVP_Digest(bytes->data(), bytes->size(), id.sha256.data(), nullptr, EVP_sha256(), nullptr) !=
      1) {
    ClearOpenSslErrors();
    return std::nullopt;
  }
  return id;
}

// What pruning remembers of the pair <dir>/<serial>.crt and .key, whose
// certificate has these times; nullopt when either file cannot be read.
std::optional<CertStore::CheckedPair> CheckedPairOf(const std::string& dir,
                                                    const std::string& serial,
                                                    std::int64_t not_before,
                                                    std::int64_t not_after) {
  auto crt = IdentityOf(dir + "/" + serial + ".crt");
  auto key = IdentityOf(dir + "/" + serial + ".key");
  if (!crt || !key) return std::nullopt;
  return CertStore::CheckedPair{*crt, *key, not_before, not_after};
}

Status Prune(const std::string& dir, const std::string& active, int keep_old, std::int64_t now,
             std::set<std::string>* warned, const std::set<std::string>& spare,
             std::vector<Spared>* spared, std::map<std::string, CertStore::CheckedPair>* checked) {
  struct Old {
    std::string serial;
    bool crt = false;
    bool key = false;
    std::int64_t order = 0;  // notBefore
    std::int64_t not_after = 0;
  };
  SCEPD_TRY(std::vector<std::string> names, ListDir(dir));
  std::map<std::string, Old> by_serial;
  for (const std::string& name : names) {
    if (std::string s = SerialOfName(name, "crt"); !s.empty()) {
      by_serial[s].crt = true;
    } else if (std::string k = SerialOfName(name, "key"); !k.empty()) {
      by_serial[k].key = true;
    }
  }
  by_serial.erase(active);
  std::erase_if(*checked,
                [&](const auto& c) { return c.first != active && by_serial.count(c.first) == 0; });

  auto keep = [&](const std::string& serial, const std::string& why) {
    if (!warned->insert(serial).second) return;
    spdlog::warn("{}/{}.crt, {}.key: {}; not written by scepd as a pair it can read, so left alone",
                 dir, serial, serial, why);
  };
  std::vector<Old> pairs;
  for (auto& [serial, old] : by_serial) {
    old.serial = serial;
    const std::string crt_path = dir + "/" + serial + ".crt";
    const std::string key_path = dir + "/" + serial + ".key";
    if (!old.crt || !old.key) {
      keep(serial, old.crt ? "the key is missing" : "the certificate is missing");
      continue;
    }
    const auto crt_id = IdentityOf(crt_path);
    const auto key_id = IdentityOf(key_path);
    if (!crt_id || !key_id) {
      keep(serial, "not two regular files");
      continue;
    }
    if (auto c = checked->find(serial);
        c != checked->end() && c->second.crt == *crt_id && c->second.key == *key_id) {
      old.order = c->second.not_before;  // checked before, and neither file has changed
      old.not_after = c->second.not_after;
      pairs.push_back(old);
      continue;
    }
    checked->erase(serial);
    auto cert = LoadCertFile(crt_path);
    auto not_before = cert.ok() ? NotBefore(cert->get()) : Result<std::int64_t>(Error{});
    auto not_after = cert.ok() ? NotAfter(cert->get()) : Result<std::int64_t>(Error{});
    if (!not_before.ok() || !not_after.ok()) {
      ClearOpenSslErrors();
      keep(serial, "the certificate does not parse");
      continue;
    }
    if (SerialHex(cert->get()) != serial) {
      keep(serial, "the certificate's serial is " + SerialHex(cert->get()));
      continue;
    }
    auto key = LoadKeyFile(key_path);
    if (!key.ok() || !KeyMatchesCert(cert->get(), key->get())) {
      ClearOpenSslErrors();
      keep(serial, key.ok() ? "the key does not match the certificate" : "the key does not parse");
      continue;
    }
    old.order = *not_before;
    old.not_after = *not_after;
    pairs.push_back(old);
    (*checked)[serial] = CertStore::CheckedPair{*crt_id, *key_id, *not_before, *not_after};
  }
  std::sort(pairs.begin(), pairs.end(), [](const Old& a, const Old& b) {
    return a.order != b.order ? a.order > b.order : a.serial > b.serial;
  });
  int kept = 0;
  for (const Old& old : pairs) {
    std::string why;
    if (old.not_after < now) {
      why = "expired";
    } else if (kept < keep_old) {
      ++kept;
      continue;
    } else {
      why = "older than the " + std::to_string(keep_old) + " kept (keep_old)";
    }
    if (spare.count(old.serial) != 0) {
      spared->push_back(Spared{old.serial, why});
      continue;
    }
    SCEPD_TRY_STATUS(RemovePair(dir, old.serial, why));
  }
  return {};  // the caller syncs the directory
}

Status RemoveTempFiles(const std::string& dir) {
  SCEPD_TRY(std::vector<std::string> names, ListDir(dir));
  bool removed = false;
  for (const std::string& name : names) {
    if (!IsTempName(name)) continue;
    SCEPD_TRY_STATUS(RemoveFile(dir + "/" + name));
    removed = true;
  }
  if (removed) SCEPD_TRY_STATUS(SyncDirectory(dir));
  return {};
}

// Creates `path` with `mode` if missing and forces the mode (mkdir applies
// the umask); `path` must be a real directory, not a link to one.
Status MakePrivateDir(const std::string& path, const std::string& what, mode_t mode,
                      bool* created) {
  *created = false;
  if (::mkdir(path.c_str(), mode) == 0) {
    *created = true;
  } else if (errno != EEXIST) {
    return IoError("cannot create directory", path, errno);
  }
  // Neither a link (the chmod and the keys would land elsewhere) nor
  // another user's directory (io/files.h).
  SCEPD_TRY_STATUS(CheckOwnDirectory(path, what));
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return IoError("cannot inspect directory", path, errno);
  if ((st.st_mode & 07777) != mode && ::chmod(path.c_str(), mode) != 0) {
    return IoError("cannot set mode of directory", path, errno);
  }
  return {};
}

// --- Pending transaction: key=value lines, values escaped (\\ \n \r). ---

// Appends `value` escaped, into `out`'s own buffer (no temporary copies of a key).
void AppendEscaped(std::string* out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '\r') {
      *out += "\\r";
    } else {
      *out += c;
    }
  }
}

bool Unescape(std::string_view value, std::string* out) {
  out->clear();
  out->reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\\') {
      *out += value[i];
      continue;
    }
    if (++i == value.size()) return false;
    switch (value[i]) {
      case '\\':
        *out += '\\';
        break;
      case 'n':
        *out += '\n';
        break;
      case 'r':
        *out += '\r';
        break;
      default:
        return false;
    }
  }
  return true;
}

template <class Int>
bool ParseInt(std::string_view text, Int* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Version 1 (scepd before the enrollment seam) was SCEP only: its
// message_type and signer_cert_pem become the SCEP back end's cookie.
// Version 2: protocol, renewal and cookie.NAME lines instead.
Result<PendingTransaction> ParsePending(std::string_view text, const std::string& path) {
  PendingTransaction p;
  WipeOnExit wipe_key(p.key_pem);  // a no-op once the key has been moved out
  auto corrupt = [&path](int line, const std::string& why) {
    return MakeError(ErrorCode::kParse, path + ": corrupt pending enrollment state" +
                                            (line > 0 ? " at line " + std::to_string(line) : "") +
                                            ": " + why);
  };
  std::map<std::string, int, std::less<>> seen;
  int version = 0;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return corrupt(line_no, "expected key=value");
    std::string_view key = line.substr(0, eq);
    std::string value;
    if (!Unescape(line.substr(eq + 1), &value)) {
      OPENSSL_cleanse(value.data(), value.size());
      return corrupt(line_no, "bad escape in " + std::string(key));
    }
    if (!seen.emplace(std::string(key), line_no).second) {
      OPENSSL_cleanse(value.data(), value.size());
      return corrupt(line_no, "duplicate " + std::string(key));
    }
    if (key != "version" && version == 0) {
      OPENSSL_cleanse(value.data(), value.size());
      return corrupt(line_no, "version must come first");
    }
    bool good = true;
    constexpr std::string_view kCookie = "cookie.";
    if (key == "version") {
      good = value == "1" || value == "2";
      version = value == "1" ? 1 : 2;
    } else if (key == "transaction_id") {
      good = !value.empty() && value.size() <= 256 &&
             std::all_of(value.begin(), value.end(), [](char c) {
               return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
             });
      p.transaction_id = std::move(value);
    } else if (version == 1 && key == "message_type") {
      int type = 0;
      good = ParseInt(value, &type) && (type == 17 || type == 19);
      p.cookie["message_type"] = std::to_string(type);
    } else if (version == 1 && key == "signer_is_new_key") {
      good = value == "yes" || value == "no";
      p.renewal = value == "no";
    } else if (version == 1 && key == "signer_cert_pem") {
      good = ossl::CertFromPem(value, "signer_cert_pem").ok();
      if (!good) {
        ClearOpenSslErrors();
        return corrupt(line_no, "signer_cert_pem does not parse");
      }
      p.cookie["signer_cert_pem"] = std::move(value);
    } else if (version == 2 && key == "protocol") {
      good = !value.empty() && enroll::IsCookieName(value);
      p.protocol = std::move(value);
    } else if (version == 2 && key == "renewal") {
      good = value == "yes" || value == "no";
      p.renewal = value == "yes";
    } else if (version == 2 && key.substr(0, kCookie.size()) == kCookie) {
      std::string name(key.substr(kCookie.size()));
      good = enroll::IsCookieName(name) && value.size() <= 64 * 1024 && p.cookie.size() < 64;
      p.cookie[name] = std::move(value);
    } else if (key == "started") {
      good = ParseInt(value, &p.started) && p.started >= 0;
    } else if (key == "polls") {
      good = ParseInt(value, &p.polls) && p.polls >= 0 && p.polls <= 1000000;
    } else if (version == 2 && key == "staged_cert_pem") {
      good = ossl::CertFromPem(value, "staged_cert_pem").ok();
      ClearOpenSslErrors();
      p.staged_cert_pem = std::move(value);
    } else if (version == 2 && key == "url") {
      good = value.size() <= 4096;
      p.url = std::move(value);
    } else if (key == "key_pem") {
      p.key_pem = std::move(value);
    } else if (key == "csr_pem") {
      p.csr_pem = std::move(value);
    } else {
      OPENSSL_cleanse(value.data(), value.size());
      return corrupt(line_no, "unknown key " + std::string(key));
    }
    if ((key == "key_pem" || key == "csr_pem") && (key == "key_pem" ? p.key_pem : p.csr_pem).size() > 64 * 1024) {
      good = false;
    }
    if (!good) return corrupt(line_no, "bad value for " + std::string(key));
  }
  if (version == 0) return corrupt(0, "missing version");
  std::vector<const char*> required = {"transaction_id", "started", "polls", "key_pem", "csr_pem"};
  if (version == 1) {
    p.protocol = "scep";
    for (const char* k : {"message_type", "signer_is_new_key", "signer_cert_pem"}) {
      required.push_back(k);
    }
  } else {
    for (const char* k : {"protocol", "renewal"}) required.push_back(k);
  }
  for (const char* name : required) {
    if (seen.find(std::string_view(name)) == seen.end()) {
      return corrupt(0, std::string("missing ") + name);
    }
  }
  auto check = [&](auto parsed, const char* what) -> Status {
    if (parsed.ok()) return {};
    ClearOpenSslErrors();
    return corrupt(seen.find(std::string_view(what))->second,
                   std::string(what) + " does not parse");
  };
  SCEPD_TRY_STATUS(check(ossl::PrivateKeyFromPem(p.key_pem, "key_pem"), "key_pem"));
  SCEPD_TRY_STATUS(check(
      ossl::CsrFromPemOrDer(
          std::span(reinterpret_cast<const std::uint8_t*>(p.csr_pem.data()), p.csr_pem.size()),
          "csr_pem"),
      "csr_pem"));
  return p;
}

}  // namespace

CertStore::CertStore(std::string data_dir) : dir_(std::move(data_dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

Status CertStore::Prepare() {
  if (dir_.empty()) return MakeError(ErrorCode::kIo, "no data directory given");
  // Missing parents as `mkdir -p` would make them; only data_dir is private.
  for (std::size_t slash = dir_.find('/', 1); slash != std::string::npos;
       slash = dir_.find('/', slash + 1)) {
    const std::string parent = dir_.substr(0, slash);
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      return IoError("cannot create directory", parent + " (for " + dir_ + ")", errno);
    }
  }
  bool created = false;
  SCEPD_TRY_STATUS(MakePrivateDir(dir_, "data_dir", 0700, &created));
  if (created) {
    auto slash = dir_.rfind('/');
    SCEPD_TRY_STATUS(SyncDirectory(slash == std::string::npos ? "."
                                   : slash == 0               ? "/"
                                                              : dir_.substr(0, slash)));
  }
  SCEPD_TRY_STATUS(RemoveTempFiles(dir_));
  const std::string pending = Path(kPendingDir);
  struct stat st;
  if (::lstat(pending.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    SCEPD_TRY_STATUS(RemoveTempFiles(pending));
  }
  // Finish a link switch that a crash interrupted. Links naming the same
  // pair cannot be in that window; only otherwise is the pair loaded (a
  // private key decode is most of an idle check's CPU time).
  if (LinksNameOnePair(dir_)) return {};
  auto active = LoadActivePair(dir_);
  if (active.ok() && active->has_value() && (*active)->key_link_stale) {
    SCEPD_TRY_STATUS(ReplaceLink(dir_, kLatestKey, (*active)->pair.serial + ".key"));
  }
  return {};
}

Result<std::optional<InstalledPair>> CertStore::LoadActive() const {
  SCEPD_TRY(std::optional<ActivePair> active, LoadActivePair(dir_));
  if (!active) return std::optional<InstalledPair>();
  return std::optional<InstalledPair>(std::move(active->pair));
}

Result<std::optional<CertSummary>> CertStore::LoadActiveCertificate() const {
  // The usual case, decoding neither file (core/cert_summary.h): both links
  // readable and the key file holding the certificate's RSA key.
  auto crt = ReadFileBytes(Path(kLatestCrt));
  auto key = crt.ok() ? ReadFileBytes(Path(kLatestKey)) : Result<Bytes>(Bytes());
  if (crt.ok() && key.ok()) {
    WipeOnExit wipe(*key);
    auto summary = SummarizeCertificateFile(*crt);
    if (summary && !summary->rsa_public_key.empty() &&
        RsaKeyPemMatches(summary->rsa_public_key, AsText(*key)) == true) {
      return summary;
    }
  }
  // Anything else (the crash window, a mismatch, other key types, unusual
  // files) as LoadActive finds it, with its error messages.
  SCEPD_TRY(std::optional<ActivePair> active, LoadActivePair(dir_));
  if (!active) return std::optional<CertSummary>();
  return std::optional<CertSummary>(SummaryOf(active->pair.cert.get()));
}

Status CertStore::Install(X509* cert, EVP_PKEY* key, const std::vector<X509*>& ca_chain,
                          int keep_old, std::int64_t now) {
  if (cert == nullptr || key == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "install: no certificate or key given");
  }
  const std::string serial = SerialHex(cert);
  if (!KeyMatchesCert(cert, key)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "install: the key does not match certificate " + serial + "; nothing changed");
  }
  if (!IsSafeSerial(serial)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "install: serial \"" + serial + "\" cannot name a file; nothing changed");
  }
  SCEPD_TRY(std::string key_pem, ossl::PrivateKeyToPem(key));
  WipeOnExit wipe(key_pem);
  SCEPD_TRY(std::string cert_pem, ossl::CertToPem(cert));
  std::vector<std::string> chain_pem;
  for (X509* ca : ca_chain) {
    if (ca == nullptr)
      return MakeError(ErrorCode::kInvalidArgument, "install: null CA certificate");
    SCEPD_TRY(std::string pem, ossl::CertToPem(ca));
    chain_pem.push_back(std::move(pem));
  }

  // The write order (docs/daemon.md, "Write order"): every new file's data
  // synced as it is written, renamed, and one directory sync for all of
  // them; then both links and one more sync. A power cut keeps a rename only
  // if it was followed by a sync of its directory, in no particular order
  // otherwise: so nothing the commit point depends on is left unsynced when
  // latest.crt is switched, and nothing the old pair needs is removed before
  // the switch is durable.
  //
  // New files first; the old pair and its links are untouched so far. The
  // certificate comes last: once it is on disk, so are its key and chain,
  // and FindIssued can finish the installation after a crash.
  for (std::size_t i = 0; i < chain_pem.size(); ++i) {
    SCEPD_TRY_STATUS(
        WriteIfChanged(Path(kCaPrefix + std::to_string(i)), chain_pem[i], 0644, FileSync::kData));
  }
  SCEPD_TRY_STATUS(WriteIfChanged(Path(serial + ".key"), key_pem, 0600, FileSync::kData));
  SCEPD_TRY_STATUS(WriteIfChanged(Path(serial + ".crt"), cert_pem, 0644, FileSync::kData));
  // Written from a certificate and a key that match: a later pruning need
  // not decode them again while the files stay as written.
  if (auto nb = NotBefore(cert), na = NotAfter(cert); nb.ok() && na.ok()) {
    if (auto checked = CheckedPairOf(dir_, serial, *nb, *na)) checked_[serial] = *checked;
  }
  // Old pairs that neither link names go now, in the same sync; the pair
  // active until now only once the switch is durable.
  const std::set<std::string> linked = {
      SerialOfName(ReadLink(Path(kLatestCrt)).value_or(""), "crt"),
      SerialOfName(ReadLink(Path(kLatestKey)).value_or(""), "key")};
  std::vector<Spared> spared;
  SCEPD_TRY_STATUS(
      Prune(dir_, serial, std::max(keep_old, 0), now, &warned_, linked, &spared, &checked_));
  // The new files' names (and a removal of .next.key before them) durable
  // before the commit point.
  SCEPD_TRY_STATUS(SyncDirectory(dir_));
  // The commit point: from here LoadActive yields the new pair.
  SCEPD_TRY_STATUS(ReplaceLink(dir_, kLatestCrt, serial + ".crt", /*sync=*/false));
  auto after_commit = [&serial](Error e) {
    e.message = "certificate " + serial + " is installed, but " + e.message;
    return e;
  };
  if (Status s = ReplaceLink(dir_, kLatestKey, serial + ".key", /*sync=*/false); !s.ok()) {
    (void)SyncDirectory(dir_);
    return after_commit(std::move(s).error());
  }
  if (Status s = SyncDirectory(dir_); !s.ok()) return after_commit(std::move(s).error());
  // Only now, with both links durably on the new pair, is anything the old
  // pair used removed (one more sync, only when something is).
  bool removed = false;
  if (!chain_pem.empty()) {
    if (Status s = RemoveStaleChain(dir_, chain_pem.size(), &removed); !s.ok()) {
      return after_commit(std::move(s).error());
    }
  }
  for (const Spared& pair : spared) {
    if (Status s = RemovePair(dir_, pair.serial, pair.why); !s.ok()) {
      return after_commit(std::move(s).error());
    }
    removed = true;
  }
  if (removed) {
    if (Status s = SyncDirectory(dir_); !s.ok()) return after_commit(std::move(s).error());
  }
  return {};
}

Result<std::optional<IssuedOnDisk>> CertStore::FindIssued(EVP_PKEY* key) const {
  if (key == nullptr) return std::optional<IssuedOnDisk>();
  auto active = LoadActivePair(dir_);
  if (active.ok() && active->has_value() && KeyMatchesCert((*active)->pair.cert.get(), key)) {
    return std::optional<IssuedOnDisk>(IssuedOnDisk{std::move((*active)->pair.cert), true});
  }
  ClearOpenSslErrors();
  SCEPD_TRY(std::vector<std::string> names, ListDir(dir_));
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (SerialOfName(name, "crt").empty()) continue;
    auto cert = LoadCertFile(Path(name));
    if (cert.ok() && KeyMatchesCert(cert->get(), key)) {
      return std::optional<IssuedOnDisk>(IssuedOnDisk{std::move(*cert), false});
    }
    ClearOpenSslErrors();
  }
  return std::optional<IssuedOnDisk>();
}

Status CertStore::SavePending(const PendingTransaction& p) {
  const std::string pending = Path(kPendingDir);
  bool created = false;
  SCEPD_TRY_STATUS(MakePrivateDir(pending, "the pending directory", 0700, &created));
  if (created) SCEPD_TRY_STATUS(SyncDirectory(dir_));
  std::string text;
  WipeOnExit wipe(text);
  // One buffer big enough for everything, so appending never reallocates
  // and leaves a copy of the key behind in freed memory.
  std::size_t cookie_size = 0;
  for (const auto& [name, value] : p.cookie) {
    if (!enroll::IsCookieName(name)) {
      return MakeError(ErrorCode::kInvalidArgument, "bad pending cookie name \"" + name + "\"");
    }
    cookie_size += name.size() + value.size() + 8;
  }
  if (!enroll::IsCookieName(p.protocol)) {
    return MakeError(ErrorCode::kInvalidArgument, "bad pending protocol name");
  }
  text.reserve(512 + 2 * (p.transaction_id.size() + p.csr_pem.size() + cookie_size +
                          p.staged_cert_pem.size() + p.key_pem.size()));
  text += "# scepd: enrollment in progress (holds its private key); do not edit\n";
  text += "version=2\nprotocol=" + p.protocol + "\ntransaction_id=";
  AppendEscaped(&text, p.transaction_id);
  text += std::string("\nrenewal=") + (p.renewal ? "yes" : "no");
  if (!p.url.empty()) {
    text += "\nurl=";
    AppendEscaped(&text, p.url);
  }
  text += "\nstarted=" + std::to_string(p.started);
  text += "\npolls=" + std::to_string(p.polls);
  for (const auto& [name, value] : p.cookie) {
    text += "\ncookie." + name + "=";
    AppendEscaped(&text, value);
  }
  if (!p.staged_cert_pem.empty()) {
    text += "\nstaged_cert_pem=";
    AppendEscaped(&text, p.staged_cert_pem);
  }
  text += "\ncsr_pem=";
  AppendEscaped(&text, p.csr_pem);
  text += "\nkey_pem=";
  AppendEscaped(&text, p.key_pem);
  text += "\n";
  return WriteIfChanged(pending + "/" + kPendingState, text, 0600);
}

Result<std::optional<PendingTransaction>> CertStore::LoadPending() const {
  const std::string path = Path(std::string(kPendingDir) + "/" + kPendingState);
  if (PathExists(Path(kPendingDir))) {
    SCEPD_TRY_STATUS(CheckOwnDirectory(Path(kPendingDir), "the pending directory"));
  }
  if (!PathExists(path)) return std::optional<PendingTransaction>();
  // Bigger than any real transaction (a key, a request, a certificate, a
  // cookie): corrupt, so set aside, not retried for ever.
  constexpr std::size_t kMaxPending = 1u << 20;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<std::uint64_t>(st.st_size) > kMaxPending) {
    return MakeError(ErrorCode::kParse, path + ": corrupt pending enrollment state: larger than " +
                                            std::to_string(kMaxPending) + " bytes");
  }
  SCEPD_TRY(Bytes bytes, ReadFileBytes(path, kMaxPending));
  WipeOnExit wipe(bytes);
  SCEPD_TRY(PendingTransaction p,
            ParsePending(
                std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path));
  return std::optional<PendingTransaction>(std::move(p));
}

Status CertStore::ClearPending() {
  const std::string pending = Path(kPendingDir);
  const std::string path = pending + "/" + kPendingState;
  if (!PathExists(path)) return {};
  // A removal of .next.key (the key this transaction holds) durable first:
  // it must not come back once nothing holds that key any more.
  SCEPD_TRY_STATUS(SyncDirectory(dir_));
  SCEPD_TRY_STATUS(RemoveFile(path));
  return SyncDirectory(pending);
}

Status CertStore::Sync() { return SyncDirectory(dir_); }

Status CertStore::ClearInstalledPending() {
  // Not synced: Install's syncs made the pair and the removal of .next.key
  // durable; a state file that a power cut brings back names a certificate
  // that latest.crt names, and the next start finishes it (FindIssued).
  return RemoveFile(Path(std::string(kPendingDir) + "/" + kPendingState));
}

Result<std::vector<ossl::Ptr<X509>>> CertStore::LoadCaChain() const {
  std::vector<ossl::Ptr<X509>> chain;
  for (std::size_t i = 0;; ++i) {
    const std::string path = Path(kCaPrefix + std::to_string(i));
    if (!PathExists(path)) break;
    SCEPD_TRY(ossl::Ptr<X509> cert, LoadCertFile(path));
    chain.push_back(std::move(cert));
  }
  return chain;
}

Status CertStore::CheckCaChain() const {
  for (std::size_t i = 0;; ++i) {
    const std::string path = Path(kCaPrefix + std::to_string(i));
    auto bytes = ReadFileBytes(path);
    if (!bytes.ok() && !PathExists(path)) return {};
    if (!bytes.ok() || !SummarizeCertificateFile(*bytes)) break;
  }
  // Something did not read: the full parse says what.
  SCEPD_TRY_STATUS(LoadCaChain());
  return {};
}

Result<std::string> CertStore::SetAsidePending() {
  const std::string pending = Path(kPendingDir);
  const std::string path = pending + "/" + kPendingState;
  const std::string aside = path + ".corrupt";
  if (::rename(path.c_str(), aside.c_str()) != 0) return IoError("cannot rename", path, errno);
  SCEPD_TRY_STATUS(SyncDirectory(pending));
  return aside;
}

Result<std::string> CertStore::SetAsideStalePending() {
  const std::string pending = Path(kPendingDir);
  const std::string path = pending + "/" + kPendingState;
  for (int i = 0; i < 1000; ++i) {
    const std::string aside = path + ".stale" + (i == 0 ? "" : "." + std::to_string(i));
    if (PathExists(aside)) continue;
    if (::rename(path.c_str(), aside.c_str()) != 0) return IoError("cannot rename", path, errno);
    SCEPD_TRY_STATUS(SyncDirectory(pending));
    return aside;
  }
  return MakeError(ErrorCode::kIo, path + ": 1000 stale pending transactions are set aside "
                                          "already; remove some");
}

Status CertStore::WriteCaChain(const std::vector<X509*>& ca_chain) {
  if (ca_chain.empty()) return MakeError(ErrorCode::kInvalidArgument, "no CA certificates given");
  for (std::size_t i = 0; i < ca_chain.size(); ++i) {
    SCEPD_TRY(std::string pem, ossl::CertToPem(ca_chain[i]));
    SCEPD_TRY_STATUS(WriteIfChanged(Path(kCaPrefix + std::to_string(i)), pem, 0644));
  }
  bool removed = false;
  SCEPD_TRY_STATUS(RemoveStaleChain(dir_, ca_chain.size(), &removed));
  return SyncDirectory(dir_);  // the removals
}

Result<std::optional<std::string>> CertStore::LoadCaPin() const {
  const std::string path = Path(kCaPin);
  if (PathExists(path)) {
    SCEPD_TRY(Bytes bytes, ReadFileBytes(path, 4096));
    std::string text(bytes.begin(), bytes.end());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    constexpr std::string_view kPrefix = "sha256:";
    bool ok = text.size() == kPrefix.size() + 32 * 3 - 1 && text.rfind(kPrefix, 0) == 0;
    for (std::size_t i = kPrefix.size(); ok && i < text.size(); ++i) {
      const char c = text[i];
      ok = ((i - kPrefix.size()) % 3 == 2) ? c == ':'
                                           : ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
    }
    if (!ok) {
      return MakeError(ErrorCode::kParse,
                       path + ": expected sha256:AB:CD:... (32 upper-case hex bytes)");
    }
    return std::optional<std::string>(text.substr(kPrefix.size()));
  }
  const std::string first = Path(std::string(kCaPrefix) + "0");
  if (!PathExists(first)) return std::optional<std::string>();
  SCEPD_TRY(ossl::Ptr<X509> ca, LoadCertFile(first));
  SCEPD_TRY(std::string fp, Fingerprint(ca.get(), "sha256"));
  return std::optional<std::string>(std::move(fp));
}

Status CertStore::SaveCaPin(X509* ca) {
  SCEPD_TRY(std::string fp, Fingerprint(ca, "sha256"));
  // A write syncs the file and the directory; an unchanged pin costs nothing.
  return WriteIfChanged(Path(kCaPin), "sha256:" + fp + "\n", 0644);
}

Result<std::optional<ossl::Ptr<X509>>> CertStore::LoadNextCa() const {
  const std::string path = Path(kNextCa);
  if (!PathExists(path)) return std::optional<ossl::Ptr<X509>>();
  SCEPD_TRY(ossl::Ptr<X509> cert, LoadCertFile(path));
  return std::optional<ossl::Ptr<X509>>(std::move(cert));
}

Status CertStore::SaveNextCa(X509* next) {
  SCEPD_TRY(std::string pem, ossl::CertToPem(next));
  return WriteIfChanged(Path(kNextCa), pem, 0644);  // syncs file and directory
}

Status CertStore::RemoveNextCa() {
  const std::string path = Path(kNextCa);
  if (!PathExists(path)) return {};
  SCEPD_TRY_STATUS(RemoveFile(path));
  return SyncDirectory(dir_);
}

}  // namespace scepd
