import PlanetCore
import PlanetLink

/// Session data messages are `Keypair` frames with type 0x04, placed behind room for the
/// overlay header so the frame is built in one buffer.
extension Keypair {
    func sealDataMessage(_ packet: [UInt8], headroom: Int) -> [UInt8]? {
        var frame = [UInt8](repeating: 0, count: headroom)
        frame.reserveCapacity(headroom + Keypair.overhead + packet.count)
        guard seal(type: SessionMessageType.data.rawValue, plaintext: packet, appendingTo: &frame) else { return nil }
        return frame
    }

    enum DataOpenFailure: Error { case replay, invalid }

    func openDataMessage(_ message: ArraySlice<UInt8>, now: Instant) -> Result<[UInt8], DataOpenFailure> {
        var frame = Array(message)
        switch open(frame: &frame, now: now) {
        case .ok(let length): return .success(Array(frame[Keypair.headerLength..<(Keypair.headerLength + length)]))
        case .replayed: return .failure(.replay)
        default: return .failure(.invalid)
        }
    }
}
