import PlanetCore
import PlanetLink
import PlanetRouting

/// A whole node as a state machine: the link layer, the router, end-to-end sessions and the
/// data plane composed. Inputs are datagrams, TUN packets, admin calls and the passing of
/// time; outputs collect in `output` for the runtime to carry out. Nothing here does I/O.
///
/// Outbound path (TUN → wire): check the source is ours and the destination is in the overlay;
/// look the destination up in the router (address → key and next hop); if the next hop is the
/// destination itself, send the packet as a direct frame inside the link's encryption (one AEAD
/// pass); otherwise seal it in the end-to-end session (handshaking first, with the packet
/// queued) and send the overlay packet to the next hop.
///
/// Inbound path (wire → TUN): the link layer authenticates and decrypts the frame; routing
/// messages go to the router; overlay packets for someone else are forwarded with the hop
/// limit decremented; overlay packets for us are opened by their session, and the inner
/// packet's source must belong to the session's key before it reaches the TUN.
public final class Node {
    public let identity: NodeIdentity
    public let config: NodeConfig
    public let address: IPv6Address
    public let subnet: IPv6Prefix
    public let started: Instant
    let logger: Logger

    public let links: LinkLayer
    public let router: Router
    var sessions = SessionTable()
    var pending = PendingPackets()
    /// ICMPv6 errors, relays' error reports and answered session inits are rate limited.
    var icmpLimiter: TokenBucket
    var reportLimiter: TokenBucket
    var handshakeLimiter: TokenBucket
    var random: SplitMix64

    public var stats = NodeStats()
    public var output = NodeOutput()
    /// Swapped with the link layer's event queue on every pump, so draining allocates nothing.
    var eventBuffer: [LinkEvent] = []
    var ownedAddresses = OwnedAddressCache()
    /// Cleared after every router call that can change a route.
    var routeCache = RouteCache()
    var routingPacer = RoutingPacer(rate: Node.routingBytesPerSecond, burst: Node.routingBurstBytes,
                                    maxQueuedBytes: Node.routingMaxQueuedBytes)

    /// Routing output per neighbour (Docs/protocol.md, "pacing routing output"): 1 MB/s after a
    /// 256 KiB burst, so a 10⁴-origin dump (~1 MB) takes ~1 s and a 10⁵-origin one ~10 s;
    /// at most 16 MiB waiting (a 10⁵-origin dump and change).
    public static let routingBytesPerSecond = 1_000_000.0
    public static let routingBurstBytes = 262_144.0
    public static let routingMaxQueuedBytes = 16 << 20

    /// How long a packet may wait for a session before the sender gets "address unreachable".
    public static let pendingTimeout = 5.0
    public static let sessionInitRetry = 1.0
    public static let sessionRekeyAfter = 120.0
    public static let sessionRejectAfter = 180.0

    /// `ciphers` is what handshakes offer; the runtime narrows it when the operator disables AES.
    public init(identity: NodeIdentity, config: NodeConfig, logger: Logger = .disabled, now: Instant, random: SplitMix64 = .system(),
                ciphers: TransportCiphers = .hardwareSupported) {
        self.identity = identity
        self.config = config
        self.logger = logger
        self.random = random
        address = identity.address
        subnet = identity.subnet
        started = now
        icmpLimiter = TokenBucket(rate: 100, burst: 50, now: now)
        reportLimiter = TokenBucket(rate: 100, burst: 50, now: now)
        handshakeLimiter = TokenBucket(rate: 200, burst: 100, now: now)
        var linkConfig = LinkConfig(config)
        linkConfig.ciphers = ciphers
        links = LinkLayer(identity: identity, config: linkConfig, rng: random, logger: logger, now: now)
        router = Router(identity: identity, logger: logger, now: now, random: random)
        for peer in config.peers { links.addPeer(uri: peer, now: now) }
        pump(now: now)
    }

    // MARK: Inputs

    public func receiveDatagram(_ bytes: [UInt8], from endpoint: Endpoint, now: Instant) {
        links.receive(datagram: bytes, from: endpoint, now: now)
        pumpData(now: now)
    }

    /// A datagram where it lies, in the runtime's writable receive slot, which must stay valid
    /// and untouched until the runtime has carried out `output`. The data path needs no copy
    /// and no allocation: a data packet relayed for others is opened and sealed again for the
    /// next link in that same slot (the result says to send the slot's first `length` bytes to
    /// `to`), and a neighbour's direct packet or a session's data for us goes to the TUN from
    /// the slot. Everything else is copied out and takes the ordinary path (nil).
    public func receiveDatagram(inPlace buffer: UnsafeMutableRawBufferPointer, from endpoint: Endpoint, now: Instant)
        -> (length: Int, to: Endpoint)? {
        defer { pumpData(now: now) }
        guard let (frame, peer) = links.receive(inPlace: buffer, from: endpoint, now: now) else { return nil }
        let type = frame[0]
        if type == OverlayPacket.directFrameType || type == OverlayPacket.directPartialFrameType {
            let packet = UnsafeRawBufferPointer(rebasing: frame[1...])
            if directPacketAllowed(packet, from: peer) {
                deliverToTun(NodeOutput.TunPacket(borrowing: packet, checksumPartial: type == OverlayPacket.directPartialFrameType))
            }
            return nil
        }
        if let header = OverlayPacket.parseHeader(raw: UnsafeRawBufferPointer(frame)),
           SessionMessageType.isData(frame[OverlayPacket.headerLength]) {
            if isLocal(header.destination) {
                receiveDataInPlace(frame, now: now)
                return nil
            }
            if header.hopLimit > 1, let route = routeCache.route(for: header.destination, router: router) {
                return relayInPlace(frame, datagram: buffer, hopLimit: header.hopLimit, to: route.nextHop, now: now)
            }
        }
        // Anything unusual (routing, a session handshake or error report, an expired hop limit,
        // no route) takes the ordinary path, which also reports errors.
        handleFrame(Array(frame)[...], from: peer, now: now)
        return nil
    }

    /// A data message for us, opened and handed to the TUN where it lies.
    func receiveDataInPlace(_ frame: UnsafeMutableRawBufferPointer, now: Instant) {
        let message = UnsafeMutableRawBufferPointer(rebasing: frame[OverlayPacket.headerLength...])
        guard let range = openData(message, now: now) else { return }
        let partial = message[0] == SessionMessageType.dataChecksumPartial.rawValue
        deliverToTun(NodeOutput.TunPacket(borrowing: UnsafeRawBufferPointer(rebasing: message[range]), checksumPartial: partial))
    }

    /// A data message for someone else, sealed again for the next hop where it lies: what to
    /// send from the datagram's buffer, or nil when the link to the next hop is gone (counted).
    func relayInPlace(_ frame: UnsafeMutableRawBufferPointer, datagram: UnsafeMutableRawBufferPointer, hopLimit: UInt8,
                      to nextHop: PublicKey, now: Instant) -> (length: Int, to: Endpoint)? {
        frame[1] = hopLimit - 1
        stats.forwardedPackets += 1
        stats.forwardedBytes += UInt64(frame.count)
        guard let to = links.forward(inPlace: datagram, frameLength: frame.count, to: nextHop, now: now) else {
            stats.drop(.linkDown)
            return nil
        }
        return (frame.count + Keypair.overhead, to)
    }

    public func resolved(_ uri: PeerURI, endpoints: [Endpoint], now: Instant) {
        links.resolved(uri: uri, endpoints: endpoints, now: now)
        pump(now: now)
    }

    public func tick(now: Instant) {
        links.tick(now: now)
        router.tick(now: now)
        routeCache.clear()
        sessionTimers(now: now)
        pump(now: now)
    }

    public var nextDeadline: Instant {
        var d = min(links.nextDeadline, router.nextDeadline)
        if let oldest = pending.oldest { d = min(d, oldest.adding(seconds: Node.pendingTimeout)) }
        if let routing = routingPacer.nextDeadline { d = min(d, routing) }
        if sessions.hasHandshakes || sessions.hasTraffic { d = min(d, now0.adding(seconds: 0.5)) }
        return d
    }
    var now0 = Instant.zero

    public func addPeer(_ uri: PeerURI, now: Instant) {
        links.addPeer(uri: uri, now: now)
        pump(now: now)
    }

    /// Removes the configured peer with this endpoint (with or without its `?key=`).
    @discardableResult
    public func removePeer(_ uri: PeerURI, now: Instant) -> Bool {
        let matches = Set(links.snapshot(now: now).compactMap(\.uri).filter { $0 == uri || $0.endpointText == uri.endpointText })
        for m in matches { links.removePeer(uri: m, now: now) }
        pump(now: now)
        return !matches.isEmpty
    }

    /// A packet the kernel routed into the TUN.
    public func receiveTunPacket(_ packet: [UInt8], checksumPartial: Bool = false, from interface: PacketInterface = .tun, now: Instant) {
        packet.withUnsafeBytes { receiveTunPacket(raw: $0, checksumPartial: checksumPartial, from: interface, now: now) }
    }

    /// A packet the kernel routed into the TUN, read where it lies (the runtime's receive slot):
    /// the fast path copies it once, into the frame that is sealed in place and sent.
    /// `checksumPartial`: its TCP/UDP checksum is the kernel's partial one; it travels marked
    /// as such (direct frame 0x22, session message 0x06) so nobody on the way sums the payload.
    /// `interface`: the device it came in on (the runtime's id; `.tun` for the node's TUN).
    public func receiveTunPacket(raw packet: UnsafeRawBufferPointer, checksumPartial: Bool = false, from interface: PacketInterface = .tun,
                                 now: Instant) {
        now0 = now
        stats.tunRxPackets += 1
        stats.tunRxBytes += UInt64(packet.count)
        guard let h = IPv6Header(raw: packet) else { stats.drop(.tunMalformed); return }
        // The kernel's own link-local chatter on the TUN (MLD reports, router solicitations to
        // ff02::) is not traffic for the overlay; count it apart so bad-source drops stay meaningful.
        guard OverlayAddress.isOverlay(h.destination) else { stats.drop(.tunNotOverlay); return }
        guard h.source == address || subnet.contains(h.source) else { stats.drop(.tunBadSource); return }
        if packet.count > config.tun.mtu {
            stats.drop(.tunTooBig)
            sendICMP(.packetTooBig(mtu: config.tun.mtu), from: address, about: Array(packet), now: now)
            return
        }
        guard let route = routeCache.route(for: h.destination, router: router) else {
            stats.drop(.noRoute)
            sendICMP(.noRoute, from: address, about: Array(packet), now: now)
            return
        }
        if route.nextHop == route.destination, links.isUp(route.destination) {
            let type = checksumPartial ? OverlayPacket.directPartialFrameType : OverlayPacket.directFrameType
            let frame = HeadroomFrame.make(type: type, copying: packet)
            if !links.send(headroomFrame: frame, to: route.destination, now: now) { stats.drop(.linkDown) }
            pumpData(now: now)
            return
        }
        sendThroughSession(packet, checksumPartial: checksumPartial, hopLimit: h.hopLimit, destinationAddress: h.destination,
                           to: route.destination, now: now)
        pumpData(now: now)
    }

    // MARK: The event pump

    /// The data path's pump: a packet in usually yields only datagrams out and data frames,
    /// which never give the router anything to say, so the router isn't asked (asking allocates).
    /// Any other event — a routing frame, a link going up or down — gets the full pump.
    func pumpData(now: Instant) {
        now0 = now
        var rounds = 0
        while rounds < 64 {
            rounds += 1
            links.drainEvents(into: &eventBuffer)
            if eventBuffer.isEmpty { return }
            var needsFullPump = false
            for event in eventBuffer {
                switch event {
                case .transmit(let bytes, let endpoint):
                    output.datagrams.append((bytes, endpoint))
                case .frame(let frame, let peer) where frame.first == OverlayPacket.directFrameType || frame.first == OverlayPacket.frameType
                    || frame.first == OverlayPacket.directPartialFrameType:
                    handleFrame(frame, from: peer, now: now)
                default:
                    handle(event, now: now)
                    needsFullPump = true
                }
            }
            eventBuffer.removeAll(keepingCapacity: true)
            if needsFullPump { break }
        }
        pump(now: now)
    }

    /// Moves events between the link layer and the router until neither has anything left.
    func pump(now: Instant) {
        now0 = now
        var rounds = 0
        while rounds < 64 {
            rounds += 1
            var progressed = false
            links.drainEvents(into: &eventBuffer)
            for event in eventBuffer {
                progressed = true
                handle(event, now: now)
            }
            eventBuffer.removeAll(keepingCapacity: true)
            for (to, message) in router.drainOutgoing() {
                progressed = true
                var frame = [UInt8]()
                frame.reserveCapacity(message.count + 1)
                frame.append(0x10)
                frame.append(contentsOf: message)
                if !routingPacer.enqueue(frame, to: to, now: now) { stats.drop(.routingQueueFull) }
            }
            // What the neighbours' allowance lets go now; the next round drains its datagrams.
            if routingPacer.hasQueued(),
               routingPacer.release(now: now, { to, frame in _ = links.send(frame: frame, to: to, now: now) }) > 0 {
                progressed = true
            }
            if !progressed { break }
        }
    }

    func handle(_ event: LinkEvent, now: Instant) {
        switch event {
        case .transmit(let bytes, let endpoint):
            output.datagrams.append((bytes, endpoint))
        case .frame(let frame, let peer):
            handleFrame(frame, from: peer, now: now)
        case .linkUp(let peer, let endpoint, let inbound):
            router.neighbourUp(peer, cost: Node.cost(rtt: nil), now: now)
            routeCache.clear()
        case .linkDown(let peer, _):
            routingPacer.forget(peer)
            router.neighbourDown(peer, now: now)
            routeCache.clear()
        case .rtt(let peer, let seconds):
            router.neighbourCost(peer, cost: Node.cost(rtt: seconds), now: now)
            routeCache.clear()
        case .resolve(let uri):
            output.resolve.append(uri)
        case .discovered(let peer, let endpoint):
            logger.debug("beacon heard", [("peer", peer.short), ("endpoint", endpoint.description)])
        }
    }

    /// Link cost for routing from the smoothed RTT; before the first measurement a link is
    /// assumed to be a slow one (10 ms), so a fresh link doesn't win before it has proven itself.
    static func cost(rtt: Double?) -> UInt16 {
        LinkCost.from(rttMilliseconds: (rtt ?? 0.010) * 1000)
    }

    func handleFrame(_ frame: ArraySlice<UInt8>, from peer: PublicKey, now: Instant) {
        guard let type = frame.first else { stats.drop(.unknownFrame); return }
        switch type {
        case 0x10:
            router.receive(Array(frame.dropFirst()), from: peer, now: now)
            routeCache.clear()
        case OverlayPacket.frameType:
            handleOverlay(frame, from: peer, now: now)
        case OverlayPacket.directFrameType:
            handleDirect(frame, from: peer, now: now)
        case OverlayPacket.directPartialFrameType:
            handleDirect(frame, from: peer, checksumPartial: true, now: now)
        default:
            stats.drop(.unknownFrame)
        }
    }

    // MARK: Inbound

    func isLocal(_ a: IPv6Address) -> Bool { a == address || subnet.contains(a) }

    /// A neighbour's own packet, sent inside the link's encryption: the link authenticated the
    /// neighbour, so the packet's source must be the neighbour's address or inside its subnet.
    func handleDirect(_ frame: ArraySlice<UInt8>, from peer: PublicKey, checksumPartial: Bool = false, now: Instant) {
        let packet = frame.dropFirst()
        guard packet.withUnsafeBytes({ directPacketAllowed($0, from: peer) }) else { return }
        deliverToTun(packet, checksumPartial: checksumPartial)
    }

    /// False, counted, unless the packet is for us and from the neighbour's own addresses.
    func directPacketAllowed(_ packet: UnsafeRawBufferPointer, from peer: PublicKey) -> Bool {
        guard let h = IPv6Header(raw: packet), isLocal(h.destination) else {
            stats.drop(.overlayMalformed)
            return false
        }
        guard ownedAddresses.key(peer, owns: h.source) else {
            stats.drop(.directSpoofed)
            return false
        }
        return true
    }

    func deliverToTun(_ packet: ArraySlice<UInt8>, checksumPartial: Bool = false) {
        deliverToTun(NodeOutput.TunPacket(packet, checksumPartial: checksumPartial))
    }

    func deliverToTun(_ packet: NodeOutput.TunPacket) {
        guard config.tun.enabled else { stats.drop(.tunDisabled); return }
        // Partial only in the layout the runtime can hand to the kernel; anything else is
        // malformed (the sender's node produced it, so count it rather than trust it).
        if packet.checksumPartial, packet.count <= 40
            || packet.withUnsafeBytes({ InternetChecksum.partialChecksumOffset(nextHeader: $0[6]) }) == nil {
            stats.drop(.overlayMalformed)
            return
        }
        stats.tunTxPackets += 1
        stats.tunTxBytes += UInt64(packet.count)
        output.tunPackets.append(packet)
    }

    func handleOverlay(_ frame: ArraySlice<UInt8>, from peer: PublicKey, now: Instant) {
        guard let header = frame.withUnsafeBytes({ OverlayPacket.parseHeader(raw: $0) }) else {
            stats.drop(.overlayMalformed)
            return
        }
        let start = frame.startIndex
        if isLocal(header.destination) {
            handleSessionMessage(frame[(start + OverlayPacket.headerLength)...], header: header, now: now)
            return
        }
        let messageType = frame[start + OverlayPacket.headerLength]
        if header.hopLimit <= 1 {
            stats.drop(.hopLimit)
            if SessionMessageType.isData(messageType) {
                sendReport(.hopLimitExceeded, about: Array(frame), header: header, now: now)
            }
            return
        }
        guard let route = routeCache.route(for: header.destination, router: router) else {
            stats.drop(.noRoute)
            if SessionMessageType.isData(messageType) {
                sendReport(.noRoute, about: Array(frame), header: header, now: now)
            }
            return
        }
        // Relaying copies the frame once, behind the next link's header room, and seals it there.
        var forwarded = frame.withUnsafeBytes { HeadroomFrame.make(copying: $0) }
        forwarded[HeadroomFrame.linkHeadroom + 1] = header.hopLimit - 1
        stats.forwardedPackets += 1
        stats.forwardedBytes += UInt64(frame.count)
        // A data message is end-to-end ciphertext past its header: the next link need only hide
        // the headers and authenticate the rest (Docs/protocol.md, "sealed payload").
        let sealedPayload = SessionMessageType.isData(messageType)
        if !links.send(headroomFrame: forwarded, to: route.nextHop, now: now, payloadSealed: sealedPayload) { stats.drop(.linkDown) }
    }

    /// Sends a signed error report back to the source of an overlay packet.
    func sendReport(_ kind: ErrorReport.Kind, mtu: UInt32 = 0, about frame: [UInt8], header: OverlayPacket.Header, now: Instant) {
        guard reportLimiter.take(now: now) else { stats.drop(.icmpRateLimited); return }
        let report = ErrorReport.make(kind: kind, mtu: mtu, reporter: identity, invoking: frame[OverlayPacket.headerLength...])
        sendOverlay(message: report, hopLimit: OverlayPacket.defaultHopLimit, to: header.source, now: now)
    }

    /// Routes an overlay packet of ours toward `destination` (an address); false if no route.
    @discardableResult
    func sendOverlay(message: [UInt8], hopLimit: UInt8, to destination: IPv6Address, now: Instant) -> Bool {
        guard let route = routeCache.route(for: destination, router: router) else { stats.drop(.noRoute); return false }
        let frame = OverlayPacket.make(hopLimit: hopLimit, destination: destination, source: address, message: message)
        if !links.send(frame: frame, to: route.nextHop, now: now) { stats.drop(.linkDown); return false }
        return true
    }

    func sendICMP(_ kind: ICMPv6.ErrorKind, from source: IPv6Address, about packet: [UInt8], now: Instant) {
        guard config.tun.enabled, ICMPv6.mayReportError(about: packet) else { return }
        guard icmpLimiter.take(now: now) else { stats.drop(.icmpRateLimited); return }
        guard let icmp = ICMPv6.error(kind, from: source, about: packet) else { return }
        stats.icmpErrorsSent += 1
        deliverToTun(icmp[...])
    }
}

extension LinkConfig {
    init(_ c: NodeConfig) {
        self.init()
        allowedPublicKeys = Set(c.allowedPublicKeys)
    }
}
