import PlanetCore
import XCTest
import PlanetNode

/// Several `Node`s joined by an in-memory underlay: each node has one UDP endpoint; datagrams
/// are delivered after a fixed latency in virtual time. Lets tests run the real node code over
/// multi-hop topologies with no sockets, threads or clocks.
package final class NodeHarness {
    package struct Datagram {
        package let at: Instant
        package let bytes: [UInt8]
        package let from: Endpoint
        package let to: Endpoint
        package init(at: Instant, bytes: [UInt8], from: Endpoint, to: Endpoint) {
            self.at = at; self.bytes = bytes; self.from = from; self.to = to
        }
    }

    package var nodes: [String: Node] = [:]
    package var endpoints: [String: Endpoint] = [:]
    package var names: [Endpoint: String] = [:]
    package var inFlight: [Datagram] = []
    package var tunOut: [String: [[UInt8]]] = [:]
    /// The checksum-partial mark of each packet in `tunOut`, in the same order.
    package var tunPartial: [String: [Bool]] = [:]
    package var now = Instant(seconds: 1000)
    package let latency = 0.001
    package var cut: Set<Set<String>> = []
    /// Deliver datagrams as planetd does, into a writable buffer relayed in place
    /// (`receiveDatagram(inPlace:)`); false takes the array path instead.
    package var inPlace = true
    /// Datagrams each node sent straight from its receive buffer (relayed in place).
    package var relayedInPlace: [String: Int] = [:]
    /// Packets each node handed to its TUN straight from the receive buffer.
    package var tunInPlace: [String: Int] = [:]
    package var seed: UInt64 = 1

    package init() {}

    /// Unix time at virtual time zero.
    package static let unixEpoch = 1_800_000_000.0

    package func endpoint(_ i: Int) -> Endpoint {
        Endpoint(address: IPv6Address(high: 0xfd7a_0000_0000_0000, low: UInt64(i)), port: 8470)
    }

    @discardableResult
    /// `punch`: hole punching on. Off by default: the harness's underlay has no NAT, so every
    /// pair of nodes could link directly, and punching would turn every relayed path a test
    /// builds into a direct one.
    package func add(_ name: String, peers: [String] = [], tun: Bool = true, punch: Bool = false,
                     capacity: CapacityConfig = CapacityConfig(), mtu: Int? = nil, routing: RoutingConfig = RoutingConfig()) -> Node {
        let ep = endpoint(nodes.count + 1)
        var config = NodeConfig()
        config.routing = routing
        config.capacity = capacity
        config.tun.enabled = tun
        if let mtu { config.tun.mtu = mtu }
        config.nat.punch = punch
        config.multicast = []
        for p in peers {
            let pe = endpoints[p]!
            config.peers.append(PeerURI(host: pe.address.description, port: pe.port))
        }
        seed += 1
        let node = Node(identity: .generate(), config: config, now: now, random: SplitMix64(seed: seed))
        // The wall clock runs with virtual time from a fixed Unix moment, for capacity records.
        node.setWallClock(unixSeconds: NodeHarness.unixEpoch + now.seconds, now: now)
        nodes[name] = node
        endpoints[name] = ep
        names[ep] = name
        collect(name)
        return node
    }

    package func collect(_ name: String) {
        let node = nodes[name]!
        let from = endpoints[name]!
        for (bytes, to) in node.transmits.drain() {
            inFlight.append(Datagram(at: now.adding(seconds: latency), bytes: bytes, from: from, to: Endpoint(address: to.address, port: to.port)))
        }
        tunOut[name, default: []].append(contentsOf: node.output.tunPackets.map { Array($0.bytes) })
        for p in node.output.tunPackets { if case .borrowed = p.storage { tunInPlace[name, default: 0] += 1 } }
        tunPartial[name, default: []].append(contentsOf: node.output.tunPackets.map(\.checksumPartial))
        for uri in node.output.resolve {
            let ep = Endpoint(address: IPv6Address(uri.host)!, port: uri.port)
            node.resolved(uri, endpoints: [ep], now: now)
        }
        node.output.removeAll()
        if !node.output.isEmpty || !node.transmits.isEmpty { collect(name) }
    }

    /// Advances virtual time, delivering datagrams and firing node deadlines in order.
    package func run(seconds: Double) {
        let end = now.adding(seconds: seconds)
        var stalled = 0
        var lastNow = now
        while true {
            // A deadline that never moves past `now` would spin forever; fail instead, saying whose.
            if now == lastNow { stalled += 1 } else { stalled = 0; lastNow = now }
            if stalled > 100_000 {
                let who = nodes.map { "\($0.key): links \($0.value.links.nextDeadline) router \($0.value.router.nextDeadline) node \($0.value.nextDeadline)" }
                XCTFail("virtual time stuck at \(now): \(who.joined(separator: "; "))")
                return
            }
            let nextDatagram = inFlight.map(\.at).min() ?? .never
            let nextTimer = nodes.values.map(\.nextDeadline).min() ?? .never
            let next = min(nextDatagram, nextTimer)
            if next > end { break }
            now = max(now, next)
            if nextDatagram <= nextTimer {
                let ready = inFlight.filter { $0.at <= now }
                inFlight.removeAll { $0.at <= now }
                for d in ready {
                    guard let name = names[d.to], let node = nodes[name], let fromName = names[d.from],
                          !cut.contains([name, fromName]) else { continue }
                    deliver(d, to: name, node: node)
                    collect(name)
                }
            } else {
                for (name, node) in nodes where node.nextDeadline <= now {
                    node.tick(now: now)
                    collect(name)
                }
            }
        }
        now = end
    }

    package func deliver(_ d: Datagram, to name: String, node: Node) {
        guard inPlace else { node.receiveDatagram(d.bytes, from: d.from, now: now); return }
        var buffer = d.bytes
        buffer.withUnsafeMutableBytes { raw in
            node.receiveDatagram(inPlace: raw, from: d.from, now: now)
            relayedInPlace[name, default: 0] += node.transmits.borrowedCount
            // As planetd flushes before it reuses a receive slot: TUN packets and relayed
            // datagrams may point into it.
            collect(name)
        }
    }

    package func sendFromTun(_ name: String, _ packet: [UInt8]) {
        nodes[name]!.receiveTunPacket(packet, now: now)
        collect(name)
    }

    package func takeTun(_ name: String) -> [[UInt8]] {
        defer { tunOut[name] = []; tunPartial[name] = [] }
        return tunOut[name] ?? []
    }
}
