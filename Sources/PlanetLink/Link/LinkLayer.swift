import PlanetCore

/// The link layer, sans-I/O: authenticated, encrypted UDP links to neighbours.
///
/// Feed it datagrams (`receive`), upper-layer frames (`send`), configuration (`addPeer`,
/// `removePeer`, `resolved`) and time (`tick` at `nextDeadline`); after each call, datagrams to
/// send are in `transmits` (in the order they are to leave) and everything else in the
/// `LinkEvent`s to drain. One `LinkPeer` exists per peer key, whichever side dialed and however many handshakes
/// ran: a new handshake with the same key installs a new keypair into the same link.
/// Docs/protocol.md, "link layer", is the specification.
public final class LinkLayer {
    public let identity: NodeIdentity
    public var config: LinkConfig
    public internal(set) var stats = LinkStats()
    let logger: Logger
    var rng: SplitMix64

    var peers: [PublicKey: LinkPeer] = [:]
    /// Every live index: in-flight initiations, pending responders and keypairs, in one table so
    /// an index is never shared.
    var indices: [UInt32: IndexOwner] = [:]
    var attemptIndices: Set<UInt32> = []
    var peerByEndpoint: [Endpoint: PublicKey] = [:]
    var dialers: [PeerURI: Dialer] = [:]
    var beaconDials: Set<PublicKey> = []
    /// Hole-punching inits in flight, by the key they are pinned to (`punch(_:candidates:now:)`).
    var punchDials: [PublicKey: Set<UInt32>] = [:]
    /// Peers whose link was made by punching (up or coming up), to bound how many there are.
    var punchedPeers: Set<PublicKey> = []
    /// Pending responders oldest first (entries whose state has gone are skipped lazily).
    var pendingOrder: [(index: UInt32, createdAt: Instant)] = []
    var pendingHead = 0
    var pendingCount = 0
    var sourceLimiter: SourceRateLimiter
    var globalInits: TokenBucket
    var beaconBucket: TokenBucket
    var beaconSeen: [PublicKey: UInt64] = [:]
    /// Return-routability cookies: those we issue as a busy responder, those we were given.
    var cookieIssuer: CookieIssuer
    var cookieJar = CookieJar()

    var events: [LinkEvent] = []
    /// Every datagram this layer sends, written and sealed in the queue's slots, in order: the
    /// node's one output, shared with it (`Node.transmits`), flushed by the runtime alone.
    public let transmits: TransmitQueue
    /// Whether every peer's timers need scheduling afresh (a sweep, LinkLayer+Timers.swift).
    var deadlineDirty = true
    /// The peers' timers in time order, and when the last sweep over all of them ran.
    var peerTimers = PeerTimers()
    var lastSweep: Instant = .zero
    /// The other timers' (responders, attempts, dialers) earliest, and whether it needs a look.
    var otherDeadline: Instant = .never
    var otherDeadlineDirty = true
    /// `tick`'s list of the peers to visit, kept allocated between ticks.
    var peerScratch: [LinkPeer] = []
    /// Peers `tick` has visited, over the layer's life (what `PeerTimers` keeps small).
    var peerTimerVisits = 0

    public init(identity: NodeIdentity, config: LinkConfig = LinkConfig(), rng: SplitMix64,
                logger: Logger = .disabled, now: Instant, transmits: TransmitQueue = TransmitQueue()) {
        self.identity = identity
        self.transmits = transmits
        self.config = config
        self.rng = rng
        self.logger = logger
        sourceLimiter = SourceRateLimiter(capacity: LinkConstants.maxRateLimitedSources,
                                          rate: config.initsPerSourcePerSecond, burst: config.initBurstPerSource)
        globalInits = TokenBucket(rate: config.initsGlobalPerSecond, burst: config.initBurstGlobal, now: now)
        beaconBucket = TokenBucket(rate: LinkConstants.beaconsPerSecond, burst: LinkConstants.beaconBurst, now: now)
        cookieIssuer = CookieIssuer(now: now)
        events.reserveCapacity(64)
    }

    /// Inbound handshakes from keys outside a non-empty set are refused. Changing it does not
    /// touch existing links; use `setAllowedPublicKeys(_:now:)` for that.
    public var allowedPublicKeys: Set<PublicKey> {
        get { config.allowedPublicKeys }
        set { config.allowedPublicKeys = newValue }
    }

    /// Replaces the allow-list and takes down inbound-only links it no longer allows
    /// (links to configured peers stay: the operator named them).
    public func setAllowedPublicKeys(_ keys: Set<PublicKey>, now: Instant) {
        config.allowedPublicKeys = keys
        for peer in Array(peers.values) where peer.uri == nil && peer.inbound && !isAllowedInbound(peer.key) {
            tearDown(peer, reason: .removed, now: now)
        }
    }

    // MARK: Outputs

    /// Returns the queued events and starts a new queue.
    public func drainEvents() -> [LinkEvent] {
        let out = events
        events.removeAll(keepingCapacity: true)
        return out
    }

    /// Whether events wait to be drained (the data path asks before it pumps).
    public var hasEvents: Bool { !events.isEmpty }

    /// Swaps the queued events into `buffer` (which should be empty), so two arrays are reused
    /// forever instead of allocating one per call.
    public func drainEvents(into buffer: inout [LinkEvent]) {
        buffer.removeAll(keepingCapacity: true)
        swap(&events, &buffer)
    }

    // MARK: Queries

    public func isUp(_ key: PublicKey) -> Bool { peers[key]?.isUp ?? false }
    public var upPeers: [PublicKey] { peers.values.filter(\.isUp).map(\.key) }
    public func endpoint(of key: PublicKey) -> Endpoint? { peers[key]?.endpoint }
    public func peer(at endpoint: Endpoint) -> PublicKey? { peerByEndpoint[endpoint] }
    public func smoothedRTT(of key: PublicKey) -> Double? { peers[key]?.smoothedRTT }

    /// Table sizes, to check the bounds (tests, admin API).
    public var tableSizes: (peers: Int, indices: Int, pendingResponders: Int, initiations: Int, rateLimitedSources: Int, beaconSenders: Int) {
        (peers.count, indices.count, pendingCount, attemptIndices.count, sourceLimiter.count, beaconSeen.count)
    }

    public func snapshot(now: Instant) -> [LinkPeerInfo] {
        var rows: [LinkPeerInfo] = []
        for peer in peers.values.sorted(by: { $0.key < $1.key }) {
            rows.append(LinkPeerInfo(publicKey: peer.key, endpoint: peer.endpoint, state: peer.isUp ? .up : .handshaking,
                                     rtt: peer.smoothedRTT, rxBytes: peer.rxBytes, txBytes: peer.txBytes,
                                     rxPackets: peer.rxPackets, txPackets: peer.txPackets,
                                     uptime: peer.isUp ? now.seconds(since: peer.upSince) : 0,
                                     inbound: peer.inbound, uri: peer.uri, cipher: peer.current?.cipher, punched: peer.punched))
        }
        for dialer in dialers.values.sorted(by: { $0.uri.description < $1.uri.description }) {
            let state: LinkPeerInfo.State
            switch dialer.state {
            case .linked(let key) where peers[key] != nil: continue
            case .linked, .backoff: state = .backoff
            case .resolving: state = .resolving
            case .dialing: state = .handshaking
            }
            rows.append(LinkPeerInfo(publicKey: dialer.uri.pinnedKey, endpoint: dialer.endpoints.first, state: state,
                                     rtt: nil, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, uptime: 0,
                                     inbound: false, uri: dialer.uri))
        }
        return rows
    }

    // MARK: Sending

    /// Seals an inner frame (type byte included, ≥ 0x10 for upper layers) to an up peer: a
    /// copy of `frame` into `send(frameLength:…)`. False, counted, when there is no usable link.
    @discardableResult
    public func send(frame: UnsafeRawBufferPointer, to key: PublicKey, now: Instant) -> Bool {
        send(frameLength: frame.count, to: key, now: now) { out in
            out.copyMemory(from: frame)
            return true
        }
    }

    /// Sends an upper-layer frame of `frameLength` bytes that `fill` writes (returning false to
    /// send nothing, e.g. when its own sealing failed; it is called only when there is a usable
    /// link), in a slot of `transmits`, sealed there: the one way a frame leaves for a peer.
    /// `payloadSealed`: everything after the inner frame's first
    /// `LinkConstants.sealedPayloadEncryptedPrefix` bytes is end-to-end ciphertext, so it is
    /// authenticated but not encrypted again (frame type 0x06), or where the link agreed to it
    /// only its end-to-end tag is (0x08, `sealedFraming`). False (counted) when there is no
    /// usable link, or `fill` declined.
    @discardableResult
    public func send(frameLength: Int, to key: PublicKey, now: Instant, payloadSealed: Bool = false,
                     fill: (UnsafeMutableRawBufferPointer) -> Bool) -> Bool {
        guard frameLength > 0, let peer = peers[key], peer.isUp, let kp = peer.current, !kp.isExpired(at: now) else {
            stats.count(.sendNoLink)
            return false
        }
        let total = Keypair.overhead + frameLength
        let framing = LinkLayer.sealedFraming(kp, frameLength: frameLength)
        let type = payloadSealed ? framing.type : LinkFrameType.transport.rawValue
        let prefix = payloadSealed ? LinkConstants.sealedPayloadEncryptedPrefix : nil
        let suffix = payloadSealed ? framing.suffix : nil
        var sent = false
        transmits.append(to: peer.endpoint, maxLength: total) { slot in
            let frame = UnsafeMutableRawBufferPointer(rebasing: slot[Keypair.headerLength..<(Keypair.headerLength + frameLength)])
            guard fill(frame) else { return 0 }
            if frame[0] >= LinkInnerFrameType.firstDataPlaneType { peer.lastDataFrameAt = now }
            guard kp.sealInPlace(type: type, buffer: slot, length: frameLength, encryptedPrefix: prefix,
                                 authenticatedSuffix: suffix) else {
                stats.count(.sendExhausted)
                startPeerHandshake(peer, now: now)
                return 0
            }
            sent = true
            return total
        }
        guard sent else { return false }
        noteTransmit(byteCount: total, peer: peer, now: now)
        noteUpperSent(peer: peer, keypair: kp, now: now)
        return true
    }

    /// How a frame whose inner frame is end-to-end ciphertext after its first 48 bytes leaves on
    /// `kp`: tag-bound (0x08, only the prefix and the end-to-end tag authenticated here) where
    /// the handshake agreed to it and the frame has a tag after the prefix; else sealed payload
    /// (0x06, everything authenticated).
    @inline(__always)
    static func sealedFraming(_ kp: Keypair, frameLength: Int) -> (type: UInt8, suffix: Int?) {
        if kp.tagBoundPayload,
           frameLength >= LinkConstants.sealedPayloadEncryptedPrefix + LinkConstants.tagBoundAuthenticatedSuffix {
            return (LinkFrameType.transportTagBound.rawValue, LinkConstants.tagBoundAuthenticatedSuffix)
        }
        return (LinkFrameType.transportSealedPayload.rawValue, nil)
    }

    /// Seals an upper-layer frame that `receive(inPlace:)` returned, for another peer, in the
    /// same buffer: `datagram` is the received datagram, whose inner frame (still at byte 13,
    /// `frameLength` long, everything after its first 48 bytes end-to-end ciphertext) becomes a
    /// sealed-payload frame (0x06, or 0x08 where that link agreed to it) in place, and queued in
    /// `transmits` as a borrow of `datagram`'s first `frameLength + 29` bytes: the caller keeps
    /// the buffer until the runtime's next flush (or calls `TransmitQueue.ownBorrowed`). False
    /// (counted) when there is no usable link: nothing is queued, and the buffer holds a frame
    /// sealed for nobody.
    public func forward(inPlace datagram: UnsafeMutableRawBufferPointer, frameLength: Int, to key: PublicKey, now: Instant) -> Bool {
        guard frameLength > 0, let peer = peers[key], peer.isUp, let kp = peer.current, !kp.isExpired(at: now) else {
            stats.count(.sendNoLink)
            return false
        }
        let framing = LinkLayer.sealedFraming(kp, frameLength: frameLength)
        guard kp.sealInPlace(type: framing.type, buffer: datagram, length: frameLength,
                             encryptedPrefix: LinkConstants.sealedPayloadEncryptedPrefix, authenticatedSuffix: framing.suffix) else {
            stats.count(.sendExhausted)
            startPeerHandshake(peer, now: now)
            return false
        }
        let total = frameLength + Keypair.overhead
        transmits.append(borrowed: UnsafeRawBufferPointer(rebasing: datagram[..<total]), to: peer.endpoint)
        noteTransmit(byteCount: total, peer: peer, now: now)
        noteUpperSent(peer: peer, keypair: kp, now: now)
        peer.lastDataFrameAt = now
        return true
    }

    /// After sealing an upper-layer frame: start watching for an answer (probe on silence), and
    /// rekey when the keypair has carried enough.
    private func noteUpperSent(peer: LinkPeer, keypair kp: Keypair, now: Instant) {
        if peer.upperSentUnansweredSince == nil { peer.upperSentUnansweredSince = now; peerTimersChanged(peer) }
        if kp.isInitiator, kp.wantsRekeyByCount { startPeerHandshake(peer, now: now) }
    }

    @discardableResult
    public func send(frame: [UInt8], to key: PublicKey, now: Instant) -> Bool {
        frame.withUnsafeBytes { send(frame: $0, to: key, now: now) }
    }

    /// A signed discovery beacon for the runtime to multicast. `timestamp` must increase between
    /// beacons (Unix seconds will do).
    public func makeBeacon(listenPort: UInt16, timestamp: UInt64) -> [UInt8] {
        Beacon.make(identity: identity, port: listenPort, timestamp: timestamp, domain: config.domain)
    }

    // MARK: Internal helpers

    func transmit(_ bytes: [UInt8], peer: LinkPeer, now: Instant) {
        noteTransmit(byteCount: bytes.count, peer: peer, now: now)
        transmits.append(bytes, to: peer.endpoint)
    }

    func transmit(_ bytes: [UInt8], to endpoint: Endpoint) {
        stats.txPackets &+= 1
        stats.txBytes &+= UInt64(bytes.count)
        transmits.append(bytes, to: endpoint)
    }

    /// Counters and liveness for a datagram to a peer, however it leaves (event or in place).
    private func noteTransmit(byteCount: Int, peer: LinkPeer, now: Instant) {
        stats.txPackets &+= 1
        stats.txBytes &+= UInt64(byteCount)
        peer.txPackets &+= 1
        peer.txBytes &+= UInt64(byteCount)
        peer.lastSent = now
        if peer.sendingUnansweredSince == nil { peer.sendingUnansweredSince = now }
    }

    /// Sends a link-layer inner frame (keepalive, ping, pong) on the current keypair, sealed in
    /// a slot of `transmits` like every other frame.
    func sendInner(_ frame: [UInt8], peer: LinkPeer, now: Instant) {
        guard let kp = peer.current, !kp.isExpired(at: now), !frame.isEmpty else { return }
        let total = frame.count + Keypair.overhead
        let sealed = transmits.append(to: peer.endpoint, maxLength: total) { slot in
            frame.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: slot[Keypair.headerLength...]).copyMemory(from: $0) }
            return kp.sealInPlace(type: LinkFrameType.transport.rawValue, buffer: slot, length: frame.count) ? total : 0
        }
        if sealed { noteTransmit(byteCount: total, peer: peer, now: now) }
    }

    func newIndex() -> UInt32 {
        LocalIndex.draw(using: &rng) { indices[$0] != nil }
    }

    func jitter(_ seconds: Double, fraction: Double) -> Double {
        let unit = Double(rng.next() >> 11) / Double(UInt64(1) << 53)
        return seconds * (1 - fraction + 2 * fraction * unit)
    }

    func isAllowedInbound(_ key: PublicKey) -> Bool {
        config.allowedPublicKeys.isEmpty || config.allowedPublicKeys.contains(key)
    }

    func setEndpoint(_ peer: LinkPeer, _ endpoint: Endpoint) {
        guard peer.endpoint != endpoint || peerByEndpoint[endpoint] != peer.key else { return }
        if peerByEndpoint[peer.endpoint] == peer.key { peerByEndpoint[peer.endpoint] = nil }
        peer.endpoint = endpoint
        peerByEndpoint[endpoint] = peer.key
    }

    func removeIndex(of kp: Keypair?) {
        guard let kp else { return }
        if case .keypair(let owned, _) = indices[kp.localIndex], owned === kp { indices[kp.localIndex] = nil }
    }

    func markUp(_ peer: LinkPeer, inbound: Bool, now: Instant) {
        guard !peer.isUp else { return }
        peer.isUp = true
        peer.inbound = inbound
        peer.upSince = now
        peer.lastReceived = now
        peer.nextPingAt = now
        peerTimersChanged(peer)
        for dialer in dialers.values where dialer.state == .linked(peer.key) { dialer.failures = 0 }
        logger.info("link up", [("peer", peer.key.short), ("endpoint", peer.endpoint.description), ("inbound", "\(inbound)"),
                                ("punched", "\(peer.punched)")])
        events.append(.linkUp(peer.key, peer.endpoint, inbound: inbound))
        sendObservedEndpoint(peer, now: now)
    }

    /// Forgets a peer entirely; configured peers redial after a backoff.
    func tearDown(_ peer: LinkPeer, reason: LinkDownReason, now: Instant) {
        if peer.isUp {
            logger.info("link down", [("peer", peer.key.short), ("reason", reason.rawValue)])
            events.append(.linkDown(peer.key, reason))
        }
        for kp in peer.keypairs { removeIndex(of: kp) }
        peer.current = nil; peer.previous = nil; peer.next = nil
        if let h = peer.handshakeIndex { removeAttempt(h) }
        peer.isUp = false
        peers[peer.key] = nil
        punchedPeers.remove(peer.key)
        if peerByEndpoint[peer.endpoint] == peer.key { peerByEndpoint[peer.endpoint] = nil }
        for dialer in dialers.values where dialer.state == .linked(peer.key) {
            dialerFailed(dialer, now: now)
        }
        // Its entry in `peerTimers` is stale from here (the peer is no longer in `peers`).
        otherDeadlineDirty = true
    }
}
