import PlanetCore
import PlanetLink

/// Session data messages are `Keypair` frames with type 0x04, placed behind room for the
/// overlay header (and the link header) so the frame is built in one buffer.
extension Keypair {
    /// [headroom][sealed message], with capacity for `tailroom` more bytes (the link's tag).
    func sealDataMessage(_ packet: UnsafeRawBufferPointer, type: SessionMessageType = .data, headroom: Int, tailroom: Int = 0) -> [UInt8]? {
        // One allocation at full size: headroom zeroed, then the sealed message appended.
        var frame = [UInt8](unsafeUninitializedCapacity: headroom + Keypair.overhead + packet.count + tailroom) { buf, n in
            buf.baseAddress!.initialize(repeating: 0, count: headroom)
            n = headroom
        }
        guard seal(type: type.rawValue, plaintext: packet, appendingTo: &frame) else { return nil }
        return frame
    }
}
