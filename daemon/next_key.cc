#include "daemon/next_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/files.h"

namespace scepd {

std::string NextKeyPath(const std::string& data_dir) { return data_dir + "/" + kNextKeyFile; }

Result<ossl::Ptr<EVP_PKEY>> LoadNextKey(const std::string& data_dir, int bits) {
  const std::string path = NextKeyPath(data_dir);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return ossl::Ptr<EVP_PKEY>();
    return MakeError(ErrorCode::kInvalidArgument, "cannot inspect " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, path + " is not a regular file");
  }
  auto text = ReadFileText(path, 64 * 1024);
  if (!text.ok()) return MakeError(ErrorCode::kInvalidArgument, text.error().message);
  auto key = ossl::PrivateKeyFromPem(*text, path);
  OPENSSL_cleanse(text->data(), text->size());
  if (!key.ok()) return MakeError(ErrorCode::kInvalidArgument, key.error().message);
  if (EVP_PKEY_get_base_id(key->get()) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key->get()) != bits) {
    return MakeError(ErrorCode::kInvalidArgument,
                     path + " holds a " + std::to_string(EVP_PKEY_get_bits(key->get())) +
                         "-bit key that is not the " + std::to_string(bits) + "-bit RSA key of key_size");
  }
  return std::move(*key);
}

Status SaveNextKey(const std::string& data_dir, EVP_PKEY* key) {
  SCEPD_TRY(std::string pem, ossl::PrivateKeyToPem(key));
  // Not synced: a cache (docs/daemon.md, "Write order"). A power cut may
  // lose it or leave it empty or cut short; LoadNextKey then refuses it and
  // another is made. The renewal that takes it saves it durably in the
  // pending file, and Install syncs <SERIAL>.key.
  Status st = WriteFileAtomic(NextKeyPath(data_dir), pem, 0600, FileSync::kNone);
  OPENSSL_cleanse(pem.data(), pem.size());
  return st;
}

Status RemoveNextKey(const std::string& data_dir) {
  const std::string path = NextKeyPath(data_dir);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return {};
    return MakeError(ErrorCode::kIo, "cannot remove " + path + ": " + std::strerror(errno));
  }
  // Not synced here: the next sync of data_dir makes the removal durable
  // (Install's, or ClearPending's when a transaction ends without one),
  // and a .next.key that a power cut brings back holding the key of the
  // pair installed since is refused by the job (TakeNextKey).
  return {};
}

}  // namespace scepd
