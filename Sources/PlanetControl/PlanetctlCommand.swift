import PlanetCore
import PlanetAdmin
import PlanetCapacity

/// A planetctl command line (after the options), checked before anything is sent.
public enum PlanetctlCommand: Equatable, Sendable {
    case showSelf
    case peers
    case addPeer(PeerURI)
    case removePeer(PeerURI)
    case routes
    case sessions
    case stats
    case vmList
    case vmShow(String)
    /// The checked `vmAttach` arguments.
    case vmAttach(VMAttachRequest)
    case vmDetach(String)
    case vmPolicy(String, [String])
    case vmCloudInit(String)
    /// Every capacity record this node holds.
    case nodes
    /// One record, by public key or overlay address.
    case nodeShow(String)
    /// The finder: its filters, in the order given.
    case nodesFind([AdminRequest.Filter])

    /// The options `vm attach` and `vm policy` take (every one takes a value).
    public static let vmOptionNames = ["tap", "netns", "owner", "address", "allow", "cpu", "memory", "disk"]
    /// `vm attach`'s flags, passed to `parse` among the options as `["true"]` when given.
    public static let vmFlagNames = ["force"]

    public struct UsageError: Error, Equatable, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    /// `options`: the values of each of `vmOptionNames` given on the command line; only `vm
    /// attach` and `vm policy` take any.
    public static func parse(_ words: [String], options: [String: [String]] = [:]) -> Result<PlanetctlCommand, UsageError> {
        guard let first = words.first else { return .failure(UsageError("missing command")) }
        let rest = Array(words.dropFirst())
        let given = options.filter { !$0.value.isEmpty }
        let isVMChange = first == "vm" && (rest.first == "attach" || rest.first == "policy")
        if !isVMChange, let name = given.keys.sorted().first {
            return .failure(UsageError("option --\(name) is only for 'vm attach'" + (vmFlagNames.contains(name) ? "" : " and 'vm policy'")))
        }
        func noMore(_ c: PlanetctlCommand) -> Result<PlanetctlCommand, UsageError> {
            rest.isEmpty ? .success(c) : .failure(UsageError("'\(first)' takes no arguments, got '\(rest.joined(separator: " "))'"))
        }
        switch first {
        case "self": return noMore(.showSelf)
        case "routes": return noMore(.routes)
        case "sessions": return noMore(.sessions)
        case "stats": return noMore(.stats)
        case "peers":
            guard let verb = rest.first else { return .success(.peers) }
            guard verb == "add" || verb == "remove" else { return .failure(unknownVerb(verb, of: "peers")) }
            guard rest.count == 2 else { return .failure(UsageError("usage: planetctl peers \(verb) udp://HOST:PORT[?key=HEX] | tcp://HOST:PORT[?key=HEX&password=TEXT&priority=N] | tls://…")) }
            switch PeerURI.parse(rest[1], allowKey: true) {
            case .success(let uri): return .success(verb == "add" ? .addPeer(uri) : .removePeer(uri))
            case .failure(let e): return .failure(UsageError("bad peer URI: \(e.description)"))
            }
        case "vm":
            return parseVM(rest, options: given)
        case "nodes":
            return parseNodes(rest)
        default:
            return .failure(unknownCommand(first))
        }
    }

    /// The commands as typed first, and the verbs of those that have them.
    public static let commandNames = ["self", "peers", "routes", "sessions", "stats", "vm", "nodes"]
    public static let verbs = ["peers": ["add", "remove"], "vm": ["list", "show", "attach", "detach", "policy", "cloud-init"],
                               "nodes": ["show", "find"]]

    /// A word that names no command: refused (no alias runs another command silently), with
    /// the command it is closest to when one is near (`peer`: did you mean 'peers'?).
    public static func unknownCommand(_ word: String) -> UsageError {
        UsageError("unknown command '\(word)'" + suggestion(word, among: commandNames) + "; see planetctl --help")
    }

    public static func unknownVerb(_ word: String, of command: String) -> UsageError {
        let known = verbs[command] ?? []
        return UsageError("unknown \(command) command '\(word)'" + suggestion(word, among: known) + " (\(known.joined(separator: ", ")); see planetctl \(command) --help)")
    }

    /// " (did you mean 'x'?)" when `word` is a prefix of one name, or one or two edits from it.
    static func suggestion(_ word: String, among names: [String]) -> String {
        let w = word.lowercased()
        let prefixed = names.filter { $0.hasPrefix(w) && !w.isEmpty }
        if prefixed.count == 1 { return " (did you mean '\(prefixed[0])'?)" }
        let best = names.map { ($0, NodeConfig.editDistance($0, w)) }.min { $0.1 < $1.1 }
        if let best, best.1 <= min(2, max(1, w.count / 3)) { return " (did you mean '\(best.0)'?)" }
        return ""
    }

    /// `vm …`: checks what can be checked here (names, rules, sizes, addresses) with the same
    /// code the daemon runs, so a typo never reaches the host.
    static func parseVM(_ words: [String], options: [String: [String]]) -> Result<PlanetctlCommand, UsageError> {
        guard let verb = words.first else { return .success(.vmList) }
        let rest = Array(words.dropFirst())
        func oneName(_ usage: String) -> Result<String, UsageError> {
            guard rest.count == 1 else { return .failure(UsageError("usage: planetctl vm \(usage)")) }
            if let e = VMTable.checkName(rest[0]) { return .failure(UsageError(e.description)) }
            return .success(rest[0])
        }
        switch verb {
        case "list":
            return rest.isEmpty ? .success(.vmList) : .failure(UsageError("'vm list' takes no arguments"))
        case "show": return oneName("show NAME").map { .vmShow($0) }
        case "detach": return oneName("detach NAME").map { .vmDetach($0) }
        case "cloud-init": return oneName("cloud-init NAME").map { .vmCloudInit($0) }
        case "policy":
            let name: String
            switch oneName("policy NAME --allow RULE [--allow RULE]...") {
            case .success(let n): name = n
            case .failure(let e): return .failure(e)
            }
            if let other = options.keys.sorted().first(where: { $0 != "allow" }) {
                return .failure(UsageError("option --\(other) is only for 'vm attach'"))
            }
            let allow = options["allow"] ?? []
            guard !allow.isEmpty else { return .failure(UsageError("allow: 'vm policy' needs at least one --allow RULE (any to open it again)")) }
            if case .failure(let e) = VMPolicy.parse(allow) { return .failure(UsageError("allow: \(e.description)")) }
            return .success(.vmPolicy(name, allow))
        case "attach":
            let name: String
            switch oneName("attach NAME (--tap IFNAME | --netns NS) [--owner USER] [--address ADDR] [--allow RULE]... [--cpu N] [--memory SIZE] [--disk SIZE]") {
            case .success(let n): name = n
            case .failure(let e): return .failure(e)
            }
            for (k, v) in options where k != "allow" && v.count > 1 { return .failure(UsageError("\(k): --\(k) given \(v.count) times")) }
            // The daemon's own check (VMAttachRequest), on the options as they will travel.
            var given: [(String, JSONValue)] = [("name", .string(name))]
            for k in vmOptionNames + vmFlagNames {
                guard let v = options[k] else { continue }
                given.append((k, k == "allow" ? .array(v.map { .string($0) }) : .string(v.last ?? "")))
            }
            do { return .success(.vmAttach(try VMAttachRequest(arguments: .object(given)))) } catch { return .failure(UsageError(error.description)) }
        default:
            return .failure(unknownVerb(verb, of: "vm"))
        }
    }

    /// What planetctl sends for this command.
    public var request: AdminRequest {
        switch self {
        case .showSelf: return .getSelf
        case .peers: return .getPeers
        case .addPeer(let uri): return .addPeer(uri)
        case .removePeer(let uri): return .removePeer(uri)
        case .routes: return .getRoutes
        case .sessions: return .getSessions
        case .stats: return .getStats
        case .vmList: return .vmList
        case .vmShow(let name): return .vmShow(name: name)
        case .vmAttach(let r): return .vmAttach(r)
        case .vmDetach(let name): return .vmDetach(name: name)
        case .vmPolicy(let name, let allow): return .vmPolicy(name: name, allow: allow)
        case .vmCloudInit(let name): return .vmCloudInit(name: name)
        case .nodes: return .getNodes
        case .nodeShow(let node): return .getNode(node)
        case .nodesFind(let filters): return .findNodes(filters)
        }
    }
}

extension PlanetctlCommand {
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
            return .failure(unknownVerb(verb, of: "nodes"))
        }
    }

    /// Checked here with the node's own rules (`CapacityQuery`), so a bad value is a usage
    /// error (exit 2) naming the option, not a daemon error.
    static func parseFind(_ words: [String]) -> Result<PlanetctlCommand, UsageError> {
        var out: [AdminRequest.Filter] = []
        var i = 0
        while i < words.count {
            let word = words[i]
            i += 1
            guard word.hasPrefix("--") else { return .failure(UsageError("nodes find: unexpected argument '\(word)'")) }
            var name = String(word.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") { inline = String(name[name.index(after: eq)...]); name = String(name[..<eq]) }
            guard let filter = NodeFilter.allCases.first(where: { $0.option == name }) else {
                return .failure(UsageError("nodes find: unknown option '--\(name)' (\(NodeFilter.allCases.map { "--" + $0.option }.joined(separator: ", ")))"))
            }
            if filter.value == .flag {
                guard inline == nil else { return .failure(UsageError("nodes find: --\(name) takes no value")) }
                out.append(AdminRequest.Filter(filter, "true"))
            } else if let inline {
                out.append(AdminRequest.Filter(filter, inline))
            } else if case .optional = filter.value {
                // `--gpu` alone: any GPU; `--gpu nvidia`: that vendor's.
                let given = i < words.count && !words[i].hasPrefix("--")
                out.append(AdminRequest.Filter(filter, given ? words[i] : ""))
                if given { i += 1 }
            } else {
                guard i < words.count else { return .failure(UsageError("nodes find: --\(name) needs a value")) }
                out.append(AdminRequest.Filter(filter, words[i]))
                i += 1
            }
        }
        if case .failure(let e) = CapacityQuery.parse(out.map { ($0.filter.argument, $0.value) }) {
            let option = NodeFilter(rawValue: e.argument)?.option ?? e.argument
            return .failure(UsageError("nodes find: --\(option): \(e.reason)"))
        }
        return .success(.nodesFind(out))
    }
}
