import XCTest
import PlanetCore
import PlanetYggdrasil
@testable import PlanetRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Two `YggdrasilTransport`s on one event loop over loopback: tcp:// and tls:// links come up
/// both ways, frames cross in order (large ones through partial writes), and a wrong password
/// is refused on both sides. No root needed; the real-yggdrasil test is
/// Tests/Integration/test_yggdrasil05_link.sh.
final class YggdrasilTransportTests: XCTestCase {
    final class Side {
        let identity = NodeIdentity.generate()
        var transport: YggdrasilTransport!
        var events: [YggdrasilTransport.Event] = []
        var up: [YggdrasilConnectionID: PublicKey] = [:]
        var frames: [IronwoodFrame] = []
    }

    var loop: EventLoop!
    var a = Side()
    var b = Side()

    override func setUpWithError() throws {
        loop = try EventLoop()
        for side in [a, b] {
            side.transport = YggdrasilTransport(loop: loop, identity: side.identity)
            side.transport.onEvent = { [unowned side] event in
                side.events.append(event)
                switch event {
                case .established(let id, let key, _): side.up[id] = key
                case .frame(_, let frame): side.frames.append(frame)
                case .closed(let id, _): side.up[id] = nil
                }
            }
        }
    }

    override func tearDown() {
        a.transport.stop()
        b.transport.stop()
    }

    /// Turns the loop (and both transports' timers) until `done` holds; false after 2,000 turns
    /// of at most 10 ms each, which only a broken transport needs.
    func turn(until done: () -> Bool) -> Bool {
        for _ in 0..<2000 {
            if done() { return true }
            for side in [a, b] { side.transport.flush() }
            loop.runOnce(timeoutMilliseconds: 10)
            let now = MonotonicClock.now()
            for side in [a, b] where now >= side.transport.nextDeadline { side.transport.handleDeadline(now: now) }
        }
        return done()
    }

    func link(_ scheme: String, listenQuery: String = "", dialQuery: String = "") throws -> UInt16 {
        let port = try a.transport.listen(try PeerURI.parse("\(scheme)://127.0.0.1:0\(listenQuery)", allowKey: false).get())
        let query = dialQuery.isEmpty ? "?key=\(a.identity.publicKey.hex)" : dialQuery
        XCTAssertTrue(b.transport.addPeer(try PeerURI.parse("\(scheme)://127.0.0.1:\(port)\(query)").get()))
        return port
    }

    func testTCPAndTLSLinksComeUpAndCarryFramesInOrder() throws {
        for scheme in ["tcp", "tls"] {
            try setUpWithError()
            _ = try link(scheme, listenQuery: "?password=pw&priority=3", dialQuery: "?key=\(a.identity.publicKey.hex)&password=pw")
            XCTAssertTrue(turn { a.up.count == 1 && b.up.count == 1 }, "\(scheme): \(a.events) \(b.events)")
            XCTAssertEqual(Array(a.up.values), [b.identity.publicKey])
            XCTAssertEqual(Array(b.up.values), [a.identity.publicKey])
            guard case .established(_, _, let priority)? = b.events.first else { return XCTFail() }
            XCTAssertEqual(priority, 3, "the larger of both sides' priorities")
            let peer = try XCTUnwrap(b.transport.peers.first)
            XCTAssertEqual(peer.state, .up)
            XCTAssertEqual(peer.direction, .outbound)
            XCTAssertFalse(peer.uri.contains("pw"), "the password is redacted: \(peer.uri)")

            // 40 frames of up to 131 KB one way (the socket takes them in parts), a few back.
            let id = try XCTUnwrap(b.up.keys.first)
            var sent: [IronwoodFrame] = []
            for i in 0..<40 {
                let frame = IronwoodFrame(type: .traffic, body: [UInt8](repeating: UInt8(i), count: i % 2 == 0 ? 131_000 : 10 + i))
                XCTAssertTrue(b.transport.send(id, frame))
                sent.append(frame)
            }
            XCTAssertTrue(turn { a.frames.count == sent.count }, "\(scheme): \(a.frames.count) of \(sent.count) frames")
            XCTAssertEqual(a.frames, sent, scheme)
            let back = IronwoodFrame(type: .sigReq, body: [1, 2])
            XCTAssertTrue(a.transport.send(try XCTUnwrap(a.up.keys.first), back))
            XCTAssertTrue(turn { b.frames == [back] }, scheme)
            XCTAssertEqual(a.transport.closeCounters.total, 0, scheme)
            tearDown()
        }
    }

    /// A wrong password fails both handshakes: each side counts password-mismatch, neither sees
    /// a peer, and the dialer backs off to try again.
    func testAWrongPasswordIsRefusedOnBothSides() throws {
        _ = try link("tls", listenQuery: "?password=right", dialQuery: "?password=wrong")
        XCTAssertTrue(turn { a.transport.closeCounters[.passwordMismatch] >= 1 && b.transport.closeCounters[.passwordMismatch] >= 1 })
        XCTAssertTrue(a.events.isEmpty)
        XCTAssertTrue(b.events.isEmpty)
        let waiting = try XCTUnwrap(b.transport.waitingDials.first)
        XCTAssertTrue(waiting.lastError.contains("password"), waiting.lastError)
        XCTAssertGreaterThan(waiting.nextAttempt, MonotonicClock.now())
    }

    /// A dialler pinning another key refuses the listener; allowedPublicKeys on the listener
    /// refuses an inbound key outside it.
    func testPinAndAllowListRefuse() throws {
        _ = try link("tcp", dialQuery: "?key=\(NodeIdentity.generate().publicKey.hex)")
        XCTAssertTrue(turn { b.transport.closeCounters[.keyPinMismatch] >= 1 })
        XCTAssertTrue(b.up.isEmpty)

        try setUpWithError()
        a.transport.allowedKeys = [NodeIdentity.generate().publicKey]
        _ = try link("tcp")
        XCTAssertTrue(turn { a.transport.closeCounters[.keyNotAllowed] >= 1 })
        XCTAssertTrue(a.up.isEmpty)
    }

    /// A blocking loopback client that writes `bytes` at once (the peer's side, by hand).
    func rawClient(port: UInt16, _ bytes: [UInt8]) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        sa.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let r = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(r, 0)
        XCTAssertEqual(bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }, bytes.count)
        return fd
    }

    /// A peer that passes the handshake and then sends an oversize or a garbage frame loses the
    /// link, reported to the owner and counted under its reason.
    func testBadFramesCloseTheLinkAndAreCounted() throws {
        let port = try a.transport.listen(try PeerURI.parse("tcp://127.0.0.1:0", allowKey: false).get())
        let peer = NodeIdentity.generate()
        let meta = try YggdrasilMeta.encode(identity: peer, priority: 0, password: [])
        var oversize: [UInt8] = []
        Uvarint.append(UInt64(IronwoodFrame.maxLength + 1), to: &oversize)
        let cases: [([UInt8], YggdrasilLinkClose.Code)] = [
            (oversize, .frameOversize), ([0x03, 0x63, 1, 2], .frameMalformed), ([0x00], .frameMalformed),
        ]
        for (n, (garbage, code)) in cases.enumerated() {
            let fd = try rawClient(port: port, meta + [0x01, 0x01] + garbage)
            defer { Glibc.close(fd) }
            XCTAssertTrue(turn { a.transport.closeCounters[code] == UInt64(cases[...n].filter { $0.1 == code }.count) }, "\(code)")
            guard case .closed(_, let reason)? = a.events.last else { return XCTFail("\(a.events)") }
            XCTAssertEqual(reason.code, code)
            XCTAssertTrue(a.up.isEmpty)
        }
    }

    /// A peer removed is closed (reported) and not redialled.
    func testRemovingAPeerClosesItsLink() throws {
        let port = try link("tcp")
        XCTAssertTrue(turn { b.up.count == 1 && a.up.count == 1 })
        XCTAssertTrue(b.transport.removePeer(try PeerURI.parse("tcp://127.0.0.1:\(port)").get()))
        XCTAssertTrue(turn { a.up.isEmpty && b.up.isEmpty })
        XCTAssertTrue(b.transport.configuredPeers.isEmpty)
        XCTAssertTrue(b.transport.waitingDials.isEmpty)
        guard case .closed(_, let reason)? = b.events.last else { return XCTFail("\(b.events)") }
        XCTAssertEqual(reason.code, .local)
    }
}
