import PlanetCore

/// The session handshake inside Traffic payloads (ironwood `encrypted/`): Init (type 1) opens
/// an end-to-end session, Ack (type 2) answers it; both have the same 193-byte form.
///
/// ```
/// type:u8 · ephemeral[32] · box(nonce 0, key = box(ephemeral, recipient's X25519),
///     sig[64] · current[32] · next[32] · keySeq:u64 · seq:u64)
/// sig = sender's ed25519 over ephemeral · current · next · keySeq · seq
/// ```
/// The recipient's X25519 key is its ed25519 key converted (`Sodium.curve25519PublicKey`), so
/// the asker needs nothing but the key it found with a lookup; the ephemeral key makes every
/// Init unreadable to anyone but the recipient, even later. Inside: the sender's `current` and
/// `next` session keys (X25519, fresh per session and rotated later), `keySeq` numbering them,
/// and `seq` = the Unix time, so a replayed old Init loses to a newer one. The signature binds
/// it all to the sender's identity and to this ephemeral key.
public struct IronwoodSessionInit: Equatable, Sendable {
    public enum Kind: UInt8, Sendable { case initiate = 1, acknowledge = 2 }

    public static let byteCount = 1 + 32 + 16 + 64 + 32 + 32 + 8 + 8

    public var kind: Kind
    public var current: [UInt8]
    public var next: [UInt8]
    public var keySeq: UInt64
    public var seq: UInt64

    public init(kind: Kind, current: [UInt8], next: [UInt8], keySeq: UInt64, seq: UInt64) {
        precondition(current.count == 32 && next.count == 32)
        self.kind = kind
        self.current = current
        self.next = next
        self.keySeq = keySeq
        self.seq = seq
    }

    /// NaCl box's 24-byte nonce for a counter: 16 zero bytes, then the counter big-endian.
    public static func nonce(_ counter: UInt64) -> [UInt8] {
        // Built at its final size: one allocation per packet, not a second when it grows.
        [UInt8](unsafeUninitializedCapacity: 24) { b, n in
            for i in 0..<16 { b[i] = 0 }
            for i in 0..<8 { b[16 + i] = UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * i)) }
            n = 24
        }
    }

    func signedBytes(ephemeral: [UInt8]) -> [UInt8] {
        var out = ephemeral + current + next
        for v in [keySeq, seq] {
            for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
        }
        return out
    }

    public enum OpenError: Error, Equatable {
        case wrongLength(Int)
        case unknownType(UInt8)
        /// The recipient's or the ephemeral key is not usable for X25519.
        case badKey
        /// The box does not open with our key: not for us, or altered.
        case notForUs
        case badSignature
    }

    /// Seals this for `recipient` as `sender`, with the ephemeral X25519 secret given (random in
    /// use; fixed in tests). Nil when the recipient's key has no X25519 form.
    public func sealed(from sender: NodeIdentity, to recipient: PublicKey, ephemeralSecret: [UInt8]) -> [UInt8]? {
        guard let recipientBox = Sodium.curve25519PublicKey(ed25519: recipient.bytes),
              let ephemeral = Sodium.x25519(secret: ephemeralSecret, peer: Self.basePoint),
              let shared = Sodium.boxSharedKey(publicKey: recipientBox, secretKey: ephemeralSecret) else { return nil }
        let payload = sender.sign(signedBytes(ephemeral: ephemeral)) + Array(signedBytes(ephemeral: ephemeral).dropFirst(32))
        return [kind.rawValue] + ephemeral + Sodium.boxSeal(payload, nonce: Self.nonce(0), sharedKey: shared)
    }

    /// X25519's base point (u = 9): the ephemeral public key is the secret times it.
    static let basePoint: [UInt8] = [9] + [UInt8](repeating: 0, count: 31)

    /// Opens an Init or Ack addressed to `recipient` and checks that `sender` signed it.
    public static func open(_ bytes: [UInt8], recipient: NodeIdentity, sender: PublicKey) throws(OpenError) -> IronwoodSessionInit {
        try open(bytes, recipientBoxSecret: Sodium.curve25519SecretKey(ed25519: recipient.secretKey), sender: sender)
    }

    /// `open` with the recipient's X25519 secret converted once (the session layer keeps it).
    public static func open(_ bytes: [UInt8], recipientBoxSecret: [UInt8], sender: PublicKey) throws(OpenError) -> IronwoodSessionInit {
        guard bytes.count == byteCount else { throw .wrongLength(bytes.count) }
        guard let kind = Kind(rawValue: bytes[0]) else { throw .unknownType(bytes[0]) }
        let ephemeral = Array(bytes[1..<33])
        guard let shared = Sodium.boxSharedKey(publicKey: ephemeral, secretKey: recipientBoxSecret) else {
            throw .badKey
        }
        guard let payload = Sodium.boxOpen(bytes[33...], nonce: nonce(0), sharedKey: shared) else { throw .notForUs }
        func u64(_ at: Int) -> UInt64 { payload[at..<(at + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
        let message = IronwoodSessionInit(kind: kind, current: Array(payload[64..<96]), next: Array(payload[96..<128]),
                                          keySeq: u64(128), seq: u64(136))
        guard sender.verify(signature: payload[0..<64], message: message.signedBytes(ephemeral: ephemeral)) else {
            throw .badSignature
        }
        return message
    }
}
