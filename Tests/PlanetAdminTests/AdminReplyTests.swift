import XCTest
import PlanetCore
@testable import PlanetAdmin

/// Reply lines: a success carries the response, an error its sentence with `kind` and
/// `argument` beside it; a reply from a daemon that predates `kind` still reads.
final class AdminReplyTests: XCTestCase {
    func testErrorReplyCarriesKindAndArgument() throws {
        let e = AdminError.argument("address", "300::5 is taken by VM 'db'")
        let line = AdminReply.line(.failure(e))
        XCTAssertEqual(line, #"{"status":"error","error":"address: 300::5 is taken by VM 'db'","kind":"argument","argument":"address"}"# + "\n")
        guard case .failure(.daemon(let back)) = AdminReply.parse(line) else { return XCTFail(line) }
        XCTAssertEqual(back, e)
        let node = AdminError("node is busy")
        XCTAssertEqual(AdminReply.line(.failure(node)), #"{"status":"error","error":"node is busy","kind":"node"}"# + "\n")
        guard case .failure(.daemon(let n)) = AdminReply.parse(AdminReply.line(.failure(node))) else { return XCTFail() }
        XCTAssertEqual(n, node)
    }

    func testSuccessAndOldOrBrokenReplies() {
        XCTAssertEqual(AdminReply.line(.success(.object([]))), #"{"status":"success","response":{}}"# + "\n")
        guard case .success(let v) = AdminReply.parse(#"{"status":"success","response":{"a":1}}"#) else { return XCTFail() }
        XCTAssertEqual(v["a"], .number(1))
        guard case .failure(.daemon(let old)) = AdminReply.parse(#"{"status":"error","error":"no peer udp://h:1"}"#) else { return XCTFail() }
        XCTAssertEqual(old, AdminError("no peer udp://h:1", kind: .node))
        guard case .failure(.badResponse) = AdminReply.parse("nonsense") else { return XCTFail() }
        guard case .failure(.badResponse) = AdminReply.parse(#"{"status":"maybe"}"#) else { return XCTFail() }
    }

    func testVMRefusalsOfTheHostAreFailuresOfTheNode() {
        XCTAssertEqual(AdminError(VMTableError(argument: "address", "x")).kind, .argument)
        XCTAssertEqual(AdminError(VMTableError(argument: "address", "x")).argument, "address")
        XCTAssertEqual(AdminError(VMTableError(argument: "host", "route failed")).kind, .node)
        XCTAssertEqual(AdminError(VMTableError(argument: "host", "route failed")).message, "host: route failed")
    }
}
