import PlanetCore
import PlanetAdmin

/// Turns admin replies into planetctl output: tables for people, or the reply object as
/// indented JSON with keys in a fixed order for scripts. Table rendering tolerates missing
/// or mistyped fields (shown as `-`), so a newer daemon never breaks an older planetctl.
public enum AdminReport {
    public static func json(_ response: JSONValue) -> String {
        response.serialized(pretty: true) + "\n"
    }

    /// What the daemon did but warns about (`vm attach --force` beyond free capacity), for
    /// stderr whichever form the reply is printed in.
    public static func warnings(_ response: JSONValue) -> [String] {
        (response["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
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
        case .vmList: return vmTable(response)
        case .vmShow: return vmDetails(response)
        case .vmAttach: return "attached VM \(text(response["name"])) at \(text(response["address"]))\n" + vmDetails(response)
        case .vmDetach(let name): return "detached VM \(name) (\(text(response["address"])))\n"
        case .vmPolicy(let name, _): return "policy of VM \(name): \(policy(response["policy"]))\n"
        case .vmCloudInit: return response["networkConfig"]?.stringValue ?? "-\n"
        case .nodes: return nodesTable(response)
        case .nodesFind(let args):
            // The distance the finder measured from `--near` (or, sorting by distance, from this
            // node's own coordinates) is shown, not only sent in --json.
            let measured = args.contains { $0.filter == .near || ($0.filter == .sort && $0.value == "distance") }
            return nodesTable(response, distance: measured)
        case .nodeShow: return nodeTable(response)
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
            ("capacity records", count(r["capacityRecords"])),
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

    static func vmTable(_ r: JSONValue) -> String {
        let vms = r["vms"]?.arrayValue ?? []
        var t = TableFormatter([.init("NAME"), .init("ADDRESS"), .init("INTERFACE"), .init("POLICY"), .init("STATE"),
                                .init("RX", .right), .init("TX", .right), .init("REFUSED", .right), .init("SPOOFED", .right)])
        for v in vms {
            t.append([text(v["name"]), text(v["address"]), text(v["interface"]), policy(v["policy"]), text(v["state"]),
                      bytes(v["rxBytes"]), bytes(v["txBytes"]), count(v["refusedPackets"]), count(v["spoofedPackets"])])
        }
        // Why a VM is not up, under the table (a column would be too wide for the rest).
        let why = vms.compactMap { v in v["problem"]?.stringValue.map { "\(text(v["name"])): \(text(v["state"])): \($0)\n" } }
        return t.render() + summary(vms.count, "VM", "VMs") + why.joined()
    }

    static func vmDetails(_ v: JSONValue) -> String {
        var pairs: [(String, String)] = [
            ("name", text(v["name"])), ("address", text(v["address"])), ("gateway", text(v["gateway"])),
            ("interface", text(v["interface"]) + (v["kind"]?.stringValue == "netns" ? " (veth into netns \(text(v["netns"])))" : " (tap)")),
            ("mac", text(v["mac"])), ("policy", policy(v["policy"])), ("state", text(v["state"])),
            ("rx", bytes(v["rxBytes"]) + " in " + count(v["rxPackets"]) + " packets"),
            ("tx", bytes(v["txBytes"]) + " in " + count(v["txPackets"]) + " packets"),
            ("refused", count(v["refusedPackets"])), ("spoofed", count(v["spoofedPackets"])),
        ]
        if let owner = v["owner"]?.stringValue { pairs.append(("owner", owner)) }
        if v["cpu"]?.numberValue != nil { pairs.append(("cpu", integer(v["cpu"]))) }
        if v["memoryBytes"]?.numberValue != nil { pairs.append(("memory", bytes(v["memoryBytes"]))) }
        if v["diskBytes"]?.numberValue != nil { pairs.append(("disk", bytes(v["diskBytes"]))) }
        if let problem = v["problem"]?.stringValue { pairs.append(("problem", problem)) }
        if let n = v["repairs"]?.numberValue, n > 0 { pairs.append(("repairs", integer(v["repairs"]) + " (host state lost and made again)")) }
        return TableFormatter.keyValues(pairs)
    }

    static func policy(_ v: JSONValue?) -> String {
        guard let rules = v?.arrayValue?.compactMap(\.stringValue), !rules.isEmpty else { return "-" }
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
    static func nodesTable(_ r: JSONValue, distance: Bool = false) -> String {
        let nodes = r["nodes"]?.arrayValue ?? []
        var t = TableFormatter([.init("ADDRESS"), .init("KEY"), .init("METRIC", .right)] + (distance ? [.init("DISTANCE", .right)] : []) +
                               [.init("CC"), .init("CITY"), .init("FARM", .right),
                                .init("CRU", .right), .init("FREE MRU", .right), .init("FREE SRU", .right), .init("FREE HRU", .right),
                                .init("GPU"), .init("IPV4"), .init("IPV6"), .init("AGE", .right)])
        for n in nodes {
            let gpus = n["gpus"]?.arrayValue ?? []
            t.append([text(n["address"]), key(n["publicKey"]), integer(n["metric"])] + (distance ? [km(n["distanceKm"])] : []) +
                     [text(n["country"]), text(n["city"]), integer(n["farmId"]),
                      integer(n["total"]?["cru"]), bytes(n["free"]?["mru"]), bytes(n["free"]?["sru"]), bytes(n["free"]?["hru"]),
                      gpus.isEmpty ? "-" : gpus.map { text($0["vendor"]) }.joined(separator: ","),
                      yesNo(n["publicIPv4"]), yesNo(n["publicIPv6"]), duration(n["ageSeconds"])])
        }
        return t.render() + summary(nodes.count, "node", "matching nodes")
    }

    static func nodeTable(_ n: JSONValue) -> String {
        func res(_ name: String) -> String {
            let unitBytes = name != "cru"
            let f = { (v: JSONValue?) in unitBytes ? bytes(v) : integer(v) }
            return "\(f(n["free"]?[name])) free of \(f(n["total"]?[name])) (\(f(n["used"]?[name])) used)"
        }
        let gpus = (n["gpus"]?.arrayValue ?? []).map { g in "\(text(g["vendor"])) \(integer(g["vendorId"]))/\(integer(g["deviceId"]))" }
        var location = [text(n["city"]), text(n["country"])].filter { $0 != "-" }.joined(separator: ", ")
        if let lat = n["latitude"]?.numberValue, let lon = n["longitude"]?.numberValue { location += " (\(lat), \(lon))" }
        return TableFormatter.keyValues([
            ("public key", text(n["publicKey"])),
            ("address", text(n["address"])),
            ("metric", integer(n["metric"])),
            ("location", location.isEmpty ? "-" : location),
            ("farm", "\(integer(n["farmId"])) \(text(n["farmName"]))"),
            ("cru", res("cru")),
            ("mru", res("mru")),
            ("sru", res("sru")),
            ("hru", res("hru")),
            ("gpus", gpus.isEmpty ? "none" : gpus.joined(separator: ", ")),
            ("public IPv4", yesNo(n["publicIPv4"])),
            ("public IPv6", yesNo(n["publicIPv6"])),
            ("tags", (n["tags"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")),
            ("version", text(n["version"])),
            ("node uptime", duration(n["uptimeSeconds"])),
            ("age", duration(n["ageSeconds"])),
            ("expires in", duration(n["expiresInSeconds"])),
            ("seqno", integer(n["seqno"])),
        ])
    }

    static func yesNo(_ v: JSONValue?) -> String { v?.boolValue.map { $0 ? "yes" : "no" } ?? "-" }

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
    static func km(_ v: JSONValue?) -> String { v?.numberValue.map { HumanUnits.kilometres($0) } ?? "-" }
    static func ms(_ v: JSONValue?) -> String { v?.numberValue.map { HumanUnits.milliseconds($0) } ?? "-" }
    static func count(_ v: JSONValue?) -> String { v?.numberValue.map { HumanUnits.count($0) } ?? "-" }
    static func integer(_ v: JSONValue?) -> String { v?.numberValue.map { $0.rounded() == $0 ? String(Int64($0)) : "\($0)" } ?? "-" }
}
