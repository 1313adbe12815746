import XCTest
import PlanetCore
@testable import PlanetAdmin

/// Replies are declared once as Codable types; these check that they go to JSON with keys in
/// declaration order and nil as null, and come back equal.
final class JSONValueCoderTests: XCTestCase {
    func testKeysInDeclarationOrderAndNilAsNull() throws {
        let route = RoutesReply.Route(prefix: "300:1::/64", address: "200:1::1", publicKey: "ab", nextHop: nil, metric: 96, seqno: 7)
        let json = try JSONValueCoder.encode(RoutesReply(routes: [route]))
        XCTAssertEqual(json.serialized(), #"{"routes":[{"prefix":"300:1::/64","address":"200:1::1","publicKey":"ab","nextHop":null,"metric":96,"seqno":7,"protocol":null,"path":null,"broken":null,"expiresInSeconds":null}]}"#)
        XCTAssertEqual(try JSONValueCoder.decode(RoutesReply.self, from: json), RoutesReply(routes: [route]))
    }

    func testCountersKeepTheirOrderAndVMsLeaveOutWhatDoesNotApply() throws {
        let stats = StatsReply(rxPackets: 1, drops: Counters([("no-route", 3), ("badMac", 1)]), punch: Counters([("offersSent", 2)]))
        let json = try JSONValueCoder.encode(stats)
        XCTAssertEqual(json["drops"]?.serialized(), #"{"no-route":3,"badMac":1}"#)
        XCTAssertEqual(json.objectValue?.map(\.0).suffix(4), ["punch", "routing", "yggdrasil", "yggdrasilGauges"])
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

    /// A type that writes a key twice, nested containers and lists: the later write of a key
    /// replaces the earlier one in place, whatever the keys' bits (EncodingNode.keyMask).
    struct Repeats: Encodable {
        enum K: String, CodingKey { case a, b, ab, ba, nested, list }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: K.self)
            try c.encode(1, forKey: .a)
            try c.encode("x", forKey: .ab)
            try c.encode(2, forKey: .b)
            try c.encode(3, forKey: .a)
            var n = c.nestedContainer(keyedBy: K.self, forKey: .nested)
            try n.encode(true, forKey: .ba)
            try n.encodeNil(forKey: .ba)
            var l = c.nestedUnkeyedContainer(forKey: .list)
            try l.encode(1)
            try l.encode(RoutesReply.Route(prefix: "p", address: "a\"\n\u{1}é", publicKey: "k", nextHop: nil, metric: 0, seqno: 1))
            try l.encodeNil()
            try c.encode("y", forKey: .ab)
        }
    }

    func testARepeatedKeyReplacesTheEarlierWrite() throws {
        let want = #"{"a":3,"ab":"y","b":2,"nested":{"ba":null},"list":[1,{"prefix":"p","address":"a\"\n\u0001é","publicKey":"k","nextHop":null,"metric":0,"seqno":1,"protocol":null,"path":null,"broken":null,"expiresInSeconds":null},null]}"#
        XCTAssertEqual(try JSONValueCoder.encode(Repeats()).serialized(), want)
        XCTAssertEqual(try JSONValueCoder.encodeText(Repeats()), want)
    }

    /// encodeText is encode(...).serialized() byte for byte, on every reply shape.
    func testEncodeTextIsTheSerializedValue() throws {
        let stats = StatsReply(rxPackets: 1, drops: Counters([("no-route", 3), ("badMac", 1)]), punch: Counters([("offersSent", 2)]))
        let vm = VMReply(name: "web", address: "300:1::42", interface: "tapweb", kind: "tap", netns: nil, mac: "02:00:00:00:00:01",
                         gateway: "fe80::1", policy: [], state: "up", memoryBytes: 1 << 30, warnings: ["memory: over"])
        let record = NodeRecordReply(publicKey: "ab", address: "200::1", metric: nil, distanceKm: 12.5, ageSeconds: 1, expiresInSeconds: 2,
                                     seqno: 3, country: "BE", city: "Liège", latitude: 50.63, longitude: -5.5, farmId: 0, farmName: "",
                                     total: .init(cru: 1, mru: 2, sru: 3, hru: 4), used: .init(cru: 0, mru: 0, sru: 0, hru: 0),
                                     free: .init(cru: 1, mru: 2, sru: 3, hru: 4), gpus: [], publicIPv4: false, publicIPv6: true, tags: ["t"],
                                     version: "0.1.0", uptimeSeconds: 9)
        let replies: [any AdminResponse] = [stats, VMListReply(vms: [vm, vm]), NodesReply(nodes: [record, record], held: 2), NodesReply(nodes: [], held: 0),
                                            ListReply(), EmptyReply(), try JSONValue.parse(#"{"b":1,"a":[true,null,"x",{"z":2.5}],"e":{},"f":[]}"#)]
        for reply in replies {
            XCTAssertEqual(try JSONValueCoder.encodeText(reply), try JSONValueCoder.encode(reply).serialized(), "\(type(of: reply))")
        }
    }

    /// Written by UTF-8 byte: what must be escaped is, everything else (other scripts, emoji)
    /// is copied, and the text parses back to the same string.
    func testStringsAreEscapedAndRoundTrip() throws {
        let tricky = "plain \"quoted\" back\\slash\ttab\nnew\rret \u{0}\u{1f} é ü 日本 🌍"
        let text = JSONValue.string(tricky).serialized()
        XCTAssertEqual(text, #""plain \"quoted\" back\\slash\ttab\nnew\rret \u0000\u001f é ü 日本 🌍""#)
        XCTAssertEqual(try JSONValue.parse(text), .string(tricky))
        let pretty = JSONValue.object([("a", .array([.number(1), .object([])])), ("b", .object([("c", .null)]))]).serialized(pretty: true)
        XCTAssertEqual(pretty, "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": {\n    \"c\": null\n  }\n}")
    }
}
