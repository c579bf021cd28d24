#include "core/est/server_keygen.h"

#include "core/bytes.h"
#include "core/est/encrypted_key.h"
#include "core/key.h"
#include "core/wipe.h"

namespace scepd::est {
namespace {

constexpr std::size_t kMaxParts = 16;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view v) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  return v;
}

// "application/pkcs7-mime; smime-type=certs-only" → media type and the
// lower-cased smime-type parameter.
std::pair<std::string, std::string> MediaType(std::string_view header) {
  const std::size_t semi = header.find(';');
  std::string type = Lower(Trim(header.substr(0, semi)));
  std::string smime;
  const std::string lower = Lower(header);
  const std::size_t at = lower.find("smime-type=");
  if (at != std::string::npos) {
    std::string_view v = std::string_view(lower).substr(at + 11);
    v = v.substr(0, v.find(';'));
    v = Trim(v);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    smime = std::string(v);
  }
  return {type, smime};
}

Result<MimePart> ParsePart(std::string_view text, std::size_t index) {
  std::size_t sep = text.find("\r\n\r\n");
  std::size_t sep_len = 4;
  const std::size_t lf = text.find("\n\n");
  if (lf != std::string_view::npos && (sep == std::string_view::npos || lf < sep)) {
    sep = lf;
    sep_len = 2;
  }
  // A part may start directly with an empty line: no headers.
  if (text.substr(0, 2) == "\r\n") {
    sep = 0;
    sep_len = 2;
  } else if (text.substr(0, 1) == "\n") {
    sep = 0;
    sep_len = 1;
  }
  if (sep == std::string_view::npos) {
    return MakeError(ErrorCode::kParse, "multipart: part " + std::to_string(index + 1) +
                                            " has no empty line after its headers");
  }
  MimePart part;
  std::string_view headers = text.substr(0, sep);
  while (!headers.empty()) {
    const std::size_t eol = headers.find('\n');
    std::string_view line = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 1);
    line = Trim(line);
    if (line.empty()) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return MakeError(ErrorCode::kParse,
                       "multipart: part " + std::to_string(index + 1) + ": header line without ':'");
    }
    part.headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                              std::string(Trim(line.substr(colon + 1))));
  }
  part.body = std::string(text.substr(sep + sep_len));
  return part;
}

}  // namespace

std::string MimePart::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return std::string();
}

std::string BoundaryParameter(std::string_view header) {
  const std::string lower = Lower(header);
  std::size_t at = 0;
  while ((at = lower.find("boundary=", at)) != std::string::npos) {
    if (at == 0 || lower[at - 1] == ';' || lower[at - 1] == ' ' || lower[at - 1] == '\t') break;
    at += 9;
  }
  if (at == std::string::npos) return std::string();
  std::string_view v = header.substr(at + 9);
  if (!v.empty() && v.front() == '"') {
    v.remove_prefix(1);
    return std::string(v.substr(0, v.find('"')));
  }
  return std::string(Trim(v.substr(0, v.find(';'))));
}

Result<std::vector<MimePart>> ParseMultipart(std::string_view body, std::string_view boundary) {
  if (boundary.empty() || boundary.size() > 70) {
    return MakeError(ErrorCode::kParse, "multipart: missing or overlong boundary");
  }
  const std::string delim = "--" + std::string(boundary);
  // The first delimiter starts the body or follows a line break.
  std::size_t pos = body.substr(0, delim.size()) == delim ? 0 : body.find("\n" + delim);
  if (pos == std::string_view::npos) {
    return MakeError(ErrorCode::kParse, "multipart: boundary not found in the body");
  }
  if (pos != 0) ++pos;
  std::vector<MimePart> parts;
  for (;;) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    const std::size_t line_end = body.find('\n', pos);
    if (line_end == std::string_view::npos) break;
    const std::size_t start = line_end + 1;
    const std::size_t next = body.find("\n" + delim, start);
    if (next == std::string_view::npos) break;
    std::size_t end = next;
    if (end > start && body[end - 1] == '\r') --end;
    if (parts.size() == kMaxParts) {
      return MakeError(ErrorCode::kParse, "multipart: more than 16 parts");
    }
    auto part = ParsePart(body.substr(start, end - start), parts.size());
    if (!part.ok()) return std::move(part).error();
    parts.push_back(std::move(*part));
    pos = next + 1;
  }
  return MakeError(ErrorCode::kParse, "multipart: no closing boundary");
}

Result<ServerKeygenOutcome> InterpretServerKeygen(const HttpResponse& response,
                                                  std::int64_t now, const KeyDecryption* decrypt) {
  if (response.status != 200) {
    auto other = InterpretEnroll(response, nullptr, now);
    if (!other.ok()) return std::move(other).error();
    if (auto* p = std::get_if<Pending>(&*other)) return ServerKeygenOutcome(*p);
    if (auto* r = std::get_if<Rejected>(&*other)) return ServerKeygenOutcome(std::move(*r));
    return MakeError(ErrorCode::kInternal, "serverkeygen: unexpected outcome");
  }
  if (response.content_type != "multipart/mixed") {
    return MakeError(ErrorCode::kHttp,
                     "serverkeygen: expected multipart/mixed, got " +
                         (response.content_type.empty()
                              ? std::string("no content type")
                              : CleanServerText(response.content_type, 60)));
  }
  const std::string boundary = BoundaryParameter(response.content_type_header);
  if (boundary.empty()) {
    return MakeError(ErrorCode::kParse, "serverkeygen: multipart/mixed without a boundary");
  }
  std::string text = ToString(response.body);
  WipeOnExit wipe_text(text);
  auto parts = ParseMultipart(text, boundary);
  if (!parts.ok()) return MakeError(ErrorCode::kParse, "serverkeygen: " + parts.error().message);
  struct WipeParts {
    std::vector<MimePart>& parts;
    ~WipeParts() {
      for (auto& p : parts) Wipe(p.body);
    }
  } wipe_parts{*parts};

  ossl::Ptr<EVP_PKEY> key;
  std::vector<ossl::Ptr<X509>> certs;
  bool have_certs = false;
  for (std::size_t i = 0; i < parts->size(); ++i) {
    const MimePart& part = (*parts)[i];
    const std::string where = "serverkeygen: part " + std::to_string(i + 1);
    const auto [type, smime] = MediaType(part.Header("content-type"));
    if (type == "application/pkcs8") {
      if (key) return MakeError(ErrorCode::kProtocol, where + ": a second key");
      if (decrypt != nullptr) {
        return MakeError(ErrorCode::kProtocol,
                         where + ": the key came unencrypted (application/pkcs8) although the "
                                 "request asked for it encrypted; not used");
      }
      auto der = Base64Decode(part.body);
      if (!der.ok()) return MakeError(ErrorCode::kParse, where + " (key): " + der.error().message);
      WipeOnExit wipe_der(*der);
      const unsigned char* p = der->data();
      key.reset(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der->size())));  // NOLINT
      if (!key) return OpenSslError(ErrorCode::kParse, where + ": not a DER PKCS#8 private key");
    } else if (type == "application/pkcs7-mime" && smime == "server-generated-key") {
      if (decrypt == nullptr) {
        return MakeError(ErrorCode::kUnsupported,
                         where + ": the key is CMS-encrypted (smime-type=server-generated-key), "
                                 "which the request did not ask for");
      }
      if (key) return MakeError(ErrorCode::kProtocol, where + ": a second key");
      auto der = Base64Decode(part.body);
      if (!der.ok()) return MakeError(ErrorCode::kParse, where + " (key): " + der.error().message);
      WipeOnExit wipe_der(*der);
      SCEPD_TRY(key, OpenServerGeneratedKey(*der, decrypt->cert, decrypt->key,
                                            where + " (encrypted key)"));
    } else if (type == "application/pkcs7-mime") {
      if (have_certs) return MakeError(ErrorCode::kProtocol, where + ": a second certificate part");
      HttpResponse inner;
      inner.status = 200;
      inner.content_type = type;
      inner.body = ToBytes(part.body);
      auto parsed = ParseCertsOnlyBody(inner, where);
      if (!parsed.ok()) return std::move(parsed).error();
      certs = std::move(*parsed);
      have_certs = true;
    } else {
      return MakeError(ErrorCode::kProtocol,
                       where + ": unexpected content type " +
                           (type.empty() ? std::string("(none)") : CleanServerText(type, 60)));
    }
  }
  if (!key) return MakeError(ErrorCode::kProtocol, "serverkeygen: the answer holds no key part");
  if (!have_certs) {
    return MakeError(ErrorCode::kProtocol, "serverkeygen: the answer holds no certificate part");
  }
  ServerKeyIssued out;
  for (auto& c : certs) {
    ossl::Ptr<EVP_PKEY> pub(X509_get_pubkey(c.get()));
    if (!out.issued.cert && SamePublicKey(pub.get(), key.get())) {
      out.issued.cert = std::move(c);
    } else {
      out.issued.chain.push_back(std::move(c));
    }
  }
  if (!out.issued.cert) {
    return MakeError(ErrorCode::kVerify,
                     "serverkeygen: the certificate is not for the key the server sent");
  }
  out.key = std::move(key);
  return ServerKeygenOutcome(std::move(out));
}

}  // namespace scepd::est
