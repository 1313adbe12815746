import XCTest
import PlanetCore
@testable import PlanetAdmin

/// The request codec: every call's typed value survives its line, and a line the server cannot
/// take is a structured error of the right kind, naming the argument when one is at fault.
final class AdminRequestTests: XCTestCase {
    let key = String(repeating: "ab", count: 32)

    /// One request of every call, with every argument it can carry.
    func everyRequest() throws -> [AdminRequest] {
        var attach = VMAttachRequest(name: "web")
        attach.netns = "ctr"
        attach.address = IPv6Address("300:1::42")
        attach.policy = try VMPolicy.parse(["key:\(key),tcp:22", "udp:53"]).get()
        attach.cpu = 2
        attach.memoryBytes = 512 << 20
        attach.diskBytes = 20 << 30
        attach.force = true
        var tap = VMAttachRequest(name: "guest")
        tap.tap = "tap0"
        tap.owner = "qemu"
        let requests: [AdminRequest] = [
            .list, .getSelf, .getPeers,
            .addPeer(try PeerURI.parse("udp://192.0.2.1:8470?key=\(key)").get()), .removePeer(try PeerURI.parse("udp://[2001:db8::1]:8470").get()),
            .getRoutes, .getSessions, .getStats,
            .vmAttach(attach), .vmAttach(tap), .vmDetach(name: "web"), .vmList, .vmShow(name: "web"),
            .vmPolicy(name: "web", allow: ["tcp:22", "any"]), .vmCloudInit(name: "web"),
            .getNodes, .getNode("200:1234::1"),
            .findNodes(NodeFilter.allCases.map { AdminRequest.Filter($0, "x-\($0.rawValue)") }), .findNodes([]),
        ]
        XCTAssertEqual(Set(requests.map(\.call)), Set(AdminCall.allCases), "a call without a round trip")
        return requests
    }

    func testEveryRequestRoundTrips() throws {
        for r in try everyRequest() {
            XCTAssertTrue(r.line.hasSuffix("\n") && !r.line.dropLast().contains("\n"), r.line)
            XCTAssertEqual(try AdminRequest.decode(String(r.line.dropLast())).get(), r, r.line)
        }
    }

    func testTheLineIsTheDocumentedShape() throws {
        XCTAssertEqual(AdminRequest.addPeer(PeerURI(host: "h", port: 1)).line, "{\"request\":\"addPeer\",\"uri\":\"udp://h:1\"}\n")
        XCTAssertEqual(AdminRequest.getSelf.line, "{\"request\":\"getSelf\"}\n")
        XCTAssertEqual(AdminRequest.vmPolicy(name: "w", allow: ["any"]).line, "{\"request\":\"vmPolicy\",\"name\":\"w\",\"allow\":[\"any\"]}\n")
        // Arguments in any order, and as a script types them (sizes with units).
        XCTAssertEqual(try AdminRequest.decode(#"{"memory":"512M","name":"web","request":"vmAttach","tap":"t"}"#).get(),
                       .vmAttach({ var r = VMAttachRequest(name: "web"); r.tap = "t"; r.memoryBytes = 512 << 20; return r }()))
    }

    func testMalformedLinesAreStructuredErrors() {
        let cases: [(String, AdminError.Kind, String?, String)] = [
            ("{\"request\": \"getPeers\"", .request, nil, "malformed JSON"),
            ("not json at all", .request, nil, "malformed JSON"),
            ("[1, 2]", .request, nil, "must be a JSON object"),
            ("{}", .request, nil, "missing \"request\""),
            ("{\"request\": 5}", .request, nil, "\"request\" must be a string"),
            ("{\"request\": \"getEverything\"}", .request, nil, "unknown request 'getEverything'"),
            ("{\"request\": \"addPeer\", \"uri\": 5}", .request, nil, "argument 'uri' of addPeer must be a string, got number"),
            ("{\"request\": \"addPeer\"}", .request, nil, "addPeer needs the argument 'uri'"),
            ("{\"request\": \"getPeers\", \"verbose\": true}", .request, nil, "getPeers takes no argument 'verbose'"),
            ("{\"request\": \"findNodes\", \"colour\": \"red\"}", .request, nil, "findNodes takes no argument 'colour'"),
            ("{\"request\": \"getNode\"}", .request, nil, "getNode needs the argument 'node'"),
            ("{\"request\": \"getNodes\", \"country\": \"BE\"}", .request, nil, "getNodes takes no argument 'country'"),
            // Values the call refuses name their argument.
            ("{\"request\": \"addPeer\", \"uri\": \"quic://h:1\"}", .argument, "uri", "uri: "),
            ("{\"request\": \"vmAttach\", \"name\": \"web\"}", .argument, "tap/netns", "tap/netns: give exactly one"),
            ("{\"request\": \"vmAttach\", \"name\": \"web\", \"tap\": \"t\", \"memory\": \"lots\"}", .argument, "memory", "memory: "),
            ("{\"request\": \"vmAttach\", \"name\": \"web\", \"tap\": \"t\", \"allow\": [\"tcp:0\"]}", .argument, "allow", "allow: "),
            ("{\"request\": \"vmAttach\", \"name\": \"web\", \"tap\": \"t\", \"force\": \"maybe\"}", .argument, "force", "force: "),
        ]
        for (line, kind, argument, needle) in cases {
            guard case .failure(let e) = AdminRequest.decode(line) else { XCTFail("\(line) accepted"); continue }
            XCTAssertEqual(e.kind, kind, line)
            XCTAssertEqual(e.argument, argument, line)
            XCTAssertTrue(e.message.hasPrefix(needle) || e.message.contains(needle), "\(line): \(e.message)")
        }
        XCTAssertNoThrow(try AdminRequest.decode(#"{"request":"findNodes"}"#).get(), "filters are optional")
    }
}
