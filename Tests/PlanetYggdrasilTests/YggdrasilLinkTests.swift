import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// `YggdrasilLink` against what real yggdrasil 0.5.12 nodes sent (the captures), and its timers
/// against ironwood's peers.go rules.
final class YggdrasilLinkTests: XCTestCase {
    let t0 = Instant(seconds: 100)

    /// Our link in the capture's listener role (its key, priority and password), inbound.
    func listenerLink(_ f: CaptureFixture, options: YggdrasilLink.Options? = nil,
                      direction: YggdrasilLink.Direction = .inbound) throws -> YggdrasilLink {
        try YggdrasilLink(identity: f.listener, direction: direction,
                          options: options ?? .init(password: f.password, priority: f.listenerPriority), now: t0)
    }

    func closeReason(_ events: [YggdrasilLink.Event]) -> YggdrasilLinkClose? {
        for case .closed(let r) in events { return r }
        return nil
    }

    /// A link made established by the captured plain dialer, with its events and output drained.
    func established() throws -> YggdrasilLink {
        let f = try CaptureFixture.load(.plain)
        var link = try listenerLink(f)
        _ = link.takeOutput()
        let events = link.receive(f.dialerStream.prefix(123), now: t0)
        XCTAssertEqual(events, [.established(peerKey: f.dialer.publicKey, priority: 5)])
        return link
    }

    // MARK: The handshake against the real bytes

    /// Holding the listener's identity, our link writes exactly the listener's captured handshake,
    /// accepts the dialer's captured stream (handshake and every frame after it, in one read and
    /// byte by byte), and hands the router every frame but the keepalives.
    func testAcceptsTheRealDialersStream() throws {
        for run in [CaptureFixture.Run.plain, .password] {
            let f = try CaptureFixture.load(run)
            let expectedFrames = try f.frames(.dialer).filter { $0.type != .keepAlive && $0.type != .dummy }
            XCTAssertFalse(expectedFrames.isEmpty)
            let priority = max(f.listenerPriority, f.dialerPriority)
            let expected: [YggdrasilLink.Event] = [.established(peerKey: f.dialer.publicKey, priority: priority)]
                + expectedFrames.map { .frame($0) }

            var link = try listenerLink(f)
            XCTAssertEqual(Hex.encode(link.takeOutput()), Hex.encode(Array(f.listenerStream.prefix(123))), "\(run)")
            XCTAssertEqual(link.receive(f.dialerStream, now: t0), expected, "\(run)")
            XCTAssertTrue(link.isEstablished)

            var split = try listenerLink(f)
            var events: [YggdrasilLink.Event] = []
            for b in f.dialerStream { events += split.receive([b], now: t0) }
            XCTAssertEqual(events, expected, "\(run) byte by byte")
        }
        // The plain run's dialer asked for priority 5 and the listener 0: the link takes the larger.
        XCTAssertEqual(try established().state, .established(peerKey: try CaptureFixture.load(.plain).dialer.publicKey, priority: 5))
    }

    /// Nothing but the handshake leaves before the peer's handshake is in, and frames cannot be
    /// queued until then.
    func testNoFramesBeforeTheHandshake() throws {
        let f = try CaptureFixture.load(.plain)
        var link = try listenerLink(f)
        _ = link.takeOutput()
        XCTAssertFalse(link.send(IronwoodFrame(type: .sigReq, body: [1]), now: t0))
        XCTAssertEqual(link.pendingOutput, 0)
        XCTAssertEqual(link.receive(f.dialerStream.prefix(122), now: t0), [])
        XCTAssertFalse(link.isEstablished)
    }

    // MARK: Refusals (each fails when its check is removed)

    func testAnotherVersionIsRefused() throws {
        let f = try CaptureFixture.load(.plain)
        var stream = f.dialerStream
        // The minor version TLV's value is bytes 16–17; the signature covers only the key, so the
        // altered handshake still verifies and only the version check can refuse it.
        XCTAssertEqual(stream[17], 5)
        stream[17] = 4
        var link = try listenerLink(f)
        let events = link.receive(stream, now: t0)
        XCTAssertEqual(events, [.closed(.handshake(.incompatibleVersion(major: 0, minor: 4)))])
        XCTAssertEqual(closeReason(events)?.code, .versionMismatch)
        XCTAssertTrue(link.isClosed)
        XCTAssertEqual(link.nextDeadline, .never)
    }

    func testAWrongPasswordIsRefused() throws {
        let f = try CaptureFixture.load(.password)
        var wrong = try listenerLink(f, options: .init(password: Array("not-the-secret".utf8)))
        let events = wrong.receive(f.dialerStream, now: t0)
        XCTAssertEqual(events, [.closed(.handshake(.passwordMismatch))])
        XCTAssertEqual(closeReason(events)?.code, .passwordMismatch)
        // No password against a dialer that used one, and one against a dialer that used none.
        var none = try listenerLink(f, options: .init())
        XCTAssertEqual(closeReason(none.receive(f.dialerStream, now: t0))?.code, .passwordMismatch)
        let plain = try CaptureFixture.load(.plain)
        var extra = try listenerLink(plain, options: .init(password: f.password))
        XCTAssertEqual(closeReason(extra.receive(plain.dialerStream, now: t0))?.code, .passwordMismatch)
    }

    func testAKeyPinMismatchIsRefusedAndAMatchingPinAccepted() throws {
        let f = try CaptureFixture.load(.plain)
        let other = NodeIdentity.generate().publicKey
        for direction in [YggdrasilLink.Direction.inbound, .outbound] {
            var pinned = try listenerLink(f, options: .init(pinnedKeys: [other]), direction: direction)
            let events = pinned.receive(f.dialerStream, now: t0)
            XCTAssertEqual(events, [.closed(.pinMismatch(f.dialer.publicKey))], "\(direction)")
            XCTAssertEqual(closeReason(events)?.code, .keyPinMismatch)
            var matching = try listenerLink(f, options: .init(pinnedKeys: [other, f.dialer.publicKey]), direction: direction)
            XCTAssertTrue(matching.receive(f.dialerStream, now: t0).first == .established(peerKey: f.dialer.publicKey, priority: 5))
        }
    }

    /// `allowedPublicKeys` refuses an inbound key outside it; an outbound peer was named by the
    /// operator and is not checked (yggdrasil's rule, and Planetary's own links').
    func testTheAllowListRefusesInboundKeysOutsideIt() throws {
        let f = try CaptureFixture.load(.plain)
        let other = NodeIdentity.generate().publicKey
        var inbound = try listenerLink(f, options: .init(allowedKeys: [other]))
        let events = inbound.receive(f.dialerStream, now: t0)
        XCTAssertEqual(events, [.closed(.notAllowed(f.dialer.publicKey))])
        XCTAssertEqual(closeReason(events)?.code, .keyNotAllowed)
        var allowed = try listenerLink(f, options: .init(allowedKeys: [other, f.dialer.publicKey]))
        XCTAssertEqual(allowed.receive(f.dialerStream.prefix(123), now: t0), [.established(peerKey: f.dialer.publicKey, priority: 5)])
        var outbound = try listenerLink(f, options: .init(allowedKeys: [other]), direction: .outbound)
        XCTAssertEqual(outbound.receive(f.dialerStream.prefix(123), now: t0), [.established(peerKey: f.dialer.publicKey, priority: 5)])
    }

    func testALinkToOurselvesIsRefused() throws {
        let f = try CaptureFixture.load(.plain)
        // We hold the dialer's key and receive the dialer's own handshake: a connection to ourselves.
        var link = try YggdrasilLink(identity: f.dialer, direction: .outbound, options: .init(), now: t0)
        let events = link.receive(f.dialerStream, now: t0)
        XCTAssertEqual(events, [.closed(.ownKey)])
        XCTAssertEqual(closeReason(events)?.code, .ownKey)
    }

    func testNotYggdrasilIsRefusedAtOnce() throws {
        let f = try CaptureFixture.load(.plain)
        var link = try listenerLink(f)
        let events = link.receive(Array("GET / HTTP/1.1\r\n".utf8), now: t0)
        XCTAssertEqual(closeReason(events)?.code, .notYggdrasil)
    }

    // MARK: Timers (ironwood peers.go peerMonitor)

    func testTheHandshakeMustCompleteWithinSixSeconds() throws {
        let f = try CaptureFixture.load(.plain)
        var link = try listenerLink(f)
        _ = link.receive(f.dialerStream.prefix(50), now: t0)
        XCTAssertEqual(link.nextDeadline, t0.adding(seconds: 6))
        XCTAssertEqual(link.handleDeadline(now: t0.adding(seconds: 5.9)), [])
        let events = link.handleDeadline(now: t0.adding(seconds: 6))
        XCTAssertEqual(events, [.closed(.handshakeTimeout)])
        XCTAssertEqual(closeReason(events)?.code, .handshakeTimeout)
        XCTAssertEqual(link.receive(f.dialerStream.dropFirst(50), now: t0.adding(seconds: 6)), [], "nothing after close")
    }

    /// A received frame that is not a keepalive obliges an answer within 1 s: a keepalive when
    /// nothing else went out. Sending anything first cancels it.
    func testAReceivedFrameIsAnsweredByAKeepaliveAfterOneSecond() throws {
        var link = try established()
        XCTAssertEqual(link.nextDeadline, .never, "an idle link has no timer")
        let t1 = t0.adding(seconds: 10)
        XCTAssertEqual(link.receive([2, IronwoodFrame.FrameType.sigReq.rawValue, 7], now: t1),
                       [.frame(IronwoodFrame(type: .sigReq, body: [7]))])
        XCTAssertEqual(link.nextDeadline, t1.adding(seconds: 1))
        // A second frame does not push the answer later.
        _ = link.receive([2, IronwoodFrame.FrameType.bloom.rawValue, 7], now: t1.adding(seconds: 0.5))
        XCTAssertEqual(link.nextDeadline, t1.adding(seconds: 1))
        XCTAssertEqual(link.handleDeadline(now: t1.adding(seconds: 0.99)), [])
        XCTAssertEqual(link.pendingOutput, 0)
        XCTAssertEqual(link.handleDeadline(now: t1.adding(seconds: 1)), [])
        XCTAssertEqual(link.takeOutput(), [0x01, 0x01])
        // The keepalive itself arms no read deadline: the link is idle again.
        XCTAssertEqual(link.nextDeadline, .never)

        // A frame of our own inside the second cancels the keepalive (and arms our deadline).
        let t2 = t1.adding(seconds: 10)
        _ = link.receive([2, IronwoodFrame.FrameType.sigReq.rawValue, 7], now: t2)
        XCTAssertTrue(link.send(IronwoodFrame(type: .sigRes, body: [1, 2]), now: t2.adding(seconds: 0.2)))
        XCTAssertEqual(link.takeOutput(), [3, 3, 1, 2])
        XCTAssertEqual(link.nextDeadline, t2.adding(seconds: 3.2))
        XCTAssertEqual(link.handleDeadline(now: t2.adding(seconds: 1)), [])
        XCTAssertEqual(link.pendingOutput, 0, "no keepalive after our own frame")
    }

    /// A keepalive received is not a frame for the router and does not need answering.
    func testAReceivedKeepaliveIsNeitherForwardedNorAnswered() throws {
        var link = try established()
        XCTAssertEqual(link.receive([0x01, 0x01], now: t0), [])
        XCTAssertEqual(link.nextDeadline, .never)
        XCTAssertEqual(link.framesIn, 1)
    }

    /// Sending a frame arms a 3 s read deadline (not pushed later by more sends); any frame back,
    /// a keepalive included, disarms it; silence past it closes the link.
    func testASentFrameWantsSomethingBackWithinThreeSeconds() throws {
        var link = try established()
        let t1 = t0.adding(seconds: 20)
        link.send(IronwoodFrame(type: .announce, body: [1]), now: t1)
        XCTAssertEqual(link.nextDeadline, t1.adding(seconds: 3))
        link.send(IronwoodFrame(type: .bloom, body: [1]), now: t1.adding(seconds: 2))
        XCTAssertEqual(link.nextDeadline, t1.adding(seconds: 3), "a second send does not extend the deadline")
        // A keepalive back disarms it.
        XCTAssertEqual(link.receive([0x01, 0x01], now: t1.adding(seconds: 2.5)), [])
        XCTAssertEqual(link.nextDeadline, .never)
        XCTAssertEqual(link.handleDeadline(now: t1.adding(seconds: 3)), [])

        // Sending only keepalives arms nothing.
        link.send(IronwoodFrame(type: .keepAlive), now: t1.adding(seconds: 4))
        XCTAssertEqual(link.nextDeadline, .never)

        let t2 = t1.adding(seconds: 10)
        link.send(IronwoodFrame(type: .sigReq, body: [9]), now: t2)
        XCTAssertEqual(link.handleDeadline(now: t2.adding(seconds: 2.99)), [])
        let events = link.handleDeadline(now: t2.adding(seconds: 3))
        XCTAssertEqual(events, [.closed(.readTimeout)])
        XCTAssertEqual(closeReason(events)?.code, .readTimeout)
        XCTAssertFalse(link.send(IronwoodFrame(type: .sigReq, body: [9]), now: t2.adding(seconds: 3)))
    }

    // MARK: Bad frames close the link

    func testAnOversizeFrameClosesTheLinkAsSoonAsItsLengthIsRead() throws {
        var link = try established()
        var prefix: [UInt8] = []
        Uvarint.append(UInt64(IronwoodFrame.maxLength + 1), to: &prefix)
        let events = link.receive(prefix, now: t0)
        XCTAssertEqual(events, [.closed(.frame(.oversize(UInt64(IronwoodFrame.maxLength + 1))))])
        XCTAssertEqual(closeReason(events)?.code, .frameOversize)
        XCTAssertTrue(link.isClosed)

        // The largest allowed frame passes.
        var ok = try established()
        var big: [UInt8] = []
        Uvarint.append(UInt64(IronwoodFrame.maxLength), to: &big)
        big.append(IronwoodFrame.FrameType.traffic.rawValue)
        big += [UInt8](repeating: 0xAB, count: IronwoodFrame.maxLength - 1)
        XCTAssertEqual(ok.receive(big, now: t0).count, 1)
        XCTAssertTrue(ok.isEstablished)
        // And one over it is not sent.
        XCTAssertFalse(ok.send(IronwoodFrame(type: .traffic, body: [UInt8](repeating: 0, count: IronwoodFrame.maxLength)), now: t0))
    }

    func testGarbageFramesCloseTheLink() throws {
        for garbage: [UInt8] in [[0x05, 0x63, 1, 2, 3, 4], [0x00], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]] {
            var link = try established()
            // A good frame first: the bad one after it still closes the link.
            let events = link.receive([2, IronwoodFrame.FrameType.bloom.rawValue, 1] + garbage + [0x01, 0x01], now: t0)
            XCTAssertEqual(events.count, 2, Hex.encode(garbage))
            XCTAssertEqual(closeReason(events)?.code, .frameMalformed, Hex.encode(garbage))
            XCTAssertEqual(link.receive([0x01, 0x01], now: t0), [], "nothing after close")
            XCTAssertEqual(link.close(because: .local("again")), [], "closed once")
        }
    }

    /// A peer that stops reading cannot grow our buffer past the bound with traffic; protocol
    /// frames still queue.
    func testTrafficIsDroppedWhenThePeerStopsReading() throws {
        var link = try established()
        let chunk = IronwoodFrame(type: .traffic, body: [UInt8](repeating: 1, count: 60_000))
        var queued = 0
        while link.send(chunk, now: t0) { queued += 1 }
        XCTAssertEqual(link.dropped, 1)
        XCTAssertLessThan(link.pendingOutput, YggdrasilLink.maxPendingOutput + 70_000)
        XCTAssertTrue(link.send(IronwoodFrame(type: .sigRes, body: [1]), now: t0))
        _ = link.takeOutput()
        XCTAssertTrue(link.send(chunk, now: t0))
        XCTAssertGreaterThan(queued, 60)
    }
}
