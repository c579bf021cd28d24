#pragma once
// The fixed key and certificate the fuzz targets open envelopes and check
// signatures with, so that inputs derived from the seed corpus reach the code
// behind the signature check and the decryption. pki/fuzz.key and
// pki/fuzz.crt are throwaway test material (make-corpus.sh writes them once);
// they protect nothing.

#include "core/ossl.h"

namespace scepd::fuzz {

struct FuzzPki {
  ossl::Ptr<EVP_PKEY> key;
  ossl::Ptr<X509> cert;  // self-signed, CA:TRUE, for `key`
};

// Loaded on first use from the source tree's fuzz/pki/; aborts with a message
// when the files are missing or unreadable (a fuzz run without them would
// only test the first few bytes of every message).
const FuzzPki& GetFuzzPki();

}  // namespace scepd::fuzz
