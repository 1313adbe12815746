import XCTest
import PlanetCore
import PlanetAdmin
import PlanetLink
@testable import PlanetNode
import PlanetTesting

/// A neighbour protocol besides routing plugs in by registering its frame type: it hears of
/// neighbours coming and going, gets its frames, and its output is paced with routing's.
final class EchoNeighbourProtocol: NeighbourProtocol {
    let name = "echo-test"
    let frameType: UInt8 = 0x1f
    let pacingLane = 3
    let changesRoutes = false
    var up: [PublicKey] = []
    var down: [PublicKey] = []
    var rtts: [PublicKey: Double] = [:]
    var received: [(body: [UInt8], from: PublicKey)] = []
    var outgoing: [(PublicKey, [UInt8])] = []
    var ticks = 0

    func neighbourUp(_ key: PublicKey, now: Instant) { up.append(key); outgoing.append((key, Array("hello".utf8))) }
    func neighbourDown(_ key: PublicKey, now: Instant) { down.append(key) }
    func neighbourRTT(_ key: PublicKey, seconds: Double, now: Instant) { rtts[key] = seconds }
    func receive(_ body: [UInt8], from key: PublicKey, now: Instant) { received.append((body, key)) }
    func tick(now: Instant) { ticks += 1 }
    var nextDeadline: Instant { .never }
    func drainOutgoing(_ send: (PublicKey, [UInt8]) -> Void) {
        for (k, b) in outgoing { send(k, b) }
        outgoing.removeAll()
    }
    var drops: [(String, UInt64)] { [("echo-test-dropped", 3)] }
}

final class NeighbourProtocolTests: XCTestCase {
    func testARegisteredProtocolHearsNeighboursAndGetsItsFrames() throws {
        let h = NodeHarness()
        let b = h.add("b")
        let protoB = EchoNeighbourProtocol()
        b.register(protoB)
        let a = h.add("a", peers: ["b"])
        let protoA = EchoNeighbourProtocol()
        a.register(protoA)
        h.run(seconds: 5)
        XCTAssertEqual(protoA.up, [b.identity.publicKey])
        XCTAssertEqual(protoB.up, [a.identity.publicKey])
        XCTAssertEqual(protoB.received.map(\.body), [Array("hello".utf8)])
        XCTAssertEqual(protoB.received.first?.from, a.identity.publicKey)
        XCTAssertEqual(protoA.received.map(\.body), [Array("hello".utf8)])
        XCTAssertNotNil(protoA.rtts[b.identity.publicKey], "no RTT reached the protocol")
        XCTAssertGreaterThan(protoA.ticks, 0)
        // Routing still works beside it, and its counters join getStats.
        XCTAssertNotNil(a.router.route(forAddress: b.address))
        guard case .success(let stats) = adminJSON(a, .getStats, now: h.now) else { return XCTFail("getStats failed") }
        XCTAssertEqual(stats["drops"]?["echo-test-dropped"]?.numberValue, 3)
        // A neighbour going away is told.
        a.removePeer(PeerURI(host: h.endpoints["b"]!.address.description, port: h.endpoints["b"]!.port), now: h.now)
        h.collect("a")
        XCTAssertEqual(protoA.down, [b.identity.publicKey])
    }

    func testAFrameTypeNobodyRegisteredIsDroppedAndCounted() throws {
        let h = NodeHarness()
        let b = h.add("b")
        let a = h.add("a", peers: ["b"])
        h.run(seconds: 5)
        XCTAssertTrue(a.links.send(frame: [0x1e, 1, 2, 3], to: b.identity.publicKey, now: h.now))
        a.pumpData(now: h.now)
        h.collect("a")
        h.run(seconds: 0.5)
        XCTAssertEqual(b.stats.dropped(.unknownFrame), 1)
    }

    /// Only a protocol whose frames can change routes (`changesRoutes`: routing) clears the
    /// data path's route cache; a capacity gossip frame leaves the cached route in place.
    func testOnlyARoutingFrameClearsTheRouteCache() throws {
        let h = NodeHarness()
        let b = h.add("b")
        let a = h.add("a", peers: ["b"])
        h.run(seconds: 5)
        let from = b.identity.publicKey
        XCTAssertNotNil(a.routeCache.route(for: b.address, router: a.router), "no route to b")
        func cached() -> Bool {
            let hits = a.routeCache.hits
            _ = a.routeCache.route(for: b.address, router: a.router)
            return a.routeCache.hits == hits + 1
        }
        XCTAssertTrue(cached(), "the route was not cached to begin with")
        a.receiveFrame(copying: [InnerFrameType.capacity.rawValue, 0xff, 0xff][...], from: from, now: h.now)
        XCTAssertTrue(cached(), "a capacity frame cleared the route cache")
        a.receiveFrame(copying: [InnerFrameType.routing.rawValue, 0xff, 0xff][...], from: from, now: h.now)
        XCTAssertFalse(cached(), "a routing frame left the route cache as it was")
    }
}
