import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// Routers wired by perfect in-memory links: frames are delivered in order, at once, on `pump`;
/// time moves only in `advance`. A router that throws has its link closed, as ironwood does.
final class IronwoodTestNetwork {
    struct LinkEnd { let router: Int; let peer: Int; let peerID: IronwoodPeerID }

    var routers: [IronwoodRouter] = []
    var now = Instant(seconds: 1000)
    private var ends: [IronwoodPeerID: LinkEnd] = [:]
    private var nextID: IronwoodPeerID = 1
    var delivered: [Int: [(PublicKey, [UInt8])]] = [:]
    var notified: [Int: [PublicKey]] = [:]
    var frameCount: [IronwoodFrame.FrameType: Int] = [:]
    var closedByError: [IronwoodRouterError] = []

    /// `count` routers with keys from fixed seeds, in no particular key order.
    init(count: Int, seed: UInt8 = 1, limits: IronwoodRouter.Limits = IronwoodRouter.Limits()) {
        for i in 0..<count {
            let identity = Self.identity(seed: seed &+ UInt8(i))
            var counter: UInt64 = UInt64(i) << 32
            routers.append(IronwoodRouter(identity: identity, now: now, limits: limits, nonces: { counter += 1; return counter }))
        }
    }

    static func identity(seed: UInt8) -> NodeIdentity {
        let pair = Sodium.signKeypair(seed: [UInt8](repeating: seed, count: 32))
        return NodeIdentity(secretKey: pair.secret, publicKey: PublicKey(pair.publicKey)!)
    }

    func key(_ i: Int) -> PublicKey { routers[i].identity.publicKey }
    var smallest: Int { routers.indices.min { key($0) < key($1) }! }

    @discardableResult
    func connect(_ a: Int, _ b: Int, priority: UInt8 = 0) -> (IronwoodPeerID, IronwoodPeerID) {
        let idA = nextID, idB = nextID + 1
        nextID += 2
        ends[idA] = LinkEnd(router: a, peer: b, peerID: idB)
        ends[idB] = LinkEnd(router: b, peer: a, peerID: idA)
        routers[a].addPeer(idA, key: key(b), priority: priority, now: now)
        routers[b].addPeer(idB, key: key(a), priority: priority, now: now)
        pump()
        return (idA, idB)
    }

    func disconnect(_ a: Int, _ b: Int) {
        for (id, end) in ends where end.router == a && end.peer == b { close(id) }
    }

    func close(_ id: IronwoodPeerID) {
        guard let end = ends.removeValue(forKey: id) else { return }
        ends[end.peerID] = nil
        routers[end.router].removePeer(id, now: now)
        routers[end.peer].removePeer(end.peerID, now: now)
    }

    /// Delivers every frame until all routers are quiet.
    func pump() {
        var busy = true
        while busy {
            busy = false
            for (i, router) in routers.enumerated() {
                for out in router.takeOutput() {
                    busy = true
                    switch out {
                    case .frame(let id, let frame):
                        frameCount[frame.type, default: 0] += 1
                        guard let end = ends[id] else { continue }
                        do { try routers[end.peer].receive(frame, from: end.peerID, now: now) } catch {
                            closedByError.append(error)
                            close(end.peerID)
                        }
                    case .deliver(let source, let payload): delivered[i, default: []].append((source, payload))
                    case .pathNotify(let key): notified[i, default: []].append(key)
                    }
                }
            }
        }
    }

    /// Moves time forward in steps of `step`, ticking every router and pumping each step.
    func advance(_ seconds: Double, step: Double = 0.5) {
        let end = now.adding(seconds: seconds)
        while now < end {
            now = min(end, now.adding(seconds: step))
            for router in routers where (router.nextDeadline ?? .never) <= now { router.tick(now: now) }
            pump()
        }
    }

    /// Whether every router agrees the smallest key is the root and each has a tree position.
    var converged: Bool {
        let root = key(smallest)
        return routers.allSatisfy { $0.root == root }
    }
}
