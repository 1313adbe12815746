// AEGIS-256 with 128-bit tags, written from the CFRG specification
// (draft-irtf-cfrg-aegis-aead): a state of six AES blocks, each message block absorbed with one
// AES round per state block. Why Planetary has it: Docs/protocol.md, "Cipher negotiation".
#include "planet_aegis.h"
#include <string.h>
#include <immintrin.h>

#define AEGIS_TARGET __attribute__((target("aes,sse4.1")))

int planet_aegis256_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
}

typedef struct { __m128i s[6]; } aegis_state;

// Update(M): every block takes one AES round of its predecessor, keyed by itself; S0 also
// takes the message block. All six read the old state, so they are computed from the end.
static inline AEGIS_TARGET void aegis_update(aegis_state *st, __m128i m) {
    __m128i *s = st->s;
    __m128i last = s[5];
    s[5] = _mm_aesenc_si128(s[4], s[5]);
    s[4] = _mm_aesenc_si128(s[3], s[4]);
    s[3] = _mm_aesenc_si128(s[2], s[3]);
    s[2] = _mm_aesenc_si128(s[1], s[2]);
    s[1] = _mm_aesenc_si128(s[0], s[1]);
    s[0] = _mm_aesenc_si128(last, _mm_xor_si128(s[0], m));
}

static inline AEGIS_TARGET __m128i aegis_keystream(const aegis_state *st) {
    const __m128i *s = st->s;
    return _mm_xor_si128(_mm_xor_si128(s[1], s[4]), _mm_xor_si128(s[5], _mm_and_si128(s[2], s[3])));
}

static inline AEGIS_TARGET __m128i load_partial(const uint8_t *p, size_t n) {
    uint8_t b[16] = {0};
    memcpy(b, p, n);
    return _mm_loadu_si128((const __m128i *)b);
}

static AEGIS_TARGET void aegis_init(aegis_state *st, const uint8_t key[32], const uint8_t nonce[32],
                                    const uint8_t *ad, size_t adlen) {
    static const uint8_t c0b[16] = {0x00, 0x01, 0x01, 0x02, 0x03, 0x05, 0x08, 0x0d,
                                    0x15, 0x22, 0x37, 0x59, 0x90, 0xe9, 0x79, 0x62};
    static const uint8_t c1b[16] = {0xdb, 0x3d, 0x18, 0x55, 0x6d, 0xc2, 0x2f, 0xf1,
                                    0x20, 0x11, 0x31, 0x42, 0x73, 0xb5, 0x28, 0xdd};
    const __m128i c0 = _mm_loadu_si128((const __m128i *)c0b), c1 = _mm_loadu_si128((const __m128i *)c1b);
    const __m128i k0 = _mm_loadu_si128((const __m128i *)key), k1 = _mm_loadu_si128((const __m128i *)(key + 16));
    const __m128i n0 = _mm_loadu_si128((const __m128i *)nonce), n1 = _mm_loadu_si128((const __m128i *)(nonce + 16));
    const __m128i kn0 = _mm_xor_si128(k0, n0), kn1 = _mm_xor_si128(k1, n1);
    st->s[0] = kn0;
    st->s[1] = kn1;
    st->s[2] = c1;
    st->s[3] = c0;
    st->s[4] = _mm_xor_si128(k0, c0);
    st->s[5] = _mm_xor_si128(k1, c1);
    for (int i = 0; i < 4; i++) {
        aegis_update(st, k0);
        aegis_update(st, k1);
        aegis_update(st, kn0);
        aegis_update(st, kn1);
    }
    size_t i = 0;
    for (; i + 16 <= adlen; i += 16) aegis_update(st, _mm_loadu_si128((const __m128i *)(ad + i)));
    if (i < adlen) aegis_update(st, load_partial(ad + i, adlen - i));
}

static AEGIS_TARGET void aegis_tag(aegis_state *st, size_t adlen, size_t mlen, uint8_t tag[16]) {
    const __m128i lengths = _mm_set_epi64x((long long)((uint64_t)mlen << 3), (long long)((uint64_t)adlen << 3));
    const __m128i t = _mm_xor_si128(st->s[3], lengths);
    for (int i = 0; i < 7; i++) aegis_update(st, t);
    const __m128i *s = st->s;
    __m128i x = _mm_xor_si128(_mm_xor_si128(s[0], s[1]), _mm_xor_si128(s[2], s[3]));
    x = _mm_xor_si128(x, _mm_xor_si128(s[4], s[5]));
    _mm_storeu_si128((__m128i *)tag, x);
}

static AEGIS_TARGET void aegis_encrypt_blocks(aegis_state *st, uint8_t *c, const uint8_t *m, size_t mlen) {
    size_t i = 0;
    for (; i + 16 <= mlen; i += 16) {
        const __m128i x = _mm_loadu_si128((const __m128i *)(m + i));
        _mm_storeu_si128((__m128i *)(c + i), _mm_xor_si128(x, aegis_keystream(st)));
        aegis_update(st, x);
    }
    if (i < mlen) {
        uint8_t b[16];
        const __m128i x = load_partial(m + i, mlen - i);
        _mm_storeu_si128((__m128i *)b, _mm_xor_si128(x, aegis_keystream(st)));
        memcpy(c + i, b, mlen - i);
        aegis_update(st, x);
    }
}

static AEGIS_TARGET void aegis_decrypt_blocks(aegis_state *st, uint8_t *m, const uint8_t *c, size_t clen) {
    size_t i = 0;
    for (; i + 16 <= clen; i += 16) {
        const __m128i x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(c + i)), aegis_keystream(st));
        _mm_storeu_si128((__m128i *)(m + i), x);
        aegis_update(st, x);
    }
    if (i < clen) {
        // The last block's plaintext is zero-padded before it is absorbed, like the sender's.
        uint8_t b[16] = {0};
        memcpy(b, c + i, clen - i);
        _mm_storeu_si128((__m128i *)b, _mm_xor_si128(_mm_loadu_si128((const __m128i *)b), aegis_keystream(st)));
        memset(b + (clen - i), 0, 16 - (clen - i));
        memcpy(m + i, b, clen - i);
        aegis_update(st, _mm_loadu_si128((const __m128i *)b));
    }
}

AEGIS_TARGET void planet_aegis256_encrypt(uint8_t *c, uint8_t tag[16], const uint8_t *m, size_t mlen,
                                          const uint8_t *ad, size_t adlen, const uint8_t nonce[32], const uint8_t key[32]) {
    aegis_state st;
    aegis_init(&st, key, nonce, ad, adlen);
    aegis_encrypt_blocks(&st, c, m, mlen);
    aegis_tag(&st, adlen, mlen, tag);
}

AEGIS_TARGET int planet_aegis256_decrypt(uint8_t *m, const uint8_t *c, size_t clen, const uint8_t tag[16],
                                         const uint8_t *ad, size_t adlen, const uint8_t nonce[32], const uint8_t key[32]) {
    aegis_state st;
    uint8_t expected[16];
    aegis_init(&st, key, nonce, ad, adlen);
    aegis_decrypt_blocks(&st, m, c, clen);
    aegis_tag(&st, adlen, clen, expected);
    uint8_t diff = 0;
    for (int i = 0; i < 16; i++) diff |= (uint8_t)(expected[i] ^ tag[i]);
    if (diff == 0) return 0;
    // A forgery: the plaintext was written before the tag could be checked (AEGIS absorbs
    // the plaintext). Put the ciphertext back. In place, c is gone, but encryption under the
    // same key, nonce and associated data maps that plaintext back to exactly it.
    if (m == c) {
        aegis_init(&st, key, nonce, ad, adlen);
        aegis_encrypt_blocks(&st, m, m, clen);
    } else {
        memmove(m, c, clen);
    }
    return -1;
}

AEGIS_TARGET void planet_aegis256_decrypt_unverified(uint8_t *m, const uint8_t *c, size_t clen,
                                                     const uint8_t *ad, size_t adlen, const uint8_t nonce[32], const uint8_t key[32]) {
    aegis_state st;
    aegis_init(&st, key, nonce, ad, adlen);
    aegis_decrypt_blocks(&st, m, c, clen);
}
