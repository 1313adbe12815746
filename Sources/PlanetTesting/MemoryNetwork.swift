import Foundation
import PlanetCore
import PlanetRuntime

/// The wire between `MemoryTransport`s: a datagram sent to an address and port is queued at
/// the transport bound there, at once and in order, or lost when none is (as UDP to a closed
/// port). Every datagram sent is also logged, so a test can see what went over the wire, bytes
/// included. Like wireguard-go's `bindtest` channels, for any number of nodes.
public final class MemoryNetwork: @unchecked Sendable {
    public struct Datagram: Equatable {
        public let bytes: [UInt8]
        /// The sender's bound address and port (socket index 0).
        public let from: Endpoint
        public let to: Endpoint

        public init(bytes: [UInt8], from: Endpoint, to: Endpoint) {
            self.bytes = bytes
            self.from = from
            self.to = to
        }
    }

    private let lock = NSLock()
    /// Weak: a transport leaves the network when it closes or goes away.
    private var bound: [Endpoint: Bound] = [:]
    private struct Bound { weak var transport: MemoryTransport? }
    private var sent: [Datagram] = []
    private var lostCount = 0

    public init() {}

    /// Datagrams sent to an address nobody is bound to.
    public var lost: Int { lock.lock(); defer { lock.unlock() }; return lostCount }

    /// Everything sent since the last call, in order.
    public func takeSent() -> [Datagram] {
        lock.lock()
        defer { sent.removeAll(); lock.unlock() }
        return sent
    }

    /// Endpoints are matched on address and port; the socket index is each side's own business.
    static func key(_ e: Endpoint) -> Endpoint { Endpoint(address: e.address, port: e.port) }

    func bind(_ transport: MemoryTransport, at endpoint: Endpoint) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard bound[MemoryNetwork.key(endpoint)]?.transport == nil else { return false }
        bound[MemoryNetwork.key(endpoint)] = Bound(transport: transport)
        return true
    }

    func unbind(_ endpoint: Endpoint) {
        lock.lock()
        bound[MemoryNetwork.key(endpoint)] = nil
        lock.unlock()
    }

    func carry(_ bytes: [UInt8], from: Endpoint, to: Endpoint) {
        let d = Datagram(bytes: bytes, from: MemoryNetwork.key(from), to: MemoryNetwork.key(to))
        lock.lock()
        sent.append(d)
        let receiver = bound[d.to]?.transport
        if receiver == nil { lostCount += 1 }
        lock.unlock()
        receiver?.inject(bytes, from: d.from)
    }
}
