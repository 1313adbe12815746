import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetControl

/// `planetctl vm …`: parsing (checked before anything is sent), the request it sends, and the
/// tables (a daemon's refusal maps to its exit code by kind: PlanetctlFailureTests).
final class VMCommandTests: XCTestCase {
    let key = String(repeating: "ab", count: 32)

    func parse(_ words: [String], _ options: [String: [String]] = [:]) -> Result<PlanetctlCommand, PlanetctlCommand.UsageError> {
        PlanetctlCommand.parse(words, options: options)
    }

    func testParsingAndArguments() throws {
        XCTAssertEqual(try parse(["vm"]).get(), .vmList)
        XCTAssertEqual(try parse(["vm", "list"]).get(), .vmList)
        XCTAssertEqual(try parse(["vm", "show", "web"]).get(), .vmShow("web"))
        XCTAssertEqual(try parse(["vm", "detach", "web"]).get(), .vmDetach("web"))
        XCTAssertEqual(try parse(["vm", "cloud-init", "web"]).get(), .vmCloudInit("web"))
        XCTAssertEqual(try parse(["vm", "policy", "web"], ["allow": ["tcp:22", "key:\(key)"]]).get(), .vmPolicy("web", ["tcp:22", "key:\(key)"]))

        let attach = try parse(["vm", "attach", "web"], ["tap": ["tap0"], "allow": ["tcp:22", "udp:53"], "memory": ["2G"]]).get()
        var expected = VMAttachRequest(name: "web")
        expected.tap = "tap0"
        expected.policy = try VMPolicy.parse(["tcp:22", "udp:53"]).get()
        expected.memoryBytes = 2 << 30
        XCTAssertEqual(attach.request, .vmAttach(expected))
        // What planetctl sends is what the daemon decodes (its own argument check).
        XCTAssertEqual(try AdminRequest.decode(String(attach.request.line.dropLast())).get(), attach.request)
    }

    func testBadInputIsRefusedBeforeSendingNamingTheArgument() throws {
        let cases: [([String], [String: [String]], String)] = [
            (["vm", "attach", "web"], [:], "tap/netns"),
            (["vm", "attach", "web"], ["tap": ["t"], "netns": ["n"]], "tap/netns"),
            (["vm", "attach", "web"], ["tap": ["t"], "allow": ["tcp:0"]], "allow"),
            (["vm", "attach", "web"], ["tap": ["t"], "address": ["not-an-address"]], "address"),
            (["vm", "attach", "web"], ["tap": ["t"], "cpu": ["many"]], "cpu"),
            (["vm", "attach", "web"], ["tap": ["t"], "disk": ["9X"]], "disk"),
            (["vm", "attach", "web"], ["tap": ["t", "u"]], "tap"),
            (["vm", "attach", "bad name"], ["tap": ["t"]], "name"),
            (["vm", "attach"], ["tap": ["t"]], "usage"),
            (["vm", "policy", "web"], [:], "allow"),
            (["vm", "policy", "web"], ["allow": ["key:12"]], "allow"),
            (["vm", "policy", "web"], ["allow": ["any"], "tap": ["t"]], "--tap"),
            (["vm", "frob"], [:], "unknown vm command"),
            (["peers"], ["allow": ["any"]], "--allow"),
            (["vm", "show", "web"], ["tap": ["t"]], "--tap"),
        ]
        for (words, options, mention) in cases {
            guard case .failure(let e) = parse(words, options) else { return XCTFail("\(words) \(options) accepted") }
            XCTAssertTrue(e.description.contains(mention), "\(words) \(options): \(e.description)")
            XCTAssertFalse(e.description.contains("\n"))
        }
    }

    /// `--force` (a flag, passed among the options as "true") reaches the daemon as `force`,
    /// only from `vm attach`; the daemon's warnings go to stderr whatever the output form.
    func testForceIsSentOnlyByAttachAndWarningsAreRead() throws {
        let attach = try parse(["vm", "attach", "web"], ["tap": ["t"], "memory": ["64G"], "force": ["true"]]).get()
        XCTAssertEqual(attach.request.line, #"{"request":"vmAttach","name":"web","tap":"t","memory":"68719476736","force":"true"}"# + "\n")
        XCTAssertEqual(try AdminRequest.decode(String(attach.request.line.dropLast())).get(), attach.request)
        XCTAssertEqual(PlanetctlCommand.vmFlagNames, ["force"])
        for (words, options) in [(["vm", "policy", "web"], ["allow": ["any"], "force": ["true"]]), (["peers"], ["force": ["true"]])] {
            guard case .failure(let e) = parse(words, options) else { XCTFail("\(words) took --force"); continue }
            XCTAssertEqual(e.description, "option --force is only for 'vm attach'")
        }
        var vm = VMReply(name: "web", address: "300:1::42", interface: "t", kind: "tap", netns: nil, mac: "02:00:00:00:00:01",
                         gateway: "fe80::1", policy: ["any"], state: "up", warnings: ["cpu: the VM declares 4 CPUs but this node has 1 free"])
        XCTAssertEqual(AdminReport.warnings(for: attach, response: try JSONValueCoder.encode(vm)), ["cpu: the VM declares 4 CPUs but this node has 1 free"])
        XCTAssertEqual(AdminReport.warnings(for: .vmShow("web"), response: try JSONValueCoder.encode(vm)), [], "only vm attach warns")
        vm.warnings = nil
        XCTAssertEqual(AdminReport.warnings(for: attach, response: try JSONValueCoder.encode(vm)), [])
    }

    func testTables() throws {
        let vm: JSONValue = .object([
            ("name", .string("web")), ("address", .string("300:1::42")), ("interface", .string("tapweb")), ("kind", .string("tap")),
            ("netns", .null), ("mac", .string("02:01:02:03:04:05")), ("gateway", .string("fe80::1")),
            ("policy", .array([.string("key:\(key),tcp:22"), .string("udp:53")])), ("state", .string("up")),
            ("rxBytes", .number(2048)), ("txBytes", .number(1024)), ("rxPackets", .number(2)), ("txPackets", .number(1)),
            ("refusedPackets", .number(3)), ("spoofedPackets", .number(4)), ("cpu", .number(2)), ("memoryBytes", .number(1_073_741_824)),
            ("diskBytes", .null),
        ])
        let list = try AdminReport.table(for: .vmList, response: .object([("vms", .array([vm]))]))
        let lines = list.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("NAME"))
        for column in ["ADDRESS", "INTERFACE", "POLICY", "STATE", "RX", "TX", "REFUSED", "SPOOFED"] { XCTAssertTrue(lines[0].contains(column), column) }
        XCTAssertTrue(lines[1].hasPrefix("web "))
        XCTAssertTrue(lines[1].contains("key:abababababababab…,tcp:22 udp:53"), lines[1])
        XCTAssertTrue(lines[1].contains("2.00 KiB"), lines[1])
        XCTAssertEqual(try AdminReport.table(for: .vmList, response: .object([("vms", .array([]))])).split(separator: "\n").last, "(no VMs)")

        let show = try AdminReport.table(for: .vmShow("web"), response: vm)
        XCTAssertTrue(show.contains("fe80::1"))
        XCTAssertTrue(show.contains("1.00 GiB"), show)
        XCTAssertFalse(show.contains("disk"), "an undeclared disk is left out")
        XCTAssertEqual(try AdminReport.table(for: .vmCloudInit("web"), response: try JSONValueCoder.encode(VMCloudInitReply(name: "web", networkConfig: "version: 2\n"))),
                       "version: 2\n")
    }
}
