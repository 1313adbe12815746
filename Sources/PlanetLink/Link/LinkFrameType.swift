/// First byte of every UDP datagram the link layer sends or accepts.
public enum LinkFrameType: UInt8, Sendable {
    case handshakeInit = 0x01
    case handshakeResponse = 0x02
    case handshakeFinish = 0x03
    case transport = 0x04
    case beacon = 0x05
    /// A transport frame whose inner frame is already sealed end to end after its first
    /// `LinkConstants.sealedPayloadEncryptedPrefix` bytes: those are encrypted, the rest only
    /// authenticated. Saves a relay most of two AEAD passes per packet.
    case transportSealedPayload = 0x06
    /// A busy responder's answer to an init without a valid cookie (`HandshakeCookie`): the
    /// cookie the initiator must echo in its init to prove it receives at its source address.
    case cookieReply = 0x07
    /// A sealed-payload transport frame on a link whose handshake agreed to it
    /// (`HandshakeFeatures.tagBoundPayload`): the first `sealedPayloadEncryptedPrefix` bytes of
    /// the inner frame are encrypted, and only those and its last
    /// `tagBoundAuthenticatedSuffix` bytes — the end-to-end session tag — are authenticated.
    /// The ciphertext between is vouched for by that tag, end to end. Saves a relay nearly all
    /// of its AEAD work per packet (Docs/protocol.md, "tag-bound payload").
    case transportTagBound = 0x08
}

/// First byte of a decrypted transport payload, for the frames the link layer consumes itself
/// (0x00–0x0f). Everything from 0x10 up is handed to the layers above.
public enum LinkInnerFrameType: UInt8, Sendable {
    case keepalive = 0x00
    /// ping: u64 id
    case ping = 0x01
    /// pong: u64 id echoed from the ping
    case pong = 0x02
    /// observed endpoint: address 16, port u16 — where the sender sees this frame's receiver
    /// (the source of its authenticated packets), so a node behind NAT learns its public
    /// endpoint from every peer (Docs/protocol.md, "Observed endpoints").
    case observedEndpoint = 0x03

    /// Inner frames below this belong to the link layer.
    public static let firstUpperLayerType: UInt8 = 0x10
    /// Inner frames from this up carry the data plane (packets, relayed or for the neighbour);
    /// below it, 0x10–0x1f, neighbour protocols. The link notes when it last carried either
    /// way one of these (`LinkPeer.lastDataFrameAt`), so an idle punched link can be retired.
    public static let firstDataPlaneType: UInt8 = 0x20
}
