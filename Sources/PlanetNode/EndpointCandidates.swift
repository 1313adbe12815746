import PlanetCore

/// The body of session control message `0x01` (endpoints): where the sender can perhaps be
/// reached directly. Docs/protocol.md, "Hole punching", is the specification.
///
///     u8 count (1...8)
///     count × { u8 kind, address 16, port u16 }     19 bytes each
public struct EndpointCandidates: Equatable, Sendable {
    public enum Kind: UInt8, Sendable {
        /// A link told us it sees us here (inner frame 0x03): a public mapping of a NAT, or
        /// our own address when there is no NAT.
        case observed = 0x01
        /// An address of one of our interfaces with our listening port: reaches us from the
        /// same LAN, behind the same NAT.
        case local = 0x02
    }

    public struct Candidate: Equatable, Sendable {
        public var kind: Kind
        public var endpoint: Endpoint
        public init(kind: Kind, endpoint: Endpoint) {
            self.kind = kind
            self.endpoint = endpoint
        }
    }

    /// As many as `LinkConstants.maxPunchCandidates`: a link layer probes no more anyway.
    public static let maxCount = 8
    static let entryLength = 1 + Endpoint.wireLength

    public var candidates: [Candidate]

    public init(_ candidates: [Candidate]) { self.candidates = Array(candidates.prefix(EndpointCandidates.maxCount)) }

    /// Whether a node may send probes to `endpoint`: a peer names the addresses, so it must not
    /// be able to aim them at this host itself (loopback, unspecified), at many hosts
    /// (multicast, IPv4 broadcast), at a link-local address (it needs a scope the peer cannot
    /// know) or into the overlay (200::/7: the datagram would go out through our own TUN).
    public static func isProbeable(_ endpoint: Endpoint) -> Bool {
        let a = endpoint.address
        guard endpoint.port != 0 else { return false }
        if endpoint.isIPv4 {
            let v4 = UInt32(truncatingIfNeeded: a.low)
            let first = v4 >> 24
            return first != 0 && first != 127 && first < 224 && v4 >> 16 != 0xa9fe
        }
        let first = UInt8(a.high >> 56)
        if first == 0xff || first & 0xfe == 0x02 { return false }       // multicast, overlay
        if a.high >> 54 == 0xfe80 >> 6 { return false }                   // fe80::/10
        return !(a.high == 0 && a.low <= 1)                                // :: and ::1
    }

    public func encode() -> [UInt8] {
        var out: [UInt8] = [UInt8(candidates.count)]
        out.reserveCapacity(1 + candidates.count * EndpointCandidates.entryLength)
        for c in candidates {
            out.append(c.kind.rawValue)
            c.endpoint.appendWire(to: &out)
        }
        return out
    }

    /// nil for anything but a well-formed list: a count of 1...8 matching the length exactly,
    /// known kinds, no port 0 and no unspecified address. An entry that could not be probed is
    /// a malformed message, not something to skip: the sender is a node running this code.
    public static func decode(_ body: ArraySlice<UInt8>) -> EndpointCandidates? {
        guard let count = body.first.map(Int.init), (1...maxCount).contains(count),
              body.count == 1 + count * entryLength else { return nil }
        var out: [Candidate] = []
        var i = body.startIndex + 1
        for _ in 0..<count {
            guard let kind = Kind(rawValue: body[i]), let endpoint = Endpoint(wire: body[(i + 1)...]),
                  endpoint.port != 0, endpoint.address != IPv6Address(high: 0, low: 0) else { return nil }
            out.append(Candidate(kind: kind, endpoint: endpoint))
            i += entryLength
        }
        return EndpointCandidates(out)
    }
}
