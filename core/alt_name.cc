#include "core/alt_name.h"

#include <openssl/objects.h>

#include <string>
#include <utility>
#include <vector>

#include "core/subject.h"

namespace scepd {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  return s;
}

// Trims trailing blanks, but not one that a backslash makes literal.
std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsBlank(s.back())) {
    std::size_t backslashes = 0;
    for (std::size_t i = s.size() - 1; i > 0 && s[i - 1] == '\\'; --i) ++backslashes;
    if (backslashes % 2 == 1) break;
    s.remove_suffix(1);
  }
  return s;
}

std::string_view Trim(std::string_view s) { return TrimRight(TrimLeft(s)); }

struct Item {
  std::string_view text;  // trimmed, escapes still in place
  bool lone_backslash = false;
};

// Splits on commas that are not escaped; escapes stay for the item parsers.
std::vector<Item> SplitItems(std::string_view text) {
  std::vector<Item> items;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '\\') {
      if (i + 1 == text.size()) {
        items.push_back(Item{Trim(text.substr(start)), true});
        return items;
      }
      ++i;
      continue;
    }
    if (i == text.size() || text[i] == ',') {
      items.push_back(Item{Trim(text.substr(start, i - start)), false});
      start = i + 1;
    }
  }
  return items;
}

// Removes one level of backslash escapes (the splitter guarantees that no
// backslash is left dangling at the end).
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  return out;
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') return false;
  }
  return true;
}

// Item parsers fail with a bare reason; the caller adds which item it was.
using NameResult = Result<ossl::Ptr<GENERAL_NAME>>;

Error Fail(std::string reason) { return MakeError(ErrorCode::kInvalidArgument, std::move(reason)); }

NameResult Wrap(int type, void* value) {
  ossl::Ptr<GENERAL_NAME> gen(GENERAL_NAME_new());
  if (!gen) return OpenSslError(ErrorCode::kInternal, "allocating name");
  GENERAL_NAME_set0_value(gen.get(), type, value);
  return gen;
}

NameResult MakeIa5(int type, const std::string& value) {
  if (!IsAscii(value)) return Fail("must be ASCII");
  ossl::Ptr<ASN1_STRING> str(ASN1_IA5STRING_new());
  if (!str || ASN1_STRING_set(str.get(), value.data(), static_cast<int>(value.size())) != 1) {
    return OpenSslError(ErrorCode::kInternal, "allocating string");
  }
  return Wrap(type, str.release());
}

Result<ossl::Ptr<ASN1_OBJECT>> ParseOid(const std::string& text) {
  ossl::Ptr<ASN1_OBJECT> obj = ossl::ObjectFromText(text);
  if (!obj) return Fail("'" + text + "' is not an OID");
  return obj;
}

NameResult MakeIp(const std::string& value) {
  ossl::Ptr<ASN1_STRING> ip;
  if (value.find('\0') == std::string::npos) ip.reset(a2i_IPADDRESS(value.c_str()));
  if (!ip) {
    ClearOpenSslErrors();
    return Fail("not an IPv4 or IPv6 address");
  }
  return Wrap(GEN_IPADD, ip.release());
}

NameResult MakeRid(const std::string& value) {
  SCEPD_TRY(ossl::Ptr<ASN1_OBJECT> obj, ParseOid(value));
  return Wrap(GEN_RID, obj.release());
}

NameResult MakeDirName(std::string_view escaped_value) {
  auto name = ParseSubject(escaped_value);
  if (!name.ok()) {
    std::string message = std::move(name).error().message;
    static constexpr std::string_view kPrefix = "subject: ";
    if (message.compare(0, kPrefix.size(), kPrefix) == 0) message.erase(0, kPrefix.size());
    return Fail("directory name: " + message);
  }
  return Wrap(GEN_DIRNAME, name->release());
}

// "OID;UTF8:value"
NameResult MakeOtherName(const std::string& value) {
  const std::size_t semicolon = value.find(';');
  if (semicolon == std::string::npos) return Fail("expected 'OID;UTF8:value'");
  SCEPD_TRY(ossl::Ptr<ASN1_OBJECT> oid, ParseOid(value.substr(0, semicolon)));
  const std::string_view rest = std::string_view(value).substr(semicolon + 1);
  const std::size_t colon = rest.find(':');
  const std::string_view type = rest.substr(0, colon);
  if (colon == std::string::npos ||
      !(EqualsIgnoreCase(type, "UTF8") || EqualsIgnoreCase(type, "UTF8String"))) {
    return Fail("otherName value type '" + std::string(type) +
                "' is not supported (expected 'OID;UTF8:value')");
  }
  const std::string_view text = rest.substr(colon + 1);
  if (text.empty()) return Fail("empty otherName value");
  ASN1_STRING* raw = nullptr;
  if (ASN1_mbstring_copy(&raw, reinterpret_cast<const unsigned char*>(text.data()),
                         static_cast<int>(text.size()), MBSTRING_UTF8,
                         B_ASN1_UTF8STRING) < 0) {
    ClearOpenSslErrors();
    return Fail("otherName value is not valid UTF-8");
  }
  ossl::Ptr<ASN1_STRING> utf8(raw);
  ossl::Ptr<ASN1_TYPE> any(ASN1_TYPE_new());
  if (!any) return OpenSslError(ErrorCode::kInternal, "allocating otherName");
  ASN1_TYPE_set(any.get(), V_ASN1_UTF8STRING, utf8.release());
  ossl::Ptr<GENERAL_NAME> gen(GENERAL_NAME_new());
  if (!gen || GENERAL_NAME_set0_othername(gen.get(), oid.get(), any.get()) != 1) {
    return OpenSslError(ErrorCode::kInternal, "allocating otherName");
  }
  oid.release();
  any.release();
  return gen;
}

NameResult ParseItem(std::string_view item) {
  const std::size_t colon = item.find(':');
  if (colon == std::string_view::npos) {
    return Fail(
        "missing prefix (expected email:, URI:, DNS:, RID:, IP:, dirName: or otherName:)");
  }
  const std::string_view prefix = TrimRight(item.substr(0, colon));
  const std::string_view escaped_value = TrimLeft(item.substr(colon + 1));
  if (escaped_value.empty()) return Fail("empty value");
  if (EqualsIgnoreCase(prefix, "dirName")) return MakeDirName(escaped_value);
  const std::string value = Unescape(escaped_value);
  if (EqualsIgnoreCase(prefix, "email")) return MakeIa5(GEN_EMAIL, value);
  if (EqualsIgnoreCase(prefix, "URI")) return MakeIa5(GEN_URI, value);
  if (EqualsIgnoreCase(prefix, "DNS")) return MakeIa5(GEN_DNS, value);
  if (EqualsIgnoreCase(prefix, "IP")) return MakeIp(value);
  if (EqualsIgnoreCase(prefix, "RID")) return MakeRid(value);
  if (EqualsIgnoreCase(prefix, "otherName")) return MakeOtherName(value);
  return Fail("unknown prefix '" + std::string(prefix) +
              "' (expected email, URI, DNS, RID, IP, dirName or otherName)");
}

}  // namespace

Result<ossl::Ptr<GENERAL_NAMES>> ParseAltNames(std::string_view text) {
  ossl::Ptr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslError(ErrorCode::kInternal, "allocating alternative names");
  if (Trim(text).empty()) return names;

  const std::vector<Item> items = SplitItems(text);
  for (std::size_t n = 0; n < items.size(); ++n) {
    const Item& item = items[n];
    auto context = [&] {
      return "alternative name " + std::to_string(n + 1) + " ('" + std::string(item.text) +
             "'): ";
    };
    if (item.lone_backslash) {
      return MakeError(ErrorCode::kInvalidArgument, context() + "trailing lone backslash");
    }
    if (item.text.empty()) return MakeError(ErrorCode::kInvalidArgument, context() + "empty item");
    NameResult gen = ParseItem(item.text);
    if (!gen.ok()) {
      Error error = std::move(gen).error();
      error.message = context() + error.message;
      return error;
    }
    if (sk_GENERAL_NAME_push(names.get(), gen->get()) <= 0) {
      return OpenSslError(ErrorCode::kInternal, "adding alternative name");
    }
    gen->release();
  }
  return names;
}

}  // namespace scepd
