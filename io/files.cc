#include "io/files.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "io/unique_fd.h"

namespace scepd {

namespace {
Error IoError(const std::string& what, const std::string& path, int err) {
  return MakeError(ErrorCode::kIo, what + " " + path + ": " + std::strerror(err));
}

std::string DirName(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Appends without leaving a copy behind in freed memory: the file may hold
// a private key or a challenge password.
void AppendWiping(Bytes* out, const std::uint8_t* data, std::size_t n) {
  if (out->size() + n > out->capacity()) {
    Bytes bigger;
    bigger.reserve(std::max(out->capacity() * 2, out->size() + n));
    bigger.assign(out->begin(), out->end());
    OPENSSL_cleanse(out->data(), out->size());
    out->swap(bigger);
  }
  out->insert(out->end(), data, data + n);
}

// What a path holds when it is not a regular file, for the error.
const char* FileKind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  return "not a plain file";
}

}  // namespace

Result<UniqueFd> OpenRegularFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return IoError("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IoError("cannot inspect", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return MakeError(ErrorCode::kIo,
                     path + " is not a regular file (" + FileKind(st.st_mode) + "); not read");
  }
  return fd;
}

Status CheckRegularFile(const std::string& path) {
  SCEPD_TRY(UniqueFd fd, OpenRegularFile(path));
  return {};
}

Status CheckOwnDirectory(const std::string& path, const std::string& what) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return IoError("cannot inspect " + what, path, errno);
  if (S_ISLNK(st.st_mode)) {
    return MakeError(ErrorCode::kIo, what + " " + path +
                                         " is a symbolic link; refused (name the real directory)");
  }
  if (!S_ISDIR(st.st_mode)) return MakeError(ErrorCode::kIo, what + " " + path + " is not a directory");
  if (st.st_uid != ::geteuid()) {
    return MakeError(ErrorCode::kIo, what + " " + path + " is owned by uid " +
                                         std::to_string(st.st_uid) + ", not by scepd's uid " +
                                         std::to_string(::geteuid()) + "; refused");
  }
  return {};
}

Result<Bytes> ReadFileBytes(const std::string& path, std::size_t max_bytes) {
  SCEPD_TRY(UniqueFd fd, OpenRegularFile(path));
  Bytes out;
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && st.st_size > 0) {
    out.reserve(std::min<std::size_t>(static_cast<std::size_t>(st.st_size), max_bytes) + 1);
  }
  std::uint8_t buf[8192];
  auto wipe = [&] {
    OPENSSL_cleanse(buf, sizeof(buf));
    OPENSSL_cleanse(out.data(), out.size());
  };
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      wipe();
      return IoError("cannot read", path, err);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      wipe();
      return MakeError(ErrorCode::kIo, "file " + path + " is larger than " +
                                           std::to_string(max_bytes) + " bytes");
    }
    AppendWiping(&out, buf, static_cast<std::size_t>(n));
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  return out;
}

Result<std::string> ReadFileText(const std::string& path, std::size_t max_bytes) {
  SCEPD_TRY(Bytes b, ReadFileBytes(path, max_bytes));
  std::string text(b.begin(), b.end());
  OPENSSL_cleanse(b.data(), b.size());
  return text;
}

Status SyncDirectory(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("cannot open directory", dir, errno);
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return IoError("cannot sync directory", dir, errno);
  return {};
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                       FileSync sync) {
  const std::string dir = DirName(path);
  const std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  const std::string tmp = (dir == "." && path.find('/') == std::string::npos ? "" : dir + "/") +
                          "." + base + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) return IoError("cannot create", tmp, errno);
  auto fail = [&](const char* what) {
    Error e = IoError(what, tmp, errno);
    ::unlink(tmp.c_str());
    return e;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail("cannot set mode of");
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (sync != FileSync::kNone && ::fsync(fd.get()) != 0) return fail("cannot sync");
  if (::close(fd.release()) != 0) return fail("cannot close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = IoError("cannot rename temporary file to", path, errno);
    ::unlink(tmp.c_str());
    return e;
  }
  return sync == FileSync::kDataAndDirectory ? SyncDirectory(dir) : Status{};
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace scepd
