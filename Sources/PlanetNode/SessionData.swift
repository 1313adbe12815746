import PlanetCore
import PlanetLink

/// Session data messages are `Keypair` frames with type 0x04, sealed behind the overlay header
/// in the frame the link seals in turn, so the frame is built in one buffer.
extension Keypair {
    /// Seals `packet` as a session message into `message`, which must hold exactly
    /// `Keypair.overhead + packet.count` bytes (the frame the link is building). False once the
    /// counter is exhausted.
    func sealDataMessage(_ packet: UnsafeRawBufferPointer, type: SessionMessageType = .data, into message: UnsafeMutableRawBufferPointer) -> Bool {
        guard message.count == Keypair.overhead + packet.count else { return false }
        if !packet.isEmpty {
            (message.baseAddress! + Keypair.headerLength).copyMemory(from: packet.baseAddress!, byteCount: packet.count)
        }
        return sealInPlace(type: type.rawValue, buffer: message, length: packet.count)
    }
}
