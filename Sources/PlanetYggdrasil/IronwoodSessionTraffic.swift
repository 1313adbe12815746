import PlanetCore

/// Session data (type 3 inside a Traffic payload): one packet of an established end-to-end
/// session (ironwood `encrypted/`).
///
/// ```
/// 03 · senderKeySeq:uvarint · receiverKeySeq:uvarint · nonce:uvarint ·
///     box(nonce, key = box(sender's send key, receiver's current key), senderNext[32] · message)
/// ```
/// The key sequence numbers say which of each side's session keys sealed it, so the receiver
/// knows when the sender has moved to its next key and ratchets too (at most once a minute).
/// `senderNext` rides inside the box so that a packet from the sender's next key proves it is
/// the same peer. The nonce must grow strictly per key pair (no replay window: a reordered
/// packet is dropped silently); the box's 24-byte nonce is 16 zero bytes and this number,
/// big-endian. Key numbers the receiver cannot place, or a box that does not open, make
/// ironwood answer with a fresh Init, so the two sides resynchronise.
public struct IronwoodSessionTraffic: Equatable, Sendable {
    public static let type: UInt8 = 3
    /// The shortest ironwood reads: type, three one-byte numbers, tag, next key.
    public static let minimumBytes = 1 + 1 + 1 + 1 + 16 + 32

    public var senderKeySeq: UInt64
    public var receiverKeySeq: UInt64
    public var nonce: UInt64
    /// The box: tag, then the encrypted `senderNext · message`.
    public var boxed: [UInt8]

    public init(senderKeySeq: UInt64, receiverKeySeq: UInt64, nonce: UInt64, boxed: [UInt8]) {
        self.senderKeySeq = senderKeySeq
        self.receiverKeySeq = receiverKeySeq
        self.nonce = nonce
        self.boxed = boxed
    }

    /// Seals `message` with the box key both sides derive for this key pair.
    public static func seal(_ message: [UInt8], senderNext: [UInt8], senderKeySeq: UInt64, receiverKeySeq: UInt64,
                            nonce: UInt64, sharedKey: [UInt8]) -> IronwoodSessionTraffic {
        precondition(senderNext.count == 32)
        let boxed = Sodium.boxSeal(senderNext + message, nonce: IronwoodSessionInit.nonce(nonce), sharedKey: sharedKey)
        return IronwoodSessionTraffic(senderKeySeq: senderKeySeq, receiverKeySeq: receiverKeySeq, nonce: nonce, boxed: boxed)
    }

    /// The sender's next key and the message, or nil when the box does not open with this key.
    public func open(sharedKey: [UInt8]) -> (senderNext: [UInt8], message: [UInt8])? {
        guard let plain = Sodium.boxOpen(boxed, nonce: IronwoodSessionInit.nonce(nonce), sharedKey: sharedKey),
              plain.count >= 32 else { return nil }
        return (Array(plain[0..<32]), Array(plain[32...]))
    }

    public var encoded: [UInt8] {
        var out = [Self.type]
        Uvarint.append(senderKeySeq, to: &out)
        Uvarint.append(receiverKeySeq, to: &out)
        Uvarint.append(nonce, to: &out)
        return out + boxed
    }

    /// Reads the header of a Traffic payload; nil when it is not session data or too short,
    /// which ironwood drops silently.
    public init?(payload: [UInt8]) {
        guard payload.count >= Self.minimumBytes, payload[0] == Self.type else { return nil }
        var offset = 1
        guard let senderKeySeq = Uvarint.read(payload, at: &offset),
              let receiverKeySeq = Uvarint.read(payload, at: &offset),
              let nonce = Uvarint.read(payload, at: &offset),
              payload.count - offset >= 16 + 32 else { return nil }
        self.init(senderKeySeq: senderKeySeq, receiverKeySeq: receiverKeySeq, nonce: nonce, boxed: Array(payload[offset...]))
    }
}
