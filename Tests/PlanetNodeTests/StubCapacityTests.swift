import XCTest
import PlanetCore
import PlanetAdmin
import PlanetCapacity
@testable import PlanetNode
import PlanetTesting

/// Capacity on a stub, end to end over the harness: the stub holds its own record only, its
/// upstream sends it no capacity traffic, and `nodes find` on the stub is asked of the upstream.
final class StubCapacityTests: XCTestCase {
    let machine = CapacityMeasurement(cpus: 8, memoryBytes: 32 << 30, ssdBytes: 1 << 40, hddBytes: 0, publicIPv4: true, publicIPv6: false, uptimeSeconds: 10)

    var stubRouting: RoutingConfig { var r = RoutingConfig(); r.stub = .on; return r }

    func capacity(_ country: String) -> CapacityConfig {
        var c = CapacityConfig()
        c.enabled = true
        c.country = country
        c.reserved.mru = 1 << 30
        return c
    }

    func measure(_ h: NodeHarness, _ names: [String], memory: UInt64 = 32 << 30) {
        var m = machine
        m.memoryBytes = memory
        for n in names {
            h.nodes[n]!.capacityMeasured(m, unixSeconds: NodeHarness.unixEpoch + h.now.seconds, now: h.now)
            h.collect(n)
        }
    }

    /// c — hub — s (stub), everyone announcing.
    func network() -> NodeHarness {
        let h = NodeHarness()
        h.add("c", capacity: capacity("NL"))
        h.add("hub", peers: ["c"], capacity: capacity("BE"))
        h.add("s", peers: ["hub"], capacity: capacity("BE"), routing: stubRouting)
        measure(h, ["c", "hub", "s"])
        h.run(seconds: 10)
        return h
    }

    /// The admin call as planetd makes it on a stub: the reply comes later, from the loop.
    func ask(_ h: NodeHarness, _ name: String, _ request: AdminRequest, wait: Double = 1) -> Result<JSONValue, AdminError>? {
        var result: Result<JSONValue, AdminError>?
        h.nodes[name]!.admin(request, now: h.now) { reply in
            result = reply.flatMap { r in Result { try JSONValueCoder.encode(r) }.mapError { AdminError("\($0)") } }
        }
        h.collect(name)
        h.run(seconds: wait)
        return result
    }

    func keys(_ r: Result<JSONValue, AdminError>?) -> [String] {
        guard case .success(let v)? = r else { XCTFail("no answer: \(String(describing: r))"); return [] }
        return v["nodes"]?.arrayValue?.compactMap { $0["publicKey"]?.stringValue } ?? []
    }

    func testStubHoldsOnlyItsOwnRecordWhichReachesAThirdNode() {
        let h = network()
        let s = h.nodes["s"]!, c = h.nodes["c"]!
        XCTAssertTrue(s.findsThroughUpstream)
        XCTAssertEqual(s.capacity.directory.count, 1)
        XCTAssertNotNil(s.capacity.directory[s.identity.publicKey])
        XCTAssertEqual(c.capacity.directory.count, 3)
        XCTAssertNotNil(c.capacity.directory[s.identity.publicKey], "the stub's record reached a third node through its upstream")
    }

    func testUpstreamSendsTheStubNoCapacityTrafficWhileARecordChangesElsewhere() {
        let h = network()
        let s = h.nodes["s"]!, hub = h.nodes["hub"]!, c = h.nodes["c"]!
        let received = s.capacity.bytesReceived
        let seqno = hub.capacity.directory[c.identity.publicKey]!.seqno
        h.run(seconds: 10)
        measure(h, ["c"], memory: 64 << 30)  // c's record changes
        h.run(seconds: 130)  // and summaries fall due twice
        XCTAssertGreaterThan(hub.capacity.directory[c.identity.publicKey]!.seqno, seqno, "the change reached the upstream")
        XCTAssertEqual(s.capacity.bytesReceived, received, "the upstream sent the stub capacity traffic")
        XCTAssertEqual(s.capacity.directory.count, 1)
    }

    func testStubFindsAThirdNodesRecordThroughItsUpstream() throws {
        let h = network()
        let s = h.nodes["s"]!, c = h.nodes["c"]!, hub = h.nodes["hub"]!
        // The synchronous call cannot answer on a stub: it says so.
        guard case .failure = adminJSON(s, .findNodes([]), now: h.now) else { return XCTFail("a stub answered from a directory it does not hold") }
        let found = ask(h, "s", .findNodes([AdminRequest.Filter(NodeFilter(rawValue: "country")!, "NL")]))
        XCTAssertEqual(keys(found), [c.identity.publicKey.hex])
        if case .success(let v)? = found {
            XCTAssertEqual(v["held"]?.numberValue, 3, "the upstream's count")
            XCTAssertEqual(v["nodes"]?.arrayValue?.first?["metric"]?.numberValue, hub.router.metric(to: c.identity.publicKey).map(Double.init),
                           "the upstream's metric")
        }
        // Everything, sorted by the upstream's metric (the stub's own record at 0, as on any
        // node): the hub and the stub (both 0), then c.
        let all = keys(ask(h, "s", .getNodes))
        XCTAssertEqual(Set(all.prefix(2)), [hub.identity.publicKey.hex, s.identity.publicKey.hex])
        XCTAssertEqual(all.last, c.identity.publicKey.hex)
        // One by key, and one nobody announced.
        guard case .success(let one)? = ask(h, "s", .getNode(c.identity.publicKey.hex)) else { return XCTFail("getNode failed") }
        XCTAssertEqual(one["publicKey"]?.stringValue, c.identity.publicKey.hex)
        guard case .failure(let e)? = ask(h, "s", .getNode(NodeIdentity.generate().publicKey.hex)) else { return XCTFail("found a record nobody announced") }
        XCTAssertTrue(e.message.hasPrefix("no capacity record for"), e.message)
        // A bad argument is answered at once, without asking.
        var direct: Result<any AdminResponse, AdminError>?
        s.admin(.findNodes([AdminRequest.Filter(NodeFilter(rawValue: "country")!, "Belgium")]), now: h.now) { direct = $0 }
        guard case .failure(let bad)? = direct else { return XCTFail("a bad argument was sent on") }
        XCTAssertTrue(bad.message.contains("country"), bad.message)
        XCTAssertEqual(s.capacity.directory.count, 1)
    }

    func testAFindTheUpstreamDoesNotAnswerFailsWithAClearError() {
        let h = network()
        h.cut.insert(["s", "hub"])
        var result: Result<any AdminResponse, AdminError>?
        h.nodes["s"]!.admin(.getNodes, now: h.now) { result = $0 }
        h.collect("s")
        h.run(seconds: CapacityFinds.timeout - 0.5)
        XCTAssertNil(result, "answered before the timeout")
        h.run(seconds: 1)
        guard case .failure(let e)? = result else { return XCTFail("no error: \(String(describing: result))") }
        XCTAssertEqual(e.message, "upstream did not answer")
    }

    /// Issue #25 with records re-announced elsewhere: 100 keys, each re-announced every 20 s
    /// (5 records a second, as 9,000 records re-announced every 30 min would be), reach the
    /// upstream, and the stub's whole link stays under 100 B/s.
    func testStubLinkStaysUnder100BytesPerSecondWhileRecordsAreReannouncedElsewhere() {
        let h = NodeHarness()
        h.add("c", capacity: capacity("NL"))
        h.add("r", peers: ["c"])
        h.add("hub", peers: ["r"])
        h.add("s", peers: ["hub"], capacity: capacity("BE"), routing: stubRouting)
        measure(h, ["c", "s"])
        h.run(seconds: 120)
        let s = h.nodes["s"]!, c = h.nodes["c"]!, hub = h.nodes["hub"]!
        let others = (0..<100).map { _ in NodeIdentity.generate() }
        func bytes(_ n: Node) -> UInt64 { n.links.snapshot(now: h.now).reduce(0) { $0 + $1.rxBytes + $1.txBytes } }
        let before = bytes(s), hubBefore = hub.capacity.bytesReceived
        var seqno: UInt64 = 0
        let seconds = 300
        for t in 0..<seconds {
            seqno += 1
            for (i, x) in others.enumerated() where (t + i) % 20 == 0 {
                let unix = NodeHarness.unixEpoch + h.now.seconds
                let r = CapacityRecord(key: x.publicKey, seqno: seqno, issuedAt: UInt64(unix), expiresAt: UInt64(unix) + 5400,
                                       total: CapacityResources(cru: 4, mru: 8 << 30, sru: 0, hru: 0), used: .zero, country: "NL", farmId: 1)
                c.capacity.gossip.publish(r.signed(by: x), now: h.now, unixNow: unix)
            }
            h.collect("c")
            h.run(seconds: 1)
        }
        let rate = Double(bytes(s) - before) / Double(seconds)
        let hubRate = Double(hub.capacity.bytesReceived - hubBefore) / Double(seconds)
        print("stub link while records are re-announced elsewhere: \(rate) B/s; capacity gossip reaching its upstream: \(hubRate) B/s")
        XCTAssertGreaterThan(hubRate, 500, "the records did flow past the stub")
        XCTAssertEqual(hub.capacity.directory.count, 102)
        XCTAssertEqual(s.capacity.directory.count, 1)
        XCTAssertLessThan(rate, 100)
    }
}
