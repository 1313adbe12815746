import PlanetCore

/// Builds the ICMPv6 errors the overlay owes standard tools (ping, traceroute, PMTU discovery):
/// destination unreachable, time exceeded and packet too big. RFC 4443 rules kept here: never
/// an error about an ICMPv6 error, never about a multicast destination, and at most the minimum
/// MTU's worth of the invoking packet quoted.
public enum ICMPv6 {
    public enum ErrorKind: Equatable, Sendable {
        /// code 0: no route to destination
        case noRoute
        /// code 3: address unreachable (no answer from the destination's node)
        case addressUnreachable
        /// code 1: communication administratively prohibited (a VM's inbound policy refused it)
        case administrativelyProhibited
        /// hop limit exceeded in transit
        case hopLimitExceeded
        case packetTooBig(mtu: Int)

        var typeCode: (UInt8, UInt8) {
            switch self {
            case .noRoute: return (1, 0)
            case .addressUnreachable: return (1, 3)
            case .administrativelyProhibited: return (1, 1)
            case .hopLimitExceeded: return (3, 0)
            case .packetTooBig: return (2, 0)
            }
        }
    }

    public static let echoRequest: UInt8 = 128
    public static let echoReply: UInt8 = 129

    /// Whether an error may be sent about `packet`.
    public static func mayReportError(about packet: [UInt8]) -> Bool {
        guard let h = IPv6Header(packet) else { return false }
        if h.destination.byte(0) == 0xff { return false }
        if h.source == .zero { return false }
        // Error messages are types 0-127; informational ones (echo) may be answered with errors.
        if h.nextHeader == IPv6Header.icmpv6, packet.count > IPv6Header.length, packet[IPv6Header.length] < 128 { return false }
        return true
    }

    /// An error from `source` (the reporting node's address) to the invoking packet's source.
    public static func error(_ kind: ErrorKind, from source: IPv6Address, about packet: [UInt8]) -> [UInt8]? {
        guard mayReportError(about: packet), let h = IPv6Header(packet) else { return nil }
        let quoted = packet.prefix(1280 - IPv6Header.length - 8)
        var body = [UInt8]()
        body.reserveCapacity(8 + quoted.count)
        let (type, code) = kind.typeCode
        body.append(type)
        body.append(code)
        body.append(0); body.append(0) // checksum
        var word: UInt32 = 0
        if case .packetTooBig(let mtu) = kind { word = UInt32(mtu) }
        for s in stride(from: 24, through: 0, by: -8) { body.append(UInt8(truncatingIfNeeded: word >> UInt32(s))) }
        body.append(contentsOf: quoted)
        return ICMPv6.packet(from: source, to: h.source, icmp: body)
    }

    /// Wraps an ICMPv6 message in an IPv6 header and fills in its checksum.
    public static func packet(from source: IPv6Address, to destination: IPv6Address, icmp body: [UInt8], hopLimit: UInt8 = 64) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(IPv6Header.length + body.count)
        out.append(0x60); out.append(0); out.append(0); out.append(0)
        out.append(UInt8(body.count >> 8)); out.append(UInt8(truncatingIfNeeded: body.count))
        out.append(IPv6Header.icmpv6)
        out.append(hopLimit)
        source.append(to: &out)
        destination.append(to: &out)
        out.append(contentsOf: body)
        let sum = checksum(source: source, destination: destination, nextHeader: IPv6Header.icmpv6, payload: body)
        out[IPv6Header.length + 2] = UInt8(sum >> 8)
        out[IPv6Header.length + 3] = UInt8(truncatingIfNeeded: sum)
        return out
    }

    /// The Internet checksum over the IPv6 pseudo-header and `payload` (checksum field zero).
    public static func checksum(source: IPv6Address, destination: IPv6Address, nextHeader: UInt8, payload: some Collection<UInt8>) -> UInt16 {
        var sum: UInt64 = 0
        for w in [source.high, source.low, destination.high, destination.low] {
            sum += (w >> 48) & 0xffff + (w >> 32) & 0xffff + (w >> 16) & 0xffff + w & 0xffff
        }
        sum += UInt64(payload.count >> 16) + UInt64(payload.count & 0xffff)
        sum += UInt64(nextHeader)
        var high = true
        for b in payload {
            sum += high ? UInt64(b) << 8 : UInt64(b)
            high.toggle()
        }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
