import XCTest
import PlanetCore
@testable import PlanetYggdrasil

final class IronwoodTreeTests: XCTestCase {
    func testAloneANodeIsItsOwnRoot() {
        let net = IronwoodTestNetwork(count: 1)
        let r = net.routers[0]
        XCTAssertEqual(r.root, net.key(0))
        XCTAssertEqual(r.parent, net.key(0))
        XCTAssertEqual(r.coords, [])
        XCTAssertEqual(r.treeEntries.map(\.seq), [1])
    }

    /// The smaller key becomes root; the other takes it as parent with the port the root gave it.
    func testTwoNodesTheSmallerKeyIsRoot() {
        let net = IronwoodTestNetwork(count: 2)
        net.connect(0, 1)
        net.advance(3)
        let (root, child) = net.key(0) < net.key(1) ? (0, 1) : (1, 0)
        XCTAssertTrue(net.converged)
        XCTAssertEqual(net.routers[child].parent, net.key(root))
        XCTAssertEqual(net.routers[root].parent, net.key(root))
        let port = net.routers[root].peerStatus[0].port
        XCTAssertEqual(net.routers[child].coords, [port])
        XCTAssertEqual(net.routers[root].coords, [])
        XCTAssertTrue(net.routers[child].peerStatus[0].onTree)
    }

    /// Ironwood's "do not change" acceptance order: seq, then smaller parent, then smaller nonce.
    func testAnnouncementAcceptanceRule() {
        let a = IronwoodTestNetwork.identity(seed: 1), b = IronwoodTestNetwork.identity(seed: 2)
        let (low, high) = a.publicKey < b.publicKey ? (a.publicKey, b.publicKey) : (b.publicKey, a.publicKey)
        func ann(seq: UInt64, nonce: UInt64, parent: PublicKey) -> IronwoodAnnounce {
            IronwoodAnnounce(key: a.publicKey, parent: parent,
                             response: IronwoodSigRes(request: IronwoodSigReq(seq: seq, nonce: nonce), port: 1, parentSignature: []),
                             signature: [])
        }
        let info = IronwoodTreeInfo(ann(seq: 5, nonce: 50, parent: high), deadline: .zero)
        XCTAssertTrue(info.isReplaced(by: ann(seq: 6, nonce: 99, parent: high)))
        XCTAssertFalse(info.isReplaced(by: ann(seq: 4, nonce: 1, parent: low)))
        XCTAssertTrue(info.isReplaced(by: ann(seq: 5, nonce: 99, parent: low)))
        XCTAssertFalse(info.isReplaced(by: ann(seq: 5, nonce: 99, parent: high)))
        XCTAssertTrue(info.isReplaced(by: ann(seq: 5, nonce: 49, parent: high)))
        XCTAssertFalse(info.isReplaced(by: ann(seq: 5, nonce: 50, parent: high)))
        let lowInfo = IronwoodTreeInfo(ann(seq: 5, nonce: 50, parent: low), deadline: .zero)
        XCTAssertFalse(lowInfo.isReplaced(by: ann(seq: 5, nonce: 1, parent: high)))
    }

    /// An announcement whose signature fails closes the link and is not stored; the same one
    /// signed properly is stored. Removing `announce.verify()` from `receive` fails this.
    func testAnnouncementWithBadSignatureIsRefused() throws {
        let me = IronwoodTestNetwork.identity(seed: 1), peer = IronwoodTestNetwork.identity(seed: 2)
        let other = IronwoodTestNetwork.identity(seed: 3)
        let r = IronwoodRouter(identity: me, now: .zero)
        r.addPeer(7, key: peer.publicKey, priority: 0, now: .zero)
        let response = IronwoodSigRes(answering: IronwoodSigReq(seq: 1, nonce: 42), node: other.publicKey, port: 3, parent: peer)
        let good = IronwoodAnnounce(node: other, parent: peer.publicKey, response: response)
        var forgedNode = good
        forgedNode.signature[10] ^= 1
        var forgedParent = good
        forgedParent.response.parentSignature[10] ^= 1
        for forged in [forgedNode, forgedParent] {
            XCTAssertThrowsError(try r.receive(IronwoodFrame(type: .announce, body: forged.encoded), from: 7, now: .zero)) {
                XCTAssertEqual($0 as? IronwoodRouterError, .badSignature(.announce))
            }
            XCTAssertFalse(r.treeEntries.contains { $0.key == other.publicKey })
        }
        try r.receive(IronwoodFrame(type: .announce, body: good.encoded), from: 7, now: .zero)
        XCTAssertTrue(r.treeEntries.contains { $0.key == other.publicKey && $0.parent == peer.publicKey })
    }

    /// A SigRes must be the link's key signing for us: one signed by anyone else, or for another
    /// node, closes the link. Removing the check in `receive` fails this.
    func testSigResNotSignedByThePeerClosesTheLink() throws {
        let me = IronwoodTestNetwork.identity(seed: 1), peer = IronwoodTestNetwork.identity(seed: 2)
        let stranger = IronwoodTestNetwork.identity(seed: 3)
        let r = IronwoodRouter(identity: me, now: .zero, nonces: { 77 })
        r.addPeer(7, key: peer.publicKey, priority: 0, now: .zero)
        let request = IronwoodSigReq(seq: 2, nonce: 77)
        let byStranger = IronwoodSigRes(answering: request, node: me.publicKey, port: 1, parent: stranger)
        let forOther = IronwoodSigRes(answering: request, node: stranger.publicKey, port: 1, parent: peer)
        for bad in [byStranger, forOther] {
            XCTAssertThrowsError(try r.receive(IronwoodFrame(type: .sigRes, body: bad.encoded), from: 7, now: .zero)) {
                XCTAssertEqual($0 as? IronwoodRouterError, .badSignature(.sigRes))
            }
        }
        // A good signature over a request we did not make (a replay) is ignored, not used.
        let stale = IronwoodSigRes(answering: IronwoodSigReq(seq: 2, nonce: 78), node: me.publicKey, port: 1, parent: peer)
        try r.receive(IronwoodFrame(type: .sigRes, body: stale.encoded), from: 7, now: .zero)
        XCTAssertEqual(r.drops[.staleResponse], 1)
        XCTAssertNil(r.tree.responses[peer.publicKey])
        let good = IronwoodSigRes(answering: request, node: me.publicKey, port: 1, parent: peer)
        try r.receive(IronwoodFrame(type: .sigRes, body: good.encoded), from: 7, now: .zero)
        XCTAssertEqual(r.tree.responses[peer.publicKey], good)
    }

    /// A link's cost: first RTT doubled, then 7/8 old + 1/8 new (a sample capped at twice the old).
    func testLinkCostFromSigResTimes() throws {
        let me = IronwoodTestNetwork.identity(seed: 1), peer = IronwoodTestNetwork.identity(seed: 2)
        var nonce: UInt64 = 0
        let r = IronwoodRouter(identity: me, now: .zero, nonces: { nonce += 1; return nonce })
        let t0 = Instant(seconds: 10)
        r.addPeer(7, key: peer.publicKey, priority: 0, now: t0)
        XCTAssertEqual(r.peerStatus[0].cost, 4294)
        XCTAssertNil(r.peerStatus[0].latency)
        let request = try XCTUnwrap(r.tree.requests[peer.publicKey])
        let res = IronwoodSigRes(answering: request, node: me.publicKey, port: 1, parent: peer)
        try r.receive(IronwoodFrame(type: .sigRes, body: res.encoded), from: 7, now: t0.adding(seconds: 0.010))
        XCTAssertEqual(r.peerStatus[0].cost, 20)
        XCTAssertEqual(r.peerStatus[0].latency ?? 0, 0.010, accuracy: 1e-9)
        // A second answer to the same request does not count again.
        try r.receive(IronwoodFrame(type: .sigRes, body: res.encoded), from: 7, now: t0.adding(seconds: 0.5))
        XCTAssertEqual(r.peerStatus[0].cost, 20)
        // A new request (after a change of our announcement): 20·7/8 + min(100, 40)/8 = 22.5.
        // A refresh with no better parent: root again after one more round, and new requests.
        r.tree.refresh = true
        r.tick(now: t0.adding(seconds: 1))
        let t1 = t0.adding(seconds: 2)
        r.tick(now: t1)
        let request2 = try XCTUnwrap(r.tree.requests[peer.publicKey])
        XCTAssertNotEqual(request2, request)
        let res2 = IronwoodSigRes(answering: request2, node: me.publicKey, port: 1, parent: peer)
        try r.receive(IronwoodFrame(type: .sigRes, body: res2.encoded), from: 7, now: t1.adding(seconds: 0.100))
        XCTAssertEqual(r.peerStatus[0].cost, 22)
    }

    /// Of two parents under the same root, the one nearer the root wins (depth × link cost).
    func testParentSelectionPrefersTheShallowerPeer() {
        let net = IronwoodTestNetwork(count: 3)
        let root = net.smallest
        let others = net.routers.indices.filter { $0 != root }
        let (m, x) = (others[0], others[1])
        net.connect(root, m)
        net.connect(m, x)
        net.advance(5)
        XCTAssertTrue(net.converged)
        XCTAssertEqual(net.routers[x].parent, net.key(m))
        XCTAssertEqual(net.routers[x].coords.count, 2)
        net.connect(root, x)
        net.advance(5)
        // With a parent already, x moves only at its refresh, and only for half the cost.
        XCTAssertEqual(net.routers[x].parent, net.key(m))
        net.advance(240)
        XCTAssertEqual(net.routers[x].parent, net.key(root))
        XCTAssertEqual(net.routers[x].coords.count, 1)
    }

    /// A node with a smaller key joining anywhere becomes everyone's root.
    func testRootChangesToASmallerKey() {
        let net = IronwoodTestNetwork(count: 5, seed: 10)
        let newcomer = net.smallest
        let rest = net.routers.indices.filter { $0 != newcomer }
        for (a, b) in zip(rest, rest.dropFirst()) { net.connect(a, b) }
        net.advance(10)
        let oldRoot = rest.min { net.key($0) < net.key($1) }!
        XCTAssertTrue(rest.allSatisfy { net.routers[$0].root == net.key(oldRoot) })
        XCTAssertEqual(net.routers[newcomer].root, net.key(newcomer))
        net.connect(rest.last!, newcomer)
        net.advance(10)
        XCTAssertTrue(net.converged)
    }

    /// Our own announcement is renewed every 4 minutes (seq + 1).
    func testOwnAnnouncementRefreshes() {
        let net = IronwoodTestNetwork(count: 2)
        net.connect(0, 1)
        net.advance(3)
        let seq = { (i: Int) in net.routers[i].treeEntries.first { $0.key == net.key(i) }!.seq }
        let before = (seq(0), seq(1))
        net.advance(235)
        XCTAssertEqual(seq(0), before.0)
        net.advance(10)
        XCTAssertEqual(seq(0), before.0 + 1)
        XCTAssertEqual(seq(1), before.1 + 1)
        XCTAssertTrue(net.converged)
    }

    /// Entries nobody renews are forgotten 5 minutes after they were last replaced. Here the
    /// root vanishes: nobody renews its entry, and only the timer removes it.
    func testTreeEntriesExpire() {
        let net = IronwoodTestNetwork(count: 3)
        let root = net.smallest
        let (a, b) = root == 0 ? (1, 2) : root == 1 ? (0, 2) : (0, 1)
        net.connect(a, b)
        net.connect(b, root)
        net.advance(5)
        let gone = net.key(root)
        XCTAssertTrue(net.converged)
        net.disconnect(b, root)
        net.advance(200)
        XCTAssertTrue(net.routers[a].treeEntries.contains { $0.key == gone })
        XCTAssertNotEqual(net.routers[a].root, gone, "a path to it is needed to keep it as root")
        net.advance(120)
        XCTAssertFalse(net.routers[a].treeEntries.contains { $0.key == gone })
        XCTAssertFalse(net.routers[b].treeEntries.contains { $0.key == gone })
        XCTAssertEqual(net.routers[a].root, net.routers[b].root)
    }

    /// Garbage in any frame type closes the link (a throw), never a trap.
    func testMalformedFramesThrow() {
        let r = IronwoodRouter(identity: IronwoodTestNetwork.identity(seed: 1), now: .zero)
        r.addPeer(1, key: IronwoodTestNetwork.identity(seed: 2).publicKey, priority: 0, now: .zero)
        var rng = SplitMix64(state: 0x1e0)
        for i in 0..<3000 {
            let type = IronwoodFrame.FrameType.allCases[i % IronwoodFrame.FrameType.allCases.count]
            let body = rng.bytes(rng.below(200))
            _ = try? r.receive(IronwoodFrame(type: type, body: body), from: 1, now: .zero)
        }
        XCTAssertThrowsError(try r.receive(IronwoodFrame(type: .sigReq, body: [0x80]), from: 1, now: .zero))
        // Frames from a link the router does not know are counted, not trusted.
        XCTAssertNoThrow(try r.receive(IronwoodFrame(type: .sigReq, body: [1, 1]), from: 99, now: .zero))
        XCTAssertEqual(r.drops[.unknownPeer], 1)
    }
}
