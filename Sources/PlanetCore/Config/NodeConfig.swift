import Foundation

/// The daemon's configuration: JSON with camelCase keys, every key optional, each with a
/// default documented in Docs/cli.md. Parsing is all-or-nothing: the first problem found
/// is returned as a `ConfigError` and nothing of the file is used.
public struct NodeConfig: Sendable {
    public static let defaultPort: UInt16 = 8470

    public struct Tun: Sendable, Equatable {
        public var enabled = true
        public var name = "planet0"
        /// Fits a 1500-byte underlay with the largest overhead (IPv6 + UDP + our framing); see Docs/protocol.md.
        public var mtu = 1360
        public init() {}
    }

    /// NAT traversal (Docs/operations.md, "Behind NAT").
    public struct NAT: Sendable, Equatable {
        /// Trade candidate endpoints with session peers and probe them for a direct link.
        /// Off: the node still learns its public endpoints and stays reachable through relays,
        /// but sends no offers and ignores those it receives.
        public var punch = true
        public init() {}
    }

    /// nil: use (and on first start create) `<stateDir>/private.key`.
    public var privateKey: NodeIdentity?
    public var listen: [PeerURI] = [PeerURI(host: "::", port: NodeConfig.defaultPort)]
    public var peers: [PeerURI] = []
    /// Keys allowed to link in; empty allows anyone who completes the handshake.
    public var allowedPublicKeys: [PublicKey] = []
    public var tun = Tun()
    public var adminSocket = "/run/planetary/planetd.sock"
    /// Group given access to the admin socket (mode 0660); empty keeps the owner's group.
    public var adminGroup = ""
    /// Interface-name regexes for link-local discovery; empty turns discovery off.
    public var multicast: [String] = [".*"]
    public var stateDir = "/var/lib/planetary"
    public var logLevel = LogLevel.info
    /// `HOST:PORT` for Prometheus text metrics; empty is off.
    public var metricsListen = ""
    /// `HOST:PORT` for the explorer page (Docs/operations.md, "The explorer page"); empty is
    /// off. On by default, on loopback: like the admin socket, only this machine sees it
    /// unless the operator chooses another address.
    public var webListen = NodeConfig.defaultWebListen
    public static let defaultWebListen = "[::1]:8472"
    public var nat = NAT()
    /// What this node announces to the capacity directory (CapacityConfig.swift).
    public var capacity = CapacityConfig()
    /// `yggdrasil.nodeInfo`: the object a real Yggdrasil node's `getNodeInfo` shows for us
    /// (build keys added by PlanetYggdrasil's YggdrasilProtocol); empty adds nothing.
    public var yggdrasilNodeInfo: [(String, JSONValue)] = []
    /// Yggdrasil refuses a larger nodeinfo (nodeinfo.go); the limit applies to the object as written.
    public static let maximumNodeInfoBytes = 16384
    /// `yggdrasil.via` (YggdrasilVia.swift): reaching Yggdrasil through a dual node.
    public var yggdrasilVia = YggdrasilViaSetting.auto
    /// `routing` (RoutingConfig.swift): `routing.stub`.
    public var routing = RoutingConfig()

    public init() {}

    public static let keys = ["privateKey", "listen", "peers", "allowedPublicKeys", "tun", "adminSocket", "adminGroup",
                              "multicast", "stateDir", "logLevel", "metricsListen", "webListen", "nat", "capacity", "yggdrasil", "routing"]
    static let yggdrasilKeys = ["via", "nodeInfo"]
    static let tunKeys = ["enabled", "name", "mtu"]
    static let natKeys = ["punch"]

    // MARK: Parsing

    public static func parse(_ text: String) throws(ConfigError) -> NodeConfig {
        let doc: JSONValue
        do { doc = try JSONValue.parse(text) } catch { throw ConfigError(field: "", reason: error.description) }
        guard let pairs = doc.objectValue else { throw ConfigError(field: "", reason: "the top level must be a JSON object, got \(doc.typeName)") }
        var c = NodeConfig()
        for (key, value) in pairs {
            switch key {
            case "privateKey":
                if value == .null { c.privateKey = nil; continue }
                let s = try string(value, key)
                if s.isEmpty { c.privateKey = nil; continue }
                do { c.privateKey = try NodeIdentity(hex: s) } catch { throw ConfigError(field: key, reason: error.description) }
            case "listen":
                c.listen = try uriList(value, key, allowKey: false)
            case "peers":
                c.peers = try uriList(value, key, allowKey: true)
            case "allowedPublicKeys":
                c.allowedPublicKeys = try stringList(value, key).enumerated().map { (i, s) throws(ConfigError) in
                    guard let bytes = Hex.decode(s) else { throw ConfigError(field: "\(key)[\(i)]", reason: "is not hexadecimal") }
                    guard let k = PublicKey(bytes) else { throw ConfigError(field: "\(key)[\(i)]", reason: "must be 32 bytes (64 hex characters), got \(bytes.count) bytes") }
                    return k
                }
            case "tun":
                c.tun = try parseTun(value)
            case "adminSocket":
                c.adminSocket = try string(value, key)
                guard c.adminSocket.hasPrefix("/") else { throw ConfigError(field: key, reason: "must be an absolute path, got '\(c.adminSocket)'") }
                guard c.adminSocket.utf8.count < 108 else { throw ConfigError(field: key, reason: "is longer than a Unix socket path may be (107 bytes)") }
            case "adminGroup":
                c.adminGroup = try string(value, key)
            case "multicast":
                c.multicast = try stringList(value, key)
                for (i, pattern) in c.multicast.enumerated() {
                    do { _ = try NSRegularExpression(pattern: pattern) } catch {
                        throw ConfigError(field: "\(key)[\(i)]", reason: "'\(pattern)' is not a valid regular expression")
                    }
                }
            case "stateDir":
                c.stateDir = try string(value, key)
                guard c.stateDir.hasPrefix("/") else { throw ConfigError(field: key, reason: "must be an absolute path, got '\(c.stateDir)'") }
            case "logLevel":
                let s = try string(value, key)
                guard let l = LogLevel(name: s) else {
                    throw ConfigError(field: key, reason: "'\(s)' is not one of \(LogLevel.allCases.map(\.name).joined(separator: ", "))")
                }
                c.logLevel = l
            case "metricsListen":
                c.metricsListen = try listenAddress(value, key)
            case "webListen":
                c.webListen = try listenAddress(value, key)
            case "nat":
                c.nat = try parseNAT(value)
            case "capacity":
                c.capacity = try CapacityConfig.parse(value)
            case "yggdrasil":
                try parseYggdrasil(value, into: &c)
            case "routing":
                c.routing = try RoutingConfig.parse(value)
            default:
                throw ConfigError(field: key, reason: "unknown key" + suggestion(for: key, among: keys))
            }
        }
        return c
    }

    static func parseTun(_ value: JSONValue) throws(ConfigError) -> Tun {
        guard let pairs = value.objectValue else { throw ConfigError(field: "tun", reason: "must be an object like {\"name\": \"planet0\", \"mtu\": 1360}, got \(value.typeName)") }
        var t = Tun()
        for (key, v) in pairs {
            let field = "tun.\(key)"
            switch key {
            case "enabled":
                guard let b = v.boolValue else { throw ConfigError(field: field, reason: "must be true or false, got \(v.typeName)") }
                t.enabled = b
            case "name":
                let s = try string(v, field)
                guard !s.isEmpty, s.utf8.count < 16, !s.contains("/"), !s.contains(where: \.isWhitespace) else {
                    throw ConfigError(field: field, reason: "'\(s)' is not a valid interface name (1-15 characters, no '/' or spaces)")
                }
                t.name = s
            case "mtu":
                guard let n = v.intValue else { throw ConfigError(field: field, reason: "must be an integer, got \(v.typeName)") }
                guard (1280...65535).contains(n) else { throw ConfigError(field: field, reason: "\(n) is outside 1280...65535 (IPv6 needs at least 1280)") }
                t.mtu = n
            default:
                throw ConfigError(field: field, reason: "unknown key" + suggestion(for: key, among: tunKeys))
            }
        }
        return t
    }

    static func parseNAT(_ value: JSONValue) throws(ConfigError) -> NAT {
        guard let pairs = value.objectValue else { throw ConfigError(field: "nat", reason: "must be an object like {\"punch\": true}, got \(value.typeName)") }
        var n = NAT()
        for (key, v) in pairs {
            let field = "nat.\(key)"
            switch key {
            case "punch":
                guard let b = v.boolValue else { throw ConfigError(field: field, reason: "must be true or false, got \(v.typeName)") }
                n.punch = b
            default:
                throw ConfigError(field: field, reason: "unknown key" + suggestion(for: key, among: natKeys))
            }
        }
        return n
    }

    /// `HOST:PORT` of a TCP listener (`metricsListen`, `webListen`), or empty for off.
    static func listenAddress(_ v: JSONValue, _ field: String) throws(ConfigError) -> String {
        let s = try string(v, field)
        if !s.isEmpty, case .failure(let e) = PeerURI.parse("udp://" + s, allowKey: false) {
            throw ConfigError(field: field, reason: "must be HOST:PORT (IPv6 in brackets): \(e.description.replacingOccurrences(of: "udp://", with: ""))")
        }
        return s
    }

    static func string(_ v: JSONValue, _ field: String) throws(ConfigError) -> String {
        guard let s = v.stringValue else { throw ConfigError(field: field, reason: "must be a string, got \(v.typeName)") }
        return s
    }

    static func stringList(_ v: JSONValue, _ field: String) throws(ConfigError) -> [String] {
        guard let items = v.arrayValue else { throw ConfigError(field: field, reason: "must be a list of strings, got \(v.typeName)") }
        var out = [String]()
        for (i, item) in items.enumerated() {
            guard let s = item.stringValue else { throw ConfigError(field: "\(field)[\(i)]", reason: "must be a string, got \(item.typeName)") }
            out.append(s)
        }
        return out
    }

    static func uriList(_ v: JSONValue, _ field: String, allowKey: Bool) throws(ConfigError) -> [PeerURI] {
        var out = [PeerURI]()
        for (i, s) in try stringList(v, field).enumerated() {
            switch PeerURI.parse(s, allowKey: allowKey) {
            case .success(let u): out.append(u)
            case .failure(let e): throw ConfigError(field: "\(field)[\(i)]", reason: e.description)
            }
        }
        return out
    }

    /// " (did you mean 'x'?)" for a key one or two edits from a known one.
    static func suggestion(for key: String, among known: [String]) -> String {
        let best = known.map { ($0, editDistance($0.lowercased(), key.lowercased())) }.min { $0.1 < $1.1 }
        if let best, best.1 <= max(2, key.count / 4) { return " (did you mean '\(best.0)'?)" }
        return "; known keys: \(known.joined(separator: ", "))"
    }

    /// Levenshtein distance; also planetctl's "did you mean" for a mistyped command.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prev = Array(0...y.count)
        for i in 1...x.count {
            var cur = [i] + Array(repeating: 0, count: y.count)
            for j in 1...y.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[y.count]
    }

    static func parseYggdrasil(_ value: JSONValue, into c: inout NodeConfig) throws(ConfigError) {
        guard let pairs = value.objectValue else {
            throw ConfigError(field: "yggdrasil", reason: "must be an object like {\"via\": \"auto\", \"nodeInfo\": {\"name\": \"my-node\"}}, got \(value.typeName)")
        }
        for (key, v) in pairs {
            switch key {
            case "via":
                let text = try string(v, "yggdrasil.via")
                guard let via = YggdrasilViaSetting.parse(text) else {
                    throw ConfigError(field: "yggdrasil.via", reason: "'\(text)' must be auto, off, a public key (64 hex digits) or a 200::/7 address")
                }
                c.yggdrasilVia = via
            case "nodeInfo":
                guard let o = v.objectValue else { throw ConfigError(field: "yggdrasil.nodeInfo", reason: "must be an object, got \(v.typeName)") }
                let size = v.serialized().utf8.count
                guard size <= maximumNodeInfoBytes else { throw ConfigError(field: "yggdrasil.nodeInfo", reason: "is \(size) bytes as JSON; Yggdrasil accepts at most \(maximumNodeInfoBytes)") }
                c.yggdrasilNodeInfo = o
            default:
                throw ConfigError(field: "yggdrasil.\(key)", reason: "unknown key" + suggestion(for: key, among: yggdrasilKeys))
            }
        }
    }

    // MARK: Writing

    /// The complete config with every key, in documentation order.
    public func json() -> JSONValue {
        .object([
            ("privateKey", privateKey.map { .string($0.privateKeyHex) } ?? .string("")),
            ("listen", .array(listen.map { .string($0.description) })),
            ("peers", .array(peers.map { .string($0.description) })),
            ("allowedPublicKeys", .array(allowedPublicKeys.map { .string($0.hex) })),
            ("tun", .object([("enabled", .bool(tun.enabled)), ("name", .string(tun.name)), ("mtu", .number(Double(tun.mtu)))])),
            ("adminSocket", .string(adminSocket)),
            ("adminGroup", .string(adminGroup)),
            ("multicast", .array(multicast.map { .string($0) })),
            ("stateDir", .string(stateDir)),
            ("logLevel", .string(logLevel.name)),
            ("metricsListen", .string(metricsListen)),
            ("webListen", .string(webListen)),
            ("nat", .object([("punch", .bool(nat.punch))])),
            ("capacity", capacity.json()),
            ("yggdrasil", .object([("via", .string(yggdrasilVia.description)), ("nodeInfo", .object(yggdrasilNodeInfo))])),
            ("routing", routing.json()),
        ])
    }
}
