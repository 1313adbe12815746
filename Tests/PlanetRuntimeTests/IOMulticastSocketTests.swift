import XCTest
import Foundation
import PlanetCore
@testable import PlanetRuntime

/// Beacons between two sockets over a veth pair created (and deleted) by the test in the
/// current namespace. Link-local addresses are added with `nodad` so the test need not
/// wait for duplicate address detection.
final class IOMulticastSocketTests: XCTestCase {
    private var left = ""
    private var right = ""
    private let leftAddress = IPv6Address("fe80::5:a")!
    private let rightAddress = IPv6Address("fe80::5:b")!

    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot(), "multicast tests create a veth pair and need root")
        let tag = String(UInt32.random(in: 0..<0xfffff), radix: 16)
        left = "pmca" + tag
        right = "pmcb" + tag
        let made = ip("link", "add", left, "type", "veth", "peer", "name", right)
        try XCTSkipUnless(made.status == 0, "cannot create veth: \(made.output)")
        for (dev, addr) in [(left, leftAddress), (right, rightAddress)] {
            XCTAssertEqual(ip("link", "set", dev, "addrgenmode", "none").status, 0)
            XCTAssertEqual(ip("link", "set", dev, "up").status, 0)
            let r = ip("-6", "addr", "add", "\(addr)/64", "dev", dev, "nodad")
            XCTAssertEqual(r.status, 0, r.output)
        }
    }

    override func tearDown() {
        if !left.isEmpty { _ = ip("link", "del", left) }
    }

    private func receive(_ socket: MulticastSocket, _ batch: DatagramBatch) -> Int {
        for _ in 0..<3000 {
            let n = socket.receive(into: batch)
            if n > 0 { return n }
            usleep(1000)
        }
        return 0
    }

    func testBeaconCrossesLinkWithSourceScopeAndReplyUsesIt() throws {
        let port = UInt16.random(in: 20000..<60000)
        let a = try MulticastSocket(patterns: [left], port: port)
        let scopes = LinkLocalScopes()
        let b = try MulticastSocket(patterns: ["pmcb.*"], port: port, scopes: scopes)
        XCTAssertEqual(Array(a.joined.values), [left])
        XCTAssertEqual(Array(b.joined.values), [right])
        let rightIndex = try XCTUnwrap(NetworkInterface.index(of: right))

        XCTAssertEqual(a.sendBeacon([0x50, 0x4c, 1]), 1)
        let batch = DatagramBatch(capacity: 8, slotSize: 2048)
        XCTAssertEqual(receive(b, batch), 1)
        XCTAssertEqual(Array(batch.datagram(0)), [0x50, 0x4c, 1])
        XCTAssertEqual(batch.endpoint(0).address, leftAddress)
        XCTAssertEqual(batch.endpoint(0).port, port)
        XCTAssertEqual(batch.scopeID(0), rightIndex)
        XCTAssertEqual(b.interfaceName(index: batch.scopeID(0)), right)
        XCTAssertEqual(scopes.scope(for: leftAddress), rightIndex)

        // A UDP socket sharing the scope table sends to a learned fe80:: address out of the
        // right interface: the kernel starts neighbour discovery for it there.
        // fe80::5:d stands for a remote neighbour on the right link.
        let remote = IPv6Address("fe80::5:d")!
        scopes.remember(rightIndex, for: remote)
        let unicast = try UDPSocket(listen: try PeerURI.parse("udp://[::]:0", allowKey: false).get(), scopes: scopes)
        XCTAssertTrue(unicast.send([7], to: Endpoint(address: remote, port: port)))
        let neighbours = ip("-6", "neigh", "show", "dev", right)
        XCTAssertTrue(neighbours.output.contains("\(remote)"), neighbours.output)
    }

    func testPatternsLoopbackAndRescanOfNewInterface() throws {
        let m = try MulticastSocket(patterns: ["lo", "pmc[ab]" + left.dropFirst(4)], port: UInt16.random(in: 20000..<60000),
                                    excluded: [right])
        XCTAssertFalse(m.joined.values.contains("lo"), "loopback is never used")
        XCTAssertEqual(Set(m.joined.values), [left])
        XCTAssertTrue(m.matches(left))
        XCTAssertFalse(m.matches("x" + left), "patterns match whole names")

        // An interface appearing later is joined on rescan; one that vanishes is left.
        let extra = "pmca" + String(UInt32.random(in: 0..<0xfffff), radix: 16)
        let extraPeer = "pmcz" + extra.dropFirst(4)
        let made = ip("link", "add", extra, "type", "veth", "peer", "name", extraPeer)
        XCTAssertEqual(made.status, 0, made.output)
        defer { ip("link", "del", extra) }
        let m2 = try MulticastSocket(patterns: ["pmca.*"], port: UInt16.random(in: 20000..<60000))
        XCTAssertFalse(m2.joined.values.contains(extra), "down and without link-local address: not yet")
        XCTAssertEqual(ip("link", "set", extra, "addrgenmode", "none").status, 0)
        XCTAssertEqual(ip("link", "set", extra, "up").status, 0)
        XCTAssertEqual(ip("-6", "addr", "add", "fe80::5:c/64", "dev", extra, "nodad").status, 0)
        XCTAssertTrue(m2.rescan().contains(extra))
        XCTAssertEqual(ip("link", "del", extra).status, 0)
        m2.rescan()
        XCTAssertFalse(m2.joined.values.contains(extra))
    }

    func testScopeTableKeepsOnlyLinkLocalAndStaysBounded() {
        let t = LinkLocalScopes(capacity: 2)
        t.remember(4, for: IPv6Address("2001:db8::1")!)
        XCTAssertEqual(t.count, 0)
        XCTAssertEqual(t.scope(for: IPv6Address("2001:db8::1")!), 0)
        t.remember(4, for: IPv6Address("fe80::1")!)
        t.remember(5, for: IPv6Address("fe80::2")!)
        XCTAssertEqual(t.scope(for: IPv6Address("fe80::2")!), 5)
        t.remember(6, for: IPv6Address("fe80::3")!)
        XCTAssertLessThanOrEqual(t.count, 2)
        XCTAssertEqual(t.scope(for: IPv6Address("fe80::3")!), 6)
    }

    func testInvalidPatternIsRejected() {
        XCTAssertThrowsError(try MulticastSocket(patterns: ["("], port: 0))
    }
}
