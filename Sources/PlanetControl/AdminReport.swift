import PlanetCore

/// Turns admin replies into planetctl output: tables for people, or the reply object as
/// indented JSON with keys in a fixed order for scripts. Table rendering tolerates missing
/// or mistyped fields (shown as `-`), so a newer daemon never breaks an older planetctl.
public enum AdminReport {
    public static func json(_ response: JSONValue) -> String {
        response.serialized(pretty: true) + "\n"
    }

    public static func table(for command: PlanetctlCommand, response: JSONValue) -> String {
        switch command {
        case .showSelf: return selfTable(response)
        case .peers: return peersTable(response)
        case .addPeer(let uri): return "added peer \(uri)\n"
        case .removePeer(let uri): return "removed peer \(uri)\n"
        case .routes: return routesTable(response)
        case .sessions: return sessionsTable(response)
        case .stats: return statsTable(response)
        }
    }

    static func selfTable(_ r: JSONValue) -> String {
        var pairs = [
            ("public key", text(r["publicKey"])),
            ("address", text(r["address"])),
            ("subnet", text(r["subnet"])),
            ("version", text(r["version"])),
            ("uptime", duration(r["uptimeSeconds"])),
        ]
        // NAT traversal's fields, from a daemon that has them.
        if r["natMapping"] != nil {
            pairs += [
                ("public endpoints", list(r["publicEndpoints"])),
                ("nat mapping", text(r["natMapping"])),
                ("local endpoints", list(r["localEndpoints"])),
                ("hole punching", r["punching"]?.boolValue.map { $0 ? "on" : "off" } ?? "-"),
            ]
        }
        return TableFormatter.keyValues(pairs)
    }

    /// A list of strings on one line, `none` when empty.
    static func list(_ v: JSONValue?) -> String {
        guard let items = v?.arrayValue else { return "-" }
        return items.isEmpty ? "none" : items.map { text($0) }.joined(separator: " ")
    }

    static func peersTable(_ r: JSONValue) -> String {
        let peers = r["peers"]?.arrayValue ?? []
        var t = TableFormatter([.init("KEY"), .init("ADDRESS"), .init("STATE"), .init("DIR"), .init("RTT", .right),
                                .init("RX", .right), .init("TX", .right), .init("UPTIME", .right), .init("CIPHER"), .init("ENDPOINT"),
                                .init("URI")])
        for p in peers {
            let inbound = p["inbound"]?.boolValue
            // A link made by hole punching says so where its direction is shown.
            let direction = (inbound == nil ? "-" : inbound! ? "in" : "out") + (p["punched"]?.boolValue == true ? "/punched" : "")
            t.append([key(p["publicKey"]), text(p["address"]), text(p["state"]), direction,
                      ms(p["rttMs"]), bytes(p["rxBytes"]), bytes(p["txBytes"]), duration(p["uptimeSeconds"]),
                      text(p["cipher"]), text(p["endpoint"]), text(p["uri"])])
        }
        return t.render() + summary(peers.count, "peer", "peers")
    }

    static func routesTable(_ r: JSONValue) -> String {
        let routes = r["routes"]?.arrayValue ?? []
        var t = TableFormatter([.init("PREFIX"), .init("ADDRESS"), .init("KEY"), .init("NEXT HOP"), .init("METRIC", .right), .init("SEQNO", .right)])
        for x in routes {
            t.append([text(x["prefix"]), text(x["address"]), key(x["publicKey"]), key(x["nextHop"]), integer(x["metric"]), integer(x["seqno"])])
        }
        return t.render() + summary(routes.count, "route", "routes")
    }

    static func sessionsTable(_ r: JSONValue) -> String {
        let sessions = r["sessions"]?.arrayValue ?? []
        var t = TableFormatter([.init("KEY"), .init("ADDRESS"), .init("RX", .right), .init("TX", .right), .init("UPTIME", .right),
                                .init("PATH"), .init("NEXT HOP")])
        for s in sessions {
            t.append([key(s["publicKey"]), text(s["address"]), bytes(s["rxBytes"]), bytes(s["txBytes"]), duration(s["uptimeSeconds"]),
                      text(s["path"]), key(s["nextHop"])])
        }
        return t.render() + summary(sessions.count, "session", "sessions")
    }

    static func statsTable(_ r: JSONValue) -> String {
        var pairs: [(String, String)] = [
            ("packets in", count(r["rxPackets"])),
            ("packets out", count(r["txPackets"])),
            ("bytes in", bytes(r["rxBytes"])),
            ("bytes out", bytes(r["txBytes"])),
            ("peers up", count(r["peersUp"])),
            ("routes", count(r["routes"])),
            ("sessions", count(r["sessions"])),
            ("handshakes done", count(r["handshakesCompleted"])),
            ("handshakes failed", count(r["handshakesFailed"])),
        ]
        if let punch = r["punch"]?.objectValue {
            for (name, n) in punch { pairs.append(("punch " + name, count(n))) }
        }
        let drops = r["drops"]?.objectValue ?? []
        if drops.isEmpty {
            pairs.append(("drops", "none"))
        } else {
            for (reason, n) in drops { pairs.append(("drops " + reason, count(n))) }
        }
        return TableFormatter.keyValues(pairs)
    }

    static func summary(_ n: Int, _ one: String, _ many: String) -> String {
        n == 0 ? "(no \(many))\n" : ""
    }

    static func text(_ v: JSONValue?) -> String {
        switch v {
        case .string(let s)?: return s.isEmpty ? "-" : s
        case .number?, .bool?: return v!.serialized()
        default: return "-"
        }
    }

    static func key(_ v: JSONValue?) -> String {
        guard let s = v?.stringValue, !s.isEmpty else { return "-" }
        return HumanUnits.shortKey(s)
    }

    static func bytes(_ v: JSONValue?) -> String { v?.numberValue.map { HumanUnits.bytes($0) } ?? "-" }
    static func duration(_ v: JSONValue?) -> String { v?.numberValue.map { HumanUnits.duration(seconds: $0) } ?? "-" }
    static func ms(_ v: JSONValue?) -> String { v?.numberValue.map { HumanUnits.milliseconds($0) } ?? "-" }
    static func count(_ v: JSONValue?) -> String { v?.numberValue.map { HumanUnits.count($0) } ?? "-" }
    static func integer(_ v: JSONValue?) -> String { v?.numberValue.map { $0.rounded() == $0 ? String(Int64($0)) : "\($0)" } ?? "-" }
}
