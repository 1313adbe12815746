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
    case getNodes
    case getNode
    case findNodes

    /// Required string arguments. Any key that is neither required nor optional is refused:
    /// a misspelt argument should fail loudly rather than be ignored.
    public var stringArguments: [String] {
        switch self {
        case .addPeer, .removePeer: return ["uri"]
        case .getNode: return ["node"]
        default: return []
        }
    }

    /// Optional string arguments: the finder's filters (Docs/cli.md, `findNodes`).
    public var optionalStringArguments: [String] {
        switch self {
        case .findNodes: return AdminCall.findNodesFilters
        default: return []
        }
    }

    /// Named as grid-explorer users know them; the node checks their values (CapacityQuery).
    public static let findNodesFilters = ["freeMru", "freeSru", "freeHru", "totalCru", "country", "city", "farm", "ipv4", "ipv6",
                                          "gpu", "tag", "near", "radius", "reachable", "sort", "order", "limit"]

    public static var names: [String] { allCases.map(\.rawValue) }
}
