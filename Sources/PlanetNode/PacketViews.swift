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

/// Frames handed to `LinkLayer.send(headroomFrame:)` start with the link's 13-byte header room
/// and are sealed in place, the 16-byte tag appended. Building them at full capacity up front
/// means the node allocates the frame once and copies the packet into it once; the runtime then
/// copies the sealed datagram into its send batch (a second copy, which sealing straight into a
/// send slot would save).
enum HeadroomFrame {
    static let linkHeadroom = Keypair.headerLength
    static let tail = Keypair.tagLength

    /// [13 bytes room][type][bytes] with capacity for the tag.
    static func make(type: UInt8, copying bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let length = linkHeadroom + 1 + bytes.count
        return [UInt8](unsafeUninitializedCapacity: length + tail) { buf, n in
            let base = UnsafeMutableRawPointer(buf.baseAddress!)
            base.initializeMemory(as: UInt8.self, repeating: 0, count: linkHeadroom)
            base.storeBytes(of: type, toByteOffset: linkHeadroom, as: UInt8.self)
            if bytes.count > 0 { (base + linkHeadroom + 1).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
            n = length
        }
    }

    /// [13 bytes room][bytes] with capacity for the tag (bytes already start with their type).
    static func make(copying bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let length = linkHeadroom + bytes.count
        return [UInt8](unsafeUninitializedCapacity: length + tail) { buf, n in
            let base = UnsafeMutableRawPointer(buf.baseAddress!)
            base.initializeMemory(as: UInt8.self, repeating: 0, count: linkHeadroom)
            if bytes.count > 0 { (base + linkHeadroom).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
            n = length
        }
    }
}
