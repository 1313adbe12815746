import PlanetCore
import PlanetNode
import PlanetYggdrasil
import PlanetAdmin

/// The runner's Yggdrasil side: made when the config names a tcp:// or tls:// link in `peers`
/// or `listen` (a node without one stays Planetary-only and answers "no route" as before),
/// on the same loop as the node, so the node and the Yggdrasil stack never need a lock.
extension NodeRunner {
    func startYggdrasil() throws(StartupError) {
        let listens = config.listen.filter(\.scheme.isYggdrasil)
        let peers = config.peers.filter(\.scheme.isYggdrasil)
        // A dual node has links of its own; a Planetary-only one may still reach Yggdrasil
        // through one (YggdrasilViaDialer.swift), which needs the TUN: the link is the kernel's
        // TCP over it.
        let dual = !listens.isEmpty || !peers.isEmpty
        let via = config.yggdrasilVia != .off && config.tun.enabled
        guard dual || via else { return }
        let transport = YggdrasilTransport(loop: loop, identity: node.identity, allowedKeys: Set(config.allowedPublicKeys), logger: logger)
        let gateway = YggdrasilGateway(node: node, transport: transport, tunMTU: config.tun.mtu,
                                       nodeInfo: config.yggdrasilNodeInfo, logger: logger, now: MonotonicClock.now())
        // A read of 64 KB holds dozens of frames: their consequences (frames to send, packets
        // for the TUN) are carried out once, when the batch ends, not once per frame; events
        // outside a read (deadlines, closes) are carried out at once as before.
        transport.onEvent = { [unowned self, unowned gateway, unowned transport] event in
            gateway.handle(event, now: MonotonicClock.now())
            if transport.inBatch { gateway.needsFlush = true } else { self.flush() }
        }
        transport.onBatchEnd = { [unowned self, unowned gateway] in
            guard gateway.needsFlush else { return }
            gateway.needsFlush = false
            self.flush()
        }
        for (i, uri) in config.listen.enumerated() where uri.scheme.isYggdrasil {
            do {
                let port = try transport.listen(uri)
                logger.info("yggdrasil listening", [("uri", uri.redactedDescription), ("port", "\(port)")])
            } catch {
                throw StartupError("listen[\(i)] \(uri.redactedDescription): \(error)")
            }
        }
        for uri in peers { _ = transport.addPeer(uri) }
        if dual && via { serveYggdrasilVia(transport) }
        if !dual { gateway.via = YggdrasilViaDialer(setting: config.yggdrasilVia, logger: logger, now: MonotonicClock.now()) }
        node.attach(foreign: gateway)
        yggdrasil = gateway
    }

    /// A dual node accepts Yggdrasil links on its own overlay address, port 8473 (reachable
    /// only through the overlay), and says so in its signed capacity record. Best effort: a
    /// node that cannot bind it stays a dual node for itself.
    func serveYggdrasilVia(_ transport: YggdrasilTransport) {
        let text = "tcp://[\(node.identity.address)]:\(YggdrasilViaSetting.port)"
        guard let uri = try? PeerURI.parse(text, allowKey: false).get() else { return }
        do {
            _ = try transport.listen(uri)
            node.announceYggdrasilVia(true, now: MonotonicClock.now())
            logger.info("yggdrasil: accepting links from Planetary-only nodes", [("uri", text)])
        } catch {
            logger.warn("yggdrasil: cannot accept links from Planetary-only nodes", [("uri", text), ("error", "\(error)")])
        }
    }

    /// `planetctl peers add tcp://…` on a node with an Yggdrasil side.
    func addYggdrasilPeer(_ uri: PeerURI) -> Bool {
        guard let yggdrasil else { return false }
        let added = yggdrasil.transport.addPeer(uri)
        flush()
        return added
    }
}

// MARK: What the admin calls show of the Yggdrasil side

extension NodeRunner {
    /// Yggdrasil links as `getPeers` rows beside the Planetary ones: the cipher column says
    /// which wire the link speaks (`yggdrasil-tcp`, `yggdrasil-tls`); the RTT is ironwood's
    /// last SigReq→SigRes time. Configured peers not connected show as `backoff`.
    func yggdrasilPeers() -> [PeersReply.Peer] {
        guard let yggdrasil else { return [] }
        let status = Dictionary(yggdrasil.stack.router.peerStatus.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var rows: [PeersReply.Peer] = yggdrasil.transport.peers.map { p in
            let scheme = p.uri.hasPrefix("tls://") ? "tls" : "tcp"
            return PeersReply.Peer(publicKey: p.key?.hex, address: p.key.map { OverlayAddress.address(for: $0).description },
                                   endpoint: p.remote.description, uri: p.uri, state: p.state.rawValue,
                                   rttMs: status[p.id]?.latency.map { $0 * 1000 }, rxBytes: p.bytesIn, txBytes: p.bytesOut,
                                   uptimeSeconds: UInt64(max(0, p.uptime)), inbound: p.direction == .inbound,
                                   cipher: "yggdrasil-\(scheme)", punched: nil)
        }
        for d in yggdrasil.transport.waitingDials {
            rows.append(PeersReply.Peer(publicKey: nil, address: nil, endpoint: nil, uri: d.uri, state: "backoff", rttMs: nil,
                                        rxBytes: 0, txBytes: 0, uptimeSeconds: 0, inbound: false,
                                        cipher: d.uri.hasPrefix("tls://") ? "yggdrasil-tls" : "yggdrasil-tcp", punched: nil))
        }
        return rows
    }

    /// Yggdrasil's end-to-end sessions as `getSessions` rows: cipher `yggdrasil` (ironwood's
    /// NaCl box), path `yggdrasil`.
    func yggdrasilSessions(now: Instant) -> [SessionsReply.Session] {
        guard let yggdrasil else { return [] }
        return yggdrasil.stack.sessions.sessionSummaries.map { s in
            SessionsReply.Session(publicKey: s.key.hex, address: OverlayAddress.address(for: s.key).description, rxBytes: s.rxBytes,
                                  txBytes: s.txBytes, uptimeSeconds: UInt64(s.uptime(now: now)), cipher: "yggdrasil", path: "yggdrasil",
                                  nextHop: nil)
        }
    }

    /// The Yggdrasil side's place in its tree for `getSelf`: what yggdrasilctl getTree lets a
    /// user work out (the root is the entry that is its own parent), said directly.
    func yggdrasilSelf() -> SelfReply.Yggdrasil? {
        guard let yggdrasil else { return nil }
        let router = yggdrasil.stack.router
        let root = router.root
        return SelfReply.Yggdrasil(root: root.hex, rootAddress: OverlayAddress.address(for: root).description,
                                   isRoot: root == node.identity.publicKey, coords: router.coords, parent: router.parent?.hex,
                                   peers: UInt64(router.peerStatus.count), treeEntries: UInt64(router.treeEntries.count),
                                   paths: UInt64(router.pathEntries.count), sessions: UInt64(yggdrasil.stack.sessions.sessionCount))
    }

    /// The same numbers for `getStats` and /metrics.
    func yggdrasilGauges() -> StatsReply.YggdrasilGauges? {
        yggdrasilSelf().map { StatsReply.YggdrasilGauges(peers: $0.peers, treeEntries: $0.treeEntries, paths: $0.paths,
                                                         sessions: $0.sessions, isRoot: $0.isRoot) }
    }

    /// Ironwood's paths as `getRoutes` rows beside the Planetary routes, protocol `yggdrasil`:
    /// the destination's coordinates, the peer forwarding would pick now, and ironwood's tree
    /// distance as the metric (hops; 65535 and no next hop while broken or unreachable, as a
    /// Planetary route that is unreachable shows).
    func yggdrasilRoutes(now: Instant) -> [RoutesReply.Route] {
        guard let yggdrasil else { return [] }
        let router = yggdrasil.stack.router
        return router.pathEntries.map { p in
            let next = p.broken ? nil : router.nextHopKey(to: p.path)
            return RoutesReply.Route(prefix: OverlayAddress.subnet(for: p.key).description,
                                     address: OverlayAddress.address(for: p.key).description, publicKey: p.key.hex,
                                     nextHop: next?.hex, metric: next == nil ? 65535 : router.treeDistance(to: p.path), seqno: p.seq,
                                     protocol: "yggdrasil", path: p.path, broken: p.broken,
                                     expiresInSeconds: UInt64(max(0, p.expires.seconds(since: now)).rounded()))
        }
    }

    /// The Yggdrasil side's counters that are not drops: Yggdrasil protocol requests (payload
    /// type 2) answered, by kind (`protocol-nodeinfo`, `protocol-get-self`, …); nil without one.
    func yggdrasilCounters() -> Counters? {
        guard let yggdrasil else { return nil }
        return Counters(yggdrasil.stack.proto.answered.sorted { $0.key < $1.key }.map { (name: "protocol-\($0.key)", count: $0.value) })
    }

    /// The Yggdrasil side's drops and link closes, for `getStats` and the metrics.
    func yggdrasilDrops() -> [(String, UInt64)] {
        guard let yggdrasil else { return [] }
        var out = yggdrasil.stack.dropReport()
        out += yggdrasil.transport.closeCounters.report(prefix: "ygg-link-")
        if yggdrasil.refusedLinks > 0 { out.append(("ygg-link-refused-by-router", yggdrasil.refusedLinks)) }
        if yggdrasil.badMessageCloses > 0 { out.append(("ygg-link-bad-message", yggdrasil.badMessageCloses)) }
        if yggdrasil.loopGuard.refused > 0 { out.append(("ygg-loop-guard", yggdrasil.loopGuard.refused)) }
        if yggdrasil.noLinkRefusals > 0 { out.append(("ygg-no-link", yggdrasil.noLinkRefusals)) }
        return out
    }
}

extension NodeRunner {
    /// `peers add` and `peers remove` of a tcp:// or tls:// URI on a node with an Yggdrasil
    /// side; nil for every other request (the node answers it).
    func yggdrasilAdmin(_ request: AdminRequest) -> Result<any AdminResponse, AdminError>? {
        guard let yggdrasil else { return nil }
        switch request {
        case .addPeer(let uri) where uri.scheme.isYggdrasil:
            _ = yggdrasil.transport.addPeer(uri)
            return .success(EmptyReply())
        case .removePeer(let uri) where uri.scheme.isYggdrasil:
            guard yggdrasil.transport.removePeer(uri) else { return .failure(AdminError("no peer \(uri.redactedDescription)")) }
            return .success(EmptyReply())
        default:
            return nil
        }
    }
}
