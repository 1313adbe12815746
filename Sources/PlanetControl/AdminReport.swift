import PlanetCore
import PlanetAdmin

/// Turns admin replies into planetctl output: tables for people, read through the reply types
/// planetd fills (PlanetAdmin: a field's name is written once, there), or the reply object as
/// indented JSON, as received, for scripts. A field added by a newer daemon is ignored; one
/// that an older daemon lacks is optional in the type and shown as `-`; a reply that does not
/// read at all is refused naming the field (`JSONValueCoder.Failure`, planetctl exits 1).
public enum AdminReport {
    public static func json(_ response: JSONValue) -> String {
        response.serialized(pretty: true) + "\n"
    }

    /// What the daemon did but warns about (`vm attach --force` beyond free capacity), for
    /// stderr whichever form the reply is printed in.
    public static func warnings(for command: PlanetctlCommand, response: JSONValue) -> [String] {
        guard case .vmAttach = command else { return [] }
        return (try? JSONValueCoder.decode(VMReply.self, from: response))?.warnings ?? []
    }

    public static func table(for command: PlanetctlCommand, response r: JSONValue) throws(JSONValueCoder.Failure) -> String {
        func read<T: AdminResponse>(_ type: T.Type) throws(JSONValueCoder.Failure) -> T { try JSONValueCoder.decode(type, from: r) }
        switch command {
        case .showSelf: return selfTable(try read(SelfReply.self))
        case .peers: return peersTable(try read(PeersReply.self))
        case .addPeer(let uri): return "added peer \(uri)\n"
        case .removePeer(let uri): return "removed peer \(uri)\n"
        case .routes: return routesTable(try read(RoutesReply.self))
        case .sessions: return sessionsTable(try read(SessionsReply.self))
        case .stats: return statsTable(try read(StatsReply.self))
        case .vmList: return vmTable(try read(VMListReply.self))
        case .vmShow: return vmDetails(try read(VMReply.self))
        case .vmAttach:
            let vm = try read(VMReply.self)
            return "attached VM \(vm.name) at \(vm.address)\n" + vmDetails(vm)
        case .vmDetach(let name): return "detached VM \(name) (\(try read(VMDetachReply.self).address))\n"
        case .vmPolicy(let name, _): return "policy of VM \(name): \(policy(try read(VMReply.self).policy))\n"
        case .vmCloudInit: return try read(VMCloudInitReply.self).networkConfig
        case .nodes: return nodesTable(try read(NodesReply.self))
        case .nodesFind(let args):
            // The distance the finder measured from `--near` (or, sorting by distance, from this
            // node's own coordinates) is shown, not only sent in --json.
            let measured = args.contains { $0.filter == .near || ($0.filter == .sort && $0.value == "distance") }
            return nodesTable(try read(NodesReply.self), distance: measured)
        case .nodeShow: return nodeTable(try read(NodeRecordReply.self))
        }
    }

    static func selfTable(_ r: SelfReply) -> String {
        var pairs = [
            ("public key", text(r.publicKey)),
            ("address", text(r.address)),
            ("subnet", text(r.subnet)),
            ("version", text(r.version)),
            ("uptime", duration(r.uptimeSeconds)),
        ]
        // NAT traversal's fields, from a daemon that has them.
        if let mapping = r.natMapping {
            pairs += [
                ("public endpoints", list(r.publicEndpoints)),
                ("nat mapping", text(mapping)),
                ("local endpoints", list(r.localEndpoints)),
                ("hole punching", r.punching.map { $0 ? "on" : "off" } ?? "-"),
            ]
        }
        if let routing = r.routing {
            pairs.append(("routing", routing.stub
                ? "stub, upstream " + text(routing.upstream) + " (\(routing.resolvedOrigins) origins resolved)" : "full router"))
        }
        // The Yggdrasil side's place in its tree, from a daemon that runs one. Keys whole, as
        // `public key` is: they are compared with yggdrasilctl getTree's.
        if let y = r.yggdrasil {
            pairs += [
                ("yggdrasil root", text(y.root) + " (" + text(y.rootAddress) + (y.isRoot ? ", this node)" : ")")),
                ("yggdrasil coords", coords(y.coords)),
                ("yggdrasil parent", y.isRoot ? "none (the root)" : text(y.parent)),
                ("yggdrasil peers", count(y.peers)),
                ("yggdrasil tree", count(y.treeEntries) + (y.treeEntries == 1 ? " entry" : " entries")),
                ("yggdrasil paths", count(y.paths)),
                ("yggdrasil sessions", count(y.sessions)),
            ]
        }
        return TableFormatter.keyValues(pairs)
    }

    /// Tree coordinates as yggdrasilctl prints a path: `[1 4 2]`, `[]` at the root.
    static func coords(_ ports: [UInt64]?) -> String {
        guard let ports else { return "-" }
        return "[" + ports.map { String($0) }.joined(separator: " ") + "]"
    }

    /// A list of strings on one line, `none` when empty.
    static func list(_ items: [String]?) -> String {
        guard let items else { return "-" }
        return items.isEmpty ? "none" : items.map { text($0) }.joined(separator: " ")
    }

    static func peersTable(_ r: PeersReply) -> String {
        var t = TableFormatter([.init("KEY"), .init("ADDRESS"), .init("STATE"), .init("DIR"), .init("RTT", .right),
                                .init("RX", .right), .init("TX", .right), .init("UPTIME", .right), .init("CIPHER"), .init("ENDPOINT"),
                                .init("URI")])
        for p in r.peers {
            // A link made by hole punching says so where its direction is shown.
            let direction = (p.inbound ? "in" : "out") + (p.punched == true ? "/punched" : "")
            t.append([key(p.publicKey), text(p.address), text(p.state), direction,
                      ms(p.rttMs), bytes(p.rxBytes), bytes(p.txBytes), duration(p.uptimeSeconds),
                      text(p.cipher), text(p.endpoint), text(p.uri)])
        }
        return t.render() + summary(r.peers.count, "peer", "peers")
    }

    /// Planetary routes, then (on a node with an Yggdrasil side) ironwood's paths: those add a
    /// PROTO column (`planetary`, `yggdrasil`) and a PATH column (the coordinates, `broken`
    /// after a PathBroken, and the seconds until the path expires).
    static func routesTable(_ r: RoutesReply) -> String {
        let yggdrasil = r.routes.contains { $0.protocol == "yggdrasil" }
        var t = TableFormatter([.init("PREFIX"), .init("ADDRESS"), .init("KEY"), .init("NEXT HOP"), .init("METRIC", .right), .init("SEQNO", .right)]
                               + (yggdrasil ? [.init("PROTO"), .init("PATH")] : []))
        for x in r.routes {
            var row = [text(x.prefix), text(x.address), key(x.publicKey), key(x.nextHop), integer(x.metric), integer(x.seqno)]
            if yggdrasil {
                var path = "-"
                if let p = x.path {
                    path = coords(p) + (x.broken == true ? " broken" : "") + (x.expiresInSeconds.map { ", expires in " + duration($0) } ?? "")
                }
                row += [text(x.protocol ?? "planetary"), path]
            }
            t.append(row)
        }
        return t.render() + summary(r.routes.count, "route", "routes")
    }

    static func sessionsTable(_ r: SessionsReply) -> String {
        var t = TableFormatter([.init("KEY"), .init("ADDRESS"), .init("RX", .right), .init("TX", .right), .init("UPTIME", .right),
                                .init("PATH"), .init("NEXT HOP")])
        for s in r.sessions {
            t.append([key(s.publicKey), text(s.address), bytes(s.rxBytes), bytes(s.txBytes), duration(s.uptimeSeconds),
                      text(s.path), key(s.nextHop)])
        }
        return t.render() + summary(r.sessions.count, "session", "sessions")
    }

    static func statsTable(_ r: StatsReply) -> String {
        var pairs: [(String, String)] = [
            ("packets in", count(r.rxPackets)),
            ("packets out", count(r.txPackets)),
            ("bytes in", bytes(r.rxBytes)),
            ("bytes out", bytes(r.txBytes)),
            ("peers up", count(r.peersUp)),
            ("routes", count(r.routes)),
            ("sessions", count(r.sessions)),
            ("handshakes done", count(r.handshakesCompleted)),
            ("handshakes failed", count(r.handshakesFailed)),
            ("capacity records", count(r.capacityRecords)),
        ]
        for e in r.punch?.entries ?? [] { pairs.append(("punch " + e.name, count(e.count))) }
        for e in r.routing?.entries ?? [] { pairs.append(("routing " + e.name, count(e.count))) }
        if let g = r.yggdrasilGauges {
            pairs += [("yggdrasil peers", count(g.peers)), ("yggdrasil tree entries", count(g.treeEntries)),
                      ("yggdrasil paths", count(g.paths)), ("yggdrasil sessions", count(g.sessions)),
                      ("yggdrasil root", g.isRoot ? "this node" : "another node")]
        }
        for e in r.yggdrasil?.entries ?? [] { pairs.append(("yggdrasil " + e.name, count(e.count))) }
        if r.drops.entries.isEmpty {
            pairs.append(("drops", "none"))
        } else {
            for e in r.drops.entries { pairs.append(("drops " + e.name, count(e.count))) }
        }
        return TableFormatter.keyValues(pairs)
    }

    static func vmTable(_ r: VMListReply) -> String {
        var t = TableFormatter([.init("NAME"), .init("ADDRESS"), .init("INTERFACE"), .init("POLICY"), .init("STATE"),
                                .init("RX", .right), .init("TX", .right), .init("REFUSED", .right), .init("SPOOFED", .right)])
        for v in r.vms {
            t.append([text(v.name), text(v.address), text(v.interface), policy(v.policy), text(v.state),
                      bytes(v.rxBytes), bytes(v.txBytes), count(v.refusedPackets), count(v.spoofedPackets)])
        }
        // Why a VM is not up, under the table (a column would be too wide for the rest).
        let why = r.vms.compactMap { v in v.problem.map { "\(text(v.name)): \(text(v.state)): \($0)\n" } }
        return t.render() + summary(r.vms.count, "VM", "VMs") + why.joined()
    }

    static func vmDetails(_ v: VMReply) -> String {
        var pairs: [(String, String)] = [
            ("name", text(v.name)), ("address", text(v.address)), ("gateway", text(v.gateway)),
            ("interface", text(v.interface) + (v.kind == "netns" ? " (veth into netns \(text(v.netns)))" : " (tap)")),
            ("mac", text(v.mac)), ("policy", policy(v.policy)), ("state", text(v.state)),
            ("rx", bytes(v.rxBytes) + " in " + count(v.rxPackets) + " packets"),
            ("tx", bytes(v.txBytes) + " in " + count(v.txPackets) + " packets"),
            ("refused", count(v.refusedPackets)), ("spoofed", count(v.spoofedPackets)),
        ]
        if let owner = v.owner { pairs.append(("owner", owner)) }
        if let cpu = v.cpu { pairs.append(("cpu", String(cpu))) }
        if let m = v.memoryBytes { pairs.append(("memory", bytes(m))) }
        if let d = v.diskBytes { pairs.append(("disk", bytes(d))) }
        if let problem = v.problem { pairs.append(("problem", problem)) }
        if let n = v.repairs, n > 0 { pairs.append(("repairs", integer(n) + " (host state lost and made again)")) }
        return TableFormatter.keyValues(pairs)
    }

    static func policy(_ rules: [String]) -> String {
        guard !rules.isEmpty else { return "-" }
        return rules.map { r in
            // Keys shortened as elsewhere in tables; --json has them whole.
            r.split(separator: ",").map { part in
                part.hasPrefix("key:") ? "key:" + HumanUnits.shortKey(String(part.dropFirst(4))) : String(part)
            }.joined(separator: ",")
        }.joined(separator: " ")
    }

    /// One row per record, nearest first unless sorted otherwise: the overlay address to go
    /// to and the route metric from this node lead.
    /// `distance`: a DISTANCE column (km, `-` for a record without coordinates) after METRIC.
    static func nodesTable(_ r: NodesReply, distance: Bool = false) -> String {
        var t = TableFormatter([.init("ADDRESS"), .init("KEY"), .init("METRIC", .right)] + (distance ? [.init("DISTANCE", .right)] : []) +
                               [.init("CC"), .init("CITY"), .init("FARM", .right),
                                .init("CRU", .right), .init("FREE MRU", .right), .init("FREE SRU", .right), .init("FREE HRU", .right),
                                .init("GPU"), .init("IPV4"), .init("IPV6"), .init("AGE", .right)])
        for n in r.nodes {
            t.append([text(n.address), key(n.publicKey), integer(n.metric)] + (distance ? [km(n.distanceKm)] : []) +
                     [text(n.country), text(n.city), integer(n.farmId),
                      integer(n.total.cru), bytes(n.free.mru), bytes(n.free.sru), bytes(n.free.hru),
                      n.gpus.isEmpty ? "-" : n.gpus.map { text($0.vendor) }.joined(separator: ","),
                      yesNo(n.publicIPv4), yesNo(n.publicIPv6), duration(n.ageSeconds)])
        }
        return t.render() + summary(r.nodes.count, "node", "matching nodes")
    }

    static func nodeTable(_ n: NodeRecordReply) -> String {
        func res(_ value: (NodeRecordReply.Resources) -> UInt64, bytes isBytes: Bool) -> String {
            let f = { (v: UInt64) in isBytes ? bytes(v) : integer(v) }
            return "\(f(value(n.free))) free of \(f(value(n.total))) (\(f(value(n.used))) used)"
        }
        let gpus = n.gpus.map { g in "\(text(g.vendor)) \(integer(g.vendorId))/\(integer(g.deviceId))" }
        var location = [text(n.city), text(n.country)].filter { $0 != "-" }.joined(separator: ", ")
        if let lat = n.latitude, let lon = n.longitude { location += " (\(lat), \(lon))" }
        return TableFormatter.keyValues([
            ("public key", text(n.publicKey)),
            ("address", text(n.address)),
            ("metric", integer(n.metric)),
            ("location", location.isEmpty ? "-" : location),
            ("farm", "\(integer(n.farmId)) \(text(n.farmName))"),
            ("cru", res(\.cru, bytes: false)),
            ("mru", res(\.mru, bytes: true)),
            ("sru", res(\.sru, bytes: true)),
            ("hru", res(\.hru, bytes: true)),
            ("gpus", gpus.isEmpty ? "none" : gpus.joined(separator: ", ")),
            ("public IPv4", yesNo(n.publicIPv4)),
            ("public IPv6", yesNo(n.publicIPv6)),
            ("tags", n.tags.joined(separator: ", ")),
            ("version", text(n.version)),
            ("node uptime", duration(n.uptimeSeconds)),
            ("age", duration(n.ageSeconds)),
            ("expires in", duration(n.expiresInSeconds)),
            ("seqno", integer(n.seqno)),
        ])
    }

    static func yesNo(_ v: Bool?) -> String { v.map { $0 ? "yes" : "no" } ?? "-" }

    static func summary(_ n: Int, _ one: String, _ many: String) -> String {
        n == 0 ? "(no \(many))\n" : ""
    }

    /// Text as is, `-` when unknown or empty.
    static func text(_ v: String?) -> String {
        guard let v, !v.isEmpty else { return "-" }
        return v
    }

    static func key(_ v: String?) -> String {
        guard let s = v, !s.isEmpty else { return "-" }
        return HumanUnits.shortKey(s)
    }

    static func bytes(_ v: UInt64?) -> String { v.map { HumanUnits.bytes(Double($0)) } ?? "-" }
    static func duration(_ v: UInt64?) -> String { v.map { HumanUnits.duration(seconds: Double($0)) } ?? "-" }
    static func km(_ v: Double?) -> String { v.map { HumanUnits.kilometres($0) } ?? "-" }
    static func ms(_ v: Double?) -> String { v.map { HumanUnits.milliseconds($0) } ?? "-" }
    static func count(_ v: UInt64?) -> String { v.map { HumanUnits.count(Double($0)) } ?? "-" }
    static func integer(_ v: UInt64?) -> String { v.map { String($0) } ?? "-" }
}
