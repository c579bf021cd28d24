/* Preloaded into certmonger by bench/run.sh (LD_PRELOAD): loads OpenSSL's
 * legacy provider next to the default one before certmonger starts.
 * micromdm's scepserver encrypts every CertRep with single DES, which
 * OpenSSL 3 only decrypts with the legacy provider, and certmonger does not
 * take it from OPENSSL_CONF (its decryption child reports "digital envelope
 * routines::unsupported"). Built into the bench's temporary directory. */
#include <openssl/provider.h>

__attribute__((constructor)) static void LoadLegacyProvider(void) {
  (void)OSSL_PROVIDER_load(NULL, "legacy");
  (void)OSSL_PROVIDER_load(NULL, "default");
}
