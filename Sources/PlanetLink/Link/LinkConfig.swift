import PlanetCore

/// Tunables of a `LinkLayer`. Defaults are the protocol constants; tests lower or raise limits.
public struct LinkConfig: Sendable {
    /// Handshake domain: links and end-to-end sessions use different ones so a message from
    /// one can never be used in the other.
    public var domain = "planetary-link-v1"
    /// If non-empty, inbound handshakes from other keys are refused (configured outbound peers
    /// are always allowed: the operator named them).
    public var allowedPublicKeys: Set<PublicKey> = []
    /// Dial nodes heard in beacons (only the side with the smaller key dials, so two nodes
    /// hearing each other make one handshake, not two).
    public var dialBeaconPeers = true
    public var initsPerSourcePerSecond = LinkConstants.initsPerSourcePerSecond
    public var initBurstPerSource = LinkConstants.initBurstPerSource
    public var initsGlobalPerSecond = LinkConstants.initsGlobalPerSecond
    public var initBurstGlobal = LinkConstants.initBurstGlobal
    public var maxPeers = LinkConstants.maxPeers
    public var maxPendingResponders = LinkConstants.maxPendingResponders
    /// Transport ciphers offered in handshakes (links and, through the node, end-to-end sessions).
    public var ciphers = TransportCiphers.hardwareSupported
    /// Framing capabilities offered in link handshakes (not sessions': they never frame links).
    /// Tests narrow it to act as a node that predates one.
    public var features = HandshakeFeatures.supported

    public init() {}
}
