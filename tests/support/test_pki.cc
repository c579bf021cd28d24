#include "tests/support/test_pki.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <utility>

namespace scepd::testing {
namespace {

// ctest runs every test in a process of its own, so a per-process cache
// alone would make each test generate its keys again: 2 to 6 s per key under
// qemu-user. The keys therefore also live in the build tree, made by the
// first test that needs them and read by every later one.
std::string KeyFile(int index, int bits) {
  return std::string(SCEPD_BINARY_DIR) + "/tests/cached-keys/rsa" + std::to_string(bits) + "-" +
         std::to_string(index) + ".pem";
}

ossl::Ptr<EVP_PKEY> LoadKeyFile(const std::string& path, int bits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto key = ossl::PrivateKeyFromPem(pem, path);
  if (!key.ok() || EVP_PKEY_get_bits(key->get()) != bits) return nullptr;
  return std::move(*key);
}

// Written to a temporary name and renamed, so a test running in parallel
// reads the whole key or none; a failure only costs the next test a new key.
void SaveKeyFile(const std::string& path, EVP_PKEY* key) {
  auto pem = ossl::PrivateKeyToPem(key);
  if (!pem.ok()) return;
  const std::string dir = path.substr(0, path.rfind('/'));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  bool ok = ::write(fd, pem->data(), pem->size()) == static_cast<ssize_t>(pem->size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

}  // namespace

ossl::Ptr<EVP_PKEY> CachedKey(int index, int bits) {
  static std::mutex mu;
  static std::array<ossl::Ptr<EVP_PKEY>, 8> keys1024;  // freed at exit
  static std::array<ossl::Ptr<EVP_PKEY>, 8> keys2048;
  std::lock_guard<std::mutex> lock(mu);
  if ((bits != 1024 && bits != 2048) || index < 0 || index >= 8) {
    return ossl::Ptr<EVP_PKEY>(EVP_RSA_gen(static_cast<unsigned>(bits)));
  }
  ossl::Ptr<EVP_PKEY>& slot = (bits == 1024 ? keys1024 : keys2048)[static_cast<std::size_t>(index)];
  if (!slot) slot = LoadKeyFile(KeyFile(index, bits), bits);
  if (!slot) {
    slot.reset(EVP_RSA_gen(static_cast<unsigned>(bits)));
    if (slot) SaveKeyFile(KeyFile(index, bits), slot.get());
  }
  return ossl::UpRef(slot.get());
}

namespace {
void AddNameEntries(X509_NAME* name, const std::string& subject) {
  // "/A=b/C=d": split on '/', then on the first '='.
  std::size_t pos = 0;
  while (pos < subject.size()) {
    if (subject[pos] == '/') ++pos;
    std::size_t end = subject.find('/', pos);
    if (end == std::string::npos) end = subject.size();
    std::string part = subject.substr(pos, end - pos);
    std::size_t eq = part.find('=');
    ASSERT_NE(eq, std::string::npos) << "bad test subject " << subject;
    ASSERT_EQ(X509_NAME_add_entry_by_txt(
                  name, part.substr(0, eq).c_str(), MBSTRING_UTF8,
                  reinterpret_cast<const unsigned char*>(part.c_str() + eq + 1), -1, -1, 0),
              1);
    pos = end;
  }
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ossl::Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  ASSERT_TRUE(ext) << value;
  ASSERT_EQ(X509_add_ext(cert, ext.get(), -1), 1);
}
}  // namespace

ossl::Ptr<X509> MakeCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer_cert,
                         EVP_PKEY* issuer_key) {
  ossl::Ptr<X509> cert(X509_new());
  EXPECT_TRUE(cert);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial);
  ossl::Ptr<X509_NAME> name(X509_NAME_new());
  AddNameEntries(name.get(), spec.subject);
  X509_set_subject_name(cert.get(), name.get());
  X509_set_issuer_name(cert.get(),
                       issuer_cert ? X509_get_subject_name(issuer_cert) : name.get());
  std::int64_t nb = spec.not_before ? spec.not_before : std::time(nullptr) - 3600;
  std::int64_t na = spec.not_after ? spec.not_after : nb + 30LL * 86400;
  ossl::Ptr<ASN1_TIME> t1(ASN1_TIME_new()), t2(ASN1_TIME_new());
  ASN1_TIME_set(t1.get(), static_cast<time_t>(nb));
  // ASN1_TIME_set takes time_t: on 32-bit time_t use adj for far dates.
  ASN1_TIME_adj(t2.get(), static_cast<time_t>(nb), static_cast<int>((na - nb) / 86400),
                static_cast<long>((na - nb) % 86400));  // NOLINT(runtime/int)
  X509_set1_notBefore(cert.get(), t1.get());
  X509_set1_notAfter(cert.get(), t2.get());
  X509_set_pubkey(cert.get(), key);
  X509* issuer_for_ext = issuer_cert ? issuer_cert : cert.get();
  AddExt(cert.get(), issuer_for_ext, NID_basic_constraints,
         spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  AddExt(cert.get(), issuer_for_ext, NID_subject_key_identifier, "hash");
  if (spec.key_usage != 0) {
    std::string ku = "critical";
    if (spec.key_usage & KU_DIGITAL_SIGNATURE) ku += ",digitalSignature";
    if (spec.key_usage & KU_NON_REPUDIATION) ku += ",nonRepudiation";
    if (spec.key_usage & KU_KEY_ENCIPHERMENT) ku += ",keyEncipherment";
    if (spec.key_usage & KU_DATA_ENCIPHERMENT) ku += ",dataEncipherment";
    if (spec.key_usage & KU_KEY_CERT_SIGN) ku += ",keyCertSign";
    if (spec.key_usage & KU_CRL_SIGN) ku += ",cRLSign";
    AddExt(cert.get(), issuer_for_ext, NID_key_usage, ku.c_str());
  }
  if (!spec.alt_names.empty()) {
    AddExt(cert.get(), issuer_for_ext, NID_subject_alt_name, spec.alt_names.c_str());
  }
  EXPECT_GT(X509_sign(cert.get(), issuer_key ? issuer_key : key,
                      EVP_get_digestbyname(spec.digest.c_str())),
            0);
  return cert;
}

ossl::Ptr<X509> IssueForRequest(const X509_NAME* subject, EVP_PKEY* key, X509* ca,
                                EVP_PKEY* ca_key, long serial,  // NOLINT(runtime/int)
                                std::int64_t valid_s,
                                const STACK_OF(X509_EXTENSION)* extensions) {
  ossl::Ptr<X509> cert(X509_new());
  bool ok = cert != nullptr && X509_set_version(cert.get(), 2) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) == 1 &&
            X509_set_subject_name(cert.get(), subject) == 1 &&
            X509_set_issuer_name(cert.get(), X509_get_subject_name(ca)) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(valid_s / 86400),
                             static_cast<long>(valid_s % 86400), nullptr) != nullptr &&  // NOLINT
            X509_set_pubkey(cert.get(), key) == 1;
  for (int i = 0; ok && extensions != nullptr && i < sk_X509_EXTENSION_num(extensions); ++i) {
    ok = X509_add_ext(cert.get(), sk_X509_EXTENSION_value(extensions, i), -1) == 1;
  }
  if (!ok || X509_sign(cert.get(), ca_key, EVP_sha256()) <= 0) cert.reset();
  return cert;
}

TestCa MakeTestCa(const std::string& subject, int key_index) {
  TestCa ca;
  ca.key = CachedKey(key_index);
  CertSpec spec;
  spec.subject = subject;
  spec.is_ca = true;
  spec.key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
  spec.not_after = std::time(nullptr) + 3650LL * 86400;
  ca.cert = MakeCert(spec, ca.key.get(), nullptr, nullptr);
  return ca;
}

}  // namespace scepd::testing
