import PlanetCore
import PlanetAdmin
import PlanetCapacity
import PlanetRuntime

enum WebFuzzTargets {
    /// One request to the explorer page (`webListen`), as anyone who reaches the port can send
    /// it: the request head, the path, the query's decoding into the finder's filters, and the
    /// finder's own parsing of their values (as the node would), answered over fixed replies.
    static let request = FuzzTarget("web", "explorer page HTTP requests") { input in
        _ = WebServer.respond(to: Array(input), handler: handler)
    }

    static let handler = CannedAdminHandler()
}

/// Fixed, typed replies for the calls the page makes; `findNodes` parses its filters with the
/// node's parser (`CapacityQuery`), so a value that would reach the node is checked here too.
final class CannedAdminHandler: AdminHandler, @unchecked Sendable {
    func handle(_ request: AdminRequest) -> Result<any AdminResponse, AdminError> {
        switch request {
        case .getSelf:
            return .success(SelfReply(publicKey: String(repeating: "ab", count: 32), address: "200::1", subnet: "300::/64", version: "0",
                                      uptimeSeconds: 1, publicEndpoints: [], natMapping: nil, localEndpoints: [], punching: true))
        case .getPeers: return .success(PeersReply(peers: []))
        case .getSessions: return .success(SessionsReply(sessions: []))
        case .getRoutes: return .success(RoutesReply(routes: []))
        case .vmList: return .success(VMListReply(vms: []))
        case .findNodes(let filters):
            switch CapacityQuery.parse(filters.map { ($0.filter.argument, $0.value) }) {
            case .failure(let e): return .failure(.argument(e.argument, e.reason))
            case .success: return .success(NodesReply(nodes: [], held: 0))
            }
        default:
            return .failure(AdminError("the page does not ask \(request.call.rawValue)"))
        }
    }
}
