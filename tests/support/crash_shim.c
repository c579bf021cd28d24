/* crash_shim: an LD_PRELOAD library for crash tests (test-only).
 *
 * It wraps the calls by which a program changes the file system or the
 * outside world, counts them in the process that loaded it (not in children
 * it forks), and, driven by the environment:
 *
 *   SCEPD_CRASH_LOG=FILE   appends one line per counted call to FILE:
 *                          "<n> <op> <path>[ -> <path>]" (n from 1)
 *   SCEPD_CRASH_AT=N       raises SIGKILL at the N-th counted call,
 *   SCEPD_CRASH_WHEN=W     W "before" (default: the call never happens) or
 *                          "after" (it happened, its result is lost)
 *
 * Counted: open/openat/creat that create, truncate or write; write and
 * pwrite to a descriptor opened so; fsync, fdatasync, ftruncate; rename(at),
 * (sym)link(at), unlink(at), mkdir(at), rmdir, chmod, fchmod; fork; send,
 * sendto and sendmsg (logged with the HTTP request line when there is one).
 * Reads are not counted. Paths of *at calls are joined to the directory's
 * path when the descriptor was opened through this library. A call that
 * fails adds a line "<n> failed <errno>" after its own.
 *
 * Built without _FILE_OFFSET_BITS so that open and open64 (etc.) are
 * distinct symbols here; 32-bit programs built with 64-bit offsets call the
 * *64 ones.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FDS 1024

static pid_t owner_pid;       /* the process that loaded us; children are left alone */
static int log_fd = -1;
static long crash_at;         /* 0: never */
static int crash_after;       /* 1: after the call */
static long counter;
static char* fd_path[MAX_FDS];
static unsigned char fd_writable[MAX_FDS];

__attribute__((constructor)) static void crash_shim_init(void) {
  owner_pid = getpid();
  const char* log = getenv("SCEPD_CRASH_LOG");
  if (log != NULL && log[0] != '\0') {
    log_fd = (int)syscall(SYS_openat, AT_FDCWD, log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                          0644);
  }
  const char* at = getenv("SCEPD_CRASH_AT");
  if (at != NULL) crash_at = strtol(at, NULL, 10);
  const char* when = getenv("SCEPD_CRASH_WHEN");
  crash_after = when != NULL && strcmp(when, "after") == 0;
}

static void* next_symbol(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == NULL) {
    static const char msg[] = "crash_shim: a wrapped function is missing\n";
    (void)!syscall(SYS_write, 2, msg, sizeof(msg) - 1);
    abort();
  }
  return f;
}
#define REAL(name)                              \
  static __typeof__(&name) real_##name;         \
  if (real_##name == NULL) real_##name = (__typeof__(&name))next_symbol(#name)

static int active(void) { return getpid() == owner_pid; }

static void die(void) {
  kill(getpid(), SIGKILL);
  for (;;) pause();
}

/* Counts one call; logs it; kills before it when this is the one. Returns the
 * call's number (0 when not counted). */
static long step(const char* op, const char* a, const char* b) {
  if (!active()) return 0;
  long n = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
  if (log_fd >= 0) {
    char line[1200];
    int len = snprintf(line, sizeof(line), "%ld %s %s%s%s\n", n, op, a ? a : "?",
                       b ? " -> " : "", b ? b : "");
    if (len > (int)sizeof(line) - 1) {
      len = (int)sizeof(line) - 1;
      line[len - 1] = '\n';
    }
    if (len > 0) (void)!syscall(SYS_write, log_fd, line, (size_t)len);
  }
  if (n == crash_at && !crash_after) die();
  return n;
}

static void done(long n) {
  if (n != 0 && n == crash_at && crash_after) die();
}

/* A call that failed changed nothing: "<n> failed <errno>" tells the reader. */
static void result(long n, long r, int err) {
  if (n == 0 || r >= 0 || log_fd < 0) return;
  char line[64];
  int len = snprintf(line, sizeof(line), "%ld failed %d\n", n, err);
  if (len > 0) (void)!syscall(SYS_write, log_fd, line, (size_t)len);
}

static const char* fd_name(int fd) {
  if (fd >= 0 && fd < MAX_FDS && fd_path[fd] != NULL) return fd_path[fd];
  return "(fd)";
}

/* "dir/name" for *at calls; `buf` receives it when joining is needed. */
static const char* at_path(int dirfd, const char* path, char* buf, size_t size) {
  if (path == NULL || path[0] == '/' || dirfd == AT_FDCWD) return path;
  snprintf(buf, size, "%s/%s", fd_name(dirfd), path);
  return buf;
}

static void remember(int fd, const char* path, int flags) {
  if (fd < 0 || fd >= MAX_FDS || path == NULL || !active()) return;
  free(fd_path[fd]);
  fd_path[fd] = strdup(path);
  fd_writable[fd] = (flags & O_ACCMODE) != O_RDONLY;
}

static int counts_open(int flags) {
  return (flags & (O_CREAT | O_TRUNC)) != 0 || (flags & O_ACCMODE) != O_RDONLY;
}

static int has_mode(int flags) { return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE; }

typedef int (*open_fn)(const char*, int, ...);
typedef int (*openat_fn)(int, const char*, int, ...);

static int do_open(open_fn real, const char* path, int flags, mode_t mode) {
  long n = counts_open(flags) ? step("open", path, NULL) : 0;
  int fd = real(path, flags, mode);
  int saved = errno;
  remember(fd, path, flags);
  result(n, fd, saved);
  done(n);
  errno = saved;
  return fd;
}

static int do_openat(openat_fn real, int dirfd, const char* path, int flags, mode_t mode) {
  char buf[1024];
  const char* full = at_path(dirfd, path, buf, sizeof(buf));
  long n = counts_open(flags) ? step("open", full, NULL) : 0;
  int fd = real(dirfd, path, flags, mode);
  int saved = errno;
  remember(fd, full, flags);
  result(n, fd, saved);
  done(n);
  errno = saved;
  return fd;
}

#define MODE_ARG(flags)              \
  mode_t mode = 0;                   \
  if (has_mode(flags)) {             \
    va_list ap;                      \
    va_start(ap, flags);             \
    mode = (mode_t)va_arg(ap, int);  \
    va_end(ap);                      \
  }

int open(const char* path, int flags, ...) {
  MODE_ARG(flags);
  REAL(open);
  return do_open(real_open, path, flags, mode);
}
int open64(const char* path, int flags, ...) {
  MODE_ARG(flags);
  REAL(open64);
  return do_open(real_open64, path, flags, mode);
}
int __open_2(const char* path, int flags) {
  REAL(open);
  return do_open(real_open, path, flags, 0);
}
int __open64_2(const char* path, int flags) {
  REAL(open64);
  return do_open(real_open64, path, flags, 0);
}
int openat(int dirfd, const char* path, int flags, ...) {
  MODE_ARG(flags);
  REAL(openat);
  return do_openat(real_openat, dirfd, path, flags, mode);
}
int openat64(int dirfd, const char* path, int flags, ...) {
  MODE_ARG(flags);
  REAL(openat64);
  return do_openat(real_openat64, dirfd, path, flags, mode);
}
int creat(const char* path, mode_t mode) {
  REAL(open);
  return do_open(real_open, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
int creat64(const char* path, mode_t mode) {
  REAL(open64);
  return do_open(real_open64, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int close(int fd) {
  REAL(close);
  if (fd >= 0 && fd < MAX_FDS && active()) {
    free(fd_path[fd]);
    fd_path[fd] = NULL;
    fd_writable[fd] = 0;
  }
  return real_close(fd);
}

static int tracked_writable(int fd) {
  return fd > 2 && fd < MAX_FDS && fd_path[fd] != NULL && fd_writable[fd] && fd != log_fd;
}

ssize_t write(int fd, const void* buf, size_t count) {
  REAL(write);
  long n = tracked_writable(fd) ? step("write", fd_path[fd], NULL) : 0;
  ssize_t r = real_write(fd, buf, count);
  int saved = errno;
  done(n);
  errno = saved;
  return r;
}
ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  REAL(pwrite);
  long n = tracked_writable(fd) ? step("write", fd_path[fd], NULL) : 0;
  ssize_t r = real_pwrite(fd, buf, count, offset);
  int saved = errno;
  done(n);
  errno = saved;
  return r;
}
ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  REAL(pwrite64);
  long n = tracked_writable(fd) ? step("write", fd_path[fd], NULL) : 0;
  ssize_t r = real_pwrite64(fd, buf, count, offset);
  int saved = errno;
  done(n);
  errno = saved;
  return r;
}

/* Wraps a call with a fixed argument list: count, call, maybe die after. */
#define WRAP(ret, name, params, args, op, a, b)          \
  ret name params {                                      \
    REAL(name);                           \
    long n = step(op, a, b);                             \
    ret r = real_##name args;                            \
    int saved = errno;                                   \
    result(n, (long)r, saved);                           \
    done(n);                                             \
    errno = saved;                                       \
    return r;                                            \
  }

WRAP(int, fsync, (int fd), (fd), "fsync", fd_name(fd), NULL)
WRAP(int, fdatasync, (int fd), (fd), "fsync", fd_name(fd), NULL)
WRAP(int, ftruncate, (int fd, off_t len), (fd, len), "truncate", fd_name(fd), NULL)
WRAP(int, ftruncate64, (int fd, off64_t len), (fd, len), "truncate", fd_name(fd), NULL)
WRAP(int, rename, (const char* from, const char* to), (from, to), "rename", from, to)
WRAP(int, symlink, (const char* target, const char* path), (target, path), "symlink", path,
     target)
WRAP(int, link, (const char* from, const char* to), (from, to), "link", from, to)
WRAP(int, unlink, (const char* path), (path), "unlink", path, NULL)
WRAP(int, rmdir, (const char* path), (path), "rmdir", path, NULL)
WRAP(int, mkdir, (const char* path, mode_t mode), (path, mode), "mkdir", path, NULL)
WRAP(int, chmod, (const char* path, mode_t mode), (path, mode), "chmod", path, NULL)
WRAP(int, fchmod, (int fd, mode_t mode), (fd, mode), "chmod", fd_name(fd), NULL)

int renameat(int fromfd, const char* from, int tofd, const char* to) {
  REAL(renameat);
  char a[1024], b[1024];
  long n = step("rename", at_path(fromfd, from, a, sizeof(a)), at_path(tofd, to, b, sizeof(b)));
  int r = real_renameat(fromfd, from, tofd, to);
  int saved = errno;
  result(n, r, saved);
  done(n);
  errno = saved;
  return r;
}
int renameat2(int fromfd, const char* from, int tofd, const char* to, unsigned flags) {
  REAL(renameat2);
  char a[1024], b[1024];
  long n = step("rename", at_path(fromfd, from, a, sizeof(a)), at_path(tofd, to, b, sizeof(b)));
  int r = real_renameat2(fromfd, from, tofd, to, flags);
  int saved = errno;
  result(n, r, saved);
  done(n);
  errno = saved;
  return r;
}
int symlinkat(const char* target, int dirfd, const char* path) {
  REAL(symlinkat);
  char a[1024];
  long n = step("symlink", at_path(dirfd, path, a, sizeof(a)), target);
  int r = real_symlinkat(target, dirfd, path);
  int saved = errno;
  result(n, r, saved);
  done(n);
  errno = saved;
  return r;
}
int linkat(int fromfd, const char* from, int tofd, const char* to, int flags) {
  REAL(linkat);
  char a[1024], b[1024];
  long n = step("link", at_path(fromfd, from, a, sizeof(a)), at_path(tofd, to, b, sizeof(b)));
  int r = real_linkat(fromfd, from, tofd, to, flags);
  int saved = errno;
  result(n, r, saved);
  done(n);
  errno = saved;
  return r;
}
int unlinkat(int dirfd, const char* path, int flags) {
  REAL(unlinkat);
  char a[1024];
  long n = step((flags & AT_REMOVEDIR) ? "rmdir" : "unlink", at_path(dirfd, path, a, sizeof(a)),
                NULL);
  int r = real_unlinkat(dirfd, path, flags);
  int saved = errno;
  result(n, r, saved);
  done(n);
  errno = saved;
  return r;
}
int mkdirat(int dirfd, const char* path, mode_t mode) {
  REAL(mkdirat);
  char a[1024];
  long n = step("mkdir", at_path(dirfd, path, a, sizeof(a)), NULL);
  int r = real_mkdirat(dirfd, path, mode);
  int saved = errno;
  result(n, r, saved);
  done(n);
  errno = saved;
  return r;
}

/* After fork, only the parent counts (and dies when told to: the child runs on). */
pid_t fork(void) {
  REAL(fork);
  long n = step("fork", "child", NULL);
  pid_t pid = real_fork();
  int saved = errno;
  if (pid != 0) done(n);
  errno = saved;
  return pid;
}

/* "POST /scep?operation=PKIOperation HTTP/1.1" when buf starts an HTTP request. */
static const char* request_line(const void* buf, size_t len, char* out, size_t size) {
  const char* p = (const char*)buf;
  size_t i = 0;
  if (len < 4 || !(memcmp(p, "GET ", 4) == 0 || memcmp(p, "POST", 4) == 0)) return "data";
  while (i < len && i + 1 < size && p[i] != '\r' && p[i] != '\n') {
    out[i] = p[i];
    ++i;
  }
  out[i] = '\0';
  return out;
}

ssize_t send(int fd, const void* buf, size_t len, int flags) {
  REAL(send);
  char line[256];
  long n = step("send", request_line(buf, len, line, sizeof(line)), NULL);
  ssize_t r = real_send(fd, buf, len, flags);
  int saved = errno;
  done(n);
  errno = saved;
  return r;
}
ssize_t sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* to,
               socklen_t tolen) {
  REAL(sendto);
  char line[256];
  long n = step("send", request_line(buf, len, line, sizeof(line)), NULL);
  ssize_t r = real_sendto(fd, buf, len, flags, to, tolen);
  int saved = errno;
  done(n);
  errno = saved;
  return r;
}
ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  REAL(sendmsg);
  char line[256];
  const char* what = "data";
  if (msg != NULL && msg->msg_iovlen > 0) {
    what = request_line(msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, line, sizeof(line));
  }
  long n = step("send", what, NULL);
  ssize_t r = real_sendmsg(fd, msg, flags);
  int saved = errno;
  done(n);
  errno = saved;
  return r;
}
