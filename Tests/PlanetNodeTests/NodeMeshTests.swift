import XCTest
import PlanetCore
@testable import PlanetNode

final class NodeMeshTests: XCTestCase {
    func echo(from s: IPv6Address, to d: IPv6Address, seq: UInt16 = 1, payload: Int = 32, hopLimit: UInt8 = 64) -> [UInt8] {
        var body: [UInt8] = [ICMPv6.echoRequest, 0, 0, 0, 0x12, 0x34, UInt8(seq >> 8), UInt8(seq & 0xff)]
        body.append(contentsOf: (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        return ICMPv6.packet(from: s, to: d, icmp: body, hopLimit: hopLimit)
    }

    func line4() -> NodeHarness {
        let h = NodeHarness()
        h.add("b")
        h.add("r2", peers: ["b"])
        h.add("r1", peers: ["r2"])
        h.add("a", peers: ["r1"])
        return h
    }

    func testLineOfFourRoutesEndToEnd() throws {
        let h = line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        XCTAssertEqual(a.links.upPeers.count, 1)
        let route = try XCTUnwrap(a.router.route(forAddress: b.address), "a has no route to b: \(a.router.routes())")
        XCTAssertEqual(route.destination, b.identity.publicKey)
        XCTAssertEqual(route.nextHop, h.nodes["r1"]!.identity.publicKey)
        let packet = echo(from: a.address, to: b.address)
        h.sendFromTun("a", packet)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [packet], "b did not receive a's packet intact")
        XCTAssertEqual(a.sessions.session(b.identity.publicKey)?.isEstablished, true)
    }
}
