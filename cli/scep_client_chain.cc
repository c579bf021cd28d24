#include "cli/scep_client_chain.h"

#include <algorithm>

#include <openssl/x509v3.h>

namespace scepd::cli {
namespace {

bool Issued(X509* issuer, X509* subject) { return X509_check_issued(issuer, subject) == X509_V_OK; }

}  // namespace

CaChain OrderCaChain(const scep::CaCertificates& ca) {
  CaChain chain;
  for (std::size_t i : ca.ra) chain.certs.push_back(ca.all[i].get());
  chain.ra_count = chain.certs.size();
  X509* top = ca.Ca();
  if (top == nullptr) return chain;
  chain.certs.push_back(top);
  // Bounded by the number of certificates: each is taken at most once.
  while (!Issued(top, top)) {
    X509* next = nullptr;
    for (const auto& c : ca.all) {
      const auto ca_part = chain.certs.begin() + static_cast<std::ptrdiff_t>(chain.ra_count);
      if (std::find(ca_part, chain.certs.end(), c.get()) == chain.certs.end() && Issued(c.get(), top)) {
        next = c.get();
        break;
      }
    }
    if (next == nullptr) break;
    chain.certs.push_back(next);
    top = next;
  }
  chain.complete = Issued(top, top);
  return chain;
}

}  // namespace scepd::cli
