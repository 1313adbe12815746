import PlanetCore
import PlanetAdmin
import PlanetNode

/// Answers admin calls on the loop thread: the admin server's thread posts the call and waits
/// (bounded) for the reply, so a slow node can't wedge the admin socket forever.
final class NodeAdminHandler: AdminHandler, @unchecked Sendable {
    unowned let runner: NodeRunner

    init(runner: NodeRunner) { self.runner = runner }

    func handle(_ request: AdminRequest) -> Result<JSONValue, AdminError> {
        if NodeAdminHandler.vmCalls.contains(request.call) { return handleVM(request) }
        let rendezvous = AdminRendezvous()
        let posted = runner.loop.post { [runner] in
            var result = runner.node.admin(request, now: MonotonicClock.now())
            if request == .getStats, case .success(let stats) = result {
                result = .success(NodeAdminHandler.adding(runner.ioDrops(), toDropsOf: stats))
            }
            runner.flush()
            rendezvous.fulfil(result)
        }
        guard posted else { return .failure(AdminError("node is busy")) }
        return rendezvous.wait(timeout: 5)
    }

    /// The node counts what it drops; what the runtime loses at the kernel's edge (a TUN read
    /// whose offload framing doesn't add up, a failed TUN write, a datagram the socket refused)
    /// joins the same `drops` object, under `io-` reasons, kept in name order.
    static func adding(_ io: [(String, UInt64)], toDropsOf stats: JSONValue) -> JSONValue {
        guard !io.isEmpty, case .object(var fields) = stats, let i = fields.firstIndex(where: { $0.0 == "drops" }),
              case .object(let drops) = fields[i].1 else { return stats }
        let merged = (drops + io.map { ($0.0, JSONValue.number(Double($0.1))) }).sorted { $0.0 < $1.0 }
        fields[i].1 = .object(merged)
        return .object(fields)
    }
}
