import Foundation
import XCTest
import PlanetCore
import PlanetAdmin
import PlanetNode
import PlanetCapacity
@testable import PlanetRuntime
import PlanetTesting

/// NodeRunners joined by in-memory transports on one `MemoryNetwork`, each with a
/// `MemoryPacketDevice` as its TUN. The runners' real event loops drive the doubles (their
/// eventfds); the test turns the loops itself, on its own thread, so nothing runs behind its
/// back and no root, socket or TUN is needed.
final class RunnerMesh {
    let network = MemoryNetwork()
    var runners: [String: NodeRunner] = [:]
    var tuns: [String: MemoryPacketDevice] = [:]
    var transports: [String: MemoryTransport] = [:]
    var endpoints: [String: Endpoint] = [:]
    let stateDir = NSTemporaryDirectory() + "planet-runner-\(UInt32.random(in: 0..<UInt32.max))"

    @discardableResult
    func add(_ name: String, peers: [String] = [], offloadingTun: Bool = false, udpOffloadingTun: Bool = false,
             extraDevices: [PacketInterface: MemoryPacketDevice] = [:], capacity: CapacityConfig = CapacityConfig()) throws -> NodeRunner {
        let endpoint = Endpoint(address: IPv6Address(high: 0xfd7a_0000_0000_0000, low: UInt64(runners.count + 1)), port: 8470)
        var config = NodeConfig()
        config.listen = []
        config.multicast = []
        config.tun.enabled = true
        config.capacity = capacity
        config.stateDir = stateDir + "/" + name
        try FileManager.default.createDirectory(atPath: config.stateDir, withIntermediateDirectories: true)
        config.peers = peers.map { PeerURI(host: endpoints[$0]!.address.description, port: endpoints[$0]!.port) }
        let transport = try MemoryTransport(network: network, endpoint: endpoint)
        let tun = try MemoryPacketDevice(offloading: offloadingTun || udpOffloadingTun, udpOffloading: udpOffloadingTun)
        var devices: [PacketInterface: any PacketDevice] = [.tun: tun]
        for (interface, device) in extraDevices { devices[interface] = device }
        let runner = try NodeRunner(config: config, identity: .generate(), logger: .disabled, transports: [transport], devices: devices)
        try runner.start()
        runners[name] = runner
        tuns[name] = tun
        transports[name] = transport
        endpoints[name] = endpoint
        return runner
    }

    /// Turns the loops of `only` (default: all) until `done` holds, waiting a few milliseconds
    /// for a timer whenever nothing is ready. False when `maxTurns` did not get there (a bound
    /// against hanging, not a timing assertion).
    @discardableResult
    func turn(_ only: [String]? = nil, maxTurns: Int = 4000, until done: () -> Bool) -> Bool {
        let loops = (only ?? Array(runners.keys)).map { runners[$0]!.loop }
        for _ in 0..<maxTurns {
            if done() { return true }
            if loops.reduce(0, { $0 + $1.runOnce(timeoutMilliseconds: 0) }) == 0 {
                for loop in loops { loop.runOnce(timeoutMilliseconds: 2) }
            }
        }
        return done()
    }

    /// Turns `only` until none of their loops has anything ready.
    func settle(_ only: [String]) {
        let loops = only.map { runners[$0]!.loop }
        for _ in 0..<10_000 where loops.reduce(0, { $0 + $1.runOnce(timeoutMilliseconds: 0) }) > 0 {}
    }

    func hasRoute(_ from: String, to: String) -> Bool {
        runners[from]!.node.router.route(forAddress: runners[to]!.node.address) != nil
    }

    func close() {
        for r in runners.values { r.shutdown() }
        try? FileManager.default.removeItem(atPath: stateDir)
    }
}

final class NodeRunnerTests: XCTestCase {
    var mesh: RunnerMesh!

    override func setUp() { mesh = RunnerMesh() }
    override func tearDown() { mesh.close() }

    func echo(from s: IPv6Address, to d: IPv6Address, seq: UInt16, payload: Int = 200) -> [UInt8] {
        var body: [UInt8] = [ICMPv6.echoRequest, 0, 0, 0, 0x52, 0x75, UInt8(seq >> 8), UInt8(seq & 0xff)]
        body.append(contentsOf: (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ Int(seq)) })
        return ICMPv6.packet(from: s, to: d, icmp: body)
    }

    func testAPacketWrittenIntoOneRunnersTunComesOutOfTheOthers() throws {
        let vm = try MemoryPacketDevice()
        let b = try mesh.add("b")
        let a = try mesh.add("a", peers: ["b"], extraDevices: [PacketInterface(id: 5): vm])
        XCTAssertTrue(mesh.turn { mesh.hasRoute("a", to: "b") && mesh.hasRoute("b", to: "a") }, "a and b found no routes to each other")

        let there = (0..<10).map { echo(from: a.node.address, to: b.node.address, seq: UInt16($0)) }
        for p in there { mesh.tuns["a"]!.inject(p) }
        XCTAssertTrue(mesh.turn { mesh.tuns["b"]!.pendingCount == 0 && mesh.tuns["a"]!.pendingCount == 0 && receivedCount("b") >= 10 })
        assertSamePackets(takeWritten("b"), there, "b's TUN against what a's TUN was given")

        // And back, from b's TUN to a's; a's second device is read too, its packets go out
        // like the TUN's, and nothing the node sends to .tun ends up on it.
        let back = (0..<10).map { echo(from: b.node.address, to: a.node.address, seq: UInt16(100 + $0)) }
        for p in back { mesh.tuns["b"]!.inject(p) }
        XCTAssertTrue(mesh.turn { receivedCount("a") >= 10 })
        assertSamePackets(takeWritten("a"), back, "a's TUN against what b's TUN was given")
        let fromVM = echo(from: a.node.address, to: b.node.address, seq: 999)
        vm.inject(fromVM)
        XCTAssertTrue(mesh.turn { receivedCount("b") >= 1 })
        assertSamePackets(takeWritten("b"), [fromVM], "b's TUN")
        XCTAssertEqual(vm.takeWritten(), [])
        XCTAssertEqual(a.ioDrops().map(\.0), [], "a lost packets at its edge")
        XCTAssertEqual(b.ioDrops().map(\.0), [], "b lost packets at its edge")
    }

    /// a - r - b, converged, with the a-b session up: the first packet a sent is in b's TUN.
    func lineWithSession() throws -> (a: NodeRunner, r: NodeRunner, b: NodeRunner) {
        let b = try mesh.add("b")
        let r = try mesh.add("r", peers: ["b"])
        let a = try mesh.add("a", peers: ["r"])
        XCTAssertTrue(mesh.turn { mesh.hasRoute("a", to: "b") && mesh.hasRoute("b", to: "a") }, "no routes across r")
        let first = echo(from: a.node.address, to: b.node.address, seq: 0)
        mesh.tuns["a"]!.inject(first)
        XCTAssertTrue(mesh.turn { receivedCount("b") >= 1 }, "the packet that opened the session did not arrive")
        assertSamePackets(takeWritten("b"), [first], "b's TUN")
        return (a, r, b)
    }

    /// a sends its session's handshake finish and the packet that waited for the session
    /// together; r receives both in one batch, relays the finish the ordinary way (the node's
    /// output) and the data in place (straight from the receive slot). The finish must still
    /// leave first, or b cannot open the data yet (session-unknown-index) and the packet is lost.
    func testARelayKeepsAHandshakeFinishAheadOfTheDataItKeys() throws {
        let (_, r, b) = try lineWithSession()
        XCTAssertEqual(b.node.stats.dropped(.sessionUnknownIndex), 0)
        XCTAssertGreaterThan(r.node.stats.forwardedPackets, 0)
    }

    /// r relays a's packets for b in place: each is opened and sealed again in r's receive slot
    /// and sent from there. More than a receive batch waits at r at once, so r fills its batch
    /// again within one wakeup; were the relayed datagrams sent after that next fill rather
    /// than before (the borrow-until-flush rule), the slots would hold other datagrams by then,
    /// b could not open what r sent, and the packets would not arrive (a debug build stops
    /// earlier, at `DatagramBatch.refill`'s assertion).
    func testARelayInPlaceSendsEachBorrowedDatagramBeforeItsSlotIsFilledAgain() throws {
        let (a, r, b) = try lineWithSession()
        _ = mesh.network.takeSent()

        // a sends 150 packets while r's loop stands still, so they all wait at r.
        let capacity = r.receiveBatch.capacity
        let sent = (1...150).map { echo(from: a.node.address, to: b.node.address, seq: UInt16($0), payload: 300 + $0) }
        for p in sent { mesh.tuns["a"]!.inject(p) }
        mesh.settle(["a"])
        XCTAssertEqual(mesh.tuns["a"]!.pendingCount, 0)
        XCTAssertGreaterThan(mesh.transports["r"]!.pendingCount, capacity, "r should have more than one receive batch waiting")
        let forwardedBefore = r.node.stats.forwardedPackets

        // One wakeup of r: it receives, relays and flushes batch after batch.
        r.loop.runOnce(timeoutMilliseconds: 0)
        XCTAssertEqual(mesh.transports["r"]!.pendingCount, 0, "r left datagrams unread")
        XCTAssertFalse(r.receiveBatch.isLent, "r's receive batch is still lent after the flush")
        let rToB = mesh.network.takeSent().filter { $0.from == mesh.endpoints["r"]! && $0.to == mesh.endpoints["b"]! }
        XCTAssertEqual(UInt64(rToB.count), r.node.stats.forwardedPackets - forwardedBefore)
        XCTAssertGreaterThanOrEqual(rToB.count, 150)

        XCTAssertTrue(mesh.turn { receivedCount("b") >= 150 }, "b got \(receivedCount("b")) of 150")
        assertSamePackets(takeWritten("b"), sent, "b's TUN against what a's TUN was given")
        XCTAssertEqual(b.node.stats.forwardedPackets, 0)
    }

    /// Through an offloading device the runner writes what `TCPCoalescer` merged: a TCP flow's
    /// consecutive segments arrive as one super-packet behind a GSO header, which cut again
    /// gives back exactly the segments a's TUN was given.
    func testAnOffloadingDeviceGetsCoalescedSuperPackets() throws {
        let b = try mesh.add("b", offloadingTun: true)
        let a = try mesh.add("a", peers: ["b"])
        XCTAssertTrue(mesh.turn { mesh.hasRoute("a", to: "b") })
        let flow = (0..<5).map { i in
            OffloadFixtures.tcp(seq: 1000 + UInt32(i * 1000), flags: 0x10, payload: (0..<1000).map { UInt8(truncatingIfNeeded: i * 7 + $0) },
                                src: a.node.address.bytes, dst: b.node.address.bytes)
        }
        for p in flow { mesh.tuns["a"]!.inject(p) }
        mesh.settle(["a"])
        XCTAssertTrue(mesh.turn(["b"]) { mesh.transports["b"]!.pendingCount == 0 })
        let written = mesh.tuns["b"]!.takeWritten()
        XCTAssertEqual(written.count, 1, "the five segments should go up as one super-packet")
        guard let w = written.first else { return }
        XCTAssertEqual(w.header.gsoType, VirtioNetHeader.gsoTCPv6)
        XCTAssertEqual(w.header.gsoSize, 1000)
        var bytes = w.bytes
        var segments: [[UInt8]] = []
        var scratch = [UInt8](repeating: 0, count: 65536)
        _ = bytes.withUnsafeMutableBytes { raw in
            scratch.withUnsafeMutableBytes { s in Segmenter.process(w.header, packet: raw, scratch: s) { p, _ in segments.append(Array(p)) } }
        }
        assertSamePackets(segments, flow, "b's super-packet cut again")
    }

    /// With UDP segmentation offload on the device, a UDP flow's datagrams go up as one UDP_L4
    /// super-packet, which cut again gives back exactly the datagrams a's TUN was given.
    func testAUDPOffloadingDeviceGetsMergedDatagrams() throws {
        let b = try mesh.add("b", udpOffloadingTun: true)
        let a = try mesh.add("a", peers: ["b"])
        XCTAssertTrue(mesh.turn { mesh.hasRoute("a", to: "b") })
        let flow = (0..<5).map { i in
            OffloadUDPTests.udp(OffloadUDPTests.body(1200, i), src: a.node.address.bytes, dst: b.node.address.bytes)
        }
        for p in flow { mesh.tuns["a"]!.inject(p) }
        mesh.settle(["a"])
        XCTAssertTrue(mesh.turn(["b"]) { mesh.transports["b"]!.pendingCount == 0 })
        let written = mesh.tuns["b"]!.takeWritten()
        XCTAssertEqual(written.count, 1, "the five datagrams should go up as one super-packet")
        guard let w = written.first else { return }
        XCTAssertEqual(w.header.gsoType, VirtioNetHeader.gsoUDPL4)
        XCTAssertEqual(w.header.gsoSize, 1200)
        var bytes = w.bytes
        var datagrams: [[UInt8]] = []
        var scratch = [UInt8](repeating: 0, count: 65536)
        _ = bytes.withUnsafeMutableBytes { raw in
            scratch.withUnsafeMutableBytes { s in Segmenter.process(w.header, packet: raw, scratch: s) { p, _ in datagrams.append(Array(p)) } }
        }
        assertSamePackets(datagrams, flow, "b's super-packet cut again")
    }

    func testAPacketForAnInterfaceWithNoDeviceIsCountedNotWritten() throws {
        let a = try mesh.add("a")
        let tun = mesh.tuns["a"]!
        let x = echo(from: IPv6Address(high: 0x0200_0000_0000_0000, low: 1), to: a.node.address, seq: 1)
        let y = echo(from: IPv6Address(high: 0x0200_0000_0000_0000, low: 2), to: a.node.address, seq: 2)
        var elsewhere = NodeOutput.TunPacket(y[...])
        elsewhere.interface = PacketInterface(id: 7)
        a.node.output.tunPackets = [NodeOutput.TunPacket(x[...]), elsewhere, NodeOutput.TunPacket(x[...])]
        a.flush()
        XCTAssertEqual(tun.takeWritten().map(\.bytes), [x, x], "the TUN's packets, in order, and only those")
        XCTAssertEqual(a.ioDrops().map(\.0), ["io-unknown-interface"])
        XCTAssertEqual(a.ioDrops().first?.1, 1)

        // A whole flush for a missing device, and a device refusing writes, count too.
        a.node.output.tunPackets = [elsewhere, elsewhere]
        tun.refuseWrites(true)
        a.node.output.tunPackets.append(NodeOutput.TunPacket(x[...]))
        a.flush()
        XCTAssertEqual(tun.takeWritten(), [])
        let drops = Dictionary(uniqueKeysWithValues: a.ioDrops())
        XCTAssertEqual(drops, ["io-unknown-interface": 3, "io-tun-write-failed": 1])
    }

    /// A datagram larger than a receive slot is lost at the runtime's edge: counted, and
    /// reported with the other `io-` drops (stats and metrics), not only kept in the socket.
    func testATruncatedDatagramIsReportedAmongTheEdgeDrops() throws {
        let a = try mesh.add("a")
        let there = Endpoint(address: IPv6Address(high: 0xfd7a_0000_0000_0000, low: 99), port: 1)
        mesh.transports["a"]!.inject([UInt8](repeating: 0x04, count: 70000), from: there)
        mesh.turn(["a"]) { !a.ioDrops().isEmpty }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: a.ioDrops()), ["io-udp-truncated": 1])
    }

    func testGetStatsReportsTheRunnersEdgeDrops() throws {
        let a = try mesh.add("a")
        var elsewhere = NodeOutput.TunPacket(echo(from: a.node.address, to: a.node.address, seq: 1)[...])
        elsewhere.interface = PacketInterface(id: 9)
        a.node.output.tunPackets = [elsewhere]
        a.flush()
        // The admin handler posts to the loop and waits, as planetd's admin thread does.
        let stopped = DispatchSemaphore(value: 0)
        let thread = Thread { a.loop.run(); stopped.signal() }
        thread.start()
        defer {
            a.stop()
            stopped.wait()
        }
        let stats = try NodeAdminHandler(runner: a).handle(request: "getStats", arguments: .object([])).get()
        XCTAssertEqual(stats["drops"]?["io-unknown-interface"]?.numberValue, 1)
    }

    // MARK: helpers

    /// Equal packet lists, reported by count and first difference rather than as bytes.
    func assertSamePackets(_ got: [[UInt8]], _ want: [[UInt8]], _ what: String, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, "\(what): packet count", line: line)
        if let i = zip(got, want).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            XCTFail("\(what): packet \(i) differs", line: line)
        }
    }

    func receivedCount(_ name: String) -> Int { pendingWritten[name, default: []].count + drain(name) }

    private var pendingWritten: [String: [[UInt8]]] = [:]

    private func drain(_ name: String) -> Int {
        let got = mesh.tuns[name]!.takeWritten().map(\.bytes)
        pendingWritten[name, default: []].append(contentsOf: got)
        return got.count
    }

    func takeWritten(_ name: String) -> [[UInt8]] {
        _ = drain(name)
        defer { pendingWritten[name] = [] }
        return pendingWritten[name, default: []]
    }
}

/// The loan on its own: out from `lend` until repaid, and every fill counted.
final class ReceiveLoanTests: XCTestCase {
    func testALoanIsOutUntilRepaidAndEachFillIsCounted() throws {
        let network = MemoryNetwork()
        let here = Endpoint(address: IPv6Address(high: 0xfd00_0000_0000_0000, low: 1), port: 1)
        let there = Endpoint(address: IPv6Address(high: 0xfd00_0000_0000_0000, low: 2), port: 2)
        let transport = try MemoryTransport(network: network, endpoint: here)
        let batch = DatagramBatch(capacity: 4, slotSize: 256)
        transport.inject([1, 2, 3, 4], from: there)
        XCTAssertEqual(transport.receiveBatch(into: batch), 1)
        let generation = batch.generation
        let loan = batch.lend()
        XCTAssertTrue(batch.isLent)
        batch.forEachMutableDatagram(in: 0, under: loan) { datagram in datagram[0] = 9 }
        loan.repay()
        XCTAssertFalse(batch.isLent)
        transport.inject([5, 6, 7, 8], from: there)
        XCTAssertEqual(transport.receiveBatch(into: batch), 1)
        XCTAssertEqual(batch.generation, generation + 1)
    }

    func testAMemoryTransportSendsTheBytesASlotHoldsWhenItSends() throws {
        let network = MemoryNetwork()
        let a = try MemoryTransport(network: network, endpoint: Endpoint(address: IPv6Address(high: 0xfd00_0000_0000_0000, low: 1), port: 1))
        let bEndpoint = Endpoint(address: IPv6Address(high: 0xfd00_0000_0000_0000, low: 2), port: 2)
        let b = try MemoryTransport(network: network, endpoint: bEndpoint, socketIndex: 3)
        let batch = DatagramBatch(capacity: 4, slotSize: 256)
        b.inject([1, 2, 3], from: a.localEndpoint)
        XCTAssertEqual(b.receiveBatch(into: batch), 1)
        XCTAssertEqual(batch.endpoint(0), Endpoint(address: a.localEndpoint.address, port: 1, socket: 3))
        let loan = batch.lend()
        let out = SendBatch(capacity: 4, slotSize: 256)
        batch.forEachMutableDatagram(in: 0, under: loan) { datagram in
            out.append(borrowing: UnsafeRawBufferPointer(datagram), to: a.localEndpoint)
            datagram[2] = 42   // changed in place after queueing, before the send: the send sees it
        }
        XCTAssertEqual(b.sendBatch(out), 1)
        loan.repay()
        XCTAssertEqual(network.takeSent(), [MemoryNetwork.Datagram(bytes: [1, 2, 42], from: bEndpoint, to: Endpoint(address: a.localEndpoint.address, port: 1))])
        XCTAssertEqual(a.pendingCount, 1)
        // Nobody bound: lost, and counted by the network.
        out.append([7], to: Endpoint(address: IPv6Address(high: 0xfd00_0000_0000_0000, low: 9), port: 9))
        b.sendBatch(out)
        XCTAssertEqual(network.lost, 1)
    }
}

/// The VM admin calls end to end inside planetd, over the in-memory host: the host is changed
/// on the admin thread, the node learns the VM's policy on its loop, and the replies carry both.
final class VMAdminTests: XCTestCase {
    func testAttachPolicyListAndDetachReachTheHostAndTheNode() throws {
        let mesh = RunnerMesh()
        defer { mesh.close() }
        let a = try mesh.add("a")
        let memory = MemoryHostNetwork()
        memory.namespaces = ["ctr"]
        a.adoptVMs(VMHost(subnet: a.node.subnet, tunName: "planet0", mtu: 1360, stateDir: mesh.stateDir + "/a", host: memory))
        let stopped = DispatchSemaphore(value: 0)
        let thread = Thread { a.loop.run(); stopped.signal() }
        thread.start()
        defer {
            a.stop()
            stopped.wait()
        }
        let handler = NodeAdminHandler(runner: a)
        let key = String(repeating: "cd", count: 32)
        let vm = try handler.handle(request: "vmAttach", arguments: .object([
            ("name", .string("c1")), ("netns", .string("ctr")), ("allow", .array([.string("key:\(key)")])),
        ])).get()
        let address = try XCTUnwrap(vm["address"]?.stringValue.flatMap(IPv6Address.init))
        XCTAssertTrue(a.node.subnet.contains(address))
        XCTAssertEqual(vm["state"], .string("up"))
        XCTAssertEqual(vm["policy"], .array([.string("key:\(key)")]))
        XCTAssertFalse(memory.inForce.isEmpty)

        // Read on the loop thread, where the node lives.
        let onLoop = { (body: @escaping @Sendable (Node) -> JSONValue) in try handler.onLoop(body).get() }
        XCTAssertEqual(try onLoop { .string($0.vmEntry(address: address)?.policy.description ?? "none") }, .string("key:\(key)"))

        _ = try handler.handle(request: "vmPolicy", arguments: .object([("name", .string("c1")), ("allow", .array([.string("tcp:22")]))])).get()
        XCTAssertEqual(try onLoop { .string($0.vmEntry(address: address)?.policy.description ?? "none") }, .string("tcp:22"))

        let list = try handler.handle(request: "vmList", arguments: .object([])).get()
        XCTAssertEqual(list["vms"]?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["c1"])
        for field in ["name", "address", "interface", "policy", "state", "rxBytes", "txBytes"] {
            XCTAssertNotNil(list["vms"]?.arrayValue?.first?[field], field)
        }

        guard case .failure(let e) = handler.handle(request: "vmAttach", arguments: .object([
            ("name", .string("c2")), ("netns", .string("ctr")), ("address", .string(address.description)),
        ])) else { return XCTFail("a taken address was accepted") }
        XCTAssertTrue(e.message.hasPrefix("address: "), e.message)

        _ = try handler.handle(request: "vmDetach", arguments: .object([("name", .string("c1"))])).get()
        XCTAssertEqual(try onLoop { .bool($0.vmEntry(address: address) == nil) }, .bool(true))
        XCTAssertEqual(memory.inForce, [])
        XCTAssertEqual(try handler.handle(request: "vmList", arguments: .object([])).get()["vms"], .array([]))
    }

    /// A host change the node does not take is not left behind: the loop answers the attach's
    /// first question (free capacity) and then stops turning, so the node never confirms the
    /// VM; the attach fails as the node's failure and the host is rolled back. When the loop
    /// turns again, the late work and the undo leave the node without the VM too.
    func testAnAttachTheNodeDoesNotTakeIsRolledBack() throws {
        let mesh = RunnerMesh()
        defer { mesh.close() }
        let a = try mesh.add("a")
        let memory = MemoryHostNetwork()
        memory.namespaces = ["ctr"]
        let host = VMHost(subnet: a.node.subnet, tunName: "planet0", mtu: 1360, stateDir: mesh.stateDir + "/a", host: memory)
        a.adoptVMs(host)
        let turned = DispatchSemaphore(value: 0)
        let oneTurn = Thread { a.loop.runOnce(timeoutMilliseconds: 5000); turned.signal() }
        oneTurn.start()
        let handler = NodeAdminHandler(runner: a)
        guard case .failure(let e) = handler.handle(request: "vmAttach", arguments: .object([("name", .string("c1")), ("netns", .string("ctr"))])) else {
            return XCTFail("an attach the node never confirmed succeeded")
        }
        XCTAssertEqual(e.kind, .node)
        XCTAssertTrue(e.message.contains("undone"), e.message)
        XCTAssertNil(host.lease(named: "c1"), "the lease outlived the rollback")
        XCTAssertEqual(memory.inForce, [], "the host kept what the node never took")
        // The loop is this thread's from here on: the one-turn thread must be done with it.
        turned.wait()
        for _ in 0..<10 { a.loop.runOnce(timeoutMilliseconds: 10) }
        XCTAssertTrue(a.node.vms.isEmpty, "the node kept a VM whose attach was undone")
    }

    /// What a VM declares is used capacity in the node's record: attaching one with 2 GiB of
    /// memory (and 2 CPUs, 10 GiB of disk) raises the record's used mru, cru and sru by that
    /// much, and detaching it gives them back. The record read is the one the announcer would
    /// sign now; when it goes out is the announcer's debounce (CapacityAnnouncerTests).
    func testAttachAndDetachChangeTheCapacityTheNodeAnnounces() throws {
        let mesh = RunnerMesh()
        defer { mesh.close() }
        var capacity = CapacityConfig()
        capacity.enabled = true
        let a = try mesh.add("a", capacity: capacity)
        let memory = MemoryHostNetwork()
        memory.namespaces = ["ctr"]
        a.adoptVMs(VMHost(subnet: a.node.subnet, tunName: "planet0", mtu: 1360, stateDir: mesh.stateDir + "/a", host: memory))
        let stopped = DispatchSemaphore(value: 0)
        let thread = Thread { a.loop.run(); stopped.signal() }
        thread.start()
        defer {
            a.stop()
            stopped.wait()
        }
        let handler = NodeAdminHandler(runner: a)
        func used() throws -> CapacityResources {
            let r = try handler.onLoop { node in node.capacity.announcer.content()?.used }.get()
            // No record would mean the runner never measured: a failure, not a skip.
            guard let r else { throw AdminError("the node has no capacity record") }
            return r
        }
        let before = try used()
        // Forced: the record is this machine's, which may have less than this free.
        _ = try handler.handle(request: "vmAttach", arguments: .object([
            ("name", .string("c1")), ("netns", .string("ctr")), ("cpu", .string("2")), ("memory", .string("2G")), ("disk", .string("10G")),
            ("force", .string("true")),
        ])).get()
        let attached = try used()
        XCTAssertEqual(attached.mru, before.mru + 2 * ByteSize.gib)
        XCTAssertEqual(attached.cru, before.cru + 2)
        XCTAssertEqual(attached.sru, before.sru + 10 * ByteSize.gib)
        XCTAssertEqual(attached.hru, before.hru)

        _ = try handler.handle(request: "vmDetach", arguments: .object([("name", .string("c1"))])).get()
        XCTAssertEqual(try used(), before)
    }

    /// A VM that declares more than the node's record has free would leave it with more used
    /// than total: refused naming the argument (exit 2 in planetctl) and nothing attached,
    /// unless forced, which attaches it and says so in the reply's warnings. A node that
    /// announces no capacity has no record to overrun and checks nothing.
    func testAVMDeclaringMoreThanIsFreeIsRefusedUnlessForced() throws {
        let mesh = RunnerMesh()
        defer { mesh.close() }
        var capacity = CapacityConfig()
        capacity.enabled = true
        capacity.offer = CapacityConfig.Amounts(cru: 1, mru: 4 * ByteSize.gib, sru: 0)
        capacity.reserved = CapacityConfig.Amounts(cru: 0, mru: ByteSize.gib)
        let a = try mesh.add("a", capacity: capacity)
        let b = try mesh.add("b")
        let memory = MemoryHostNetwork()
        memory.namespaces = ["ctr"]
        for (r, name) in [(a, "a"), (b, "b")] { r.adoptVMs(VMHost(subnet: r.node.subnet, tunName: "planet0", mtu: 1360, stateDir: mesh.stateDir + "/" + name, host: memory)) }
        var threads: [DispatchSemaphore] = []
        for r in [a, b] {
            let stopped = DispatchSemaphore(value: 0)
            Thread { r.loop.run(); stopped.signal() }.start()
            threads.append(stopped)
        }
        defer { for (r, s) in zip([a, b], threads) { r.stop(); s.wait() } }
        let handler = NodeAdminHandler(runner: a)
        func attach(_ name: String, _ extra: [(String, JSONValue)]) -> Result<JSONValue, AdminError> {
            handler.handle(request: "vmAttach", arguments: .object([("name", .string(name)), ("netns", .string("ctr"))] + extra))
        }
        let big: [(String, JSONValue)] = [("cpu", .string("2")), ("memory", .string("3584M")), ("disk", .string("1G"))]
        guard case .failure(let e) = attach("big", big) else { return XCTFail("over-declaring VM attached") }
        XCTAssertEqual(e.description, "cpu: the VM declares 2 CPUs but this node has 1 free; memory: the VM declares 3.5G but this node has 3G free; "
                       + "disk: the VM declares 1G but this node has 0 free; --force attaches it anyway")
        XCTAssertEqual(try handler.handle(request: "vmList", arguments: .object([])).get()["vms"], .array([]), "a refused VM was left behind")
        XCTAssertTrue(try attach("fits", [("cpu", .string("1")), ("memory", .string("3G"))]).get()["warnings"] == nil)
        // Now nothing is free: forcing attaches it and warns of each overrun.
        let forced = try attach("big", big + [("force", .string("true"))]).get()
        XCTAssertEqual(forced["name"], .string("big"))
        XCTAssertEqual(forced["warnings"]?.arrayValue?.compactMap(\.stringValue).map { String($0.prefix(while: { $0 != ":" })) }, ["cpu", "memory", "disk"])
        XCTAssertEqual(forced["warnings"]?.arrayValue?.first, .string("cpu: the VM declares 2 CPUs but this node has 0 free"))
        guard case .failure(let bad) = attach("x", [("force", .string("yes"))]) else { return XCTFail("force: yes accepted") }
        XCTAssertTrue(bad.description.hasPrefix("force: "), bad.description)
        // b announces nothing: no record to overrun, nothing refused or warned.
        let plain = try NodeAdminHandler(runner: b).handle(request: "vmAttach", arguments: .object([
            ("name", .string("huge")), ("netns", .string("ctr")), ("cpu", .string("1024")),
        ])).get()
        XCTAssertNil(plain["warnings"])
    }

    func testOverDeclaredNamesEachArgumentInTheDocsUnits() {
        var r = VMAttachRequest(name: "web")
        r.cpu = 4
        r.memoryBytes = 64 * ByteSize.gib
        r.diskBytes = 20 * ByteSize.gib
        let free = CapacityResources(cru: 4, mru: 12 * ByteSize.gib + 512 * ByteSize.mib, sru: 100 * ByteSize.gib)
        XCTAssertEqual(NodeRunner.overDeclared(r, free: free), [VMTableError(argument: "memory", "the VM declares 64G but this node has 12.5G free")])
        XCTAssertEqual(NodeRunner.overDeclared(VMAttachRequest(name: "web"), free: .zero), [], "declaring nothing takes nothing")
        r.cpu = 1
        XCTAssertEqual(NodeRunner.overDeclared(r, free: CapacityResources(mru: 64 * ByteSize.gib, sru: 20 * ByteSize.gib)),
                       [VMTableError(argument: "cpu", "the VM declares 1 CPU but this node has 0 free")])
    }

    /// A restarted planetd re-adopts its leases: what they declare is in the record from the
    /// start, not only after the next attach.
    func testAdoptedLeasesCountInTheRecordFromTheStart() throws {
        let mesh = RunnerMesh()
        defer { mesh.close() }
        var capacity = CapacityConfig()
        capacity.enabled = true
        let a = try mesh.add("a", capacity: capacity)
        let baseline = try XCTUnwrap(a.node.capacity.announcer.content()?.used)
        let memory = MemoryHostNetwork()
        memory.namespaces = ["ctr"]
        let earlier = VMHost(subnet: a.node.subnet, tunName: "planet0", mtu: 1360, stateDir: mesh.stateDir + "/a", host: memory)
        var request = VMAttachRequest(name: "db")
        request.netns = "ctr"
        request.memoryBytes = 3 * ByteSize.gib
        _ = try earlier.attach(request).get()
        a.adoptVMs(VMHost(subnet: a.node.subnet, tunName: "planet0", mtu: 1360, stateDir: mesh.stateDir + "/a", host: memory))
        XCTAssertEqual(a.node.capacity.announcer.content()?.used.mru, baseline.mru + 3 * ByteSize.gib)
    }

    func testWithoutAVMHostTheCallsSaySo() throws {
        let mesh = RunnerMesh()
        defer { mesh.close() }
        let a = try mesh.add("a")
        guard case .failure(let e) = NodeAdminHandler(runner: a).handle(request: "vmList", arguments: .object([])) else {
            return XCTFail("vmList answered without a VM host")
        }
        XCTAssertTrue(e.message.contains("TUN"), e.message)
    }
}
