#pragma once
// Local files the way a router needs them: whole-file reads with clear
// errors, and atomic replacement (temporary file, fsync, rename, fsync of the
// directory) so a crash or power cut leaves either the old or the new file.
// Every fsync of scepd's own files is one of WriteFileAtomic's or
// SyncDirectory's (docs/daemon.md, "Write order").

#include <string>
#include <string_view>
#include <sys/types.h>

#include "core/bytes.h"
#include "core/result.h"
#include "io/unique_fd.h"

namespace scepd {

// Reads a whole file. Every file scepd and sscep read goes through here or
// OpenRegularFile: opened non-blocking (a FIFO or a device at the path must
// not hang the process) and refused unless it is a regular file (links are
// followed: latest.crt is one). Fails with kIo naming the path and the
// reason ("... is not a regular file (a FIFO)"), or when the file is larger
// than `max_bytes`. Leaves no copy of the content behind
// in freed memory (files may hold keys or passwords); wiping the result is
// the caller's part.
Result<Bytes> ReadFileBytes(const std::string& path, std::size_t max_bytes = 16u << 20);
Result<std::string> ReadFileText(const std::string& path, std::size_t max_bytes = 16u << 20);

// Opens `path` read-only and non-blocking and checks that it is a regular
// file; returns the owned descriptor. Fails with kIo as ReadFileBytes does.
Result<UniqueFd> OpenRegularFile(const std::string& path);

// Whether `path` could be read: OpenRegularFile, then closed.
Status CheckRegularFile(const std::string& path);

// A directory scepd keeps its files in (data_dir, run_dir, .pending) must
// be a real directory owned by the effective user: a symbolic link (it would
// send a chmod and private keys elsewhere) or another user's directory is
// refused. `what` names it in the error ("data_dir"). Fails with kIo.
Status CheckOwnDirectory(const std::string& path, const std::string& what);

// How much of a write WriteFileAtomic makes durable before it returns.
enum class FileSync {
  // Neither the file nor the directory is synced: readers still see the
  // old or the new content, never a torn one, but a power cut may lose the
  // write or leave the new name with empty or partial content. For files
  // that live only as long as the running system (the status files in
  // run_dir) and caches that are checked when read (data_dir/.next.key).
  kNone,
  // The file's data is synced before the rename; the rename is not: the
  // caller syncs the directory once for several files (CertStore::Install)
  // before anything depends on the new names.
  kData,
  // The file's data, then after the rename the directory.
  kDataAndDirectory,
};

// Atomically replaces `path` with `data`, created with `mode` whatever the
// umask (0600 for keys). The temporary file is `.<name>.tmp.<pid>` in the same
// directory and is removed on failure. Fails with kIo naming the path.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                       FileSync sync = FileSync::kDataAndDirectory);

// Flushes a directory's entries (after rename/unlink/symlink) to disk.
Status SyncDirectory(const std::string& dir);

// True when `path` exists (any type, links not followed).
bool PathExists(const std::string& path);

}  // namespace scepd
