import PlanetCore

/// The calls the admin socket accepts and the arguments each takes. The server checks a
/// request against this before the handler sees it, so handlers never meet a wrong type.
public enum AdminCall: String, CaseIterable, Sendable {
    case list
    case getSelf
    case getPeers
    case addPeer
    case removePeer
    case getRoutes
    case getSessions
    case getStats
    case vmAttach
    case vmDetach
    case vmList
    case vmShow
    case vmPolicy
    case vmCloudInit
    case getNodes
    case getNode
    case findNodes

    /// One argument a call takes. Any key not listed is refused: a misspelt argument should
    /// fail loudly rather than be ignored.
    public struct Argument: Equatable, Sendable {
        public enum Kind: Sendable { case string, stringList }
        public let name: String
        public let kind: Kind
        public let required: Bool

        public static func string(_ name: String, required: Bool = true) -> Argument { Argument(name: name, kind: .string, required: required) }
        public static func strings(_ name: String, required: Bool = true) -> Argument { Argument(name: name, kind: .stringList, required: required) }
    }

    public var arguments: [Argument] {
        switch self {
        case .addPeer, .removePeer: return [.string("uri")]
        case .vmAttach:
            // Numbers travel as the text the operator typed, so the daemon's one parser
            // (VMResources) words every refusal the same way.
            return [.string("name"), .string("tap", required: false), .string("netns", required: false),
                    .string("owner", required: false), .string("address", required: false), .strings("allow", required: false),
                    .string("cpu", required: false), .string("memory", required: false), .string("disk", required: false),
                    .string("force", required: false)]
        case .vmDetach, .vmShow, .vmCloudInit: return [.string("name")]
        case .vmPolicy: return [.string("name"), .strings("allow")]
        case .getNode: return [.string("node")]
        // The finder's filters (NodeFilter, the one list), all optional.
        case .findNodes: return NodeFilter.allCases.map { .string($0.argument, required: false) }
        default: return []
        }
    }

    public static var names: [String] { allCases.map(\.rawValue) }
}
