#include "core/scep/ca_caps.h"

#include <array>
#include <cctype>

namespace scepd::scep {

namespace {

struct CapabilityEntry {
  Capability cap;
  const char* name;
};

// In enumerator order, so kCapabilities[n].cap has value n.
constexpr std::array<CapabilityEntry, 12> kCapabilities{{
    {Capability::kAES, "AES"},
    {Capability::kDES3, "DES3"},
    {Capability::kGetNextCACert, "GetNextCACert"},
    {Capability::kPOSTPKIOperation, "POSTPKIOperation"},
    {Capability::kRenewal, "Renewal"},
    {Capability::kSHA1, "SHA-1"},
    {Capability::kSHA224, "SHA-224"},
    {Capability::kSHA256, "SHA-256"},
    {Capability::kSHA384, "SHA-384"},
    {Capability::kSHA512, "SHA-512"},
    {Capability::kSCEPStandard, "SCEPStandard"},
    {Capability::kUpdate, "Update"},
}};

std::uint32_t Bit(Capability cap) noexcept {
  return std::uint32_t{1} << static_cast<unsigned>(cap);
}

char AsciiLower(char c) noexcept {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool IsSpace(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

struct NamedAlgorithm {
  const char* sscep_name;
  const char* openssl_name;
  bool legacy;
};

constexpr std::array<NamedAlgorithm, 7> kCiphers{{
    {"des", "DES-CBC", true},
    {"3des", "DES-EDE3-CBC", false},
    {"blowfish", "BF-CBC", true},
    {"aes", "AES-256-CBC", false},
    {"aes128", "AES-128-CBC", false},
    {"aes192", "AES-192-CBC", false},
    {"aes256", "AES-256-CBC", false},
}};

constexpr std::array<NamedAlgorithm, 6> kDigests{{
    {"md5", "MD5", true},
    {"sha1", "SHA1", false},
    {"sha224", "SHA224", false},
    {"sha256", "SHA256", false},
    {"sha384", "SHA384", false},
    {"sha512", "SHA512", false},
}};

// Resolves a forced sscep name; `kind` is "cipher" or "digest" for messages.
template <std::size_t N>
Result<std::string> ResolveForced(const std::array<NamedAlgorithm, N>& table,
                                  std::string_view name, bool legacy, std::string_view kind) {
  std::string lower = Lower(name);
  for (const NamedAlgorithm& a : table) {
    if (lower != a.sscep_name) continue;
    if (a.legacy && !legacy) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string(kind) + " '" + std::string(name) +
                           "' is a legacy algorithm: legacy ciphers must be enabled to use it");
    }
    return std::string(a.openssl_name);
  }
  std::string known;
  for (const NamedAlgorithm& a : table) {
    if (!known.empty()) known += ", ";
    known += a.sscep_name;
  }
  return MakeError(ErrorCode::kInvalidArgument, "unknown " + std::string(kind) + " '" +
                                                    std::string(name) + "' (expected one of " +
                                                    known + ")");
}

}  // namespace

const char* CapabilityName(Capability cap) noexcept {
  auto index = static_cast<std::size_t>(cap);
  return index < kCapabilities.size() ? kCapabilities[index].name : "?";
}

bool CaCaps::Has(Capability cap) const noexcept { return (bits & Bit(cap)) != 0; }

void CaCaps::Set(Capability cap) noexcept { bits |= Bit(cap); }

std::string CaCaps::ToString() const {
  std::string out;
  for (const CapabilityEntry& e : kCapabilities) {
    if (!Has(e.cap)) continue;
    if (!out.empty()) out += ' ';
    out += e.name;
  }
  return out;
}

CaCaps ParseCaCaps(std::string_view body) {
  CaCaps caps;
  std::size_t pos = 0;
  while (pos < body.size()) {
    while (pos < body.size() && IsSpace(body[pos])) ++pos;
    std::size_t end = pos;
    while (end < body.size() && !IsSpace(body[end])) ++end;
    std::string_view word = body.substr(pos, end - pos);
    pos = end;
    if (word.empty()) continue;
    for (const CapabilityEntry& e : kCapabilities) {
      if (EqualsIgnoreCase(word, e.name)) caps.Set(e.cap);
    }
  }
  if (caps.Has(Capability::kSCEPStandard)) {
    caps.Set(Capability::kAES);
    caps.Set(Capability::kPOSTPKIOperation);
    caps.Set(Capability::kSHA256);
  }
  return caps;
}

bool UsePost(const CaCaps& caps) noexcept {
  return caps.Has(Capability::kPOSTPKIOperation) || caps.Has(Capability::kSCEPStandard);
}

Result<Algorithms> ChooseAlgorithms(const CaCaps& caps, const AlgorithmPolicy& policy) {
  Algorithms out;
  if (!policy.force_cipher.empty()) {
    SCEPD_TRY(out.cipher, ResolveForced(kCiphers, policy.force_cipher, policy.legacy, "cipher"));
  } else if (caps.Has(Capability::kAES) || caps.Has(Capability::kSCEPStandard)) {
    out.cipher = "AES-256-CBC";
  } else if (caps.Has(Capability::kDES3)) {
    out.cipher = "DES-EDE3-CBC";
  } else {
    out.cipher = policy.legacy ? "DES-CBC" : "DES-EDE3-CBC";
  }

  if (!policy.force_digest.empty()) {
    SCEPD_TRY(out.digest, ResolveForced(kDigests, policy.force_digest, policy.legacy, "digest"));
  } else if (caps.Has(Capability::kSHA512)) {
    out.digest = "SHA512";
  } else if (caps.Has(Capability::kSHA384)) {
    out.digest = "SHA384";
  } else if (caps.Has(Capability::kSHA256) || caps.Has(Capability::kSCEPStandard)) {
    out.digest = "SHA256";
  } else if (caps.Has(Capability::kSHA224)) {
    out.digest = "SHA224";
  } else if (caps.Has(Capability::kSHA1)) {
    out.digest = "SHA1";
  } else {
    out.digest = policy.legacy ? "MD5" : "SHA1";
  }
  return out;
}

}  // namespace scepd::scep
