import PlanetCore

/// ICMPv6 "packet too big" (RFC 4443 type 2) as yggdrasil's IPv6 layer writes it
/// (ipv6rwc/icmpv6.go): hop limit 255, the MTU, and the first 512 bytes of the packet that did
/// not fit. Written here rather than shared with PlanetNode's `ICMPv6`, which this module
/// cannot import; it is the only ICMPv6 message the Yggdrasil layer makes.
public enum YggdrasilPacketTooBig {
    /// How much of the refused packet is quoted (ipv6rwc copies it into a 512-byte buffer).
    public static let quotedBytes = 512

    /// Whether an error may be sent about `packet` (RFC 4443 2.4 e): never about an ICMPv6
    /// error message, nor to or from a multicast or unspecified address. ipv6rwc does not
    /// check; the packets it would answer besides these are none a host sends.
    public static func mayAnswer(_ packet: [UInt8]) -> Bool {
        guard packet.count >= 40 else { return false }
        if packet[24] == 0xff || packet[8] == 0xff { return false }
        if packet[8..<24].allSatisfy({ $0 == 0 }) { return false }
        if packet[6] == 58, packet.count > 40, packet[40] < 128 { return false }
        return true
    }

    /// The message from `source` to `destination` saying that `mtu` is the most that fits,
    /// quoting `packet`.
    public static func packet(from source: [UInt8], to destination: [UInt8], mtu: Int, about packet: [UInt8]) -> [UInt8] {
        precondition(source.count == 16 && destination.count == 16)
        let quoted = packet.prefix(quotedBytes)
        let icmpLength = 8 + quoted.count
        var out = [UInt8]()
        out.reserveCapacity(40 + icmpLength)
        out += [0x60, 0, 0, 0, UInt8(icmpLength >> 8), UInt8(truncatingIfNeeded: icmpLength), 58, 255]
        out += source
        out += destination
        let m = UInt32(clamping: mtu)
        out += [2, 0, 0, 0, UInt8(m >> 24), UInt8(truncatingIfNeeded: m >> 16), UInt8(truncatingIfNeeded: m >> 8), UInt8(truncatingIfNeeded: m)]
        out += quoted
        let sum = out.withUnsafeBytes { raw in
            InternetChecksum.sum(raw.baseAddress! + 40, icmpLength,
                                 initial: InternetChecksum.pseudoHeaderSum(ipv6: raw.baseAddress!, proto: 58, length: icmpLength))
        }
        let checksum = ~InternetChecksum.fold(sum)
        out[42] = UInt8(checksum >> 8)
        out[43] = UInt8(truncatingIfNeeded: checksum)
        return out
    }
}
