import XCTest
import PlanetCore
@testable import PlanetCapacity

/// Capacity on stub nodes (CapacityGossip+Stub.swift, CapacityFind.swift): a stub keeps its
/// own record only, its upstream sends it nothing but answers, and `nodes find` is asked of
/// the upstream, whose records the stub checks.
final class CapacityStubTests: XCTestCase {
    let unix = 1_000_100.0

    /// u is the upstream, s the stub behind it, c another node of the network.
    struct World {
        var mesh: GossipMesh
        let u: NodeIdentity, s: NodeIdentity, c: NodeIdentity
        var upstream: CapacityGossip { mesh.nodes[u.publicKey]! }
        var stub: CapacityGossip { mesh.nodes[s.publicKey]! }
        var other: CapacityGossip { mesh.nodes[c.publicKey]! }
    }

    func world(metrics: [PublicKey: Int] = [:]) -> World {
        var mesh = GossipMesh(unixNow: unix)
        let u = NodeIdentity.generate(), s = NodeIdentity.generate(), c = NodeIdentity.generate()
        let up = CapacityGossip(directory: CapacityDirectory()), stub = CapacityGossip(directory: CapacityDirectory())
        stub.isStub = true
        let sk = s.publicKey
        up.isStubNeighbour = { $0 == sk }
        up.metric = { metrics[$0] }
        mesh.add(u.publicKey, up)
        mesh.add(s.publicKey, stub)
        mesh.add(c.publicKey, CapacityGossip(directory: CapacityDirectory()))
        mesh.link(u.publicKey, c.publicKey)
        mesh.link(u.publicKey, s.publicKey)
        for x in [u, c] { mesh.nodes[x.publicKey]!.publish(makeRecord(x, country: "NL").signed(by: x), now: mesh.now, unixNow: unix) }
        stub.publish(makeRecord(s).signed(by: s), now: mesh.now, unixNow: unix)
        mesh.run()
        return World(mesh: mesh, u: u, s: s, c: c)
    }

    func testFindMessagesRoundTripAndMalformedOnesAreRefused() {
        let id = NodeIdentity.generate()
        let messages: [CapacityMessage] = [
            .findQuery(id: 7, filters: []),
            .findQuery(id: .max, filters: [.init("country", "BE"), .init("city", "Gent é")]),
            .findAnswer(id: 7, part: 0, parts: 1, held: 0, records: []),
            .findAnswer(id: 9, part: 2, parts: 3, held: 12_345, records: [.init(metric: 5, bytes: makeRecord(id).signed(by: id)), .init(metric: nil, bytes: [1, 2, 3])]),
        ]
        for m in messages {
            XCTAssertEqual(m.encoded().count, m.encodedCount)
            XCTAssertEqual(CapacityMessage.decode(m.encoded()), m)
        }
        let answer = messages[3].encoded()
        XCTAssertNil(CapacityMessage.decode(Array(answer.dropLast())), "truncated")
        XCTAssertNil(CapacityMessage.decode(answer + [0]), "trailing byte")
        var badPart = answer; badPart[5] = 3  // part 3 of 3
        XCTAssertNil(CapacityMessage.decode(badPart))
        var badUTF8 = messages[1].encoded(); badUTF8[8] = 0xff  // inside "country"
        XCTAssertNil(CapacityMessage.decode(badUTF8))
    }

    func testUpstreamSendsAStubNoFloodsOrSummariesAndTakesOnlyItsOwnRecord() {
        var w = world()
        // The stub's own record reached the other side of its upstream; the stub holds only its own.
        XCTAssertNotNil(w.other.directory[w.s.publicKey])
        XCTAssertNotNil(w.upstream.directory[w.s.publicKey])
        XCTAssertEqual(w.stub.directory.count, 1)
        XCTAssertNotNil(w.stub.directory[w.s.publicKey])
        // Records change elsewhere, and summaries fall due: nothing reaches the stub.
        let before = w.mesh.bytesTo[w.s.publicKey] ?? 0
        w.other.publish(makeRecord(w.c, seqno: 2).signed(by: w.c), now: w.mesh.now, unixNow: unix)
        w.mesh.run()
        XCTAssertEqual(w.upstream.directory[w.c.publicKey]?.seqno, 2)
        w.mesh.now = w.mesh.now.adding(seconds: CapacityGossip.resummaryInterval)
        for g in w.mesh.nodes.values { g.tick(now: w.mesh.now, unixNow: unix) }
        w.mesh.run()
        XCTAssertEqual(w.mesh.bytesTo[w.s.publicKey] ?? 0, before, "the upstream sent the stub capacity traffic")
        XCTAssertEqual(w.stub.directory.count, 1)
        // A record the stub relays for someone else is refused and counted; its own is taken.
        let x = NodeIdentity.generate()
        w.upstream.receive(CapacityMessage.records([makeRecord(x).signed(by: x), makeRecord(w.s, seqno: 3).signed(by: w.s)]).encoded(),
                           from: w.s.publicKey, now: w.mesh.now, unixNow: unix)
        XCTAssertNil(w.upstream.directory[x.publicKey])
        XCTAssertEqual(w.upstream.refusedFromStub, 1)
        XCTAssertTrue(w.upstream.drops.contains { $0 == ("capacity-stub-relay", 1) })
        XCTAssertEqual(w.upstream.directory[w.s.publicKey]?.seqno, 3)
        // Records that reach a stub anyway (an older upstream floods them) are not held.
        w.stub.receive(CapacityMessage.records([makeRecord(x).signed(by: x)]).encoded(), from: w.u.publicKey, now: w.mesh.now, unixNow: unix)
        XCTAssertEqual(w.stub.directory.count, 1)
        XCTAssertEqual(w.stub.ignoredAsStub, 1)
    }

    func testStubResendsItsOwnRecordRarelyAndNothingElse() {
        var w = world()
        w.mesh.now = w.mesh.now.adding(seconds: CapacityGossip.quietResummaryInterval)
        w.stub.tick(now: w.mesh.now, unixNow: unix)
        var sent: [CapacityMessage] = []
        w.stub.drainOutgoing { _, body in sent.append(CapacityMessage.decode(body)!) }
        XCTAssertEqual(sent, [.records([w.stub.directory[w.s.publicKey]!.bytes])])
    }

    func find(_ w: inout World, _ filters: [CapacityMessage.Filter]) -> CapacityFinds.Outcome? {
        guard let id = w.stub.find(filters, upstream: w.u.publicKey, now: w.mesh.now) else { return nil }
        w.mesh.run()
        return w.stub.finds.drain().first { $0.id == id }?.outcome
    }

    func testStubFindsThroughItsUpstreamWithTheUpstreamsMetrics() throws {
        var w = world()
        let metrics = [w.c.publicKey: 7, w.u.publicKey: 0]
        w.upstream.metric = { metrics[$0] }
        guard case .found(let records, let ms, let held)? = find(&w, [.init("country", "NL")]) else { return XCTFail("no answer") }
        XCTAssertEqual(records.map { CapacityRecord.header($0)!.key }, [w.u.publicKey, w.c.publicKey], "sorted by the upstream's metric")
        XCTAssertEqual(ms, [0, 7])
        XCTAssertEqual(held, 3)
        // getNode's form: one record by key.
        guard case .found(let one, _, _)? = find(&w, [.init("node", w.c.publicKey.hex)]) else { return XCTFail("no answer") }
        XCTAssertEqual(one, [w.upstream.directory[w.c.publicKey]!.bytes])
        // By overlay address, and by an address in the node's /64; nothing for an unknown key.
        guard case .found(let byAddress, _, _)? = find(&w, [.init("node", w.c.publicKey.address.description)]) else { return XCTFail("no answer") }
        XCTAssertEqual(byAddress, one)
        guard case .found(let none, _, _)? = find(&w, [.init("node", NodeIdentity.generate().publicKey.hex)]) else { return XCTFail("no answer") }
        XCTAssertEqual(none, [])
        // A filter the upstream does not know (a newer stub's) gets an empty answer at once.
        guard case .found(let unknown, _, _)? = find(&w, [.init("colour", "blue")]) else { return XCTFail("no answer") }
        XCTAssertEqual(unknown, [])
        // The stub still holds its own record only.
        XCTAssertEqual(w.stub.directory.count, 1)
        XCTAssertEqual(w.upstream.findQueriesAnswered, 5)
    }

    func testAnAnswerLargerThanADatagramComesInParts() {
        var w = world()
        for _ in 0..<30 {
            let x = NodeIdentity.generate()
            w.upstream.publish(makeRecord(x).signed(by: x), now: w.mesh.now, unixNow: unix)
        }
        w.mesh.run()
        guard case .found(let records, _, let held)? = find(&w, []) else { return XCTFail("no answer") }
        XCTAssertEqual(records.count, 33)
        XCTAssertEqual(held, 33)
    }

    /// The security check: a record whose signature does not verify is discarded and counted;
    /// the upstream can withhold records, never forge them.
    func testAForgedRecordInAnAnswerIsRefused() throws {
        let w = world()
        let id = try XCTUnwrap(w.stub.find([], upstream: w.u.publicKey, now: w.mesh.now))
        let genuine = makeRecord(w.c).signed(by: w.c)
        // The city changed after signing ("Ghent" → "Gentx"): still a well-formed record of c's.
        var forged = genuine
        let city = Array("Ghent".utf8)
        let at = try XCTUnwrap((0...(forged.count - city.count)).first { Array(forged[$0..<$0 + city.count]) == city })
        forged.replaceSubrange(at..<at + city.count, with: Array("Gentx".utf8))
        XCTAssertEqual(try CapacityRecord.decode(forged).city, "Gentx")
        w.stub.receive(CapacityMessage.findAnswer(id: id, part: 0, parts: 1, held: 2,
                                                  records: [.init(metric: 1, bytes: forged), .init(metric: 2, bytes: genuine)]).encoded(),
                       from: w.u.publicKey, now: w.mesh.now, unixNow: unix)
        guard case .found(let records, let metrics, _)? = w.stub.finds.drain().first?.outcome else { return XCTFail("no outcome") }
        XCTAssertEqual(records, [genuine])
        XCTAssertEqual(metrics, [2])
        XCTAssertEqual(w.stub.finds.badSignatures, 1)
        XCTAssertTrue(w.stub.drops.contains { $0 == ("capacity-find-bad-signature", 1) })
    }

    func testAnswersFromAnotherNeighbourOrForNoQueryAreRefused() throws {
        let w = world()
        let id = try XCTUnwrap(w.stub.find([], upstream: w.u.publicKey, now: w.mesh.now))
        let stranger = NodeIdentity.generate().publicKey
        w.stub.neighbourUp(stranger, now: w.mesh.now)
        let answer = CapacityMessage.findAnswer(id: id, part: 0, parts: 1, held: 0, records: []).encoded()
        w.stub.receive(answer, from: stranger, now: w.mesh.now, unixNow: unix)
        w.stub.receive(CapacityMessage.findAnswer(id: id &+ 100, part: 0, parts: 1, held: 0, records: []).encoded(),
                       from: w.u.publicKey, now: w.mesh.now, unixNow: unix)
        XCTAssertEqual(w.stub.finds.unsolicited, 2)
        XCTAssertTrue(w.stub.finds.drain().isEmpty)
        XCTAssertEqual(w.stub.finds.pendingCount, 1)
    }

    /// An upstream that does not answer (an older version drops the unknown message type as
    /// malformed, or the answer is lost): the query fails after `CapacityFinds.timeout`.
    func testAQueryNobodyAnswersFailsAfterTheTimeout() throws {
        let w = world()
        let id = try XCTUnwrap(w.stub.find([], upstream: w.u.publicKey, now: w.mesh.now))
        var query: [UInt8] = []
        w.stub.drainOutgoing { to, body in if to == w.u.publicKey { query = body } }
        // What a version without find queries does with one.
        let old = CapacityGossip(directory: CapacityDirectory())
        old.neighbourUp(w.s.publicKey, now: w.mesh.now)
        var typeFive = query; typeFive[0] = 0x09  // a type no version knows
        old.receive(typeFive, from: w.s.publicKey, now: w.mesh.now, unixNow: unix)
        XCTAssertEqual(old.malformedMessages, 1)
        w.stub.tick(now: w.mesh.now.adding(seconds: CapacityFinds.timeout - 0.1), unixNow: unix)
        XCTAssertTrue(w.stub.finds.drain().isEmpty)
        XCTAssertEqual(w.stub.nextDeadline, w.mesh.now.adding(seconds: CapacityFinds.timeout))
        w.stub.tick(now: w.mesh.now.adding(seconds: CapacityFinds.timeout), unixNow: unix)
        let done = w.stub.finds.drain()
        XCTAssertEqual(done.count, 1)
        XCTAssertEqual(done.first?.id, id)
        guard case .failed(let reason)? = done.first?.outcome else { return XCTFail("not failed") }
        XCTAssertEqual(reason, "upstream did not answer")
    }

    func testTheUpstreamRateLimitsFindQueriesPerNeighbour() {
        let w = world()
        for i in 0..<20 {
            w.upstream.receive(CapacityMessage.findQuery(id: UInt32(i), filters: []).encoded(), from: w.s.publicKey, now: w.mesh.now, unixNow: unix)
        }
        XCTAssertEqual(w.upstream.findQueriesAnswered, UInt64(CapacityGossip.findQueryBurst))
        XCTAssertEqual(w.upstream.findQueriesRateLimited, 20 - UInt64(CapacityGossip.findQueryBurst))
        // A second later one more is allowed.
        w.upstream.receive(CapacityMessage.findQuery(id: 99, filters: []).encoded(), from: w.s.publicKey,
                           now: w.mesh.now.adding(seconds: 1 / CapacityGossip.findQueriesPerSecond), unixNow: unix)
        XCTAssertEqual(w.upstream.findQueriesAnswered, UInt64(CapacityGossip.findQueryBurst) + 1)
    }
}
