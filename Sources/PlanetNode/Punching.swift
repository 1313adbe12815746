import PlanetCore

/// Hole punching's bookkeeping, with no overlay as coordinator but the session itself: when
/// and to whom a node offers its candidate endpoints, whether a probe may start, and what came
/// of it. The node does the sending (Node+Punching.swift); this only decides and counts.
/// Docs/protocol.md, "Hole punching", gives the timers and their reasons.
struct Punching {
    /// What we know about punching toward one session peer.
    struct PeerState {
        /// When we last sent the peer our candidates.
        var offeredAt: Instant = .zero
        var hasOffered = false
        /// No offer or probe before this (backoff after failures).
        var nextTryAt: Instant = .zero
        /// Consecutive punches that made no link; reset by one that did.
        var failures = 0
        /// When our probing toward this peer started, while it runs.
        var probingSince: Instant?
    }

    var enabled: Bool
    var peers: [PublicKey: PeerState] = [:]
    /// Our interface addresses with the listening port, from the runtime.
    var localEndpoints: [Endpoint] = []
    var stats = PunchStats()
    var lastCheck: Instant = .zero
    /// Probes started by this node, from anyone's offer: bounds the inits a flood of sessions
    /// (or one peer cycling sessions) can make us send.
    var probeBudget: TokenBucket

    /// A session carries traffic when data passed within this long.
    static let activeWindow = 5.0
    /// How often sessions are looked over while any exists.
    static let checkInterval = 1.0
    /// The first retry after a punch that made no link, doubling per failure up to the
    /// maximum: a pair of NATs that refused once (symmetric mapping) mostly refuses again, but
    /// a NAT that changed (a laptop moved) deserves another try within minutes.
    static let retryInitial = 20.0
    static let retryMaximum = 600.0
    /// Most links made by punching at once. Each is a routing neighbour: about 3 KB/s of route
    /// refreshes and a 290 KB signed dump when it comes up at ThreeFold's 2,750 nodes
    /// (Docs/scale.md), so 32 cost a node ~100 KB/s at most; sessions beyond stay relayed.
    static let maxPunchedLinks = 32
    /// `maxPunchedLinks`, here so a test can lower it.
    var punchedLinkLimit = Punching.maxPunchedLinks
    /// A punched link that carried no data for this long is taken down: it was made for one
    /// session's traffic, and as a routing neighbour it costs both ends keepalives and route
    /// dumps every minute. Both ends retire it on their own clock; the next traffic punches anew.
    static let idleLinkTimeout = 300.0
    /// An offer is answered with our own unless we made one this recently, so both sides
    /// probe at once and two offers crossing do not echo back and forth.
    static let answerWithin = 2.0
    /// Probe starts per node: a sustained rate and a burst.
    static let probesPerSecond = 0.5
    static let probeBurst = 4.0

    init(enabled: Bool, now: Instant) {
        self.enabled = enabled
        probeBudget = TokenBucket(rate: Punching.probesPerSecond, burst: Punching.probeBurst, now: now)
    }

    static func retryDelay(failures: Int) -> Double {
        min(retryMaximum, retryInitial * Double(1 << min(max(failures, 0), 16)))
    }

    /// Whether it is time to offer our candidates to `peer` (a session with traffic and no
    /// direct link). The caller sends the offer and reports it with `offered(to:now:)`.
    func shouldOffer(to peer: PublicKey, now: Instant) -> Bool {
        let state = peers[peer] ?? PeerState()
        return enabled && state.probingSince == nil && now >= state.nextTryAt
    }

    /// An offer that would be due but is not made (the node has `punchedLinkLimit` punched
    /// links): counted once, and asked again only after the backoff.
    mutating func deferOffer(to peer: PublicKey, now: Instant) {
        var state = peers[peer] ?? PeerState()
        state.nextTryAt = now.adding(seconds: Punching.retryDelay(failures: state.failures))
        peers[peer] = state
        stats.refusedLinkLimit += 1
    }

    /// An offer went out: recorded, and the next one pushed back by the backoff.
    mutating func offered(to peer: PublicKey, now: Instant) {
        var state = peers[peer] ?? PeerState()
        state.offeredAt = now
        state.hasOffered = true
        state.nextTryAt = now.adding(seconds: Punching.retryDelay(failures: state.failures))
        peers[peer] = state
        stats.offersSent += 1
    }

    /// An offer arrived from `peer`: whether to probe its candidates now, and whether to answer
    /// with our own offer first (so the peer probes too).
    mutating func receivedOffer(from peer: PublicKey, now: Instant) -> (probe: Bool, answer: Bool) {
        stats.offersReceived += 1
        guard enabled else { stats.refusedDisabled += 1; return (false, false) }
        var state = peers[peer] ?? PeerState()
        guard state.probingSince == nil else { stats.refusedBusy += 1; return (false, false) }
        guard probeBudget.take(now: now) else { stats.refusedRateLimited += 1; return (false, false) }
        let answer = !state.hasOffered || now.seconds(since: state.offeredAt) > Punching.answerWithin
        if answer {
            state.offeredAt = now
            state.hasOffered = true
            stats.offersSent += 1
        }
        state.probingSince = now
        state.nextTryAt = max(state.nextTryAt, now.adding(seconds: Punching.retryDelay(failures: state.failures)))
        peers[peer] = state
        return (true, answer)
    }

    /// The link layer started `count` probes (0: it would not, e.g. a punch already running).
    mutating func probesStarted(toward peer: PublicKey, count: Int) {
        guard count > 0 else {
            peers[peer]?.probingSince = nil
            stats.refusedBusy += 1
            return
        }
        stats.attempts += 1
        stats.candidatesProbed += UInt64(count)
    }

    /// A probe run ended: with a direct link up (`linked`), or with nothing answered.
    mutating func probeEnded(toward peer: PublicKey, linked: Bool, now: Instant) {
        guard var state = peers[peer], state.probingSince != nil else { return }
        state.probingSince = nil
        if linked {
            stats.succeeded += 1
            state.failures = 0
        } else {
            stats.failed += 1
            state.failures += 1
            state.nextTryAt = max(state.nextTryAt, now.adding(seconds: Punching.retryDelay(failures: state.failures)))
        }
        peers[peer] = state
    }

    /// The session ended: forget the peer (the caller cancels its probes).
    mutating func forget(_ peer: PublicKey) {
        if peers.removeValue(forKey: peer)?.probingSince != nil { stats.stopped += 1 }
    }
}

/// Every attempt and outcome of hole punching, for `planetctl stats`.
public struct PunchStats: Sendable, Equatable {
    /// Candidate offers (control message 0x01) sent and received.
    public var offersSent: UInt64 = 0
    public var offersReceived: UInt64 = 0
    /// Offers received but not acted on: malformed, punching off, a run already going, or the
    /// node's probe budget spent.
    public var refusedMalformed: UInt64 = 0
    public var refusedDisabled: UInt64 = 0
    public var refusedBusy: UInt64 = 0
    public var refusedRateLimited: UInt64 = 0
    /// Offers not made or not acted on because `maxPunchedLinks` links made by punching exist.
    public var refusedLinkLimit: UInt64 = 0
    /// Probe runs started, and the candidate endpoints they covered.
    public var attempts: UInt64 = 0
    public var candidatesProbed: UInt64 = 0
    /// Offered candidates never probed: loopback, multicast, broadcast, link-local, overlay
    /// (`EndpointCandidates.isProbeable`).
    public var candidatesRefused: UInt64 = 0
    /// Runs that ended with a direct link, with none, or because the session ended.
    public var succeeded: UInt64 = 0
    public var failed: UInt64 = 0
    public var stopped: UInt64 = 0
    /// Punched links taken down after `idleLinkTimeout` without data.
    public var retired: UInt64 = 0

    public init() {}
}
