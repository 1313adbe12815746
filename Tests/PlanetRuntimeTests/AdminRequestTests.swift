import XCTest
import PlanetCore
@testable import PlanetRuntime

final class AdminRequestTests: XCTestCase {
    func testRequestLineRoundTrip() throws {
        let r = AdminRequest(call: .addPeer, arguments: .object([("uri", .string("udp://h:1"))]))
        XCTAssertEqual(r.line, "{\"request\":\"addPeer\",\"uri\":\"udp://h:1\"}\n")
        XCTAssertEqual(try AdminRequest.parse(String(r.line.dropLast())).get(), r)
    }

    func testFindNodesTakesOptionalFiltersAndRefusesOthers() throws {
        let r = try AdminRequest.parse(#"{"request":"findNodes","country":"BE","freeMru":"8G"}"#).get()
        XCTAssertEqual(r.call, .findNodes)
        XCTAssertEqual(r.arguments["freeMru"], .string("8G"))
        XCTAssertNoThrow(try AdminRequest.parse(#"{"request":"findNodes"}"#).get(), "filters are optional")
        guard case .failure(let e) = AdminRequest.parse(#"{"request":"findNodes","colour":"red"}"#) else { return XCTFail("unknown filter accepted") }
        XCTAssertTrue(e.message.contains("colour"), e.message)
        guard case .failure(let e2) = AdminRequest.parse(#"{"request":"getNode"}"#) else { return XCTFail("getNode without node accepted") }
        XCTAssertTrue(e2.message.contains("node"), e2.message)
        guard case .failure = AdminRequest.parse(#"{"request":"getNodes","country":"BE"}"#) else { return XCTFail("getNodes took a filter") }
    }
}
