#ifndef PLANET_AEGIS_H
#define PLANET_AEGIS_H
#include <stddef.h>
#include <stdint.h>

/* AEGIS-256 (the CFRG's draft-irtf-cfrg-aegis-aead), 128-bit tags, with the AES round
 * instructions. libsodium 1.0.18 (Debian 12) predates its AEGIS, so Planetary carries this
 * one; Tests/PlanetLinkTests/AEGIS256Tests.swift checks it against published vectors.
 * c and m may be the same buffer (in place). */

/* 1 when this CPU has the AES round instructions the code below needs, else 0: without
 * them no function below may be called. */
int planet_aegis256_available(void);

void planet_aegis256_encrypt(uint8_t *c, uint8_t tag[16], const uint8_t *m, size_t mlen,
                             const uint8_t *ad, size_t adlen, const uint8_t nonce[32], const uint8_t key[32]);

/* 0 and the plaintext in m when the tag verifies; -1 otherwise, with m holding the
 * ciphertext again (the same bytes as c), so that a forgery changes nothing. */
int planet_aegis256_decrypt(uint8_t *m, const uint8_t *c, size_t clen, const uint8_t tag[16],
                            const uint8_t *ad, size_t adlen, const uint8_t nonce[32], const uint8_t key[32]);

/* Decrypts without any tag: for the start of a message this node sealed itself, quoted back
 * to it without the tag (relay error reports). Nothing here is authenticated. */
void planet_aegis256_decrypt_unverified(uint8_t *m, const uint8_t *c, size_t clen,
                                        const uint8_t *ad, size_t adlen, const uint8_t nonce[32], const uint8_t key[32]);
#endif
