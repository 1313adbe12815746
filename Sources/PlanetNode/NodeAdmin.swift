import PlanetCore
import PlanetAdmin
import PlanetLink
import PlanetRouting

/// The admin API's requests answered from the node's state: pure, so the runtime only has to
/// carry the typed request onto the node's thread and the reply back. Schemas are in Docs/cli.md.
extension Node {
    /// Answers one call, already decoded and checked (`AdminRequest`, the one list of calls).
    public func admin(_ request: AdminRequest, now: Instant) -> Result<JSONValue, AdminError> {
        switch request {
        case .getSelf:
            return .success(.object([
                ("publicKey", .string(identity.publicKey.hex)),
                ("address", .string(address.description)),
                ("subnet", .string(subnet.description)),
                ("version", .string(PlanetVersion.string)),
                ("uptimeSeconds", .number(now.seconds(since: started).rounded(.down))),
            ] + natSelfJSON()))
        case .getPeers:
            return .success(.object([("peers", .array(peersJSON(now: now)))]))
        case .addPeer(let uri):
            addPeer(uri, now: now)
            return .success(.object([]))
        case .removePeer(let uri):
            if case .failure(let e) = removePeer(uri, now: now) { return .failure(e) }
            return .success(.object([]))
        case .getRoutes:
            return .success(.object([("routes", .array(routesJSON()))]))
        case .getSessions:
            return .success(.object([("sessions", .array(sessionsJSON(now: now)))]))
        case .getStats:
            return .success(statsJSON())
        case .getNodes, .getNode, .findNodes:
            return capacityAdmin(request, now: now)
        case .list:
            return .success(.object([("requests", .array(AdminCall.names.map { .string($0) }))]))
        case .vmAttach, .vmDetach, .vmList, .vmShow, .vmPolicy, .vmCloudInit:
            // They change the host (interfaces, routes, filters), so the runtime answers them
            // (VMHost) and tells the node only the policies; a node without one has no VMs.
            return .failure(AdminError("\(request.call.rawValue): this node has no VM host (planetd answers VM calls)"))
        }
    }

    func peersJSON(now: Instant) -> [JSONValue] {
        links.snapshot(now: now).map { p in
            .object([
                ("publicKey", p.publicKey.map { .string($0.hex) } ?? .null),
                ("address", p.publicKey.map { .string($0.address.description) } ?? .null),
                ("endpoint", p.endpoint.map { .string($0.description) } ?? .null),
                ("uri", p.uri.map { .string($0.description) } ?? .null),
                ("state", .string(p.state.rawValue)),
                ("rttMs", p.rtt.map { .number(($0 * 1000 * 100).rounded() / 100) } ?? .null),
                ("rxBytes", .number(Double(p.rxBytes))),
                ("txBytes", .number(Double(p.txBytes))),
                ("uptimeSeconds", .number(p.uptime.rounded(.down))),
                ("inbound", .bool(p.inbound)),
                ("cipher", p.cipher.map { .string($0.description) } ?? .null),
                ("punched", .bool(p.punched)),
            ])
        }
    }

    func routesJSON() -> [JSONValue] {
        router.routes().map { r in
            .object([
                ("prefix", .string(r.origin.subnet.description)),
                ("address", .string(r.origin.address.description)),
                ("publicKey", .string(r.origin.hex)),
                ("nextHop", r.nextHop.map { .string($0.hex) } ?? .null),
                ("metric", .number(Double(r.metric))),
                ("seqno", .number(Double(r.seqno))),
            ])
        }
    }

    func sessionsJSON(now: Instant) -> [JSONValue] {
        sessions.all.filter(\.isEstablished).sorted { $0.peer < $1.peer }.map { s -> JSONValue in
            let fields: [(String, JSONValue)] = [
                ("publicKey", .string(s.peer.hex)),
                ("address", .string(s.peer.address.description)),
                ("rxBytes", .number(Double(s.rxBytes))),
                ("txBytes", .number(Double(s.txBytes))),
                ("uptimeSeconds", .number(now.seconds(since: s.created).rounded(.down))),
                ("cipher", s.current.map { .string($0.cipher.description) } ?? .null),
            ]
            return .object(fields + sessionPathJSON(s.peer))
        }
    }

    func statsJSON() -> JSONValue {
        let l = links.stats
        var drops = stats.drops
        for (k, v) in l.nonZeroDrops { drops["link-" + k.split(separator: "_").joined(separator: "-"), default: 0] += v }
        for p in neighbourProtocols.all {
            for (reason, n) in p.drops { drops[reason, default: 0] += n }
        }
        for (reason, n) in pacerDrops { drops[reason, default: 0] += n }
        var fields: [(String, JSONValue)] = [
            ("rxPackets", .number(Double(l.rxPackets))),
            ("txPackets", .number(Double(l.txPackets))),
            ("rxBytes", .number(Double(l.rxBytes))),
            ("txBytes", .number(Double(l.txBytes))),
            ("tunRxPackets", .number(Double(stats.tunRxPackets))),
            ("tunTxPackets", .number(Double(stats.tunTxPackets))),
            ("forwardedPackets", .number(Double(stats.forwardedPackets))),
            ("icmpErrorsSent", .number(Double(stats.icmpErrorsSent))),
            ("drops", .object(drops.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })),
            ("peersUp", .number(Double(links.upPeers.count))),
            ("routes", .number(Double(router.routes().count))),
            ("sessions", .number(Double(sessions.all.filter(\.isEstablished).count))),
            ("handshakesCompleted", .number(Double(l.handshakesCompleted + stats.sessionsEstablished))),
            ("handshakesFailed", .number(Double(l.handshakesFailed + stats.sessionHandshakesFailed))),
            ("capacityRecords", .number(Double(capacity.directory.count))),
        ]
        fields.append(("punch", punchStatsJSON()))
        return .object(fields)
    }
}
