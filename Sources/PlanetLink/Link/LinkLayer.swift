import PlanetCore

/// The link layer, sans-I/O: authenticated, encrypted UDP links to neighbours.
///
/// Feed it datagrams (`receive`), upper-layer frames (`send`), configuration (`addPeer`,
/// `removePeer`, `resolved`) and time (`tick` at `nextDeadline`); drain `LinkEvent`s after each
/// call. One `LinkPeer` exists per peer key, whichever side dialed and however many handshakes
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
    /// Where `send(frameLength:…)` seals data frames when the runtime lends memory (its send
    /// batch); nil: they leave as `.transmit` events. Not retained: the runtime owns the node,
    /// and with it this layer, and sets it to itself.
    public unowned(unsafe) var sink: (any DatagramSink)?
    var cachedDeadline: Instant = .zero
    var deadlineDirty = true

    public init(identity: NodeIdentity, config: LinkConfig = LinkConfig(), rng: SplitMix64,
                logger: Logger = .disabled, now: Instant) {
        self.identity = identity
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

    /// Whether events are waiting to be drained.
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

    /// Seals an inner frame (type byte included, ≥ 0x10 for upper layers) to an up peer.
    /// Returns false, counting the drop, when there is no usable link.
    @discardableResult
    public func send(frame: UnsafeRawBufferPointer, to key: PublicKey, now: Instant) -> Bool {
        guard let peer = peers[key], peer.isUp, let kp = peer.current, !kp.isExpired(at: now) else {
            stats.count(.sendNoLink)
            return false
        }
        var out: [UInt8] = []
        out.reserveCapacity(frame.count + Keypair.overhead)
        guard kp.seal(type: LinkFrameType.transport.rawValue, plaintext: frame, appendingTo: &out) else {
            stats.count(.sendExhausted)
            startPeerHandshake(peer, now: now)
            return false
        }
        if let type = frame.first, type >= LinkInnerFrameType.firstDataPlaneType { peer.lastDataFrameAt = now }
        sentUpperFrame(out, peer: peer, keypair: kp, now: now)
        return true
    }

    /// Zero-copy send: `buffer` holds `Keypair.headerLength` (13) bytes of headroom, then the
    /// inner frame. It is sealed in place and becomes the transmitted datagram.
    /// `payloadSealed`: everything after the inner frame's first
    /// `LinkConstants.sealedPayloadEncryptedPrefix` bytes is end-to-end ciphertext, so it is
    /// authenticated but not encrypted again (frame type 0x06), or where the link agreed to it
    /// only its end-to-end tag is (0x08, `sealedFraming`).
    @discardableResult
    public func send(headroomFrame buffer: consuming [UInt8], to key: PublicKey, now: Instant, payloadSealed: Bool = false) -> Bool {
        var buffer = buffer
        guard buffer.count > Keypair.headerLength, let peer = peers[key], peer.isUp,
              let kp = peer.current, !kp.isExpired(at: now) else {
            stats.count(.sendNoLink)
            return false
        }
        // Read before sealing encrypts it.
        if buffer[Keypair.headerLength] >= LinkInnerFrameType.firstDataPlaneType { peer.lastDataFrameAt = now }
        let framing = LinkLayer.sealedFraming(kp, frameLength: buffer.count - Keypair.headerLength)
        let sealed = payloadSealed
            ? kp.sealInPlace(type: framing.type, frame: &buffer, encryptedPrefix: LinkConstants.sealedPayloadEncryptedPrefix,
                             authenticatedSuffix: framing.suffix)
            : kp.sealInPlace(type: LinkFrameType.transport.rawValue, frame: &buffer)
        guard sealed else {
            stats.count(.sendExhausted)
            startPeerHandshake(peer, now: now)
            return false
        }
        sentUpperFrame(buffer, peer: peer, keypair: kp, now: now)
        return true
    }

    /// Sends an upper-layer frame of `frameLength` bytes that `fill` writes (returning false to
    /// send nothing, e.g. when its own sealing failed; it is called only when there is a usable
    /// link). Where the runtime lends a send slot (`sink`) the frame is written and sealed there;
    /// otherwise into a buffer of its own, sent as a `.transmit` event. `payloadSealed` as for
    /// `send(headroomFrame:)`. False (counted) when there is no usable link, or `fill` declined.
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
        // Pending events may hold datagrams for the wire (a handshake just started): a slot
        // would overtake them, so then this frame queues behind them as an event too.
        if let sink, events.isEmpty {
            var sent = false
            let lent = sink.send(to: peer.endpoint, maxLength: total) { slot in
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
            if lent {
                guard sent else { return false }
                noteTransmit(byteCount: total, peer: peer, now: now)
                noteUpperSent(peer: peer, keypair: kp, now: now)
                return true
            }
        }
        var declined = false
        let buffer = [UInt8](unsafeUninitializedCapacity: total) { buf, n in
            let raw = UnsafeMutableRawBufferPointer(buf)
            raw.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: Keypair.headerLength)
            declined = !fill(UnsafeMutableRawBufferPointer(rebasing: raw[Keypair.headerLength..<(Keypair.headerLength + frameLength)]))
            n = Keypair.headerLength + frameLength
        }
        if declined { return false }
        return send(headroomFrame: buffer, to: key, now: now, payloadSealed: payloadSealed)
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
    /// sealed-payload frame (0x06, or 0x08 where that link agreed to it) in place. Returns where to send `datagram`'s first
    /// `frameLength + 29` bytes, or nil (counted) when there is no usable link: the runtime then
    /// sends nothing, and the buffer holds a frame sealed for nobody.
    public func forward(inPlace datagram: UnsafeMutableRawBufferPointer, frameLength: Int, to key: PublicKey, now: Instant) -> Endpoint? {
        guard frameLength > 0, let peer = peers[key], peer.isUp, let kp = peer.current, !kp.isExpired(at: now) else {
            stats.count(.sendNoLink)
            return nil
        }
        let framing = LinkLayer.sealedFraming(kp, frameLength: frameLength)
        guard kp.sealInPlace(type: framing.type, buffer: datagram, length: frameLength,
                             encryptedPrefix: LinkConstants.sealedPayloadEncryptedPrefix, authenticatedSuffix: framing.suffix) else {
            stats.count(.sendExhausted)
            startPeerHandshake(peer, now: now)
            return nil
        }
        noteTransmit(byteCount: frameLength + Keypair.overhead, peer: peer, now: now)
        noteUpperSent(peer: peer, keypair: kp, now: now)
        peer.lastDataFrameAt = now
        return peer.endpoint
    }

    /// After sealing an upper-layer frame: send it, start watching for an answer (probe on
    /// silence), and rekey when the keypair has carried enough.
    private func sentUpperFrame(_ datagram: [UInt8], peer: LinkPeer, keypair kp: Keypair, now: Instant) {
        transmit(datagram, peer: peer, now: now)
        noteUpperSent(peer: peer, keypair: kp, now: now)
    }

    private func noteUpperSent(peer: LinkPeer, keypair kp: Keypair, now: Instant) {
        if peer.upperSentUnansweredSince == nil { peer.upperSentUnansweredSince = now; deadlineDirty = true }
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
        events.append(.transmit(bytes, to: peer.endpoint))
    }

    func transmit(_ bytes: [UInt8], to endpoint: Endpoint) {
        stats.txPackets &+= 1
        stats.txBytes &+= UInt64(bytes.count)
        events.append(.transmit(bytes, to: endpoint))
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

    /// Sends a link-layer inner frame (keepalive, ping, pong) on the current keypair.
    func sendInner(_ frame: [UInt8], peer: LinkPeer, now: Instant) {
        guard let kp = peer.current, !kp.isExpired(at: now) else { return }
        var out: [UInt8] = []
        out.reserveCapacity(frame.count + Keypair.overhead)
        guard frame.withUnsafeBytes({ kp.seal(type: LinkFrameType.transport.rawValue, plaintext: $0, appendingTo: &out) }) else {
            return
        }
        transmit(out, peer: peer, now: now)
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
        deadlineDirty = true
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
        deadlineDirty = true
    }
}
