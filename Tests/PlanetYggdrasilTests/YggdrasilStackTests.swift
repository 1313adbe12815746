import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// The IPv6 layer over the session layer, two nodes back to back with a perfect router between
/// them (which answers every lookup with the other node's key, as a path notify would): a ping
/// from A's TUN reaches B's TUN, the reply comes back, and the sizes add up to yggdrasil's MTU.
final class YggdrasilStackTests: XCTestCase {
    final class Node {
        let identity = NodeIdentity.generate()
        let sessions: IronwoodSessions
        let ipv6: YggdrasilIPv6
        var tun: [[UInt8]] = []
        init(now: Instant, routerMTU: Int) {
            sessions = IronwoodSessions(identity: identity, now: now, unixSeconds: 1_800_000_000, networkMTU: routerMTU)
            ipv6 = YggdrasilIPv6(identity: identity, mtu: YggdrasilIPv6.maximumMTU(sessionMessageMTU: sessions.messageMTU))
        }
        var address: [UInt8] { OverlayAddress.addressBytes(for: identity.publicKey) }
    }

    var now = Instant(seconds: 10)

    func route(_ outputs: [YggdrasilIPv6Output], at node: Node, other: Node) {
        for out in outputs {
            switch out {
            case .send(let to, let message): node.sessions.send(to: to, message: message, now: now)
            case .lookup(let partial):
                // The router's answer: the other node's bloom entry matches the partial key.
                XCTAssertEqual(Array(partial.bytes.prefix(8)), Array(other.identity.publicKey.bytes.prefix(8)))
                route(node.ipv6.pathNotify(key: other.identity.publicKey, now: now), at: node, other: other)
            case .toTUN(let packet): node.tun.append(packet)
            case .protocolMessage: XCTFail("no protocol messages here")
            }
        }
    }

    func pump(_ a: Node, _ b: Node) {
        var moved = true
        while moved {
            moved = false
            for (node, other) in [(a, b), (b, a)] {
                for out in node.sessions.takeOutput() {
                    moved = true
                    switch out {
                    case .network(_, let payload): other.sessions.receive(from: node.identity.publicKey, payload: payload, now: now)
                    case .deliver(let from, let message): route(node.ipv6.inbound(from: from, message: message, now: now), at: node, other: other)
                    }
                }
            }
        }
    }

    func echo(from: [UInt8], to: [UInt8], size: Int, type: UInt8 = 128) -> [UInt8] {
        var p: [UInt8] = [0x60, 0, 0, 0, UInt8((size - 40) >> 8), UInt8(truncatingIfNeeded: size - 40), 58, 64] + from + to
        p += [type, 0, 0, 0] + [UInt8](repeating: 0xab, count: size - 44)
        return p
    }

    func testPingBothWaysAndTheMTU() {
        let routerMTU = 1400
        let a = Node(now: now, routerMTU: routerMTU), b = Node(now: now, routerMTU: routerMTU)
        // ironwood's session overhead (79) and yggdrasil's type byte come off the router's MTU.
        XCTAssertEqual(a.ipv6.mtu, 1400 - 79 - 1)
        let request = echo(from: a.address, to: b.address, size: a.ipv6.mtu)
        route(a.ipv6.outbound(request, now: now), at: a, other: b)
        pump(a, b)
        XCTAssertEqual(b.tun, [request])
        let reply = echo(from: b.address, to: a.address, size: 100, type: 129)
        route(b.ipv6.outbound(reply, now: now), at: b, other: a)
        pump(a, b)
        XCTAssertEqual(a.tun, [reply])
        // One byte more than fits: packet-too-big to A's own TUN, nothing sent.
        route(a.ipv6.outbound(echo(from: a.address, to: b.address, size: a.ipv6.mtu + 1), now: now), at: a, other: b)
        XCTAssertEqual(a.tun.count, 2)
        XCTAssertEqual(a.tun.last?[40], 2)
        XCTAssertTrue(a.sessions.takeOutput().isEmpty)
        // The largest packet's session message fills the router's MTU exactly, minus the
        // uvarints' unused room.
        a.sessions.send(to: b.identity.publicKey, message: [1] + request, now: now)
        guard case .network(_, let payload)? = a.sessions.takeOutput().first else { return XCTFail() }
        XCTAssertLessThanOrEqual(payload.count, routerMTU)
    }
}
