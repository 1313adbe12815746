import PlanetCore

/// What yggdrasil puts into (and looks up in) ironwood's bloom filters instead of a key: the key
/// as far as its /64 subnet knows it, every bit the subnet cannot carry set to 1.
///
/// A node that wants to reach an address knows only the bits the address carries, not the key,
/// so filters must hold what is recoverable from the smallest thing that can be looked up, the
/// subnet: yggdrasil configures ironwood with `WithBloomTransform(SubnetForKey(key).GetKey())`.
/// The subnet carries the count of leading zero bits of the key (n), then — the zero bits, the
/// one bit ending them implied — the next 48 bits. So the transformed key is the key's first
/// n + 1 + 48 bits followed by ones. Two keys whose /64s are equal share a bloom entry; the
/// session's handshake tells them apart later.
public enum YggdrasilBloomKey {
    /// The key yggdrasil recovers from a 200::/7 address or 300::/8 prefix (its first 16 bytes;
    /// for a subnet, the last 8 are zero): n one-bits (n = byte 1), a zero, the address's bits from
    /// byte 2 on, as many as fit in 256, zeros after; all inverted, as addresses store keys inverted.
    public static func partialKey(fromAddressBytes address: [UInt8]) -> PublicKey {
        precondition(address.count == 16)
        var inverted = [UInt8](repeating: 0, count: PublicKey.byteCount)
        let ones = Int(address[1])
        for i in 0..<ones { inverted[i / 8] |= 0x80 >> UInt8(i % 8) }
        for i in 0..<((16 - 2) * 8) {
            let target = ones + 1 + i
            guard target < PublicKey.byteCount * 8 else { break }
            let bit = (address[2 + i / 8] >> UInt8(7 - i % 8)) & 1
            inverted[target / 8] |= bit << UInt8(7 - target % 8)
        }
        return PublicKey(inverted.map { ~$0 })!
    }

    /// The bloom entry for `key`: the partial key of its /64.
    public static func transform(_ key: PublicKey) -> PublicKey {
        var subnet = OverlayAddress.addressBytes(for: key)
        subnet[0] = OverlayAddress.subnetPrefixByte
        for i in 8..<16 { subnet[i] = 0 }
        return partialKey(fromAddressBytes: subnet)
    }
}
