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

    /// Required string arguments. No call has optional ones yet, so any other key is refused:
    /// a misspelt argument should fail loudly rather than be ignored.
    public var stringArguments: [String] {
        switch self {
        case .addPeer, .removePeer: return ["uri"]
        default: return []
        }
    }

    public static var names: [String] { allCases.map(\.rawValue) }
}
