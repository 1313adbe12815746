import XCTest
import PlanetCore
@testable import PlanetNode
import PlanetTesting

/// A VM's inbound policy, enforced by its node with the sender's authenticated key, over whole
/// nodes: a session through relays (a → b), a neighbour's direct frame (r2 → b), and two VMs
/// of one node (b's TUN back to b's TUN).
final class VMGuardTests: XCTestCase {
    /// The line of four (b - r2 - r1 - a) and echo requests, as in NodeMeshTests.
    struct Mesh {
        func echo(from s: IPv6Address, to d: IPv6Address, seq: UInt16 = 1) -> [UInt8] {
            var body: [UInt8] = [ICMPv6.echoRequest, 0, 0, 0, 0x12, 0x34, UInt8(seq >> 8), UInt8(seq & 0xff)]
            body.append(contentsOf: (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            return ICMPv6.packet(from: s, to: d, icmp: body)
        }

        func line4() -> NodeHarness {
            let h = NodeHarness()
            h.add("b")
            h.add("r2", peers: ["b"])
            h.add("r1", peers: ["r2"])
            h.add("a", peers: ["r1"])
            return h
        }
    }
    let mesh = Mesh()

    /// An IPv6 packet with a TCP (6) or UDP (17) header carrying only ports (the node reads no more).
    func transport(_ nextHeader: UInt8, from s: IPv6Address, _ sport: UInt16, to d: IPv6Address, _ dport: UInt16) -> [UInt8] {
        var body: [UInt8] = [UInt8(sport >> 8), UInt8(sport & 0xff), UInt8(dport >> 8), UInt8(dport & 0xff)]
        body += [UInt8](repeating: 0, count: nextHeader == 6 ? 16 : 4) + [1, 2, 3, 4]
        var p: [UInt8] = [0x60, 0, 0, 0, UInt8(body.count >> 8), UInt8(body.count & 0xff), nextHeader, 64]
        p += s.bytes + d.bytes + body
        return p
    }

    func vmAddress(_ node: Node, _ low: UInt64) -> IPv6Address { IPv6Address(high: node.subnet.address.high, low: low) }

    /// ICMPv6 destination unreachable code 1 in `packets`, to `to`.
    func prohibited(_ packets: [[UInt8]], to: IPv6Address) -> Int {
        packets.filter { p in IPv6Header(p)?.destination == to && p.count > 41 && p[40] == 1 && p[41] == 1 }.count
    }

    /// While a node hosts VMs, a packet for an address of its /64 that no VM holds is refused,
    /// counted and answered "address unreachable"; the node's own address is not affected, and
    /// a node hosting no VMs leaves its /64 to the operator's own routes.
    func testAnAddressNoVMHoldsIsRefusedWhileTheNodeHostsVMs() throws {
        let h = mesh.line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        let stray = vmAddress(b, 0x99)
        let before = mesh.echo(from: a.address, to: stray)
        h.sendFromTun("a", before)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [before], "a node without VMs must leave its /64 to the operator")

        b.setVM(name: "v1", address: vmAddress(b, 0x42), policy: .any)
        h.sendFromTun("a", mesh.echo(from: a.address, to: stray, seq: 2))
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [], "a packet for an address no VM holds was delivered")
        XCTAssertEqual(b.stats.dropped(.vmUnknownAddress), 1)
        let answers = h.takeTun("a").filter { IPv6Header($0)?.destination == a.address && $0.count > 41 && $0[40] == 1 && $0[41] == 3 }
        XCTAssertEqual(answers.count, 1, "no address unreachable came back")
        let toNode = mesh.echo(from: a.address, to: b.address, seq: 3)
        h.sendFromTun("a", toNode)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [toNode], "the node's own address was refused")
    }

    func testKeyPolicyAdmitsThatKeyAndRefusesOthersWithAdministrativelyProhibited() throws {
        let h = mesh.line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!, r1 = h.nodes["r1"]!
        let vm = vmAddress(b, 0x42)
        b.setVM(name: "v1", address: vm, policy: try VMPolicy.parse(["key:\(a.identity.publicKey.hex)"]).get())

        let fromA = mesh.echo(from: a.address, to: vm)
        h.sendFromTun("a", fromA)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [fromA], "the allowed key's ping did not reach the VM")

        h.sendFromTun("r1", mesh.echo(from: r1.address, to: vm))
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [], "another key's ping reached the VM")
        XCTAssertEqual(b.stats.dropped(.vmPolicyRefused), 1)
        XCTAssertEqual(b.vmEntry(address: vm)?.refused, 1)
        XCTAssertEqual(b.vmEntry(address: vm)?.rxPackets, 1)
        XCTAssertEqual(prohibited(h.takeTun("r1"), to: r1.address), 1, "r1 was not told the VM refused it")

        // A live change: r1 is let in from the next packet on.
        b.setVM(name: "v1", address: vm, policy: try VMPolicy.parse(["key:\(r1.identity.publicKey.hex)"]).get())
        let fromR1 = mesh.echo(from: r1.address, to: vm, seq: 2)
        h.sendFromTun("r1", fromR1)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [fromR1])
    }

    func testPortPolicyAndAnswersToTheVMsOwnFlows() throws {
        let h = mesh.line4()
        h.run(seconds: 10)
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        let vm = vmAddress(b, 0x42)
        b.setVM(name: "v1", address: vm, policy: try VMPolicy.parse(["tcp:22"]).get())

        let ssh = transport(6, from: a.address, 40000, to: vm, 22)
        h.sendFromTun("a", ssh)
        h.sendFromTun("a", transport(6, from: a.address, 40001, to: vm, 23))
        h.sendFromTun("a", transport(17, from: a.address, 40002, to: vm, 22))
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [ssh], "only tcp:22 may pass")
        XCTAssertEqual(b.vmEntry(address: vm)?.refused, 2)

        // The VM asks a's port 53 from its port 5353: the answer comes back, a probe from
        // another port of a's or to another port of the VM's does not.
        XCTAssertEqual(prohibited(h.takeTun("a"), to: a.address), 2, "a was not told of its two refused packets")
        b.receiveTunPacket(transport(17, from: vm, 5353, to: a.address, 53), now: h.now)
        h.collect("b")
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("a").count, 1)
        XCTAssertEqual(b.vmEntry(address: vm)?.txPackets, 1)
        let answer = transport(17, from: a.address, 53, to: vm, 5353)
        h.sendFromTun("a", answer)
        h.sendFromTun("a", transport(17, from: a.address, 54, to: vm, 5353))
        h.sendFromTun("a", transport(17, from: a.address, 53, to: vm, 5354))
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [answer])

        // Errors about the VM's own packets always pass (path MTU discovery needs them).
        let tooBig = try XCTUnwrap(ICMPv6.error(.packetTooBig(mtu: 1280), from: a.address,
                                                about: transport(6, from: vm, 22, to: a.address, 40000)))
        h.sendFromTun("a", tooBig)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [tooBig])

        // An idle flow expires: the same answer is refused once it is older than flowIdle.
        h.run(seconds: VMGuard.flowIdle + 5)
        h.sendFromTun("a", answer)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [])
    }

    func testNeighbourDirectFramesMeetThePolicyToo() throws {
        let h = mesh.line4()
        h.run(seconds: 10)
        let b = h.nodes["b"]!, r2 = h.nodes["r2"]!, a = h.nodes["a"]!
        let vm = vmAddress(b, 0x42)
        b.setVM(name: "v1", address: vm, policy: try VMPolicy.parse(["key:\(a.identity.publicKey.hex)"]).get())
        h.sendFromTun("r2", mesh.echo(from: r2.address, to: vm))
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [])
        XCTAssertEqual(b.vmEntry(address: vm)?.refused, 1)
        XCTAssertEqual(prohibited(h.takeTun("r2"), to: r2.address), 1)
        b.removeVM(address: vm)
        let again = mesh.echo(from: r2.address, to: vm, seq: 2)
        h.sendFromTun("r2", again)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [again], "a detached VM's policy outlived it")
    }

    /// Two VMs of one node: the kernel sends v2's packet for v1 into the TUN, the node holds it
    /// to v1's policy with its own key as the sender, and hands it back to the kernel.
    func testVMToVMOnOneNodePassesThroughThePolicy() throws {
        let h = mesh.line4()
        h.run(seconds: 10)
        let b = h.nodes["b"]!, a = h.nodes["a"]!
        let v1 = vmAddress(b, 0x41), v2 = vmAddress(b, 0x42)
        b.setVM(name: "v1", address: v1, policy: try VMPolicy.parse(["key:\(a.identity.publicKey.hex)"]).get())
        b.setVM(name: "v2", address: v2, policy: .any)
        let ping = mesh.echo(from: v2, to: v1)
        b.receiveTunPacket(ping, now: h.now)
        h.collect("b")
        let out = h.takeTun("b")
        XCTAssertEqual(prohibited(out, to: v2), 1, "v2 was not told v1 refused it")
        XCTAssertFalse(out.contains(ping))
        b.setVM(name: "v1", address: v1, policy: try VMPolicy.parse(["key:\(b.identity.publicKey.hex)"]).get())
        b.receiveTunPacket(ping, now: h.now)
        h.collect("b")
        XCTAssertEqual(h.takeTun("b"), [ping], "the node's own key did not let v2 reach v1")
        XCTAssertEqual(b.vmEntry(address: v2)?.txPackets, 2)
    }

    func testRefusalsAreRateLimited() throws {
        let h = mesh.line4()
        h.run(seconds: 10)
        let b = h.nodes["b"]!
        let v1 = vmAddress(b, 0x41), v2 = vmAddress(b, 0x42)
        b.setVM(name: "v1", address: v1, policy: try VMPolicy.parse(["tcp:22"]).get())
        b.setVM(name: "v2", address: v2, policy: .any)
        for i in 0..<100 { b.receiveTunPacket(mesh.echo(from: v2, to: v1, seq: UInt16(i)), now: h.now) }
        h.collect("b")
        let answers = prohibited(h.takeTun("b"), to: v2)
        XCTAssertEqual(b.vmEntry(address: v1)?.refused, 100)
        XCTAssertGreaterThan(answers, 0)
        XCTAssertLessThanOrEqual(answers, 10)
    }
}

extension VMGuardTests {
    /// A tenant opening flow after flow cannot grow the node's memory: past `capacity` a new
    /// flow is not recorded (counted), and its answers meet the policy like anything else.
    func testFlowTableIsBounded() throws {
        var guardian = VMGuard()
        let vm = IPv6Address("300:1::42")!, remote = IPv6Address("200:2::1")!
        guardian.set(address: vm, name: "v1", policy: try VMPolicy.parse(["tcp:22"]).get())
        let entry = try XCTUnwrap(guardian.entries[vm])
        let now = Instant.zero
        for i in 0..<(VMGuard.capacity + 16) {
            let packet = transport(17, from: vm, UInt16(truncatingIfNeeded: 1024 + i % 60000), to: remote, UInt16(1 + i / 60000))
            packet.withUnsafeBytes { guardian.sent($0, header: IPv6Header(raw: $0)!, by: entry, now: now) }
        }
        XCTAssertEqual(guardian.flowCount, VMGuard.capacity)
        XCTAssertEqual(guardian.flowTableFull, 16)
        let last = VMGuard.capacity + 15
        let unrecorded = transport(17, from: remote, UInt16(1 + last / 60000), to: vm, UInt16(truncatingIfNeeded: 1024 + last % 60000))
        let admitted = unrecorded.withUnsafeBytes {
            guardian.admits($0, header: IPv6Header(raw: $0)!, to: entry, from: PublicKey(hex: String(repeating: "ab", count: 32))!, now: now)
        }
        XCTAssertFalse(admitted, "the answer to a flow the full table did not record got past a tcp:22 policy")
    }
}
