import PlanetCore

/// Why a link went down.
public enum LinkDownReason: String, Sendable {
    /// No authenticated packet for `deadPeerTimeout`.
    case timeout
    /// The peer was removed by configuration or API.
    case removed
    /// Every keypair expired and rekeying failed.
    case keysExpired
}

/// What `LinkLayer` reports after each input besides the datagrams it sends (those are in its
/// `transmits`), drained by PlanetNode.
public enum LinkEvent: Sendable {
    /// An inner frame of type ≥ 0x10 from an authenticated peer. The slice shares storage with
    /// the received datagram (no copy); its indices start at the inner frame's type byte.
    case frame(ArraySlice<UInt8>, from: PublicKey)
    case linkUp(PublicKey, Endpoint, inbound: Bool)
    case linkDown(PublicKey, LinkDownReason)
    /// Smoothed round-trip time to a peer, after each pong.
    case rtt(PublicKey, seconds: Double)
    /// The link layer needs the addresses of this peer URI's host: answer with `resolved(uri:endpoints:now:)`.
    case resolve(PeerURI)
    /// A valid beacon was heard from this node at this endpoint.
    case discovered(PublicKey, Endpoint)
}
