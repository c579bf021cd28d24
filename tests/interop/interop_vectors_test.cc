// CA answers encoded by an independent implementation (tests/interop/
// make_vectors.py: Python, python3-asn1crypto and python3-cryptography, no
// code shared with core/) fed to the core's parsers: CertReps through
// ParsePkiMessage, OpenEnvelope and ParseCertsOnly as the client opens
// them; GetCACert bodies through ParseGetCaCert; GetCACaps through
// ParseCaCaps. The vectors are made afresh in a temporary directory on every
// run; vectors.tsv says what each is and what must happen to it
// (docs/interop.md lists them).

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/scep/ca_caps.h"
#include "core/scep/ca_certs.h"
#include "core/scep/certs_only.h"
#include "core/scep/pki_message.h"
#include "tests/interop/interop_python.h"
#include "tests/support/process.h"

namespace scepd::testing {
namespace {

struct Vector {
  std::string name, kind, file, content_type, expect, check, source;
};

std::map<std::string, std::string> Pairs(const std::string& check) {
  std::map<std::string, std::string> out;
  std::istringstream in(check);
  std::string word;
  while (in >> word) {
    auto eq = word.find('=');
    if (eq != std::string::npos) out[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return out;
}

// The outcome of one vector: accepted (with what was read) or the error.
struct Outcome {
  bool accepted = false;
  std::string error;
  std::map<std::string, std::string> seen;  // the same keys as the check column
};

class InteropVectors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("scepd-interop-");
    auto r = RunInteropPython({"make_vectors.py", dir_->path()});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    std::istringstream in(ReadFile(dir_->File("vectors.tsv")));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      std::vector<std::string> cols;
      std::string col;
      std::istringstream fields(line);
      while (std::getline(fields, col, '\t')) cols.push_back(col);
      ASSERT_EQ(cols.size(), 7u) << line;
      vectors_->push_back({cols[0], cols[1], cols[2], cols[3] == "-" ? "" : cols[3], cols[4],
                           cols[5], cols[6]});
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static Bytes Load(const std::string& name) { return ToBytes(ReadFile(dir_->File(name))); }
  static ossl::Ptr<X509> Cert(const std::string& name) {
    auto c = ossl::CertFromPem(ReadFile(dir_->File(name)), name);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }

  Outcome RunCertRep(const Vector& v) {
    Outcome o;
    auto ca = Cert("ca.crt");
    auto ra = Cert("ra-sign.crt");
    auto client = Cert("client.crt");
    auto key = ossl::PrivateKeyFromPem(ReadFile(dir_->File("client.key")), "client.key");
    if (!ca || !ra || !client || !key.ok()) {
      o.error = "PKI files unreadable";
      return o;
    }
    X509* trusted[] = {ca.get(), ra.get()};
    auto msg = scep::ParsePkiMessage(Load(v.file), trusted);
    if (!msg.ok()) {
      o.error = msg.error().message;
      return o;
    }
    const scep::PkiAttributes& a = msg->attributes;
    o.seen["tid"] = a.transaction_id;
    o.seen["nonce"] = a.recipient_nonce ? HexEncode(*a.recipient_nonce) : "none";
    o.seen["status"] = a.pki_status ? scep::PkiStatusName(*a.pki_status) : "none";
    if (a.pki_status == scep::PkiStatus::kFailure) {
      o.seen["failinfo"] =
          a.fail_info ? std::to_string(static_cast<int>(*a.fail_info)) : std::string("none");
      if (a.fail_info_text) o.seen["text"] = HexEncode(ToBytes(*a.fail_info_text));
    }
    if (a.pki_status == scep::PkiStatus::kSuccess) {
      auto plain = scep::OpenEnvelope(msg->envelope, key->get(), client.get());
      if (!plain.ok()) {
        o.error = plain.error().message;
        return o;
      }
      auto content = scep::ParseCertsOnly(*plain);
      if (!content.ok()) {
        o.error = content.error().message;
        return o;
      }
      int issued = 0;
      for (const auto& c : content->certs) {
        if (EVP_PKEY_eq(X509_get0_pubkey(c.get()), key->get()) == 1) ++issued;
      }
      o.seen["issued"] = std::to_string(issued);
    }
    o.accepted = true;
    return o;
  }

  Outcome RunGetCaCert(const Vector& v) {
    Outcome o;
    auto roles = scep::ParseGetCaCert(v.content_type, Load(v.file));
    if (!roles.ok()) {
      o.error = roles.error().message;
      return o;
    }
    o.accepted = true;
    o.seen["ca"] = std::to_string(roles->ca);
    o.seen["signer"] = std::to_string(roles->signer);
    o.seen["encryption"] = std::to_string(roles->encryption);
    o.seen["count"] = std::to_string(roles->all.size());
    return o;
  }

  Outcome RunGetCaCaps(const Vector& v) {
    Outcome o;
    std::string caps = scep::ParseCaCaps(ToString(Load(v.file))).ToString();
    for (char& c : caps) {
      if (c == ' ') c = ',';
    }
    o.accepted = true;
    o.seen["caps"] = caps;
    return o;
  }

  static TempDir* dir_;
  static std::vector<Vector>* vectors_;
};

TempDir* InteropVectors::dir_ = nullptr;
std::vector<Vector>* InteropVectors::vectors_ = new std::vector<Vector>();

TEST_F(InteropVectors, EachIsAcceptedOrRefusedForItsReason) {
  ASSERT_GE(vectors_->size(), 60u) << "the generator wrote too few vectors";
  int accepted = 0, refused = 0;
  std::map<std::string, int> reasons;
  for (const Vector& v : *vectors_) {
    SCOPED_TRACE(v.name + " (" + v.source + ")");
    Outcome o;
    if (v.kind == "certrep") {
      o = RunCertRep(v);
    } else if (v.kind == "getcacert") {
      o = RunGetCaCert(v);
    } else if (v.kind == "getcacaps") {
      o = RunGetCaCaps(v);
    } else {
      ADD_FAILURE() << "unknown kind " << v.kind;
      continue;
    }
    if (v.expect == "accept") {
      EXPECT_TRUE(o.accepted) << "refused: " << o.error;
      if (!o.accepted) continue;
      ++accepted;
      for (const auto& [key, want] : Pairs(v.check)) {
        EXPECT_EQ(o.seen[key], want) << "field " << key;
      }
    } else {
      EXPECT_FALSE(o.accepted) << "accepted a vector that must be refused";
      if (o.accepted) continue;
      ++refused;
      EXPECT_NE(o.error.find(v.check), std::string::npos)
          << "the error does not name the reason '" << v.check << "': " << o.error;
      reasons[v.check]++;
    }
  }
  std::string summary = "interop vectors: " + std::to_string(vectors_->size()) + ", accepted " +
                        std::to_string(accepted) + ", refused " + std::to_string(refused);
  for (const auto& [why, n] : reasons) summary += "; " + std::to_string(n) + "x '" + why + "'";
  std::printf("%s\n", summary.c_str());
  EXPECT_EQ(accepted + refused, static_cast<int>(vectors_->size()));
  // docs/interop.md gives these counts and lists every vector.
  std::string doc = ReadFile(std::string(SCEPD_SOURCE_DIR) + "/docs/interop.md");
  for (char& c : doc) {
    if (c == '\n') c = ' ';
  }
  const std::string counts = "today " + std::to_string(vectors_->size()) + " vectors, " +
                             std::to_string(accepted) + " accepted and " +
                             std::to_string(refused) + " refused";
  EXPECT_NE(doc.find(counts), std::string::npos) << "docs/interop.md should say: " << counts;
  EXPECT_NE(doc.find("The " + std::to_string(refused) + " refusals"), std::string::npos);
  for (const Vector& v : *vectors_) {
    EXPECT_NE(doc.find("| `" + v.name + "` |"), std::string::npos)
        << v.name << " is not in docs/interop.md's table of vectors";
  }
}

TEST_F(InteropVectors, CoverTheIssuesList) {
  // The cases issue 15 asks for are all present (a renamed or dropped
  // vector fails here, not silently).
  std::map<std::string, bool> names;
  for (const Vector& v : *vectors_) names[v.name] = true;
  for (const char* n :
       {"certrep-pending-econtent-absent", "certrep-pending-econtent-zero-length",
        "certrep-pending-econtent-constructed-empty", "certrep-failure-econtent-absent",
        "certrep-success-ber-indefinite", "certrep-success-long-lengths",
        "certrep-success-ski-signer", "certrep-pending-attrs-utf8string",
        "certrep-pending-tid-utf8string", "certrep-pending-sender-nonce-8",
        "certrep-failure-no-failinfo", "certrep-failure-failinfotext-utf8",
        "certrep-success-extra-unrelated-certs", "certrep-success-issued-not-first",
        "certrep-success-with-ca-chain", "certrep-success-signeddata-without-certificates",
        "certrep-success-des-ede3-cbc", "certrep-success-aes-128-cbc",
        "certrep-success-aes-256-cbc", "certrep-success-sha1-rsaEncryption",
        "certrep-success-sha512-sha512WithRSAEncryption", "getcacert-ndes-raenc-ca-rasign",
        "getcacert-content-type-params", "getcacert-der-single", "getcacert-pem-single",
        "getcacaps-crlf", "getcacaps-trailing-spaces", "getcacaps-blank-lines",
        "getcacaps-unknown-words", "getcacaps-empty", "certrep-failure-econtent-zero-length",
        "certrep-failure-econtent-constructed-empty", "certrep-pending-ber-indefinite",
        "certrep-failure-ber-indefinite", "certrep-pending-ski-signer",
        "certrep-failure-attrs-utf8string", "certrep-pending-tid-ia5string",
        "certrep-success-content-no-certificates", "certrep-success-sha1-sha1WithRSAEncryption",
        "certrep-success-sha256-rsaEncryption", "certrep-success-sha256-sha256WithRSAEncryption",
        "certrep-success-sha512-rsaEncryption", "getcacert-ndes-ca-rasign-raenc",
        "getcacert-ndes-ca-raenc-rasign", "getcacert-ndes-rasign-ca-raenc",
        "getcacert-ndes-rasign-raenc-ca", "getcacert-ndes-raenc-rasign-ca",
        "getcacert-ber-indefinite"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
}

// Issue 15 point 4: every vector is a seed of the fuzz target that reads
// its kind (fuzz/make-interop-seeds.sh writes them; a vector added without
// re-running it fails here).
TEST_F(InteropVectors, EachIsAFuzzSeed) {
  const std::string corpus = std::string(SCEPD_SOURCE_DIR) + "/fuzz/corpus/";
  const std::map<std::string, std::string> target = {
      {"certrep", "pki_message"}, {"getcacert", "ca_certs"}, {"getcacaps", "ca_caps"}};
  int seeds = 0;
  for (const Vector& v : *vectors_) {
    auto t = target.find(v.kind);
    ASSERT_NE(t, target.end()) << v.kind;
    const std::string seed = corpus + t->second + "/interop-" + v.name.substr(v.kind.size() + 1);
    EXPECT_TRUE(PathExists(seed)) << seed << ": run fuzz/make-interop-seeds.sh";
    seeds += PathExists(seed) ? 1 : 0;
  }
  EXPECT_EQ(seeds, static_cast<int>(vectors_->size()));
}

}  // namespace
}  // namespace scepd::testing
