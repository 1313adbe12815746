import PlanetCore
import PlanetAdmin
import PlanetNode

/// Answers admin calls on the loop thread: the admin server's thread posts the call and waits
/// (bounded) for the reply, so a slow node can't wedge the admin socket forever.
final class NodeAdminHandler: AdminHandler, @unchecked Sendable {
    unowned let runner: NodeRunner

    init(runner: NodeRunner) { self.runner = runner }

    func handle(_ request: AdminRequest) -> Result<any AdminResponse, AdminError> {
        if NodeAdminHandler.vmCalls.contains(request.call) { return handleVM(request) }
        let rendezvous = AdminRendezvous<any AdminResponse>()
        let posted = runner.loop.post { [runner] in
            var result = runner.node.admin(request, now: MonotonicClock.now())
            // The node counts what it drops; what the runtime loses at the kernel's edge (a TUN
            // read whose offload framing doesn't add up, a failed TUN write, a datagram the
            // socket refused) joins the same `drops`, under `io-` reasons, kept in name order.
            if case .success(var stats as StatsReply) = result {
                stats.addDrops(runner.ioDrops().map { (name: $0.0, count: $0.1) })
                result = .success(stats)
            }
            runner.flush()
            rendezvous.fulfil(result)
        }
        guard posted else { return .failure(AdminError("node is busy")) }
        return rendezvous.wait(timeout: 5)
    }
}
