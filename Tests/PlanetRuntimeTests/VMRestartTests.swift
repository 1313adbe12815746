import Foundation
import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetRuntime
import PlanetTesting

/// A restart (clean or a crash) re-applies every lease over what the previous run left, never
/// leaving an interface that forwards without its filter; what the host loses later is found
/// by the watch and made again. Over the in-memory host; `test_vm_restart.sh` does the same
/// against the kernel with real traffic.
final class VMRestartTests: XCTestCase {
    let subnet = IPv6Prefix("300:1234:5678:9abc::/64")!
    var dir = ""

    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmrestart-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func makeHost(_ memory: MemoryHostNetwork) -> VMHost {
        VMHost(subnet: subnet, tunName: "planet0", mtu: 1360, stateDir: dir, host: memory)
    }

    /// A first run with a container `c1` and a tap `g`; returns the host double as that run
    /// leaves it (planetd changes nothing on the host when it stops, and a crash can't).
    func firstRun() throws -> (MemoryHostNetwork, VMHost) {
        let memory = MemoryHostNetwork()
        memory.namespaces = ["ctr"]
        let first = makeHost(memory)
        _ = try first.attach(VMAttachRequest(arguments: .object([("name", .string("c1")), ("netns", .string("ctr"))]))).get()
        _ = try first.attach(VMAttachRequest(arguments: .object([("name", .string("g")), ("tap", .string("tapg"))]))).get()
        return (memory, first)
    }

    func everyStep(_ host: VMHost) -> [HostStep] { host.leases.flatMap(host.plan) }

    func testARestartAdoptsWhatThePreviousRunLeftAndCutsEachInterfaceOffUntilItsPlanIsInForce() throws {
        let (memory, first) = try firstRun()
        let before = memory.inForce
        let second = makeHost(memory)
        XCTAssertEqual(second.restore().map(\.name), ["c1", "g"])
        for lease in second.leases {
            XCTAssertEqual(second.state(of: lease), "up", "\(lease.name): \(second.problem(of: lease.name) ?? "")")
        }
        XCTAssertEqual(Set(memory.inForce), Set(before), "the re-applied plan differs from the first run's")
        XCTAssertEqual(Set(memory.inForce), Set(everyStep(first)))
        XCTAssertEqual(memory.interfaces, [VMTable.vethName(for: "c1"), "tapg"], "an interface was made anew instead of adopted")
        // Both were cut off before anything was applied to them, and released after.
        XCTAssertEqual(Set(memory.isolations.prefix(2)), [VMTable.vethName(for: "c1"), "tapg"])
        XCTAssertEqual(memory.isolated, [])
    }

    func testAFailedReapplyLeavesTheInterfaceCutOffAndTheOtherVMsUp() throws {
        let (memory, _) = try firstRun()
        // c1's source filter (the second step of its plan) fails on the next start.
        memory.failAtApply = memory.applies + 1
        let second = makeHost(memory)
        second.restore()
        let c1 = try XCTUnwrap(second.lease(named: "c1")), g = try XCTUnwrap(second.lease(named: "g"))
        XCTAssertEqual(second.state(of: c1), "isolated")
        XCTAssertTrue(second.problem(of: "c1")?.contains("source filter") ?? false, second.problem(of: "c1") ?? "no problem")
        XCTAssertEqual(memory.isolated, [c1.interface], "c1's interface forwards without its filter")
        XCTAssertTrue(memory.interfaces.contains(c1.interface), "the container's interface should stay, cut off")
        // The failure of the first lease took nothing from the second: the shared table and filter
        // and g's whole plan are in force.
        XCTAssertTrue(memory.shared, "a failed re-apply removed the shared parts the other VMs use")
        XCTAssertEqual(second.state(of: g), "up")
        for step in second.plan(g) { XCTAssertTrue(memory.inForce.contains(step), "g lost \(step)") }
    }

    func testTheLastLeaseFailingLeavesTheSharedPartsTheOthersUse() throws {
        let (memory, first) = try firstRun()
        // g's source filter (after c1's six steps, the second of g's) fails on the next start;
        // no lease after it would make the shared parts again.
        memory.failAtApply = memory.applies + first.plan(first.lease(named: "c1")!).count + 1
        let second = makeHost(memory)
        second.restore()
        XCTAssertEqual(second.state(of: second.lease(named: "g")!), "isolated")
        XCTAssertTrue(memory.shared, "a failed re-apply removed the shared parts c1 uses")
        XCTAssertEqual(second.state(of: second.lease(named: "c1")!), "up")
    }

    func testAnInterfaceThatCannotBeIsolatedIsRemoved() throws {
        let (memory, _) = try firstRun()
        memory.failAtApply = memory.applies + 1
        memory.failIsolate = true
        let second = makeHost(memory)
        second.restore()
        let c1 = try XCTUnwrap(second.lease(named: "c1"))
        XCTAssertFalse(memory.interfaces.contains(c1.interface), "an interface that is neither filtered nor isolated was left")
        XCTAssertEqual(second.state(of: c1), "interface-missing")
    }

    func testTheWatchRepairsWhatTheHostLostBehindPlanetdsBack() throws {
        let (memory, host) = try firstRun()
        XCTAssertEqual(host.watch(), [], "nothing was lost, nothing to repair")
        // `nft flush ruleset`: the filters and the shared table go.
        memory.lose(shared: true) { if case .sourceFilter = $0 { return true }; return false }
        XCTAssertEqual(Set(host.watch()), ["c1", "g"])
        XCTAssertTrue(memory.shared)
        XCTAssertEqual(Set(memory.inForce), Set(everyStep(host)))
        XCTAssertEqual(host.repairCount(of: "c1"), 1)
        // An `ip rule` deleted for one VM: only that VM is repaired, cut off while it is.
        let isolationsBefore = memory.isolations.count
        memory.lose { if case .rule(let i, _) = $0 { return i == "tapg" }; return false }
        XCTAssertEqual(host.watch(), ["g"])
        XCTAssertEqual(Array(memory.isolations.dropFirst(isolationsBefore)), ["tapg"])
        XCTAssertEqual(memory.isolated, [])
        XCTAssertEqual(host.repairCount(of: "g"), 2)
        XCTAssertEqual(host.repairCount(of: "c1"), 1)
        XCTAssertEqual(host.watch(), [])
    }

    func testTheWatchRetriesAnIsolatedLeaseUntilItApplies() throws {
        let (memory, _) = try firstRun()
        memory.failAtApply = memory.applies + 1
        let second = makeHost(memory)
        second.restore()
        XCTAssertEqual(second.state(of: second.lease(named: "c1")!), "isolated")
        memory.failAtApply = nil
        XCTAssertEqual(second.watch(), ["c1"])
        XCTAssertEqual(second.state(of: second.lease(named: "c1")!), "up")
        XCTAssertNil(second.problem(of: "c1"))
        XCTAssertEqual(memory.isolated, [])
    }

    func testDetachingAnIsolatedVMReleasesItsInterfaceName() throws {
        let (memory, _) = try firstRun()
        memory.failAtApply = memory.applies + 1
        let second = makeHost(memory)
        second.restore()
        _ = try second.detach(name: "c1").get()
        XCTAssertEqual(memory.isolated, [], "the prohibit rule outlived the VM it cut off")
        XCTAssertFalse(memory.interfaces.contains(VMTable.vethName(for: "c1")))
    }
}
