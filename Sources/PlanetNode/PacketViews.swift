import PlanetCore
import PlanetLink

/// Parsers over borrowed bytes, so the data path reads headers where the packet already lies
/// (a receive slot, a slice of a decrypted datagram) instead of copying it into an array first.
extension IPv6Header {
    /// nil when the bytes are not a whole IPv6 packet (same rules as the array initializer).
    public init?(raw packet: UnsafeRawBufferPointer) {
        guard packet.count >= IPv6Header.length, packet[0] >> 4 == 6 else { return nil }
        let plen = Int(packet[4]) << 8 | Int(packet[5])
        guard plen + IPv6Header.length <= packet.count else { return nil }
        self.init(payloadLength: plen, nextHeader: packet[6], hopLimit: packet[7],
                  source: IPv6Address(packet, at: 8), destination: IPv6Address(packet, at: 24))
    }

    init(payloadLength: Int, nextHeader: UInt8, hopLimit: UInt8, source: IPv6Address, destination: IPv6Address) {
        self.payloadLength = payloadLength
        self.nextHeader = nextHeader
        self.hopLimit = hopLimit
        self.source = source
        self.destination = destination
    }
}

extension OverlayPacket {
    public static func parseHeader(raw frame: UnsafeRawBufferPointer) -> Header? {
        guard frame.count > headerLength, frame[0] == frameType else { return nil }
        return Header(hopLimit: frame[1], destination: IPv6Address(frame, at: 2), source: IPv6Address(frame, at: 18))
    }
}
