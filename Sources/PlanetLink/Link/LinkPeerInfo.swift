import PlanetCore

/// One row of `LinkLayer.snapshot()`, for the admin API.
public struct LinkPeerInfo: Sendable, Equatable {
    public enum State: String, Sendable {
        case up, handshaking, resolving, backoff
    }

    /// Nil for a configured peer that has never linked and has no pinned key.
    public var publicKey: PublicKey?
    public var endpoint: Endpoint?
    public var state: State
    public var rtt: Double?
    public var rxBytes: UInt64
    public var txBytes: UInt64
    public var rxPackets: UInt64
    public var txPackets: UInt64
    /// Seconds since the link came up (0 when not up).
    public var uptime: Double
    public var inbound: Bool
    public var uri: PeerURI?
    /// The transport AEAD of the current keypair (nil when not up).
    public var cipher: TransportCipher? = nil
    /// The link was made by hole punching.
    public var punched = false
}
