import Foundation
import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetRuntime
import PlanetTesting

/// Attach, detach, rollback and restart of VM leases over the in-memory host.
final class VMHostTests: XCTestCase {
    let subnet = IPv6Prefix("300:1234:5678:9abc::/64")!

    func makeHost(_ memory: MemoryHostNetwork, stateDir: String? = nil) -> VMHost {
        VMHost(subnet: subnet, tunName: "planet0", mtu: 1360, stateDir: stateDir, host: memory)
    }

    func request(_ pairs: [(String, JSONValue)]) throws -> VMAttachRequest {
        try VMAttachRequest(arguments: .object(pairs))
    }

    func testTapAttachAppliesThePlanAndDetachLeavesNothing() throws {
        let memory = MemoryHostNetwork()
        let host = makeHost(memory)
        let lease = try host.attach(request([("name", .string("web")), ("tap", .string("tapweb")), ("owner", .string("qemu"))])).get()
        XCTAssertEqual(lease.address, VMTable.derivedAddress(name: "web", in: subnet))
        XCTAssertEqual(lease.kind, .tap)
        XCTAssertEqual(memory.inForce, host.plan(lease))
        XCTAssertTrue(memory.inForce.contains(.route(address: lease.address, interface: "tapweb")))
        XCTAssertTrue(memory.inForce.contains(.rule(interface: "tapweb", address: lease.address)))
        XCTAssertTrue(memory.inForce.contains(.sourceFilter(interface: "tapweb", address: lease.address, counter: VMHost.counter(for: "web"))))
        XCTAssertTrue(memory.shared)
        XCTAssertEqual(host.state(of: lease), "up")

        _ = try host.detach(name: "web").get()
        XCTAssertEqual(memory.inForce, [])
        XCTAssertEqual(memory.interfaces, [])
        XCTAssertFalse(memory.shared, "the shared table and filter outlived the last VM")
        XCTAssertNil(host.lease(named: "web"))
    }

    func testFailedAttachAtEveryStepLeavesNothingHalfMade() throws {
        let probe = makeHost(MemoryHostNetwork())
        let lease = VMLease(name: "c1", address: VMTable.derivedAddress(name: "c1", in: subnet), kind: .netns,
                            interface: VMTable.vethName(for: "c1"), netns: "ctr", mac: VMTable.mac(for: "c1"))
        let planned = probe.plan(lease)
        XCTAssertEqual(planned.count, 6)
        for failing in 0..<planned.count {
            let memory = MemoryHostNetwork()
            memory.namespaces = ["ctr"]
            memory.failAtApply = failing
            let host = makeHost(memory)
            guard case .failure(let e) = host.attach(try request([("name", .string("c1")), ("netns", .string("ctr"))])) else {
                return XCTFail("attach succeeded though step \(failing) failed")
            }
            XCTAssertTrue(e.reason.contains("injected failure"), e.description)
            XCTAssertEqual(memory.inForce, [], "step \(failing) failed and left \(memory.inForce)")
            XCTAssertEqual(memory.interfaces, [], "step \(failing) failed and left an interface")
            XCTAssertFalse(memory.shared)
            XCTAssertNil(host.lease(named: "c1"))
        }
    }

    func testAnAdoptedTapSurvivesAFailedAttach() throws {
        let memory = MemoryHostNetwork()
        memory.addExistingInterface("tap7")
        memory.failAtApply = 2
        let host = makeHost(memory)
        XCTAssertNil(try? host.attach(request([("name", .string("g")), ("tap", .string("tap7"))])).get())
        XCTAssertEqual(memory.interfaces, ["tap7"], "the operator's own tap was deleted by a rollback")
        XCTAssertEqual(memory.inForce.filter { if case .tap = $0 { return false }; return true }, [])
    }

    func testRefusalsNameTheArgument() throws {
        let memory = MemoryHostNetwork()
        let host = makeHost(memory)
        func refused(_ pairs: [(String, JSONValue)]) -> String {
            do {
                let r = try request(pairs)
                if case .failure(let e) = host.attach(r) { return e.argument }
                return "accepted"
            } catch { return (error as? VMTableError)?.argument ?? "\(error)" }
        }
        XCTAssertEqual(refused([("name", .string("a")), ("netns", .string("nope"))]), "netns")
        XCTAssertEqual(refused([("name", .string("a"))]), "tap/netns")
        XCTAssertEqual(refused([("name", .string("a")), ("tap", .string("t")), ("netns", .string("n"))]), "tap/netns")
        XCTAssertEqual(refused([("name", .string("a")), ("tap", .string("t")), ("address", .string("300:1:2:3::5"))]), "address")
        XCTAssertEqual(refused([("name", .string("a")), ("tap", .string("t")), ("address", .string("nope"))]), "address")
        XCTAssertEqual(refused([("name", .string("a")), ("tap", .string("t")), ("allow", .array([.string("tcp:99999")]))]), "allow")
        XCTAssertEqual(refused([("name", .string("a")), ("tap", .string("t")), ("memory", .string("lots"))]), "memory")
        XCTAssertEqual(refused([("name", .string("a")), ("tap", .string("planet0"))]), "tap")
        XCTAssertEqual(refused([("name", .string("a b")), ("tap", .string("t"))]), "name")
        XCTAssertEqual(refused([("name", .string("a")), ("tap", .string("t")), ("address", .string("300:1234:5678:9abc::42"))]), "accepted")
        XCTAssertEqual(refused([("name", .string("b")), ("tap", .string("t2")), ("address", .string("300:1234:5678:9abc::42"))]), "address")
        XCTAssertEqual(refused([("name", .string("c")), ("tap", .string("t"))]), "interface")
        XCTAssertEqual(memory.inForce.count, host.plan(host.lease(named: "a")!).count, "a refused attach touched the host")
    }

    func testLeasesSurviveARestartAndAVanishedNamespaceIsAStateNotAnError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmhost-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let memory = MemoryHostNetwork()
        memory.namespaces = ["ctr"]
        let first = makeHost(memory, stateDir: dir)
        let c1 = try first.attach(request([("name", .string("c1")), ("netns", .string("ctr")), ("allow", .array([.string("tcp:22")])),
                                           ("cpu", .string("2")), ("memory", .string("1G"))])).get()
        let g = try first.attach(request([("name", .string("g")), ("tap", .string("tapg")), ("address", .string("300:1234:5678:9abc::9"))])).get()
        _ = try first.setPolicy(name: "g", allow: ["udp:53"]).get()

        // planetd restarts on a host where the namespace went away meanwhile.
        memory.namespaces = []
        memory.removeInterface(c1.interface)
        let second = makeHost(memory, stateDir: dir)
        let restored = second.restore()
        XCTAssertEqual(restored.map(\.name), ["c1", "g"])
        XCTAssertEqual(second.lease(named: "c1")?.address, c1.address, "the same name kept its address")
        XCTAssertEqual(second.lease(named: "g")?.address, g.address)
        XCTAssertEqual(second.lease(named: "g")?.policy.texts, ["udp:53"])
        XCTAssertEqual(second.lease(named: "c1")?.memoryBytes, 1 << 30)
        XCTAssertEqual(second.state(of: second.lease(named: "c1")!), "netns-missing")
        XCTAssertEqual(second.state(of: second.lease(named: "g")!), "up")
        XCTAssertEqual(second.declaredTotals.cpu, 2)
        // Detaching the broken one still works and removes its lease.
        _ = try second.detach(name: "c1").get()
        let third = makeHost(memory, stateDir: dir)
        XCTAssertEqual(third.restore().map(\.name), ["g"])
    }

    func testSpoofCountersAreReportedPerVM() throws {
        let memory = MemoryHostNetwork()
        let host = makeHost(memory)
        _ = try host.attach(request([("name", .string("web")), ("tap", .string("tapweb"))])).get()
        memory.counters = [VMHost.counter(for: "web"): 7, "spoof_other": 3]
        XCTAssertEqual(host.spoofedPackets(), ["web": 7])
    }
}

extension VMHostTests {
    /// A lease file planetd cannot read is never overwritten: changes are refused, naming it,
    /// until the operator fixes or moves it.
    func testAnUnreadableLeaseFileIsNotOverwritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmhost-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let garbage = "{\"vms\": [{\"name\": \"web\"}]}\n"
        try garbage.write(toFile: dir + "/vms.json", atomically: true, encoding: .utf8)
        let host = makeHost(MemoryHostNetwork(), stateDir: dir)
        XCTAssertEqual(host.restore().count, 0)
        guard case .failure(let e) = host.attach(try request([("name", .string("db")), ("tap", .string("tapdb"))])) else {
            return XCTFail("an attach was saved over an unreadable lease file")
        }
        XCTAssertEqual(e.argument, "host")
        XCTAssertTrue(e.reason.contains("lease file"), e.reason)
        XCTAssertEqual(try String(contentsOfFile: dir + "/vms.json", encoding: .utf8), garbage)
    }
}
