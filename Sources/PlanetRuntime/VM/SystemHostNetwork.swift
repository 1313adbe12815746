import Foundation
import PlanetCore

/// The host as Debian's `ip` (iproute2) and `nft` (nftables) see it: each step is one or a few
/// commands, run with their output captured and their failure turned into a `HostError` that
/// quotes what the tool said. Commands rather than netlink: a VM is attached once, not per
/// packet, and these are the tools an operator checks the result with.
///
/// What it makes (Docs/architecture.md, "VMs on the overlay"):
/// - route table `routeTable`: 200::/7 and 300::/8 to the TUN, everything else unreachable; a
///   rule per VM interface (`iif`, preference `rulePreference`) sends all its traffic there;
/// - nftables table `inet planetary`: a prerouting chain (priority raw, before conntrack) that
///   jumps per arrival interface (a verdict map) to the VM's chain, which lets the VM's address,
///   link-local sources and the unspecified address (duplicate address detection, early MLD:
///   the kernel forwards neither) through, and counts and drops everything else.
public final class SystemHostNetwork: HostNetwork, @unchecked Sendable {
    public static let routeTable = 8471
    public static let rulePreference = 1000
    /// The isolating rule's preference: ahead of a VM's own two (`rulePreference`, +1).
    public static let isolationPreference = 999
    static let nftTable = "inet planetary"

    public init() {}

    // MARK: Running tools

    struct Output { let status: Int32; let text: String }

    @discardableResult
    func run(_ tool: String, _ args: [String], input: String? = nil) -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: SystemHostNetwork.path(of: tool))
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        let inPipe = Pipe()
        if input != nil { p.standardInput = inPipe } else { p.standardInput = FileHandle.nullDevice }
        do { try p.run() } catch { return Output(status: -1, text: "cannot run \(tool): \(error)") }
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inPipe.fileHandleForWriting.close()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Output(status: p.terminationStatus, text: text)
    }

    static func path(of tool: String) -> String {
        for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(tool)") {
            return "\(dir)/\(tool)"
        }
        return "/usr/sbin/\(tool)"
    }

    func must(_ tool: String, _ args: [String], input: String? = nil) throws(HostError) {
        let o = run(tool, args, input: input)
        guard o.status == 0 else {
            let said = o.text.split(separator: "\n").first.map(String.init) ?? "exit \(o.status)"
            throw HostError("\(tool) \(args.prefix(6).joined(separator: " ")): \(said)")
        }
    }

    // MARK: HostNetwork

    public func apply(_ step: HostStep) throws(HostError) -> Bool {
        switch step {
        case .tap(let i, let owner):
            if interfaceExists(i) {
                // Adopted: it must be a tap, or a hypervisor could never open it.
                let o = run("ip", ["-d", "link", "show", "dev", i])
                guard o.text.contains("tun type tap") else { throw HostError("\(i) exists and is not a tap") }
                return false
            }
            var args = ["tuntap", "add", "dev", i, "mode", "tap"]
            if let owner { args += ["user", owner] }
            try must("ip", args)
            return true
        case .veth(let i, let ns):
            guard netnsExists(ns) else { throw HostError("netns \(ns) does not exist") }
            if interfaceExists(i) {
                // A previous run's pair (planetd stopped or crashed; the pair outlives it):
                // adopted when its other end is still in the container, so the container keeps
                // its interface and open connections; otherwise it is stale and made anew.
                guard run("ip", ["-d", "link", "show", "dev", i]).text.contains("veth") else {
                    throw HostError("\(i) exists and is not a veth")
                }
                if run("ip", ["-n", ns, "link", "show", "dev", VMLease.containerInterface]).status == 0 { return false }
                run("ip", ["link", "del", "dev", i])
            }
            try must("ip", ["link", "add", i, "type", "veth", "peer", "name", VMLease.containerInterface, "netns", ns])
            return true
        case .nodeSide(let i, let mtu):
            // IPv6 back on (`isolate` turned it off), before the gateway address goes on it.
            try setIPv6(on: i, enabled: true)
            try must("ip", ["link", "set", "dev", i, "mtu", "\(mtu)", "up"])
            try must("ip", ["-6", "addr", "replace", "\(VMTable.gateway)/64", "dev", i, "nodad"])
            return false
        case .containerSide(let ns, let mac, let a, let mtu):
            let c = VMLease.containerInterface
            try must("ip", ["-n", ns, "link", "set", "dev", "lo", "up"])
            try must("ip", ["-n", ns, "link", "set", "dev", c, "address", mac, "mtu", "\(mtu)", "up"])
            try must("ip", ["-n", ns, "-6", "addr", "replace", "\(a)/128", "dev", c, "nodad"])
            for prefix in ["200::/7", "300::/8"] {
                try must("ip", ["-n", ns, "-6", "route", "replace", prefix, "via", "\(VMTable.gateway)", "dev", c, "mtu", "\(mtu)"])
            }
            return false
        case .route(let a, let i):
            try must("ip", ["-6", "route", "replace", "\(a)/128", "dev", i])
            return false
        case .rule(let i, let a):
            undo(step)
            try must("ip", ["-6", "rule", "add", "iif", i, "from", "\(a)/128", "lookup", "\(SystemHostNetwork.routeTable)",
                            "pref", "\(SystemHostNetwork.rulePreference)"])
            try must("ip", ["-6", "rule", "add", "iif", i, "prohibit", "pref", "\(SystemHostNetwork.rulePreference + 1)"])
            return false
        case .sourceFilter(let i, let a, let counter):
            undo(step)
            let chain = SystemHostNetwork.chain(for: counter)
            let t = SystemHostNetwork.nftTable
            try must("nft", ["-f", "-"], input: """
                add counter \(t) \(counter)
                add chain \(t) \(chain)
                add rule \(t) \(chain) ip6 saddr \(a) return
                add rule \(t) \(chain) ip6 saddr fe80::/10 return
                add rule \(t) \(chain) ip6 saddr :: return
                add rule \(t) \(chain) counter name "\(counter)" drop
                add element \(t) vmif { "\(i)" : jump \(chain) }

                """)
            return false
        }
    }

    static func chain(for counter: String) -> String { "vm_" + counter }

    /// Deletes every rule for arrival interface `i` at `preference` (there may be duplicates a
    /// crash between two commands left).
    func deleteRules(iif i: String, preference: Int) {
        while run("ip", ["-6", "rule", "del", "iif", i, "pref", "\(preference)"]).status == 0 {}
    }

    /// Turning IPv6 off on an interface makes the kernel drop every IPv6 packet arriving on it,
    /// whatever the rules and filters say (and takes its addresses and routes with it).
    func setIPv6(on i: String, enabled: Bool) throws(HostError) {
        let path = "/proc/sys/net/ipv6/conf/\(i)/disable_ipv6"
        guard FileManager.default.fileExists(atPath: path) else { return }
        do { try (enabled ? "0\n" : "1\n").write(toFile: path, atomically: false, encoding: .utf8) } catch {
            throw HostError("cannot turn IPv6 \(enabled ? "on" : "off") on \(i): \(error.localizedDescription)")
        }
    }

    public func isolate(interface i: String) throws(HostError) {
        // The rule first: it holds even if the interface is made again under the same name.
        deleteRules(iif: i, preference: SystemHostNetwork.isolationPreference)
        try must("ip", ["-6", "rule", "add", "iif", i, "prohibit", "pref", "\(SystemHostNetwork.isolationPreference)"])
        guard interfaceExists(i) else { return }
        try setIPv6(on: i, enabled: false)
        try must("ip", ["link", "set", "dev", i, "down"])
    }

    public func release(interface i: String) {
        deleteRules(iif: i, preference: SystemHostNetwork.isolationPreference)
    }

    public func undo(_ step: HostStep) {
        switch step {
        case .tap(let i, _), .veth(let i, _):
            if interfaceExists(i) { run("ip", ["link", "del", "dev", i]) }
        case .nodeSide, .containerSide:
            break // goes with the interface
        case .route(let a, let i):
            run("ip", ["-6", "route", "del", "\(a)/128", "dev", i])
        case .rule(let i, _):
            deleteRules(iif: i, preference: SystemHostNetwork.rulePreference)
            deleteRules(iif: i, preference: SystemHostNetwork.rulePreference + 1)
        case .sourceFilter(let i, _, let counter):
            let t = SystemHostNetwork.nftTable
            // One command each: any may already be gone, and that must not stop the others.
            run("nft", ["delete", "element"] + t.split(separator: " ").map(String.init) + ["vmif", "{ \"\(i)\" }"])
            run("nft", ["flush", "chain"] + t.split(separator: " ").map(String.init) + [SystemHostNetwork.chain(for: counter)])
            run("nft", ["delete", "chain"] + t.split(separator: " ").map(String.init) + [SystemHostNetwork.chain(for: counter)])
            run("nft", ["delete", "counter"] + t.split(separator: " ").map(String.init) + [counter])
        }
    }

    public func ensureShared(tun: String) throws(HostError) {
        // Routed, not bridged: the kernel must forward between the VM interfaces and the TUN.
        // Under the systemd unit planetd is not root and cannot write it: then the operator sets
        // it once (Docs/operations.md), and this only checks.
        let forwarding = "/proc/sys/net/ipv6/conf/all/forwarding"
        if (try? String(contentsOfFile: forwarding, encoding: .utf8))?.hasPrefix("1") != true {
            let o = run("sysctl", ["-qw", "net.ipv6.conf.all.forwarding=1"])
            guard o.status == 0 else {
                throw HostError("IPv6 forwarding is off and cannot be turned on (\(o.text)); set net.ipv6.conf.all.forwarding=1 in /etc/sysctl.d")
            }
        }
        let table = "\(SystemHostNetwork.routeTable)"
        for prefix in ["200::/7", "300::/8"] { try must("ip", ["-6", "route", "replace", prefix, "dev", tun, "table", table]) }
        // Nothing but the overlay for a VM through this node: no route to the underlay or the
        // node's other networks, whatever the guest configures.
        try must("ip", ["-6", "route", "replace", "unreachable", "default", "table", table])
        if run("nft", ["list", "chain", "inet", "planetary", "prerouting"]).status != 0 {
            let t = SystemHostNetwork.nftTable
            try must("nft", ["-f", "-"], input: """
                add table \(t)
                add map \(t) vmif { type ifname : verdict ; }
                add chain \(t) prerouting { type filter hook prerouting priority raw ; policy accept ; }
                add rule \(t) prerouting iifname vmap @vmif

                """)
        }
    }

    public func removeShared() {
        run("ip", ["-6", "route", "flush", "table", "\(SystemHostNetwork.routeTable)"])
        run("nft", ["delete", "table", "inet", "planetary"])
    }

    public func interfaceExists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/sys/class/net/\(name)")
    }

    public func netnsExists(_ name: String) -> Bool {
        !name.contains("/") && name != "." && name != ".." && FileManager.default.fileExists(atPath: "/run/netns/\(name)")
    }

    public func filterCounters() -> [String: UInt64] {
        let o = run("nft", ["-j", "list", "counters", "table", "inet", "planetary"])
        guard o.status == 0, let doc = try? JSONValue.parse(o.text), let items = doc["nftables"]?.arrayValue else { return [:] }
        var out: [String: UInt64] = [:]
        for item in items {
            guard let c = item["counter"], let name = c["name"]?.stringValue, let n = c["packets"]?.numberValue else { continue }
            out[name] = UInt64(n)
        }
        return out
    }
}
