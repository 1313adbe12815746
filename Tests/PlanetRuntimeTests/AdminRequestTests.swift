import XCTest
import PlanetCore
@testable import PlanetRuntime

final class AdminRequestTests: XCTestCase {
    func testRequestLineRoundTrip() throws {
        let r = AdminRequest(call: .addPeer, arguments: .object([("uri", .string("udp://h:1"))]))
        XCTAssertEqual(r.line, "{\"request\":\"addPeer\",\"uri\":\"udp://h:1\"}\n")
        XCTAssertEqual(try AdminRequest.parse(String(r.line.dropLast())).get(), r)
    }
}
