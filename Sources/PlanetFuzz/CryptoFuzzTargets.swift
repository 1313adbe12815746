import CPlanetCrypto

enum CryptoFuzzTargets {
    /// AEGIS-256 (Sources/CPlanetCrypto), the one cipher the project implements itself, against
    /// its own contract on arbitrary keys, nonces, associated data and messages of any length:
    /// decryption in place gives the message back; one flipped bit of ciphertext, tag or
    /// associated data is refused and leaves the buffer exactly as it came; the tag-less prefix
    /// decryption agrees with the message. Input: key (32), nonce (32), one byte of associated
    /// data length, that much associated data, the rest the message (short inputs are padded
    /// with zeros). Without the AES instructions there is nothing to run.
    static let aegis = FuzzTarget("aegis", "AEGIS-256: round trip, refused forgeries leave the buffer alone, prefix decryption") { input in
        guard planet_aegis256_available() == 1 else { return }
        var bytes = Array(input)
        if bytes.count < 65 { bytes += [UInt8](repeating: 0, count: 65 - bytes.count) }
        let key = Array(bytes[0..<32]), nonce = Array(bytes[32..<64])
        let adLength = min(Int(bytes[64]), bytes.count - 65)
        let ad = Array(bytes[65..<(65 + adLength)])
        let message = Array(bytes[(65 + adLength)...])
        var sealed = [UInt8](repeating: 0, count: message.count)
        var tag = [UInt8](repeating: 0, count: 16)
        planet_aegis256_encrypt(&sealed, &tag, message, message.count, ad, ad.count, nonce, key)

        var opened = sealed
        precondition(planet_aegis256_decrypt(&opened, opened, opened.count, tag, ad, ad.count, nonce, key) == 0, "own tag refused")
        precondition(opened == message, "round trip changed the message")

        // Which bit to flip, and where, from the input itself.
        let pick = bytes.reduce(0) { ($0 &* 31) &+ Int($1) } & 0x7fff_ffff
        let bit = UInt8(1 << (pick % 8))
        var forged = sealed, forgedTag = tag, forgedAD = ad
        switch pick % 3 {
        case 0 where !forged.isEmpty: forged[pick / 8 % forged.count] ^= bit
        case 1 where !forgedAD.isEmpty: forgedAD[pick / 8 % forgedAD.count] ^= bit
        default: forgedTag[pick / 8 % 16] ^= bit
        }
        let arrived = forged
        precondition(planet_aegis256_decrypt(&forged, forged, forged.count, forgedTag, forgedAD, forgedAD.count, nonce, key) == -1,
                     "a forgery was accepted")
        precondition(forged == arrived, "a refused message was not left as it came")

        let n = min(message.count, 160)
        var prefix = [UInt8](repeating: 0, count: n)
        planet_aegis256_decrypt_unverified(&prefix, sealed, n, ad, ad.count, nonce, key)
        precondition(prefix == Array(message[0..<n]), "prefix decryption disagrees")
    }
}
