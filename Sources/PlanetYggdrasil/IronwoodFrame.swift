/// One message on an Yggdrasil 0.5 link after the meta handshake: ironwood's framing.
///
/// ```
/// length:uvarint · type:u8 · body[length - 1]
/// ```
/// `length` counts the type byte and the body. Yggdrasil caps it at 131070 (two 65535-byte
/// packets' worth: it configures ironwood with `WithPeerMaxMessageSize(65535*2)`, ironwood's
/// own default is 1 MiB); a longer frame, an empty one, or an unknown type closes the link.
public struct IronwoodFrame: Equatable, Sendable {
    /// The largest `length` yggdrasil 0.5 accepts (and sends: it drops anything longer).
    public static let maxLength = 131_070

    /// Ironwood's `wirePacketType`; the numbers are fixed by the wire.
    public enum FrameType: UInt8, Sendable, CaseIterable {
        /// Accepted and ignored by ironwood; never sent.
        case dummy = 0
        /// Two bytes on the wire (`01 01`); the answer a peer owes within its 3 s read deadline
        /// when it has nothing else to send.
        case keepAlive = 1
        /// Tree: ask a peer to sign our next announcement (`IronwoodSigReq`).
        case sigReq = 2
        /// Tree: the peer's signature and the port it knows us by (`IronwoodSigRes`).
        case sigRes = 3
        /// Tree: a node's position, signed by it and its parent (`IronwoodAnnounce`).
        case announce = 4
        /// The keys reachable through the sender on tree links (`IronwoodBloom`).
        case bloom = 5
        case pathLookup = 6
        case pathNotify = 7
        case pathBroken = 8
        case traffic = 9
    }

    public var type: FrameType
    public var body: [UInt8]

    public init(type: FrameType, body: [UInt8] = []) {
        self.type = type
        self.body = body
    }

    /// The frame as it goes on the wire, or nil when it exceeds `maxLength` (ironwood drops such
    /// a message rather than send it).
    public func encoded() -> [UInt8]? {
        let length = body.count + 1
        guard length <= Self.maxLength else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(Uvarint.size(UInt64(length)) + length)
        Uvarint.append(UInt64(length), to: &out)
        out.append(type.rawValue)
        out.append(contentsOf: body)
        return out
    }
}
