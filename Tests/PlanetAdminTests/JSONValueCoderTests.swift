import XCTest
import PlanetCore
@testable import PlanetAdmin

/// Replies are declared once as Codable types; these check that they go to JSON with keys in
/// declaration order and nil as null, and come back equal.
final class JSONValueCoderTests: XCTestCase {
    func testKeysInDeclarationOrderAndNilAsNull() throws {
        let route = RoutesReply.Route(prefix: "300:1::/64", address: "200:1::1", publicKey: "ab", nextHop: nil, metric: 96, seqno: 7)
        let json = try JSONValueCoder.encode(RoutesReply(routes: [route]))
        XCTAssertEqual(json.serialized(), #"{"routes":[{"prefix":"300:1::/64","address":"200:1::1","publicKey":"ab","nextHop":null,"metric":96,"seqno":7}]}"#)
        XCTAssertEqual(try JSONValueCoder.decode(RoutesReply.self, from: json), RoutesReply(routes: [route]))
    }

    func testCountersKeepTheirOrderAndVMsLeaveOutWhatDoesNotApply() throws {
        let stats = StatsReply(rxPackets: 1, drops: Counters([("no-route", 3), ("badMac", 1)]), punch: Counters([("offersSent", 2)]))
        let json = try JSONValueCoder.encode(stats)
        XCTAssertEqual(json["drops"]?.serialized(), #"{"no-route":3,"badMac":1}"#)
        XCTAssertEqual(json.objectValue?.map(\.0).last, "punch")
        XCTAssertEqual(try JSONValueCoder.decode(StatsReply.self, from: json), stats)

        let vm = VMReply(name: "web", address: "300:1::42", interface: "tapweb", kind: "tap", netns: nil, mac: "02:00:00:00:00:01",
                         gateway: "fe80::1", policy: ["any"], state: "up", memoryBytes: 1 << 30)
        let v = try JSONValueCoder.encode(vm)
        XCTAssertEqual(v["netns"], .null, "documented as null when there is none")
        XCTAssertNil(v["owner"])
        XCTAssertNil(v["problem"])
        XCTAssertNil(v["warnings"])
        XCTAssertEqual(v["memoryBytes"], .number(Double(1 << 30)))
        XCTAssertEqual(try JSONValueCoder.decode(VMReply.self, from: v), vm)
    }

    func testWrongShapesNameTheField() {
        XCTAssertThrowsError(try JSONValueCoder.decode(RoutesReply.self, from: .object([("routes", .array([.object([("prefix", .number(1))])]))]))) { e in
            XCTAssertTrue("\(e)".contains("routes[0].prefix"), "\(e)")
        }
        XCTAssertThrowsError(try JSONValueCoder.decode(StatsReply.self, from: .object([]))) { e in
            XCTAssertTrue("\(e)".contains("missing"), "\(e)")
        }
        XCTAssertThrowsError(try JSONValueCoder.decode(ListReply.self, from: .object([("requests", .array([.number(1.5)]))])))
    }

    func testJSONValueItselfRoundTrips() throws {
        let v = try JSONValue.parse(#"{"b":1,"a":[true,null,"x",{"z":2.5}]}"#)
        XCTAssertEqual(try JSONValueCoder.encode(v), v)
        XCTAssertEqual(try JSONValueCoder.decode(JSONValue.self, from: v), v)
    }
}
