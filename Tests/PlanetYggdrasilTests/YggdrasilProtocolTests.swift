import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// Yggdrasil's protocol messages (payload type 2): the bytes of each answer as proto.go and
/// nodeinfo.go write them, and two whole YggdrasilNodes linked back to back, where one asks
/// and the other answers over a real session.
final class YggdrasilProtocolTests: XCTestCase {
    let key = NodeIdentity.generate().publicKey
    let peerKeys = (0..<3).map { _ in NodeIdentity.generate().publicKey }

    func view(mtu: Int = 65000) -> YggdrasilProtocol.View {
        .init(key: key, routingEntries: 7, peers: peerKeys, tree: [key] + peerKeys, messageMTU: mtu)
    }

    func json(_ bytes: [UInt8]) throws -> JSONValue { try JSONValue.parse(String(decoding: bytes, as: UTF8.self)) }

    func testNodeInfoRequestIsAnsweredWithTheNodeInfo() throws {
        let nodeInfo = YggdrasilProtocol.nodeInfo(extra: [("name", .string("lab-7")), ("buildname", .string("fake"))])
        let p = YggdrasilProtocol(nodeInfo: nodeInfo)
        let reply = try XCTUnwrap(p.answer([1], view: { XCTFail("nodeinfo needs no view"); return view() }))
        XCTAssertEqual(Array(reply.prefix(2)), [2, 2])
        let doc = try json(Array(reply.dropFirst(2)))
        XCTAssertEqual(doc["name"], .string("lab-7"))
        // Our build keys replace the operator's, as yggdrasil's do.
        XCTAssertEqual(doc["buildname"], .string("planetary"))
        XCTAssertEqual(doc["buildversion"], .string(PlanetVersion.string))
        XCTAssertEqual(doc["buildplatform"], .string("linux"))
        XCTAssertNotNil(doc["buildarch"])
        XCTAssertEqual(p.answered["nodeinfo"], 1)
    }

    func testTooLargeNodeInfoIsRefused() {
        let big = String(repeating: "x", count: YggdrasilProtocol.maximumNodeInfoBytes)
        XCTAssertNil(YggdrasilProtocol.nodeInfoOrNil(extra: [("big", .string(big))]))
        XCTAssertNotNil(YggdrasilProtocol.nodeInfoOrNil(extra: [("small", .string("y"))]))
    }

    func testDebugGetSelf() throws {
        let p = YggdrasilProtocol()
        let reply = try XCTUnwrap(p.answer([255, 1], view: { view() }))
        XCTAssertEqual(Array(reply.prefix(3)), [2, 255, 2])
        let doc = try json(Array(reply.dropFirst(3)))
        XCTAssertEqual(doc["key"], .string(key.hex))
        XCTAssertEqual(doc["routing_entries"], .string("7"))
    }

    func testDebugGetPeersAndTreeAreKeysBackToBack() throws {
        let p = YggdrasilProtocol()
        let peers = try XCTUnwrap(p.answer([255, 3], view: { view() }))
        XCTAssertEqual(peers, [2, 255, 4] + peerKeys.flatMap(\.bytes))
        let tree = try XCTUnwrap(p.answer([255, 5], view: { view() }))
        XCTAssertEqual(tree, [2, 255, 6] + ([key] + peerKeys).flatMap(\.bytes))
        // Cut to the session's MTU: room for two keys and the three type bytes.
        let cut = try XCTUnwrap(p.answer([255, 5], view: { view(mtu: 3 + 64 + 10) }))
        XCTAssertEqual(cut.count, 3 + 64)
        XCTAssertEqual(p.answered["get-peers"], 1)
        XCTAssertEqual(p.answered["get-tree"], 2)
    }

    func testResponsesUnknownTypesAndEmptyAreIgnoredAndCounted() {
        let p = YggdrasilProtocol()
        for body: [UInt8] in [[], [0], [2, 0x7b, 0x7d], [255], [255, 0], [255, 2, 0x7b], [255, 4], [255, 6], [255, 7], [3], [254]] {
            XCTAssertNil(p.answer(body, view: { view() }), "\(body)")
        }
        XCTAssertEqual(p.ignored, 11)
        XCTAssertTrue(p.answered.isEmpty)
        XCTAssertEqual(p.report().map(\.0), ["ygg-protocol-ignored"])
    }

    // MARK: Two whole nodes

    var now = Instant(seconds: 100)

    /// Moves frames between two linked nodes (link 1 on both sides) until none are left.
    func shuttle(_ a: YggdrasilNode, _ b: YggdrasilNode) throws {
        for _ in 0..<100 {
            let fa = a.frames, fb = b.frames
            a.frames = []; b.frames = []
            if fa.isEmpty && fb.isEmpty { return }
            for (_, f) in fa { try b.receive(f, from: 1, now: now) }
            for (_, f) in fb { try a.receive(f, from: 1, now: now) }
        }
        XCTFail("the nodes never went quiet")
    }

    func testALinkedNodeAnswersNodeInfoAndDebugCallsOverItsSession() throws {
        let a = YggdrasilNode(identity: .generate(), now: now, unixSeconds: 1_800_000_000, tunMTU: 1500)
        let b = YggdrasilNode(identity: .generate(), now: now, unixSeconds: 1_800_000_000, tunMTU: 1500,
                              nodeInfo: YggdrasilProtocol.nodeInfo(extra: [("name", .string("b"))]))
        XCTAssertTrue(a.linkUp(1, key: b.identity.publicKey, priority: 0, now: now))
        XCTAssertTrue(b.linkUp(1, key: a.identity.publicKey, priority: 0, now: now))
        try shuttle(a, b)
        for _ in 0..<5 {
            now = now.adding(seconds: 1)
            a.tick(now: now); b.tick(now: now)
            try shuttle(a, b)
        }
        // A asks as yggdrasil's admin calls ask: a session message of type 2.
        for request: [UInt8] in [[2, 1], [2, 255, 1], [2, 255, 3], [2, 255, 5]] {
            a.sessions.send(to: b.identity.publicKey, message: request, now: now)
            a.pump(now: now)
            try shuttle(a, b)
        }
        XCTAssertEqual(b.proto.answered, ["nodeinfo": 1, "get-self": 1, "get-peers": 1, "get-tree": 1])
        // A asked nothing through its own handler, so it counts the four answers it got.
        XCTAssertEqual(a.protocolMessagesIgnored, 4)
        XCTAssertTrue(a.delivered.isEmpty && b.delivered.isEmpty, "protocol messages never reach the TUN")
    }
}
