/// An underlay endpoint on the wire: the address as 16 bytes (IPv4 as `::ffff:a.b.c.d`, as the
/// dual-stack socket reports it) and the port, big-endian. The socket index is local to the
/// node that holds the endpoint and never travels; a decoded endpoint gets socket 0.
extension Endpoint {
    public static let wireLength = 18

    public func appendWire(to out: inout [UInt8]) {
        out.append(contentsOf: address.bytes)
        out.append(UInt8(port >> 8))
        out.append(UInt8(port & 0xff))
    }

    /// The endpoint in the first 18 bytes of `bytes`, or nil when fewer are given.
    public init?<C: Collection<UInt8>>(wire bytes: C) {
        guard bytes.count >= Endpoint.wireLength else { return nil }
        let start = bytes.startIndex
        let addressEnd = bytes.index(start, offsetBy: 16)
        guard let address = IPv6Address(bytes[start..<addressEnd]) else { return nil }
        let hi = bytes[addressEnd], lo = bytes[bytes.index(after: addressEnd)]
        self.init(address: address, port: UInt16(hi) << 8 | UInt16(lo))
    }
}
