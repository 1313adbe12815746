import PlanetCore
import PlanetRuntime
import PlanetCapacity

/// A planetctl command line (after the options), checked before anything is sent.
public enum PlanetctlCommand: Equatable, Sendable {
    case showSelf
    case peers
    case addPeer(String)
    case removePeer(String)
    case routes
    case sessions
    case stats
    /// Every capacity record this node holds.
    case nodes
    /// One record, by public key or overlay address.
    case nodeShow(String)
    /// The finder: admin `findNodes` arguments, in the order given.
    case nodesFind([FindArgument])

    public struct FindArgument: Equatable, Sendable {
        public let name: String
        public let value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

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
        case "nodes", "node":
            return parseNodes(rest)
        default:
            return .failure(UsageError("unknown command '\(first)' (self, peers, peers add, peers remove, routes, sessions, stats, nodes, nodes show, nodes find)"))
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
        case .nodes: return .getNodes
        case .nodeShow: return .getNode
        case .nodesFind: return .findNodes
        }
    }

    public var arguments: [(String, JSONValue)] {
        switch self {
        case .addPeer(let uri), .removePeer(let uri): return [("uri", .string(uri))]
        case .nodeShow(let node): return [("node", .string(node))]
        case .nodesFind(let args): return args.map { ($0.name, .string($0.value)) }
        default: return []
        }
    }
}

extension PlanetctlCommand {
    /// `nodes find` options and the admin argument each becomes. Flags (no value) send "true".
    static let findOptions: [(option: String, argument: String, flag: Bool)] = [
        ("free-mru", "freeMru", false), ("free-sru", "freeSru", false), ("free-hru", "freeHru", false),
        ("total-cru", "totalCru", false), ("country", "country", false), ("city", "city", false), ("farm", "farm", false),
        ("ipv4", "ipv4", true), ("ipv6", "ipv6", true), ("gpu", "gpu", false), ("tag", "tag", false), ("near", "near", false),
        ("radius", "radius", false), ("reachable", "reachable", true), ("sort", "sort", false), ("order", "order", false),
        ("limit", "limit", false),
    ]

    static func parseNodes(_ words: [String]) -> Result<PlanetctlCommand, UsageError> {
        guard let verb = words.first else { return .success(.nodes) }
        let rest = Array(words.dropFirst())
        switch verb {
        case "show":
            guard rest.count == 1 else { return .failure(UsageError("usage: planetctl nodes show KEY|ADDRESS")) }
            let target = rest[0]
            guard PublicKey(hex: target) != nil || IPv6Address(target) != nil else {
                return .failure(UsageError("nodes show: '\(target)' is neither a public key (64 hex digits) nor an overlay address"))
            }
            return .success(.nodeShow(target))
        case "find":
            return parseFind(rest)
        default:
            return .failure(UsageError("unknown nodes command '\(verb)' (show KEY|ADDRESS, or find [filters])"))
        }
    }

    /// Checked here with the node's own rules (`CapacityQuery`), so a bad value is a usage
    /// error (exit 2) naming the option, not a daemon error.
    static func parseFind(_ words: [String]) -> Result<PlanetctlCommand, UsageError> {
        var out: [FindArgument] = []
        var i = 0
        while i < words.count {
            let word = words[i]
            i += 1
            guard word.hasPrefix("--") else { return .failure(UsageError("nodes find: unexpected argument '\(word)'")) }
            var name = String(word.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") { inline = String(name[name.index(after: eq)...]); name = String(name[..<eq]) }
            guard let spec = findOptions.first(where: { $0.option == name }) else {
                return .failure(UsageError("nodes find: unknown option '--\(name)' (\(findOptions.map { "--" + $0.option }.joined(separator: ", ")))"))
            }
            if spec.flag {
                guard inline == nil else { return .failure(UsageError("nodes find: --\(name) takes no value")) }
                out.append(FindArgument(spec.argument, "true"))
            } else if let inline {
                out.append(FindArgument(spec.argument, inline))
            } else if name == "gpu" {
                // `--gpu` alone: any GPU; `--gpu nvidia`: that vendor's.
                if i < words.count, !words[i].hasPrefix("--") { out.append(FindArgument("gpu", words[i])); i += 1 } else { out.append(FindArgument("gpu", "")) }
            } else {
                guard i < words.count else { return .failure(UsageError("nodes find: --\(name) needs a value")) }
                out.append(FindArgument(spec.argument, words[i]))
                i += 1
            }
        }
        if case .failure(let e) = CapacityQuery.parse(out.map { ($0.name, $0.value) }) {
            let option = findOptions.first { $0.argument == e.argument }?.option ?? e.argument
            return .failure(UsageError("nodes find: --\(option): \(e.reason)"))
        }
        return .success(.nodesFind(out))
    }
}
