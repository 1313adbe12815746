import CSodium
import PlanetCore

extension Keypair {
    /// Recovers the start of a frame *we* sealed, from a copy quoted back to us (an error report
    /// from a relay). ChaCha20-Poly1305-IETF encrypts with the ChaCha20 keystream from block 1,
    /// so XOR with that keystream undoes it without the tag, which the quote cut off. Nothing
    /// is authenticated here: the caller uses the result only to build a local ICMPv6 error,
    /// after checking the report's signature.
    public func plaintextPrefix(ofSentFrame frame: ArraySlice<UInt8>) -> [UInt8]? {
        guard frame.count > Keypair.headerLength else { return nil }
        let f = Array(frame)
        var index: UInt32 = 0
        for i in 1...4 { index = index << 8 | UInt32(f[i]) }
        guard index == remoteIndex else { return nil }
        var counter: UInt64 = 0
        for i in 5...12 { counter = counter << 8 | UInt64(f[i]) }
        guard counter < sendCounter else { return nil }
        var nonce = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { nonce[4 + i] = UInt8(truncatingIfNeeded: counter >> UInt64(8 * i)) }
        let cipher = Array(f[Keypair.headerLength...])
        var plain = [UInt8](repeating: 0, count: cipher.count)
        _ = crypto_stream_chacha20_ietf_xor_ic(&plain, cipher, UInt64(cipher.count), nonce, 1, sendKey)
        return plain
    }
}
