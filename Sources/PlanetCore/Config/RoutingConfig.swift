/// `routing` in the config (Docs/cli.md): how this node takes part in routing.
public struct RoutingConfig: Sendable, Equatable {
    /// `routing.stub`: keep no routing table and resolve destinations through the upstream
    /// (PlanetRouting's Router+Stub.swift, Docs/protocol.md "Stub nodes").
    public enum Stub: String, Sendable, Equatable {
        case off = "false", on = "true", auto
    }

    public var stub = Stub.off

    public init() {}

    public static let keys = ["stub"]

    /// Whether the node runs as a stub. `auto` is a stub only when nobody could depend on it
    /// for routing: exactly one configured peer (its upstream) and no listener others could
    /// dial (none, or loopback ones only). A node that listens on a reachable address may be
    /// someone's peer, and a stub relays nothing, so that someone would lose its routes
    /// through us; whether a wildcard listener is reachable from outside cannot be known from
    /// here (NAT), so it counts as reachable and `auto` stays a full router.
    public func isStub(peers: [PeerURI], listen: [PeerURI]) -> Bool {
        switch stub {
        case .off: return false
        case .on: return true
        case .auto: return peers.count == 1 && listen.allSatisfy { $0.host == "::1" || $0.host == "127.0.0.1" || $0.host == "localhost" }
        }
    }

    static func parse(_ value: JSONValue) throws(ConfigError) -> RoutingConfig {
        guard let pairs = value.objectValue else {
            throw ConfigError(field: "routing", reason: "must be an object like {\"stub\": false}, got \(value.typeName)")
        }
        var r = RoutingConfig()
        for (key, v) in pairs {
            let field = "routing.\(key)"
            switch key {
            case "stub":
                if let b = v.boolValue { r.stub = b ? .on : .off; continue }
                guard let s = v.stringValue, s == "auto" else {
                    throw ConfigError(field: field, reason: "must be false, true or \"auto\", got \(v.serialized())")
                }
                r.stub = .auto
            default:
                throw ConfigError(field: field, reason: "unknown key" + NodeConfig.suggestion(for: key, among: keys))
            }
        }
        return r
    }

    func json() -> JSONValue {
        .object([("stub", stub == .auto ? .string("auto") : .bool(stub == .on))])
    }
}
