import XCTest
import PlanetCore
@testable import PlanetNode
import PlanetTesting

/// One node, two networks (Node+Foreign.swift): the route choice made once per packet, and a
/// foreign sender held to the same rules as a Planetary one.
final class ForeignNetworkTests: XCTestCase {
    /// Records what the node hands it; takes packets only while `accepts`.
    final class Recorder: ForeignNetwork {
        let name = "test"
        var accepts = true
        var sent: [[UInt8]] = []
        func send(_ packet: UnsafeRawBufferPointer, now: Instant) -> Bool {
            guard accepts else { return false }
            sent.append(Array(packet))
            return true
        }
    }

    func echo(from s: IPv6Address, to d: IPv6Address, seq: UInt16 = 1) -> [UInt8] {
        let body: [UInt8] = [ICMPv6.echoRequest, 0, 0, 0, 0x12, 0x34, UInt8(seq >> 8), UInt8(seq & 0xff), 1, 2, 3, 4]
        return ICMPv6.packet(from: s, to: d, icmp: body)
    }

    func pair() -> NodeHarness {
        let h = NodeHarness()
        h.add("b")
        h.add("a", peers: ["b"])
        h.run(seconds: 10)
        return h
    }

    /// A Planetary route wins and the foreign network sees nothing; a destination with no
    /// Planetary route goes to the foreign network once, and nowhere else.
    func testPlanetaryFirstThenTheForeignNetworkOnce() {
        let h = pair()
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        let foreign = Recorder()
        a.attach(foreign: foreign)

        let toB = echo(from: a.address, to: b.address)
        h.sendFromTun("a", toB)
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [toB], "a destination with a Planetary route must go over Planetary")
        XCTAssertEqual(foreign.sent, [], "a packet with a Planetary route went to the foreign network too")

        let elsewhere = NodeIdentity.generate().address
        let toElsewhere = echo(from: a.address, to: elsewhere, seq: 2)
        h.sendFromTun("a", toElsewhere)
        h.run(seconds: 1)
        XCTAssertEqual(foreign.sent, [toElsewhere])
        XCTAssertEqual(a.stats.foreignTxPackets, 1)
        XCTAssertEqual(a.stats.dropped(.noRoute), 0)
        XCTAssertEqual(h.takeTun("a"), [], "no \"no route\" answer when the foreign network took it")
        XCTAssertEqual(h.takeTun("b"), [])

        // When the foreign network cannot take it either, the sender hears "no route" as before.
        foreign.accepts = false
        h.sendFromTun("a", echo(from: a.address, to: elsewhere, seq: 3))
        h.run(seconds: 1)
        XCTAssertEqual(a.stats.dropped(.noRoute), 1)
        XCTAssertEqual(h.takeTun("a").count, 1, "the sender got no ICMPv6 error")
    }

    /// Inbound from the foreign network: delivered only for this node or its /64, never
    /// forwarded on (over Planetary or back), and a VM's key policy applies to the foreign
    /// sender's key exactly as to a Planetary one.
    func testForeignPacketsAreForThisNodeAndObeyVMPolicyByKey() throws {
        let h = pair()
        let a = h.nodes["a"]!, b = h.nodes["b"]!
        a.attach(foreign: Recorder())
        let friend = NodeIdentity.generate(), stranger = NodeIdentity.generate()

        let toA = echo(from: friend.address, to: a.address)
        a.receiveForeignPacket(toA, from: friend.publicKey, now: h.now)
        h.collect("a")
        XCTAssertEqual(h.takeTun("a"), [toA])
        XCTAssertEqual(a.stats.foreignRxPackets, 1)

        // For b (a Planetary neighbour of a): not forwarded, not handed back; counted.
        a.receiveForeignPacket(echo(from: friend.address, to: b.address), from: friend.publicKey, now: h.now)
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(h.takeTun("b"), [], "a foreign packet was forwarded over Planetary")
        XCTAssertEqual(h.takeTun("a"), [])
        XCTAssertEqual(a.stats.dropped(.foreignNotLocal), 1)

        a.receiveForeignPacket([0x60, 1, 2], from: friend.publicKey, now: h.now)
        XCTAssertEqual(a.stats.dropped(.foreignMalformed), 1)

        let vm = IPv6Address(high: a.subnet.address.high, low: 0x42)
        a.setVM(name: "v1", address: vm, policy: try VMPolicy.parse(["key:\(friend.publicKey.hex)"]).get())
        let fromFriend = echo(from: friend.address, to: vm, seq: 5)
        a.receiveForeignPacket(fromFriend, from: friend.publicKey, now: h.now)
        h.collect("a")
        XCTAssertEqual(h.takeTun("a"), [fromFriend], "the VM's policy admits this key")
        a.receiveForeignPacket(echo(from: stranger.address, to: vm, seq: 6), from: stranger.publicKey, now: h.now)
        h.collect("a")
        h.run(seconds: 1)
        XCTAssertEqual(a.stats.dropped(.vmPolicyRefused), 1, "the VM's policy did not apply to a foreign sender")
        let toVM = h.takeTun("a").filter { IPv6Header($0)?.destination == vm }
        XCTAssertEqual(toVM, [], "a key the VM's policy refuses reached it")
    }
}
