import PlanetCore
import PlanetRuntime

/// A planetctl command line (after the options), checked before anything is sent.
public enum PlanetctlCommand: Equatable, Sendable {
    case showSelf
    case peers
    case addPeer(String)
    case removePeer(String)
    case routes
    case sessions
    case stats

    public struct UsageError: Error, Equatable, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    public static func parse(_ words: [String]) -> Result<PlanetctlCommand, UsageError> {
        guard let first = words.first else { return .failure(UsageError("missing command")) }
        let rest = Array(words.dropFirst())
        func noMore(_ c: PlanetctlCommand) -> Result<PlanetctlCommand, UsageError> {
            rest.isEmpty ? .success(c) : .failure(UsageError("'\(first)' takes no arguments, got '\(rest.joined(separator: " "))'"))
        }
        switch first {
        case "self": return noMore(.showSelf)
        case "routes": return noMore(.routes)
        case "sessions": return noMore(.sessions)
        case "stats": return noMore(.stats)
        case "peers", "peer":
            guard let verb = rest.first else { return .success(.peers) }
            guard verb == "add" || verb == "remove" else { return .failure(UsageError("unknown peers command '\(verb)' (add URI or remove URI)")) }
            guard rest.count == 2 else { return .failure(UsageError("usage: planetctl peers \(verb) udp://HOST:PORT[?key=HEX]")) }
            if case .failure(let e) = PeerURI.parse(rest[1], allowKey: true) { return .failure(UsageError("bad peer URI: \(e.description)")) }
            return .success(verb == "add" ? .addPeer(rest[1]) : .removePeer(rest[1]))
        default:
            return .failure(UsageError("unknown command '\(first)' (self, peers, peers add, peers remove, routes, sessions, stats)"))
        }
    }

    public var call: AdminCall {
        switch self {
        case .showSelf: return .getSelf
        case .peers: return .getPeers
        case .addPeer: return .addPeer
        case .removePeer: return .removePeer
        case .routes: return .getRoutes
        case .sessions: return .getSessions
        case .stats: return .getStats
        }
    }

    public var arguments: [(String, JSONValue)] {
        switch self {
        case .addPeer(let uri), .removePeer(let uri): return [("uri", .string(uri))]
        default: return []
        }
    }
}
