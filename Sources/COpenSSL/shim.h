/* The system OpenSSL (libssl-dev), for tls:// Yggdrasil links only: libsodium has no TLS.
 * Only PlanetRuntime imports this module (Docs/architecture.md). */
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
