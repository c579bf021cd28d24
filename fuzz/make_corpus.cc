// Writes the binary seed corpora of the fuzz targets (make-corpus.sh runs
// it; the text corpora are written by the script itself):
//   fuzz_make_corpus OUT_DIR
// creates OUT_DIR/pki_message/ and OUT_DIR/ca_certs/ with valid messages
// built by the core's own encoders around the fixed key and certificate in
// fuzz/pki/, each prefixed with the byte that picks the target's path (see
// the targets' comments). File names say what each seed is.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <openssl/cms.h>
#include <openssl/x509v3.h>

#include "core/csr.h"
#include "core/key.h"
#include "core/ossl.h"
#include "core/scep/certs_only.h"
#include "core/scep/pki_message.h"
#include "core/scep/scep.h"
#include "fuzz/fuzz_pki.h"

namespace {

namespace fs = std::filesystem;
namespace ossl = scepd::ossl;
namespace scep = scepd::scep;
using scepd::Bytes;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz_make_corpus: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T Must(scepd::Result<T> r, const char* what) {
  if (!r) Die(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

void Write(const fs::path& dir, const std::string& name, std::uint8_t mode, const Bytes& body) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.put(static_cast<char>(mode));
  out.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
  if (!out) Die("cannot write " + (dir / name).string());
}

Bytes FromString(const std::string& s) { return Bytes(s.begin(), s.end()); }

// A certificate for `key` issued by the fixed CA, with the given keyUsage.
ossl::Ptr<X509> Issue(EVP_PKEY* key, const char* cn, long serial, const char* key_usage) {
  const auto& pki = scepd::fuzz::GetFuzzPki();
  ossl::Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  ossl::Ptr<X509_NAME> name(X509_NAME_new());
  X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_subject_name(cert.get(), name.get());
  X509_set_issuer_name(cert.get(), X509_get_subject_name(pki.cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), 36500, 0, nullptr);
  X509_set_pubkey(cert.get(), key);
  if (key_usage != nullptr) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, pki.cert.get(), cert.get(), nullptr, nullptr, 0);
    ossl::Ptr<X509_EXTENSION> ext(
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_key_usage, key_usage));
    if (!ext) Die("keyUsage extension");
    X509_add_ext(cert.get(), ext.get(), -1);
  }
  if (X509_sign(cert.get(), pki.key.get(), EVP_sha256()) <= 0) Die("signing a certificate");
  return cert;
}

Bytes SignedData(const Bytes& content) {
  const auto& pki = scepd::fuzz::GetFuzzPki();
  constexpr unsigned kFlags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  ossl::Ptr<CMS_ContentInfo> cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, kFlags));
  ossl::Ptr<BIO> data(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  if (!cms || CMS_add1_signer(cms.get(), pki.cert.get(), pki.key.get(), EVP_sha256(), kFlags) == nullptr ||
      CMS_final(cms.get(), data.get(), nullptr, CMS_BINARY) != 1) {
    Die("signing GetNextCACert content");
  }
  unsigned char* buf = nullptr;
  const int n = i2d_CMS_ContentInfo(cms.get(), &buf);
  if (n <= 0) Die("encoding GetNextCACert");
  Bytes out(buf, buf + n);
  OPENSSL_free(buf);
  return out;
}

// The attribute records of pki_message_fuzzer's path 3.
void Record(Bytes* out, std::uint8_t which, std::uint8_t type_index, const Bytes& value) {
  out->push_back(which);
  out->push_back(type_index);
  out->push_back(static_cast<std::uint8_t>(value.size()));
  out->insert(out->end(), value.begin(), value.end());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) Die("usage: fuzz_make_corpus OUT_DIR");
  const fs::path out = argv[1];
  if (!ossl::EnableLegacyAlgorithms()) Die("legacy provider");
  const auto& pki = scepd::fuzz::GetFuzzPki();
  X509* fixed = pki.cert.get();

  // ---- pki_message ------------------------------------------------------
  const fs::path pm = out / "pki_message";
  auto issued_key = Must(scepd::GenerateRsaKey(2048), "key");
  auto issued = Issue(issued_key.get(), "router-1", 2, "digitalSignature,keyEncipherment");
  X509* issued_certs[] = {issued.get(), fixed};
  const Bytes certs_only = Must(scep::BuildCertsOnly(issued_certs), "certs-only");
  const Bytes nonce(16, 0x5a), nonce2(16, 0xa5);
  const std::string tid = "7F1D3B6A0C2E4F5A6B7C8D9E0F1A2B3C";

  scep::SignerSpec signer;
  signer.cert = fixed;
  signer.key = pki.key.get();
  scep::EnvelopeSpec envelope;
  envelope.recipients = {fixed};
  scep::PkiAttributes rep;
  rep.message_type = scep::MessageType::kCertRep;
  rep.transaction_id = tid;
  rep.sender_nonce = nonce2;
  rep.recipient_nonce = nonce;
  rep.pki_status = scep::PkiStatus::kSuccess;
  struct Alg { const char* cipher; const char* digest; const char* name; };
  for (const Alg& a : {Alg{"AES-256-CBC", "SHA256", "aes256-sha256"},
                       Alg{"DES-EDE3-CBC", "SHA1", "des3-sha1"},
                       Alg{"DES-CBC", "MD5", "des-md5"},
                       Alg{"AES-128-CBC", "SHA512", "aes128-sha512"}}) {
    scep::SignerSpec s = signer;
    s.digest = a.digest;
    scep::EnvelopeSpec e = envelope;
    e.cipher = a.cipher;
    const Bytes msg = Must(scep::BuildPkiMessage(rep, certs_only, e, s), "CertRep");
    Write(pm, std::string("certrep-success-") + a.name, 0, msg);
    Write(pm, std::string("certrep-success-") + a.name + "-untrusted", 1, msg);
    X509* trusted[] = {fixed};
    auto parsed = Must(scep::ParsePkiMessage(msg, trusted), "parsing own CertRep");
    Write(pm, std::string("envelope-certs-only-") + a.name, 2, parsed.envelope);
  }
  scep::PkiAttributes pending = rep;
  pending.pki_status = scep::PkiStatus::kPending;
  Write(pm, "certrep-pending", 0,
        Must(scep::BuildPkiMessage(pending, std::nullopt, envelope, signer), "PENDING"));
  scep::PkiAttributes failure = rep;
  failure.pki_status = scep::PkiStatus::kFailure;
  failure.fail_info = scep::FailInfo::kBadRequest;
  failure.fail_info_text = "challenge password rejected";
  Write(pm, "certrep-failure", 0,
        Must(scep::BuildPkiMessage(failure, std::nullopt, envelope, signer), "FAILURE"));

  // A PKCSReq as our client sends it: CSR in the envelope.
  scepd::CsrSpec csr_spec;
  csr_spec.subject = "/O=Example/CN=router-1";
  csr_spec.alt_names = "DNS:router-1.example, IP:192.0.2.1";
  csr_spec.challenge_password = "secret";
  csr_spec.digital_signature = csr_spec.key_encipherment = csr_spec.client_auth = true;
  auto csr = Must(scepd::BuildCsr(csr_spec, issued_key.get()), "CSR");
  const Bytes csr_der = Must(ossl::CsrToDer(csr.get()), "CSR DER");
  scep::PkiAttributes req;
  req.message_type = scep::MessageType::kPKCSReq;
  req.transaction_id = tid;
  req.sender_nonce = nonce;
  const Bytes pkcsreq = Must(scep::BuildPkiMessage(req, csr_der, envelope, signer), "PKCSReq");
  Write(pm, "pkcsreq", 1, pkcsreq);
  // CertPoll and GetCert payloads.
  X509* trusted[] = {fixed};
  const Bytes ias = Must(scep::EncodeIssuerAndSubject(X509_get_subject_name(fixed),
                                                      X509_get_subject_name(issued.get())), "IAS");
  const Bytes iasn = Must(scep::EncodeIssuerAndSerial(X509_get_subject_name(fixed),
                                                      X509_get_serialNumber(issued.get())), "IASN");
  for (const auto& [name, payload] : {std::pair<const char*, const Bytes*>{"issuer-and-subject", &ias},
                                      {"issuer-and-serial", &iasn},
                                      {"csr", &csr_der}}) {
    req.message_type = scep::MessageType::kCertPoll;
    const Bytes msg = Must(scep::BuildPkiMessage(req, *payload, envelope, signer), name);
    auto parsed = Must(scep::ParsePkiMessage(msg, trusted), "parsing own request");
    Write(pm, std::string("envelope-") + name, 2, parsed.envelope);
  }
  // Signed attributes (path 3): a complete CertRep set, then one with a
  // duplicate and a wrongly typed value. Type indexes: 0 PrintableString,
  // 1 UTF8String, 3 OCTET STRING (see kStringTypes).
  Bytes attrs;
  Record(&attrs, 0, 0, FromString("3"));
  Record(&attrs, 5, 0, FromString(tid));
  Record(&attrs, 3, 3, nonce2);
  Record(&attrs, 4, 3, nonce);
  Record(&attrs, 1, 0, FromString("2"));
  Record(&attrs, 2, 0, FromString("2"));
  Record(&attrs, 6, 1, FromString("challenge password rejected"));
  Write(pm, "attributes-failure", 3, attrs);
  Bytes odd;
  Record(&odd, 0, 1, FromString("19"));
  Record(&odd, 5, 1, FromString(tid));
  Record(&odd, 5, 0, FromString(tid));
  Record(&odd, 3, 0, nonce);
  odd.push_back(0xf0);
  odd.insert(odd.end(), certs_only.begin(), certs_only.end());
  Write(pm, "attributes-duplicate", 3, odd);

  // ---- ca_certs ---------------------------------------------------------
  const fs::path cc = out / "ca_certs";
  const Bytes ca_der = Must(ossl::CertToDer(fixed), "CA DER");
  const std::string ca_pem = Must(ossl::CertToPem(fixed), "CA PEM");
  Write(cc, "getcacert-der", 0, ca_der);
  Write(cc, "getcacert-pem", 0, FromString(ca_pem));
  auto ra_key = Must(scepd::GenerateRsaKey(2048), "RA key");
  auto ra_enc = Issue(ra_key.get(), "RA encryption", 3, "keyEncipherment");
  auto ra_sig = Issue(ra_key.get(), "RA signing", 4, "digitalSignature");
  auto ra_both = Issue(ra_key.get(), "RA", 5, nullptr);
  X509* with_ra[] = {fixed, ra_enc.get(), ra_sig.get()};
  X509* with_one_ra[] = {ra_both.get(), fixed};
  const Bytes ra_chain = Must(scep::BuildCertsOnly(with_ra), "CA+RA");
  Write(cc, "getcacert-ca-ra", 1, ra_chain);
  Write(cc, "getcacert-one-ra", 1, Must(scep::BuildCertsOnly(with_one_ra), "RA+CA"));
  Write(cc, "sniffed-certs-only", 2, ra_chain);
  Write(cc, "sniffed-pem-chain", 3,
        FromString(ca_pem + Must(ossl::CertToPem(ra_enc.get()), "RA PEM")));
  Write(cc, "certs-only", 5, ra_chain);
  auto next_key = Must(scepd::GenerateRsaKey(2048), "next CA key");
  auto next_ca = Issue(next_key.get(), "next CA", 6, "keyCertSign,cRLSign");
  X509* next[] = {next_ca.get()};
  Write(cc, "getnextcacert", 6, SignedData(Must(scep::BuildCertsOnly(next), "next certs-only")));
  std::printf("fuzz_make_corpus: wrote %s and %s\n", pm.c_str(), cc.c_str());
  return 0;
}
