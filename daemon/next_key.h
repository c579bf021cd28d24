#pragma once
// The key prepared ahead of a renewal: data_dir/.next.key (PEM, 0600),
// made at low priority once the renewal window comes near (docs/daemon.md,
// "Keys made ahead of time"), so that the renewal itself is only the
// exchange with the CA. The job takes it when it builds the request and
// removes it once the request (which holds the key) is saved.

#include <string>

#include "core/ossl.h"
#include "core/result.h"

namespace scepd {

inline constexpr char kNextKeyFile[] = ".next.key";

std::string NextKeyPath(const std::string& data_dir);

// The prepared key if it is an RSA key of `bits` bits. A missing file gives
// a null pointer; an unreadable file, a key that is not RSA or of another
// size (the settings changed) gives kInvalidArgument naming the file: the
// caller discards it and makes another.
Result<ossl::Ptr<EVP_PKEY>> LoadNextKey(const std::string& data_dir, int bits);

// Stores `key` (borrowed) as the prepared key: 0600, temporary file,
// rename, not synced (a cache: a power cut may lose it or cut it short, and
// LoadNextKey refuses what does not parse). Fails with kIo naming the file.
Status SaveNextKey(const std::string& data_dir, EVP_PKEY* key);

// Removes the prepared key without syncing data_dir (the caller's next
// sync of it makes the removal durable); a missing file is not an error.
Status RemoveNextKey(const std::string& data_dir);


}  // namespace scepd
