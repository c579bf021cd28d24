#include "cli/tectia/usage_names.h"

#include <openssl/objects.h>

#include <array>

#include "core/ossl.h"

namespace scepd::tectia {
namespace {

struct Named {
  std::string_view name;
  std::string_view value;  // bit number or OID
  std::string_view meaning;
};

// RFC 5280 section 4.2.1.3, in bit order.
constexpr std::array<Named, 9> kKeyUsages{{
    {"digitalSignature", "0", "signatures other than on certificates and CRLs"},
    {"nonRepudiation", "1", "signatures meant as commitment (contentCommitment)"},
    {"keyEncipherment", "2", "encrypting keys (RSA key transport)"},
    {"dataEncipherment", "3", "encrypting data directly"},
    {"keyAgreement", "4", "key agreement (Diffie-Hellman)"},
    {"keyCertSign", "5", "signing certificates"},
    {"cRLSign", "6", "signing CRLs"},
    {"encipherOnly", "7", "with keyAgreement: only to encipher"},
    {"decipherOnly", "8", "with keyAgreement: only to decipher"},
}};

constexpr std::array<Named, 7> kExtendedKeyUsages{{
    {"serverAuth", "1.3.6.1.5.5.7.3.1", "TLS server"},
    {"clientAuth", "1.3.6.1.5.5.7.3.2", "TLS client"},
    {"codeSigning", "1.3.6.1.5.5.7.3.3", "code signing"},
    {"emailProtection", "1.3.6.1.5.5.7.3.4", "e-mail (S/MIME)"},
    {"timeStamping", "1.3.6.1.5.5.7.3.8", "time stamping"},
    {"ikeIntermediate", "1.3.6.1.5.5.8.2.2", "IPsec IKE intermediate"},
    {"smartCardLogon", "1.3.6.1.4.1.311.20.2.2", "Microsoft smart card logon"},
}};

bool EqualNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Words of a ';' or ',' separated list; empty items skipped.
std::vector<std::string_view> Words(std::string_view list) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i == list.size() || list[i] == ';' || list[i] == ',') {
      std::string_view w = Trim(list.substr(start, i - start));
      if (!w.empty()) out.push_back(w);
      start = i + 1;
    }
  }
  return out;
}

template <std::size_t N>
std::string Names(const std::array<Named, N>& table) {
  std::string out;
  for (const Named& n : table) out += (out.empty() ? "" : ", ") + std::string(n.name);
  return out;
}

template <std::size_t N>
std::string Help(const std::array<Named, N>& table, std::string_view title) {
  std::string out(title);
  out += '\n';
  for (const Named& n : table) {
    std::string name(n.name);
    name.resize(18, ' ');
    out += "  " + name + std::string(n.meaning) + "\n";
  }
  return out;
}

bool IsDottedOid(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (char c : s) {
    if (c != '.' && (c < '0' || c > '9')) return false;
  }
  return s.find("..") == std::string_view::npos && s.find('.') != std::string_view::npos;
}

}  // namespace

bool IsHelp(std::string_view list) { return EqualNoCase(Trim(list), "help"); }

Result<unsigned> ParseKeyUsages(std::string_view list) {
  unsigned bits = 0;
  std::vector<std::string_view> words = Words(list);
  if (words.empty()) return MakeError(ErrorCode::kInvalidArgument, "-u: empty key usage list");
  for (std::string_view w : words) {
    bool found = false;
    for (std::size_t i = 0; i < kKeyUsages.size(); ++i) {
      if (EqualNoCase(w, kKeyUsages[i].name)) {
        bits |= 1u << i;
        found = true;
      }
    }
    if (!found) {
      return MakeError(ErrorCode::kInvalidArgument, "-u: unknown key usage '" + std::string(w) +
                                                        "' (" + Names(kKeyUsages) + ", or help)");
    }
  }
  return bits;
}

Result<std::vector<std::string>> ParseExtendedKeyUsages(std::string_view list) {
  std::vector<std::string> out;
  std::vector<std::string_view> words = Words(list);
  if (words.empty()) return MakeError(ErrorCode::kInvalidArgument, "-U: empty extended key usage list");
  for (std::string_view w : words) {
    std::string oid;
    for (const Named& n : kExtendedKeyUsages) {
      if (EqualNoCase(w, n.name)) oid = std::string(n.value);
    }
    if (oid.empty()) {
      if (!IsDottedOid(w) || !ossl::ObjectFromText(w)) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "-U: unknown extended key usage '" + std::string(w) + "' (" +
                             Names(kExtendedKeyUsages) + ", a dotted OID such as 1.3.6.1.5.5.7.3.17, or help)");
      }
      oid = std::string(w);
    }
    bool dup = false;
    for (const std::string& o : out) dup = dup || o == oid;
    if (!dup) out.push_back(std::move(oid));
  }
  return out;
}

std::string KeyUsageHelp() {
  return Help(kKeyUsages, "Key usages (-u name[;name]...), RFC 5280 section 4.2.1.3:");
}

std::string ExtendedKeyUsageHelp() {
  return Help(kExtendedKeyUsages,
              "Extended key usages (-U name[;name]...), or dotted OIDs such as 1.3.6.1.5.5.7.3.17:");
}

std::string KeyUsageNames(unsigned bits) {
  std::string out;
  for (std::size_t i = 0; i < kKeyUsages.size(); ++i) {
    if ((bits & (1u << i)) != 0) out += (out.empty() ? "" : ";") + std::string(kKeyUsages[i].name);
  }
  return out;
}

}  // namespace scepd::tectia
