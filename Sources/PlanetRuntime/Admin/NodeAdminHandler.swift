import PlanetCore
import PlanetAdmin
import PlanetNode
import PlanetCapacity

/// Answers admin calls on the loop thread: the admin server's thread posts the call and waits
/// (bounded) for the reply, so a slow node can't wedge the admin socket forever.
final class NodeAdminHandler: AdminHandler, @unchecked Sendable {
    unowned let runner: NodeRunner

    init(runner: NodeRunner) { self.runner = runner }

    func handle(_ request: AdminRequest) -> Result<any AdminResponse, AdminError> {
        if NodeAdminHandler.vmCalls.contains(request.call) { return handleVM(request) }
        switch request {
        case .getNodes, .findNodes, .getNode: return handleFinder(request)
        default: break
        }
        let rendezvous = AdminRendezvous<any AdminResponse>()
        let posted = runner.loop.post { [runner] in
            let now = MonotonicClock.now()
            // Yggdrasil links belong to the runtime's transport (NodeRunner+Yggdrasil.swift);
            // everything else, and what a node with no Yggdrasil side is asked, to the node.
            var result = runner.yggdrasilAdmin(request) ?? runner.node.admin(request, now: now)
            // The node counts what it drops; what the runtime loses at the kernel's edge (a TUN
            // read whose offload framing doesn't add up, a failed TUN write, a datagram the
            // socket refused) joins the same `drops`, under `io-` reasons, kept in name order.
            switch result {
            case .success(var stats as StatsReply):
                stats.addDrops((runner.ioDrops() + runner.yggdrasilDrops()).map { (name: $0.0, count: $0.1) })
                // Yggdrasil links count as peers (and their sessions as sessions), as they are listed.
                stats.peersUp += UInt64(runner.yggdrasil?.transport.peers.filter { $0.state == .up }.count ?? 0)
                stats.sessions += UInt64(runner.yggdrasil?.stack.sessions.sessionCount ?? 0)
                stats.yggdrasil = runner.yggdrasilCounters()
                stats.yggdrasilGauges = runner.yggdrasilGauges()
                result = .success(stats)
            case .success(var peers as PeersReply):
                peers.peers += runner.yggdrasilPeers()
                result = .success(peers)
            case .success(var me as SelfReply):
                me.yggdrasil = runner.yggdrasilSelf()
                result = .success(me)
            case .success(var routes as RoutesReply):
                routes.routes += runner.yggdrasilRoutes(now: now)
                result = .success(routes)
            case .success(var sessions as SessionsReply):
                sessions.sessions += runner.yggdrasilSessions(now: now)
                result = .success(sessions)
            default: break
            }
            runner.flush()
            rendezvous.fulfil(result)
        }
        guard posted else { return .failure(AdminError("node is busy")) }
        return rendezvous.wait(timeout: 5)
    }
}

extension NodeAdminHandler {
    /// Route metrics asked of the loop per post: a slice the loop answers well within its 1 ms
    /// budget for one piece of work (a dictionary lookup each).
    static let metricsPerPost = 2048

    /// The finder's calls off the loop: a snapshot of the directory on the loop (free), the
    /// decoding, filtering and sorting here on the admin thread, and the route metrics of the
    /// records that passed asked of the loop a slice at a time (Docs/scale.md, "The event
    /// loop's budget").
    func handleFinder(_ request: AdminRequest) -> Result<any AdminResponse, AdminError> {
        if case .success(true) = onLoop({ node in node.findsThroughUpstream }) { return handleFinderThroughUpstream(request) }
        let snapshot: CapacityFinderSnapshot
        switch onLoop({ node in node.capacityFinderSnapshot(now: MonotonicClock.now()) }) {
        case .failure(let e): return .failure(e)
        case .success(nil): return .failure(AdminError("the node has not been told the time yet; try again"))
        case .success(let s?): snapshot = s
        }
        var failure: AdminError?
        let result = Node.answerCapacity(request, snapshot: snapshot) { keys in
            var out: [Int?] = []
            out.reserveCapacity(keys.count)
            var start = 0
            while start < keys.count, failure == nil {
                let slice = keys[start..<min(keys.count, start + NodeAdminHandler.metricsPerPost)]
                switch onLoop({ node in node.routeMetrics(to: slice) }) {
                case .success(let m): out += m
                case .failure(let e): failure = e
                }
                start += NodeAdminHandler.metricsPerPost
            }
            return out + [Int?](repeating: nil, count: keys.count - out.count)
        }
        if let failure { return .failure(failure) }
        return result
    }

    /// A stub's finder calls: the node asks its upstream and replies from its loop when the
    /// answer is in or after `CapacityFinds.timeout` ("upstream did not answer"); this thread
    /// waits a little longer than that, so the node's own error is what the caller sees.
    func handleFinderThroughUpstream(_ request: AdminRequest) -> Result<any AdminResponse, AdminError> {
        let rendezvous = AdminRendezvous<any AdminResponse>()
        let posted = runner.loop.post { [runner] in
            runner.node.admin(request, now: MonotonicClock.now()) { rendezvous.fulfil($0) }
            runner.flush()
        }
        guard posted else { return .failure(AdminError("node is busy")) }
        return rendezvous.wait(timeout: CapacityFinds.timeout + 2)
    }
}
