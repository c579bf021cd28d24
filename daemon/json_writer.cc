#include "daemon/json_writer.h"

#include "core/renewal_policy.h"

namespace scepd {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when the
// bytes there are not one (overlong, surrogate, beyond U+10FFFF, truncated).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (const std::size_t len = Utf8SequenceLength(s, i); len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out.push_back('"');
}


void JsonObject::String(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(out_, value);
}

void JsonObject::Number(std::string_view key, std::optional<std::int64_t> value) {
  Key(key);
  out_ += value ? std::to_string(*value) : "null";
}

void JsonObject::Bool(std::string_view key, bool value) {
  Key(key);
  out_ += value ? "true" : "false";
}

void JsonObject::Time(std::string_view key, std::optional<std::int64_t> value) {
  Key(key);
  if (value) {
    AppendJsonString(out_, FormatUtc(*value));
  } else {
    out_ += "null";
  }
  Number(std::string(key) + "_epoch", value);
}

void JsonObject::Raw(std::string_view key, std::string_view json) {
  Key(key);
  while (!json.empty() && (json.back() == '\n' || json.back() == ' ')) json.remove_suffix(1);
  out_ += json.empty() ? std::string_view("null") : json;
}

std::string JsonObject::Finish() && {
  out_ += out_.empty() ? "{}\n" : "\n}\n";
  return std::move(out_);
}

void JsonObject::Key(std::string_view key) {
  out_ += out_.empty() ? "{\n  " : ",\n  ";
  AppendJsonString(out_, key);
  out_ += ": ";
}

}  // namespace scepd
