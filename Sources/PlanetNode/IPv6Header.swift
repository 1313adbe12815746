import PlanetCore

/// The fields of an IPv6 header the data plane looks at. Parsing checks only what forwarding
/// depends on (version, length); the kernels at both ends do the rest.
public struct IPv6Header: Equatable {
    public static let length = 40
    public var payloadLength: Int
    public var nextHeader: UInt8
    public var hopLimit: UInt8
    public var source: IPv6Address
    public var destination: IPv6Address

    /// nil when the bytes are not a whole IPv6 packet.
    public init?(_ packet: [UInt8]) {
        guard let h = packet.withUnsafeBytes({ IPv6Header(raw: $0) }) else { return nil }
        self = h
    }

    public static let icmpv6: UInt8 = 58
}
