/// Derives a node's overlay address (in 200::/7) and its routed /64 (in 300::/8) from
/// its public key, bit for bit as Yggdrasil 0.4.7 does, so Yggdrasil keys keep their
/// addresses and an address can be checked against the key that claims it.
///
/// The scheme: invert the key's bits; count the leading ones (n, kept in one byte,
/// wrapping as Yggdrasil's does); drop those ones and the zero that ends them; the
/// address is 0x02, n, then the remaining bits packed into whole bytes, cut at 16 bytes.
/// Leading zero bits of the key are what make an address "stronger", so a long run of
/// them must not break anything here.
public enum OverlayAddress {
    public static let addressPrefixByte: UInt8 = 0x02
    public static let subnetPrefixByte: UInt8 = 0x03

    public static func addressBytes(for key: PublicKey) -> [UInt8] {
        let inverted = key.bytes.map { ~$0 }
        var ones: UInt8 = 0
        var seenZero = false
        var packed = [UInt8]()
        packed.reserveCapacity(32)
        var acc: UInt8 = 0
        var accBits = 0
        for index in 0..<(inverted.count * 8) {
            let bit = (inverted[index / 8] >> UInt8(7 - index % 8)) & 1
            if !seenZero {
                if bit == 1 { ones &+= 1 } else { seenZero = true }
                continue
            }
            acc = acc << 1 | bit
            accBits += 1
            if accBits == 8 {
                packed.append(acc)
                acc = 0
                accBits = 0
            }
        }
        var address = [UInt8](repeating: 0, count: 16)
        address[0] = addressPrefixByte
        address[1] = ones
        for (i, b) in packed.prefix(14).enumerated() { address[2 + i] = b }
        return address
    }

    public static func address(for key: PublicKey) -> IPv6Address {
        IPv6Address(addressBytes(for: key))!
    }

    public static func subnet(for key: PublicKey) -> IPv6Prefix {
        var bytes = addressBytes(for: key)
        bytes[0] |= 0x01
        for i in 8..<16 { bytes[i] = 0 }
        return IPv6Prefix(address: IPv6Address(bytes)!, length: 64)
    }

    /// Whether `key` is the key that `address` was derived from (all the bits it carries match).
    public static func key(_ key: PublicKey, owns address: IPv6Address) -> Bool {
        address == self.address(for: key)
    }

    /// Whether `key`'s /64 contains `address` (an address in 300::/8).
    public static func key(_ key: PublicKey, ownsSubnetAddress address: IPv6Address) -> Bool {
        subnet(for: key).contains(address)
    }

    /// Whether the prefix is exactly the subnet `key` derives.
    public static func key(_ key: PublicKey, owns prefix: IPv6Prefix) -> Bool {
        prefix == subnet(for: key)
    }

    public static func isOverlay(_ a: IPv6Address) -> Bool { a.byte(0) & 0xfe == addressPrefixByte }

    /// The 64-bit value under which both a node's address and everything in its subnet are
    /// indexed: the first 8 bytes of its address. A destination maps to a candidate key with
    /// one dictionary lookup; the full address is then checked against that key.
    public static func lookupTag(for a: IPv6Address) -> UInt64 {
        (a.high & 0x00ff_ffff_ffff_ffff) | (UInt64(addressPrefixByte) << 56)
    }
}
