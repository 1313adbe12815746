/// A UDP endpoint on the underlay. IPv4 is held as an IPv4-mapped IPv6 address
/// (::ffff:a.b.c.d) so one type covers both families; `socket` says which of the node's
/// listening sockets the datagram came in on or must leave by (an index the runtime assigns).
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: IPv6Address
    public var port: UInt16
    public var socket: Int

    public init(address: IPv6Address, port: UInt16, socket: Int = 0) {
        self.address = address
        self.port = port
        self.socket = socket
    }

    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16, socket: Int = 0) {
        self.init(address: IPv6Address(high: 0, low: 0x0000_ffff_0000_0000 | UInt64(a) << 24 | UInt64(b) << 16 | UInt64(c) << 8 | UInt64(d)),
                  port: port, socket: socket)
    }

    public var isIPv4: Bool { address.high == 0 && address.low >> 32 == 0x0000_ffff }

    public var description: String {
        if isIPv4 {
            let v = address.low
            return "\(v >> 24 & 0xff).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff):\(port)"
        }
        return "[\(address)]:\(port)"
    }
}
