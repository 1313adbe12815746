import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetControl

/// planetctl's exit code comes from the error's kind, never its wording: bad input exits 2, a
/// failure of the node or the connection 1; `--json` prints the same as one object.
final class PlanetctlFailureTests: XCTestCase {
    func testExitCodesByKind() {
        let cases: [(AdminClientError, Int32, String)] = [
            (.daemon(.argument("address", "300::5 is taken by VM 'db'")), 2, "planetctl: address: 300::5 is taken by VM 'db'\n"),
            (.daemon(AdminError("memory: the VM declares 64G but this node has 12.5G free; --force attaches it anyway", kind: .argument, argument: "memory")), 2,
             "planetctl: memory: the VM declares 64G but this node has 12.5G free; --force attaches it anyway\n"),
            (.daemon(.request("unknown request 'getFuture'")), 2, "planetctl: planetd: unknown request 'getFuture'\n"),
            (.daemon(AdminError("no peer udp://192.0.2.9:8470")), 1, "planetctl: planetd: no peer udp://192.0.2.9:8470\n"),
            // A message that starts like an argument but is the host's: the kind decides.
            (.daemon(AdminError(VMTableError(argument: "host", "route 300::5/128 dev t failed"))), 1, "planetctl: planetd: host: route 300::5/128 dev t failed\n"),
            (.notRunning(path: "/run/p.sock", reason: "no such file"), 1, "planetctl: cannot connect to /run/p.sock: no such file — is planetd running?\n"),
            (.transport("planetd did not answer within 15 s"), 1, "planetctl: planetd did not answer within 15 s\n"),
        ]
        for (error, code, line) in cases {
            let f = PlanetctlFailure(error)
            XCTAssertEqual(f.exitCode, code, "\(error)")
            XCTAssertEqual(f.line, line)
        }
        XCTAssertEqual(PlanetctlFailure(PlanetctlCommand.unknownCommand("peer")).exitCode, 2)
        guard case .failure(let usage) = PlanetctlCommand.parse(["nodes", "find", "--free-mru", "lots"]) else { return XCTFail() }
        XCTAssertEqual(PlanetctlFailure(usage).exitCode, 2)
    }

    func testJSONErrorShape() throws {
        let f = PlanetctlFailure(.daemon(.argument("address", "300::5 is taken by VM 'db'")))
        let doc = try JSONValue.parse(f.json)
        XCTAssertEqual(doc, .object([("error", .object([
            ("kind", .string("argument")), ("argument", .string("address")), ("message", .string("address: 300::5 is taken by VM 'db'")),
        ]))]))
        XCTAssertTrue(f.json.hasSuffix("}\n"))
        let node = try JSONValue.parse(PlanetctlFailure(.daemon(AdminError("node is busy"))).json)
        XCTAssertEqual(node["error"]?["kind"], .string("node"))
        XCTAssertEqual(node["error"]?["argument"], .null)
        XCTAssertEqual(node["error"]?["message"], .string("node is busy"))
        let down = try JSONValue.parse(PlanetctlFailure(.notRunning(path: "/p", reason: "connection refused")).json)
        XCTAssertEqual(down["error"]?["kind"], .string("connection"))
    }
}
