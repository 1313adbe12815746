import PlanetCore

/// Everything the link layer knows about one peer identity. There is exactly one per key:
/// every handshake with that key, inbound or outbound, installs its keypair here.
final class LinkPeer {
    let key: PublicKey
    var endpoint: Endpoint
    /// Confirmed keypair used for sending.
    var current: Keypair?
    /// The keypair `current` replaced, kept for receiving so a rekey drops nothing in flight.
    var previous: Keypair?
    /// An initiator's new keypair, unconfirmed until the first packet arrives on it (the
    /// responder only has it once msg3 arrives, so sending on it earlier could lose packets).
    var next: Keypair?
    /// Index of our in-flight handshake to this peer (rekey or restore), if any.
    var handshakeIndex: UInt32?
    var lastHandshakeStart: Instant = .zero
    var hasStartedHandshake = false

    var isUp = false
    var inbound: Bool
    var uri: PeerURI?
    var upSince: Instant = .zero
    var lastReceived: Instant
    var lastSent: Instant
    /// When we first sent after the last receipt (for silence detection), or nil.
    var sendingUnansweredSince: Instant?
    /// When we first sent an upper-layer frame (routing, data) after the last receipt, or nil.
    /// Traffic that goes unanswered makes us probe, so a dead relay is noticed in seconds,
    /// not after the idle dead-peer timeout.
    var upperSentUnansweredSince: Instant?
    var lastProbeAt: Instant = .zero

    var nextPingAt: Instant = .never
    /// The instant of this peer's live entry in the layer's `PeerTimers` (.never: none).
    var scheduledAt: Instant = .never
    var outstandingPing: (id: UInt64, sentAt: Instant)?
    var smoothedRTT: Double?

    var rxPackets: UInt64 = 0, rxBytes: UInt64 = 0, txPackets: UInt64 = 0, txBytes: UInt64 = 0

    /// Where this peer last told us it sees us (inner frame 0x03): our public endpoint as seen
    /// from its side of any NAT.
    var observedSelf: Endpoint?
    /// When we last told the peer where we see it (on link up, on roaming, then every
    /// `observedEndpointRefresh`).
    var lastObservedSent: Instant = .zero
    /// The link came from hole punching (`LinkLayer.punch`), not from a configured peer, a
    /// beacon or the peer dialing us on its own.
    var punched = false
    /// When a data-plane frame (inner type ≥ 0x20) last crossed this link either way.
    var lastDataFrameAt: Instant = .zero

    init(key: PublicKey, endpoint: Endpoint, inbound: Bool, now: Instant) {
        self.key = key
        self.endpoint = endpoint
        self.inbound = inbound
        lastReceived = now
        lastSent = now
    }

    /// We dialed this peer (configured or beacon), so we restore the link when it goes silent.
    var wantsRestore: Bool { uri != nil || !inbound }

    var keypairs: [Keypair] { [current, previous, next].compactMap { $0 } }
    var hasKeypair: Bool { current != nil || previous != nil || next != nil }
}

/// A configured peer (`addPeer(uri:)`): resolves its host, dials, and redials with backoff.
final class Dialer {
    enum State: Equatable {
        case resolving
        case dialing(index: UInt32)
        case linked(PublicKey)
        case backoff(until: Instant)
    }

    let uri: PeerURI
    var state: State = .resolving
    var endpoints: [Endpoint] = []
    var cursor = 0
    var failures = 0
    var resolveRequestedAt: Instant

    init(uri: PeerURI, now: Instant) {
        self.uri = uri
        resolveRequestedAt = now
    }
}

/// An outbound handshake in flight, found by its index when msg2 arrives.
final class InitiatorAttempt {
    enum Purpose: Equatable {
        /// Dialing a configured peer URI.
        case dial(PeerURI)
        /// Rekeying or restoring the link to a known peer.
        case peer(PublicKey)
        /// Dialing a node heard in a beacon.
        case beacon(PublicKey)
        /// Hole punching: a candidate endpoint the peer with this key offered over our
        /// end-to-end session (or that a link observed). Pinned to that key, so a wrong or
        /// spoofed candidate can only fail.
        case punch(PublicKey)
    }

    let handshake: HandshakeInitiator
    let endpoint: Endpoint
    let purpose: Purpose
    let sentAt: Instant
    /// When the init counts as unanswered and is retried (or the attempt given up); chosen
    /// once at sending, so `tick` and `nextDeadline` read the same instant.
    let retryAt: Instant
    /// 1 for the first init; retries make new attempts with a higher number.
    let attempt: Int
    /// A retry has replaced this first-contact init. It is kept until `handshakeRetryAfter`
    /// after it was sent, so a msg2 that is only slow (a peer still starting answers late)
    /// still completes the handshake instead of arriving stale.
    var superseded = false

    init(handshake: HandshakeInitiator, endpoint: Endpoint, purpose: Purpose, sentAt: Instant, retryAt: Instant, attempt: Int) {
        self.handshake = handshake
        self.endpoint = endpoint
        self.purpose = purpose
        self.sentAt = sentAt
        self.retryAt = retryAt
        self.attempt = attempt
    }
}

/// A responder waiting for msg3.
struct PendingEntry {
    let state: PendingResponder
    let endpoint: Endpoint
    let createdAt: Instant
}

/// What an index in a received frame refers to.
enum IndexOwner {
    case initiating(InitiatorAttempt)
    case responding(PendingEntry)
    case keypair(Keypair, LinkPeer)
}
