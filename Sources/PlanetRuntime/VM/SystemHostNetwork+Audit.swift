import Foundation
import PlanetCore

/// The host's answer to "is every VM's plan still in force?", read from the same tools an
/// operator would ask (`nft -j`, `ip -j`): one listing each per audit, whatever the number of
/// VMs, so the watch costs four short commands every few seconds while VMs are attached.
///
/// Someone may change the host behind planetd's back (`nft flush ruleset`, a firewall manager
/// reloading its rules, `ip rule flush`); what this finds missing, `VMHost.watch` repairs or
/// isolates.
extension SystemHostNetwork {
    /// What the four listings say, parsed once.
    struct HostListing {
        var nft: [JSONValue] = []
        var rules: [JSONValue] = []
        var mainRoutes: [JSONValue] = []
        var tableRoutes: [JSONValue] = []
        var links: [String: JSONValue] = [:]
    }

    func listing() -> HostListing {
        var l = HostListing()
        func json(_ tool: String, _ args: [String]) -> JSONValue? {
            let o = run(tool, args)
            guard o.status == 0, !o.text.isEmpty else { return nil }
            return try? JSONValue.parse(o.text)
        }
        l.nft = json("nft", ["-j", "list", "table", "inet", "planetary"])?["nftables"]?.arrayValue ?? []
        l.rules = json("ip", ["-6", "-j", "rule", "show"])?.arrayValue ?? []
        l.mainRoutes = json("ip", ["-6", "-j", "route", "show", "table", "main"])?.arrayValue ?? []
        l.tableRoutes = json("ip", ["-6", "-j", "route", "show", "table", "\(SystemHostNetwork.routeTable)"])?.arrayValue ?? []
        for link in json("ip", ["-j", "link", "show"])?.arrayValue ?? [] {
            if let name = link["ifname"]?.stringValue { l.links[name] = link }
        }
        return l
    }

    public func audit(_ steps: [HostStep], tun: String) -> HostAudit {
        let l = listing()
        let missing = steps.filter { !inForce($0, l) }
        return HostAudit(sharedInForce: sharedInForce(l, tun: tun), missing: missing)
    }

    func sharedInForce(_ l: HostListing, tun: String) -> Bool {
        let hook = l.nft.contains { $0["rule"]?["chain"]?.stringValue == "prerouting" && Self.mentions($0["rule"], "@vmif") }
        let routes = ["200::/7", "300::/8"].allSatisfy { p in
            l.tableRoutes.contains { $0["dst"]?.stringValue == p && $0["dev"]?.stringValue == tun }
        }
        let closed = l.tableRoutes.contains { $0["dst"]?.stringValue == "default" && $0["type"]?.stringValue == "unreachable" }
        return hook && routes && closed
    }

    func inForce(_ step: HostStep, _ l: HostListing) -> Bool {
        switch step {
        case .tap(let i, _), .veth(let i, _):
            return l.links[i] != nil
        case .nodeSide(let i, _):
            guard let link = l.links[i], (link["flags"]?.arrayValue ?? []).contains(.string("UP")) else { return false }
            let off = try? String(contentsOfFile: "/proc/sys/net/ipv6/conf/\(i)/disable_ipv6", encoding: .utf8)
            return off?.hasPrefix("0") ?? false
        case .containerSide:
            return true  // the tenant's side: theirs to change
        case .route(let a, let i):
            return l.mainRoutes.contains { IPv6Address(($0["dst"]?.stringValue ?? "").replacingOccurrences(of: "/128", with: "")) == a
                && $0["dev"]?.stringValue == i }
        case .rule(let i, let a):
            let toTable = l.rules.contains {
                $0["priority"]?.numberValue == Double(SystemHostNetwork.rulePreference) && $0["iif"]?.stringValue == i
                    && IPv6Address($0["src"]?.stringValue ?? "") == a && $0["table"]?.stringValue == "\(SystemHostNetwork.routeTable)"
            }
            let prohibit = l.rules.contains {
                $0["priority"]?.numberValue == Double(SystemHostNetwork.rulePreference + 1) && $0["iif"]?.stringValue == i
                    && $0["action"]?.stringValue == "prohibit"
            }
            return toTable && prohibit
        case .sourceFilter(let i, let a, let counter):
            let chain = SystemHostNetwork.chain(for: counter)
            let element = l.nft.contains { item in
                guard let map = item["map"], map["name"]?.stringValue == "vmif" else { return false }
                return (map["elem"]?.arrayValue ?? []).contains { e in
                    let pair = e.arrayValue ?? []
                    return pair.count == 2 && pair[0].stringValue == i && pair[1]["jump"]?["target"]?.stringValue == chain
                }
            }
            let rules = l.nft.compactMap { $0["rule"] }.filter { $0["chain"]?.stringValue == chain }
            let lets = rules.contains { r in Self.strings(in: r).contains { IPv6Address($0) == a } }
            let drops = rules.contains { r in Self.mentions(r, counter) && Self.mentions(r, "drop") }
            return element && lets && drops
        }
    }

    /// Every string and object key anywhere in `value` (nft's JSON nests its expressions).
    static func strings(in value: JSONValue?) -> [String] {
        guard let value else { return [] }
        switch value {
        case .string(let s): return [s]
        case .array(let a): return a.flatMap { strings(in: $0) }
        case .object(let o): return o.flatMap { [$0.0] + strings(in: $0.1) }
        default: return []
        }
    }

    static func mentions(_ value: JSONValue?, _ text: String) -> Bool { strings(in: value).contains(text) }
}
