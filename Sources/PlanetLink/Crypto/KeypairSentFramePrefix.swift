import CPlanetCrypto
import CSodium
import PlanetCore

extension Keypair {
    /// Recovers the start of a frame *we* sealed, from a copy quoted back to us (an error report
    /// from a relay). ChaCha20-Poly1305 and AES-256-GCM encrypt by XOR with a keystream that
    /// depends only on key and nonce (ChaCha20 from block 1; AES-CTR from GCM's second counter
    /// block), so XOR with that keystream undoes it without the tag, which the quote cut off.
    /// AEGIS-256's keystream also depends on the plaintext before it, which decryption
    /// recovers block by block, so it decrypts the prefix (its header as the associated data)
    /// and skips the tag. Nothing
    /// is authenticated here: the caller uses the result only to build a local ICMPv6 error,
    /// after checking the report's signature.
    public func plaintextPrefix(ofSentFrame frame: ArraySlice<UInt8>) -> [UInt8]? {
        guard frame.count > Keypair.headerLength else { return nil }
        let f = Array(frame)
        guard BigEndian.u32(f, at: 1) == remoteIndex else { return nil }
        let counter = BigEndian.u64(f, at: 5)
        guard counter < sendCounter else { return nil }
        var nonce = [UInt8](repeating: 0, count: 32)
        for i in 0..<8 { nonce[4 + i] = UInt8(truncatingIfNeeded: counter >> UInt64(8 * i)) }
        let sealed = Array(f[Keypair.headerLength...])
        var plain = [UInt8](repeating: 0, count: sealed.count)
        switch cipher {
        case .aegis256:
            let header = Array(f[0..<Keypair.headerLength])
            planet_aegis256_decrypt_unverified(&plain, sealed, sealed.count, header, header.count, nonce, sendKey)
        case .chacha20Poly1305:
            _ = crypto_stream_chacha20_ietf_xor_ic(&plain, sealed, UInt64(sealed.count), nonce, 1, sendKey)
        case .aes256Gcm:
            // GCM encrypts with AES-CTR, whose keystream depends only on key and nonce: sealing
            // zeros under the same nonce yields it. The result never leaves this function, so
            // the reused nonce exposes nothing (only two *sent* ciphertexts under one nonce would).
            var keystream = [UInt8](repeating: 0, count: sealed.count)
            var tag = [UInt8](repeating: 0, count: Keypair.tagLength)
            let key = AESGCMState(key: sendKey)
            _ = crypto_aead_aes256gcm_encrypt_detached_afternm(&keystream, &tag, nil, keystream, UInt64(keystream.count),
                                                               nil, 0, nil, nonce, key.pointer)
            for i in 0..<sealed.count { plain[i] = sealed[i] ^ keystream[i] }
            Sodium.wipe(&keystream)
        }
        return plain
    }
}
