import Foundation
import PlanetCore
import PlanetLink

/// An in-memory underlay: link layers at endpoints, datagrams delivered in order, a clock the
/// test moves. `filter` can drop, alter or hold datagrams.
package final class TestNetwork {
    package struct Datagram {
        package var bytes: [UInt8]
        package var from: Endpoint
        package var to: Endpoint
        package init(bytes: [UInt8], from: Endpoint, to: Endpoint) { self.bytes = bytes; self.from = from; self.to = to }
    }

    package var now = Instant(seconds: 1000)
    package private(set) var nodes: [Endpoint: LinkLayer] = [:]
    private var endpoints: [ObjectIdentifier: Endpoint] = [:]
    package var log: [ObjectIdentifier: [LinkEvent]] = [:]
    /// Return nil to drop a datagram; may return altered bytes.
    package var filter: ((Datagram) -> [UInt8]?)?
    /// Every datagram sent, after filtering, for inspection.
    package var sent: [Datagram] = []
    package var recordSent = false
    /// When true, datagrams are kept in `held` instead of delivered.
    package var holding = false
    package var held: [Datagram] = []
    package var seed: UInt64 = 1

    package init() {}

    @discardableResult
    package func add(_ identity: NodeIdentity, at endpoint: Endpoint, config: LinkConfig = LinkConfig(),
             logger: Logger = .disabled) -> LinkLayer {
        seed += 1
        let node = LinkLayer(identity: identity, config: config, rng: SplitMix64(seed: seed), logger: logger, now: now)
        place(node, at: endpoint)
        return node
    }

    package func place(_ node: LinkLayer, at endpoint: Endpoint) {
        if let old = endpoints[ObjectIdentifier(node)] { nodes[old] = nil }
        nodes[endpoint] = node
        endpoints[ObjectIdentifier(node)] = endpoint
    }

    package func remove(_ node: LinkLayer) {
        if let old = endpoints.removeValue(forKey: ObjectIdentifier(node)) { nodes[old] = nil }
    }

    package func endpoint(of node: LinkLayer) -> Endpoint { endpoints[ObjectIdentifier(node)]! }
    package func events(_ node: LinkLayer) -> [LinkEvent] { log[ObjectIdentifier(node)] ?? [] }

    package func frames(_ node: LinkLayer) -> [[UInt8]] {
        events(node).compactMap { if case .frame(let f, _) = $0 { return Array(f) } else { return nil } }
    }

    package func ups(_ node: LinkLayer) -> [(PublicKey, Bool)] {
        events(node).compactMap { if case .linkUp(let k, _, let inbound) = $0 { return (k, inbound) } else { return nil } }
    }

    package func downs(_ node: LinkLayer) -> [(PublicKey, LinkDownReason)] {
        events(node).compactMap { if case .linkDown(let k, let r) = $0 { return (k, r) } else { return nil } }
    }

    package func uri(of node: LinkLayer, pinned: Bool = true) -> PeerURI {
        let ep = endpoint(of: node)
        let v = ep.address.low
        return PeerURI(host: "\(v >> 24 & 0xff).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)", port: ep.port,
                       pinnedKey: pinned ? node.identity.publicKey : nil)
    }

    /// Drains every node and delivers datagrams until the network is quiet.
    package func pump() {
        var queue: [Datagram] = []
        var buffer: [LinkEvent] = []
        for _ in 0..<100_000 {
            for (endpoint, node) in nodes {
                for (bytes, to) in node.transmits.drain() { queue.append(Datagram(bytes: bytes, from: endpoint, to: to)) }
                node.drainEvents(into: &buffer)
                for event in buffer { log[ObjectIdentifier(node), default: []].append(event) }
            }
            if queue.isEmpty { return }
            let batch = queue
            queue.removeAll()
            for var d in batch {
                if let filter {
                    guard let altered = filter(d) else { continue }
                    d.bytes = altered
                }
                if recordSent { sent.append(d) }
                if holding { held.append(d); continue }
                nodes[d.to]?.receive(datagram: d.bytes, from: d.from, now: now)
            }
        }
        fatalError("network never went quiet")
    }

    package func deliver(_ d: Datagram) {
        nodes[d.to]?.receive(datagram: d.bytes, from: d.from, now: now)
    }

    /// Moves the clock to `now + seconds`, ticking each node at its deadlines.
    package func advance(by seconds: Double) {
        let target = now.adding(seconds: seconds)
        pump()
        var spins = 0
        while true {
            let due = nodes.values.map(\.nextDeadline).min() ?? .never
            guard due <= target else { break }
            if due > now { now = due; spins = 0 } else {
                spins += 1
                precondition(spins < 10_000, "a deadline does not move forward")
            }
            for node in nodes.values where node.nextDeadline <= now { node.tick(now: now) }
            pump()
        }
        now = target
    }
}

/// Collects log lines from a Logger sink.
package final class LogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    package init() {}
    package var logger: Logger {
        Logger(level: .debug) { [self] _, message, fields in
            lock.lock(); defer { lock.unlock() }
            lines.append(([message] + fields.map { "\($0.0)=\($0.1)" }).joined(separator: " "))
        }
    }
    package var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
