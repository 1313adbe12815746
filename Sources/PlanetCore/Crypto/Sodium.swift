import CSodium

/// Thin, allocation-aware wrappers over the libsodium primitives the protocol uses.
/// Everything here is pure computation: no I/O, no clocks.
public enum Sodium {
    /// libsodium must be initialised once before use; `sodium_init` is idempotent and thread-safe.
    public static let ready: Bool = sodium_init() >= 0

    public static func randomBytes(_ count: Int) -> [UInt8] {
        precondition(ready)
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        return out
    }

    public static func randomUInt64() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { randombytes_buf($0.baseAddress!, 8) }
        return value
    }

    // MARK: ed25519

    /// Returns (seed ‖ public key, public key) for a fresh identity.
    public static func signKeypair() -> (secret: [UInt8], publicKey: [UInt8]) {
        precondition(ready)
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 64)
        _ = crypto_sign_keypair(&pk, &sk)
        return (sk, pk)
    }

    /// Derives the key pair from a 32-byte seed; used to check that a pasted 64-byte key is consistent.
    public static func signKeypair(seed: [UInt8]) -> (secret: [UInt8], publicKey: [UInt8]) {
        precondition(ready && seed.count == 32)
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 64)
        _ = crypto_sign_seed_keypair(&pk, &sk, seed)
        return (sk, pk)
    }

    public static func sign(_ message: UnsafeRawBufferPointer, secretKey: [UInt8]) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: 64)
        _ = crypto_sign_detached(&sig, nil, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                 UInt64(message.count), secretKey)
        return sig
    }

    public static func sign(_ message: [UInt8], secretKey: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { sign($0, secretKey: secretKey) }
    }

    public static func verify(signature: some Collection<UInt8>, message: UnsafeRawBufferPointer,
                              publicKey: UnsafeRawBufferPointer) -> Bool {
        guard signature.count == 64, publicKey.count == 32 else { return false }
        let sig = Array(signature)
        return crypto_sign_verify_detached(sig, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                           UInt64(message.count),
                                           publicKey.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
    }

    public static func verify(signature: some Collection<UInt8>, message: [UInt8], publicKey: [UInt8]) -> Bool {
        message.withUnsafeBytes { m in publicKey.withUnsafeBytes { verify(signature: signature, message: m, publicKey: $0) } }
    }

    // MARK: X25519

    public static func x25519Keypair() -> (secret: [UInt8], publicKey: [UInt8]) {
        let secret = randomBytes(32)
        var pub = [UInt8](repeating: 0, count: 32)
        _ = crypto_scalarmult_base(&pub, secret)
        return (secret, pub)
    }

    /// Returns nil when the peer's point yields the all-zero secret (a low-order point).
    public static func x25519(secret: [UInt8], peer: [UInt8]) -> [UInt8]? {
        guard secret.count == 32, peer.count == 32 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        guard crypto_scalarmult(&out, secret, peer) == 0 else { return nil }
        return out
    }

    // MARK: ed25519 keys as X25519 keys, and NaCl box (Yggdrasil 0.5's end-to-end sessions)

    /// The X25519 public key of an ed25519 public key (the Edwards point's Montgomery u). Nil
    /// for a key that is not a valid point or has small order: libsodium refuses those.
    public static func curve25519PublicKey(ed25519 publicKey: [UInt8]) -> [UInt8]? {
        guard ready, publicKey.count == 32 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        guard crypto_sign_ed25519_pk_to_curve25519(&out, publicKey) == 0 else { return nil }
        return out
    }

    /// The X25519 secret key of an ed25519 secret key (seed ‖ public key): SHA-512 of the seed,
    /// first half, clamped — the scalar ed25519 itself signs with.
    public static func curve25519SecretKey(ed25519 secretKey: [UInt8]) -> [UInt8] {
        precondition(ready && secretKey.count == 64)
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_sign_ed25519_sk_to_curve25519(&out, secretKey)
        return out
    }

    /// NaCl box's precomputed key (crypto_box_beforenm: HSalsa20 of the X25519 shared secret);
    /// nil when the peer's point gives the all-zero secret.
    public static func boxSharedKey(publicKey: [UInt8], secretKey: [UInt8]) -> [UInt8]? {
        guard ready, publicKey.count == 32, secretKey.count == 32 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        guard crypto_box_beforenm(&out, publicKey, secretKey) == 0 else { return nil }
        return out
    }

    /// XSalsa20-Poly1305 under a precomputed box key: the 16-byte tag, then the ciphertext
    /// (NaCl's box format, as Go's box.SealAfterPrecomputation writes it).
    public static func boxSeal(_ message: [UInt8], nonce: [UInt8], sharedKey: [UInt8]) -> [UInt8] {
        precondition(nonce.count == 24 && sharedKey.count == 32)
        var out = [UInt8](repeating: 0, count: message.count + 16)
        _ = crypto_box_easy_afternm(&out, message, UInt64(message.count), nonce, sharedKey)
        return out
    }

    /// Opens `boxSeal`'s output; nil when the tag does not verify.
    public static func boxOpen(_ boxed: some Collection<UInt8>, nonce: [UInt8], sharedKey: [UInt8]) -> [UInt8]? {
        // Arrays and slices (every caller) are opened where they lie: called from another
        // module this generic is not specialised, and copying byte by byte through the
        // protocol cost more than the cipher.
        if let opened = boxed.withContiguousStorageIfAvailable({ boxOpen(UnsafeRawBufferPointer($0), nonce: nonce, sharedKey: sharedKey) }) {
            return opened
        }
        return Array(boxed).withUnsafeBytes { boxOpen($0, nonce: nonce, sharedKey: sharedKey) }
    }

    /// Opens a box held in memory (tag, then ciphertext); nil when the tag does not verify.
    public static func boxOpen(_ boxed: UnsafeRawBufferPointer, nonce: [UInt8], sharedKey: [UInt8]) -> [UInt8]? {
        guard nonce.count == 24, sharedKey.count == 32, boxed.count >= 16, let input = boxed.baseAddress else { return nil }
        var ok = false
        let out = [UInt8](unsafeUninitializedCapacity: boxed.count - 16) { buffer, initialized in
            ok = crypto_box_open_easy_afternm(buffer.baseAddress, input.assumingMemoryBound(to: UInt8.self), UInt64(boxed.count),
                                              nonce, sharedKey) == 0
            initialized = ok ? boxed.count - 16 : 0
        }
        return ok ? out : nil
    }

    /// Seals in place: `buffer` holds 16 bytes for the tag, then the plaintext, which becomes
    /// the ciphertext (libsodium's easy interface writes the ciphertext over the plaintext
    /// when the message starts right after the tag). The result is what `boxSeal` returns.
    public static func boxSealInPlace(_ buffer: UnsafeMutableRawBufferPointer, nonce: [UInt8], sharedKey: [UInt8]) {
        precondition(nonce.count == 24 && sharedKey.count == 32 && buffer.count >= 16)
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        _ = crypto_box_easy_afternm(base, base + 16, UInt64(buffer.count - 16), nonce, sharedKey)
    }

    // MARK: BLAKE2b

    /// Keyed or plain BLAKE2b over the concatenated parts (the state struct is over-aligned
    /// and not importable, so the parts are joined first; they are small handshake fields).
    public static func blake2b(_ parts: [[UInt8]], key: [UInt8]? = nil, outputLength: Int = 32) -> [UInt8] {
        let input = parts.count == 1 ? parts[0] : parts.flatMap { $0 }
        var out = [UInt8](repeating: 0, count: outputLength)
        if let key {
            _ = crypto_generichash(&out, outputLength, input, UInt64(input.count), key, key.count)
        } else {
            _ = crypto_generichash(&out, outputLength, input, UInt64(input.count), nil, 0)
        }
        return out
    }

    public static func sha512(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        _ = crypto_hash_sha512(&out, data, UInt64(data.count))
        return out
    }

    /// Constant-time comparison, for MACs and keys.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && sodium_memcmp(a, b, a.count) == 0
    }

    /// Overwrites secrets that are no longer needed.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) }
    }
}
