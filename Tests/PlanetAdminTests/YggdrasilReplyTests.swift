import XCTest
import PlanetCore
@testable import PlanetAdmin

/// The Yggdrasil parts of getSelf, getRoutes and getStats: written in the documented order,
/// read back whole, and optional to read, so a planetctl still reads a daemon from before them
/// (and a node without an Yggdrasil side says null).
final class YggdrasilReplyTests: XCTestCase {
    static let key = String(repeating: "ab", count: 32)
    static let root = String(repeating: "01", count: 32)

    static var selfReply: SelfReply {
        SelfReply(publicKey: key, address: "200:1::1", subnet: "300:1::/64", version: "0.1.0", uptimeSeconds: 5,
                  publicEndpoints: [], natMapping: "none", localEndpoints: [], punching: true,
                  yggdrasil: .init(root: root, rootAddress: "200:fe::1", isRoot: false, coords: [3, 1], parent: String(repeating: "cd", count: 32),
                                   peers: 2, treeEntries: 7, paths: 1, sessions: 1))
    }

    func testSelfReplyWithYggdrasilRoundTrips() throws {
        let json = try JSONValueCoder.encode(Self.selfReply)
        let y = try XCTUnwrap(json["yggdrasil"])
        XCTAssertEqual(y.serialized(), #"{"root":"\#(Self.root)","rootAddress":"200:fe::1","isRoot":false,"coords":[3,1],"parent":"\#(String(repeating: "cd", count: 32))","peers":2,"treeEntries":7,"paths":1,"sessions":1}"#)
        XCTAssertEqual(try JSONValueCoder.decode(SelfReply.self, from: json), Self.selfReply)
        // The root's coordinates are empty, not missing.
        var atRoot = Self.selfReply
        atRoot.yggdrasil!.coords = []
        atRoot.yggdrasil!.isRoot = true
        XCTAssertEqual(try JSONValueCoder.encode(atRoot)["yggdrasil"]?["coords"], .array([]))
        XCTAssertEqual(try JSONValueCoder.decode(SelfReply.self, from: JSONValueCoder.encode(atRoot)), atRoot)
    }

    func testSelfReplyWithoutYggdrasilReads() throws {
        // A node without the side: null, the key present.
        var plain = Self.selfReply
        plain.yggdrasil = nil
        let json = try JSONValueCoder.encode(plain)
        XCTAssertEqual(json["yggdrasil"], .null)
        XCTAssertEqual(try JSONValueCoder.decode(SelfReply.self, from: json), plain)
        // A daemon from before it: no key at all; the old fields unchanged.
        guard case .object(let fields) = json else { return XCTFail() }
        let old = JSONValue.object(fields.filter { $0.0 != "yggdrasil" })
        XCTAssertEqual(fields.map(\.0), ["publicKey", "address", "subnet", "version", "uptimeSeconds", "publicEndpoints", "natMapping",
                                         "localEndpoints", "punching", "yggdrasil", "routing"])
        XCTAssertNil(try JSONValueCoder.decode(SelfReply.self, from: old).yggdrasil)
        // A broken part is refused by name.
        let bad = JSONValue.object(fields.filter { $0.0 != "yggdrasil" } + [("yggdrasil", .object([("root", .number(1))]))])
        XCTAssertThrowsError(try JSONValueCoder.decode(SelfReply.self, from: bad)) { e in
            XCTAssertTrue("\(e)".contains("yggdrasil.root"), "\(e)")
        }
    }

    func testYggdrasilRouteRoundTripsAndOldRoutesRead() throws {
        let path = RoutesReply.Route(prefix: "300:2::/64", address: "200:2::1", publicKey: Self.key, nextHop: Self.root, metric: 3, seqno: 1_765_000_000,
                                     protocol: "yggdrasil", path: [3, 1, 4], broken: false, expiresInSeconds: 59)
        let json = try JSONValueCoder.encode(RoutesReply(routes: [path]))
        XCTAssertEqual(json.serialized(), #"{"routes":[{"prefix":"300:2::/64","address":"200:2::1","publicKey":"\#(Self.key)","nextHop":"\#(Self.root)","metric":3,"seqno":1765000000,"protocol":"yggdrasil","path":[3,1,4],"broken":false,"expiresInSeconds":59}]}"#)
        XCTAssertEqual(try JSONValueCoder.decode(RoutesReply.self, from: json), RoutesReply(routes: [path]))
        // A route from a daemon before the protocol field reads, with nil where it is silent.
        let old = JSONValue.object([("routes", .array([.object([("prefix", .string("300:1::/64")), ("address", .string("200:1::1")),
                                                                ("publicKey", .string(Self.key)), ("nextHop", .null),
                                                                ("metric", .number(96)), ("seqno", .number(7))])]))])
        let read = try JSONValueCoder.decode(RoutesReply.self, from: old).routes[0]
        XCTAssertNil(read.protocol)
        XCTAssertNil(read.path)
        XCTAssertEqual(read.metric, 96)
    }

    func testStatsGaugesRoundTripAndOldStatsRead() throws {
        let stats = StatsReply(rxPackets: 1, yggdrasilGauges: .init(peers: 1, treeEntries: 2, paths: 3, sessions: 4, isRoot: true))
        let json = try JSONValueCoder.encode(stats)
        XCTAssertEqual(json["yggdrasilGauges"]?.serialized(), #"{"peers":1,"treeEntries":2,"paths":3,"sessions":4,"isRoot":true}"#)
        XCTAssertEqual(try JSONValueCoder.decode(StatsReply.self, from: json), stats)
        guard case .object(let fields) = json else { return XCTFail() }
        XCTAssertNil(try JSONValueCoder.decode(StatsReply.self, from: .object(fields.filter { $0.0 != "yggdrasilGauges" })).yggdrasilGauges)
    }
}
