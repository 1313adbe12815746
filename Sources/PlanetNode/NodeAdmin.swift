import PlanetCore
import PlanetAdmin
import PlanetLink
import PlanetRouting

/// The admin API's requests answered from the node's state: pure, so the runtime only has to
/// carry the typed request onto the node's thread and the reply back. Schemas are in Docs/cli.md.
extension Node {
    /// Answers one call, already decoded and checked (`AdminRequest`, the one list of calls),
    /// with its typed reply (PlanetAdmin's reply types; the runtime makes it JSON at the socket).
    public func admin(_ request: AdminRequest, now: Instant) -> Result<any AdminResponse, AdminError> {
        switch request {
        case .getSelf:
            return .success(selfReply(now: now))
        case .getPeers:
            return .success(PeersReply(peers: peersReply(now: now)))
        case .addPeer(let uri):
            // An Yggdrasil peer belongs to the runtime's YggdrasilTransport, which answers for it
            // before the request reaches the node; one that arrives here has no transport to go to.
            guard uri.scheme == .udp else {
                return .failure(.argument("uri", "\(uri.scheme.rawValue):// is an Yggdrasil link and this node runs no Yggdrasil transport"))
            }
            addPeer(uri, now: now)
            return .success(EmptyReply())
        case .removePeer(let uri):
            if case .failure(let e) = removePeer(uri, now: now) { return .failure(e) }
            return .success(EmptyReply())
        case .getRoutes:
            return .success(RoutesReply(routes: routesReply()))
        case .getSessions:
            return .success(SessionsReply(sessions: sessionsReply(now: now)))
        case .getStats:
            return .success(statsReply())
        case .getNodes, .getNode, .findNodes:
            return capacityAdmin(request, now: now)
        case .list, .vmAttach, .vmDetach, .vmList, .vmShow, .vmPolicy, .vmCloudInit:
            // `list` is the admin server's own answer. VM calls change the host (interfaces,
            // routes, filters), so the runtime answers them (VMHost) and tells the node only the
            // policies; a node without one has no VMs.
            return .failure(AdminError("\(request.call.rawValue): not the node's to answer (planetd's admin server answers it)"))
        }
    }

    func selfReply(now: Instant) -> SelfReply {
        let nat = natSelf()
        return SelfReply(publicKey: identity.publicKey.hex, address: address.description, subnet: subnet.description,
                         version: PlanetVersion.string, uptimeSeconds: UInt64(max(0, now.seconds(since: started))),
                         publicEndpoints: nat.publicEndpoints, natMapping: nat.natMapping, localEndpoints: nat.localEndpoints,
                         punching: nat.punching,
                         routing: .init(stub: router.isStub, upstream: router.stubUpstream?.hex,
                                        resolvedOrigins: UInt64(router.stubResolvedCount)))
    }

    func peersReply(now: Instant) -> [PeersReply.Peer] {
        links.snapshot(now: now).map { p in
            PeersReply.Peer(publicKey: p.publicKey?.hex, address: p.publicKey?.address.description, endpoint: p.endpoint?.description,
                            uri: p.uri?.description, state: p.state.rawValue, rttMs: p.rtt.map { ($0 * 1000 * 100).rounded() / 100 },
                            rxBytes: p.rxBytes, txBytes: p.txBytes, uptimeSeconds: UInt64(max(0, p.uptime)), inbound: p.inbound,
                            cipher: p.cipher?.description, punched: p.punched)
        }
    }

    func routesReply() -> [RoutesReply.Route] {
        router.routes().map { r in
            RoutesReply.Route(prefix: r.origin.subnet.description, address: r.origin.address.description, publicKey: r.origin.hex,
                              nextHop: r.nextHop?.hex, metric: UInt64(r.metric), seqno: UInt64(r.seqno), protocol: "planetary")
        }
    }

    func sessionsReply(now: Instant) -> [SessionsReply.Session] {
        sessions.all.filter(\.isEstablished).sorted { $0.peer < $1.peer }.map { s in
            let path = sessionPath(s.peer)
            return SessionsReply.Session(publicKey: s.peer.hex, address: s.peer.address.description, rxBytes: s.rxBytes, txBytes: s.txBytes,
                                         uptimeSeconds: UInt64(max(0, now.seconds(since: s.created))), cipher: s.current?.cipher.description,
                                         path: path.path, nextHop: path.nextHop)
        }
    }

    /// Every drop count of the node's layers, in the one shape (name, count): the data plane's,
    /// the link layer's (`link-…`), each neighbour protocol's and the pacer's.
    public var dropReport: [(String, UInt64)] {
        var out = stats.drops.report() + links.stats.drops.report(prefix: "link-")
        for p in neighbourProtocols.all { out += p.drops }
        return out + pacerDrops
    }

    func statsReply() -> StatsReply {
        let l = links.stats
        var drops: [String: UInt64] = [:]
        for (reason, n) in dropReport { drops[reason, default: 0] += n }
        return StatsReply(
            rxPackets: l.rxPackets, txPackets: l.txPackets, rxBytes: l.rxBytes, txBytes: l.txBytes,
            tunRxPackets: stats.tunRxPackets, tunTxPackets: stats.tunTxPackets, forwardedPackets: stats.forwardedPackets,
            icmpErrorsSent: stats.icmpErrorsSent,
            drops: Counters(drops.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }),
            peersUp: UInt64(links.upPeers.count), routes: UInt64(router.routes().count),
            sessions: UInt64(sessions.all.filter(\.isEstablished).count),
            handshakesCompleted: l.handshakesCompleted + stats.sessionsEstablished,
            handshakesFailed: l.handshakesFailed + stats.sessionHandshakesFailed,
            capacityRecords: UInt64(capacity.directory.count), punch: punchCounters(), routing: routingCounters())
    }

    /// What the router did (counters only, each only grows), beside what it dropped (those are `route-…` drops): how much
    /// routing a node moves, how reconciliation settles, and a stub's origin queries, which a
    /// hub's operator watches (Docs/cli.md, "getStats").
    func routingCounters() -> Counters {
        let r = router.stats
        func n(_ v: Int) -> UInt64 { UInt64(max(0, v)) }
        return Counters([
            ("messagesReceived", n(r.messagesReceived)), ("messagesSent", n(r.messagesSent)),
            ("bytesReceived", n(r.bytesReceived)), ("bytesSent", n(r.bytesSent)),
            ("updatesAccepted", n(r.updatesAccepted)), ("signaturesVerified", n(r.signaturesVerified)),
            ("updatesDeferred", n(r.updatesDeferred)),
            ("seqnoRequestsSent", n(r.seqnoRequestsSent)), ("seqnoRequestsForwarded", n(r.seqnoRequestsForwarded)),
            ("selfSeqnoBumps", n(r.selfSeqnoBumps)),
            ("summariesSent", n(r.summariesSent)), ("bucketsDiffering", n(r.bucketsDiffering)),
            ("rangeListsSent", n(r.rangeListsSent)), ("reconciledRoutesSent", n(r.reconciledRoutesSent)),
            ("prefixRetractionsSent", n(r.prefixRetractionsSent)),
            ("originQueriesSent", n(r.originQueriesSent)), ("originQueriesAnswered", n(r.originQueriesAnswered)),
            ("originsResolved", n(r.originsResolved)), ("stubDumpFramesCancelled", stats.stubDumpFramesCancelled),
        ])
    }
}
