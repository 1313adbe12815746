import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// Our router in the place of one of the two real yggdrasil 0.5.12 nodes of the capture: fed
/// the other node's frames in the order they arrived, with the nonces and clock of the real node
/// (ed25519 is deterministic), it must say exactly what the real node said, byte for byte.
final class IronwoodRouterCaptureTests: XCTestCase {
    private final class Replay {
        let router: IronwoodRouter
        var now = Instant(seconds: 100)
        var sent: [IronwoodFrame] = []
        var other: [IronwoodOutputLog] = []

        init(identity: NodeIdentity, peer: PublicKey, nonces: [UInt64]) {
            var queue = nonces
            router = IronwoodRouter(identity: identity, now: now, nonces: { queue.isEmpty ? 0 : queue.removeFirst() })
            router.addPeer(1, key: peer, priority: 0, now: now)
            take()
        }

        func take() {
            for out in router.takeOutput() {
                switch out {
                case .frame(let id, let frame):
                    XCTAssertEqual(id, 1)
                    sent.append(frame)
                case .deliver(let source, let payload): other.append(.deliver(source, payload))
                case .pathNotify(let key): other.append(.notify(key))
                }
            }
        }

        func feed(_ frame: IronwoodFrame) throws {
            try router.receive(frame, from: 1, now: now)
            take()
        }

        func tick() {
            now = now.adding(seconds: 1)
            router.tick(now: now)
            take()
        }
    }

    private enum IronwoodOutputLog: Equatable {
        case deliver(PublicKey, [UInt8])
        case notify(PublicKey)
    }

    /// The random numbers a real node drew: its first (root) announcement's nonce, then its
    /// SigReqs' nonces, in order.
    private func nonces(_ frames: [IronwoodFrame]) throws -> [UInt64] {
        let root = try IronwoodAnnounce(body: XCTUnwrap(frames.first { $0.type == .announce }).body)
        return [root.response.request.nonce] + (try frames.filter { $0.type == .sigReq }.map { try IronwoodSigReq(body: $0.body).nonce })
    }

    private func assertSame(_ ours: [IronwoodFrame], _ theirs: [IronwoodFrame], _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.map(\.type), theirs.map(\.type), what, file: file, line: line)
        for (a, b) in zip(ours, theirs) {
            XCTAssertEqual(Hex.encode(a.body), Hex.encode(b.body), "\(what): \(a.type)", file: file, line: line)
        }
    }

    /// The listener (the larger key) joins the dialer's tree: SigReq and the empty bloom, the
    /// answer to the dialer's SigReq, its own root announcement, then — once the dialer answered
    /// and announced itself — a new SigReq, its announcement under the dialer, and its bloom.
    func testListenerTreeFramesMatchTheRealNode() throws {
        for f in try CaptureFixture.all() {
            let theirs = try f.frames(.listener).filter { $0.type != .keepAlive }
            let input = try f.frames(.dialer)
            XCTAssertTrue(f.dialer.publicKey < f.listener.publicKey)
            let r = Replay(identity: f.listener, peer: f.dialer.publicKey, nonces: try nonces(theirs))
            try r.feed(input[0])  // SigReq
            try r.feed(input[1])  // empty Bloom
            r.tick()
            try r.feed(input[2])  // SigRes
            try r.feed(input[3])  // the dialer's root Announce
            r.tick()
            assertSame(r.sent, Array(theirs.prefix(7)), "\(f.run)")
            XCTAssertEqual(r.router.parent, f.dialer.publicKey)
            XCTAssertEqual(r.router.coords, [1])
        }
    }

    /// The dialer (the smaller key) stays root: it answers both SigReqs, announces itself once,
    /// and sends its bloom once the listener announced it as parent.
    func testDialerTreeFramesMatchTheRealNode() throws {
        for f in try CaptureFixture.all() {
            let theirs = try f.frames(.dialer)
            let input = try f.frames(.listener).filter { $0.type != .keepAlive }
            let r = Replay(identity: f.dialer, peer: f.listener.publicKey, nonces: try nonces(theirs))
            try r.feed(input[0])  // SigReq
            try r.feed(input[1])  // empty Bloom
            r.tick()
            for frame in input[2...5] { try r.feed(frame) }  // SigRes, root Announce, SigReq, Announce under us
            r.tick()
            assertSame(r.sent, Array(theirs.prefix(6)), "\(f.run)")
            XCTAssertEqual(r.router.root, f.dialer.publicKey)
            XCTAssertTrue(r.router.peerStatus[0].onTree)
        }
    }

    /// The traffic run, continued on the dialer's side: the listener looks the dialer up by the
    /// partial key of its address; we answer with the same signed PathNotify (its seq is the
    /// real node's clock); the listener's session Init is delivered; our reply makes the same
    /// lookup for the listener, waits, and goes out as the same Traffic frame once the
    /// listener's notify arrives; and so do the replies after it.
    func testDialerPathAndTrafficFramesMatchTheRealNode() throws {
        let f = try CaptureFixture.load(.traffic)
        let theirs = try f.frames(.dialer)
        let input = try f.frames(.listener).filter { $0.type != .keepAlive }
        let r = Replay(identity: f.dialer, peer: f.listener.publicKey, nonces: try nonces(theirs))
        try r.feed(input[0]); try r.feed(input[1])
        r.tick()
        for frame in input[2...5] { try r.feed(frame) }
        r.tick()
        try r.feed(input[6])  // the listener's Bloom, with its key
        XCTAssertEqual(input[6].type, .bloom)
        r.sent.removeAll()

        let realNotify = try IronwoodPathNotify(body: XCTUnwrap(theirs.first { $0.type == .pathNotify }).body)
        r.router.setWallClock(unixSeconds: realNotify.seq, at: r.now)
        let lookup = try XCTUnwrap(input.first { $0.type == .pathLookup })
        XCTAssertNotEqual(try IronwoodPathLookup(body: lookup.body).dest, f.dialer.publicKey, "looked up by partial key")
        try r.feed(lookup)
        let afterTree = Array(theirs.dropFirst(6))
        assertSame(r.sent, [afterTree[0]], "notify")

        // The listener's first Traffic (a session Init) is ours to deliver.
        let traffic = input.filter { $0.type == .traffic }
        try r.feed(traffic[0])
        XCTAssertEqual(r.other, [.deliver(f.listener.publicKey, try IronwoodTraffic(body: traffic[0].body).payload)])

        // Our answer: a lookup first (no path yet), the packet kept until the notify.
        let replies = try afterTree.filter { $0.type == .traffic }.map { try IronwoodTraffic(body: $0.body) }
        r.router.send(to: f.listener.publicKey, payload: replies[0].payload, now: r.now)
        r.take()
        assertSame(Array(r.sent.suffix(1)), [afterTree[1]], "lookup")
        let notify = try XCTUnwrap(input.first { $0.type == .pathNotify })
        try r.feed(notify)
        XCTAssertEqual(r.other.last, .notify(f.listener.publicKey))
        XCTAssertEqual(r.router.pathEntries.map(\.key), [f.listener.publicKey])
        for reply in replies.dropFirst() { r.router.send(to: f.listener.publicKey, payload: reply.payload, now: r.now) }
        r.take()
        assertSame(Array(r.sent.dropFirst(2)), Array(afterTree.dropFirst(2)), "traffic")
    }

    /// The traffic run on the listener's side: it looks the dialer up by the partial key of the
    /// pinged address (as yggdrasil's IPv6 layer does), takes the dialer's notify for the whole
    /// key, sends its session Init along the path, answers the dialer's lookup with the same
    /// signed notify, and sends the rest as the same Traffic frames.
    func testListenerPathAndTrafficFramesMatchTheRealNode() throws {
        let f = try CaptureFixture.load(.traffic)
        let theirs = try f.frames(.listener).filter { $0.type != .keepAlive }
        let input = try f.frames(.dialer)
        let r = Replay(identity: f.listener, peer: f.dialer.publicKey, nonces: try nonces(theirs))
        try r.feed(input[0]); try r.feed(input[1])
        r.tick()
        try r.feed(input[2]); try r.feed(input[3])
        r.tick()
        try r.feed(input[4]); try r.feed(input[5])  // SigRes for the second request, the dialer's Bloom
        XCTAssertEqual(input[5].type, .bloom)
        assertSame(r.sent, Array(theirs.prefix(7)), "tree")
        r.sent.removeAll()
        let after = Array(theirs.dropFirst(7))

        let realLookup = try IronwoodPathLookup(body: after[0].body)
        let partial = YggdrasilBloomKey.partialKey(fromAddressBytes: OverlayAddress.addressBytes(for: f.dialer.publicKey))
        XCTAssertEqual(realLookup.dest, partial)
        r.router.lookup(partial, now: r.now)
        r.take()
        assertSame(r.sent, [after[0]], "lookup")

        let dialerAfter = Array(input.dropFirst(6))
        try r.feed(dialerAfter[0])  // the dialer's notify
        XCTAssertEqual(r.other, [.notify(f.dialer.publicKey)])
        let ours = try after.filter { $0.type == .traffic }.map { try IronwoodTraffic(body: $0.body) }
        r.router.send(to: f.dialer.publicKey, payload: ours[0].payload, now: r.now)
        r.take()
        assertSame(Array(r.sent.suffix(1)), [after[1]], "init")

        let realNotify = try IronwoodPathNotify(body: after[2].body)
        r.router.setWallClock(unixSeconds: realNotify.seq, at: r.now)
        try r.feed(dialerAfter[1])  // the dialer's lookup for our whole key
        assertSame(Array(r.sent.suffix(1)), [after[2]], "notify")
        for frame in dialerAfter.dropFirst(2) { try r.feed(frame) }
        XCTAssertEqual(r.other.count, 1 + dialerAfter.count - 2, "the dialer's packets delivered")
        for reply in ours.dropFirst() { r.router.send(to: f.dialer.publicKey, payload: reply.payload, now: r.now) }
        r.take()
        assertSame(Array(r.sent.dropFirst(3)), Array(after.dropFirst(3)), "traffic")
    }
}
