#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CPlanetShim
import PlanetCore
import PlanetRuntime

/// A datagram transport in memory, for driving `NodeRunner` without sockets (as wireguard-go's
/// `bindtest`): bound to an address and port on a `MemoryNetwork`, it hands what it sends to
/// the network and queues what the network (or a test, `inject`) delivers to it. An eventfd
/// stands for its readiness, so the runner's real epoll loop drives it as it drives a socket.
///
/// Sending copies each datagram out of the send batch at that moment, as sendmmsg does, so a
/// datagram borrowed from a receive slot that was overwritten before the send goes out with
/// the wrong bytes here just as it would on a socket (the runner refuses to receive while the
/// node's queue still borrows: `TransmitQueue.hasBorrowed`). No GRO or GSO: one slot per datagram.
public final class MemoryTransport: DatagramTransport, @unchecked Sendable {
    public var readinessFD: Int32 { inbound.fd }
    public let family: Int32
    public let localEndpoint: Endpoint
    public let network: MemoryNetwork
    private let lock = NSLock()
    private let inbound: ReadinessQueue<(bytes: [UInt8], from: Endpoint)>
    private var counted = TransportCounters()
    private var closed = false

    /// Binds `endpoint` (address and port) on `network`; `socketIndex` is the transport's index in
    /// its runner's list. An IPv4 (v4-mapped) endpoint makes an AF_INET transport.
    public init(network: MemoryNetwork, endpoint: Endpoint, socketIndex: Int = 0) throws(SystemError) {
        inbound = try ReadinessQueue()
        self.network = network
        family = endpoint.isIPv4 ? AF_INET : AF_INET6
        localEndpoint = Endpoint(address: endpoint.address, port: endpoint.port, socket: socketIndex)
        guard network.bind(self, at: endpoint) else {
            inbound.close()
            throw SystemError("bind \(endpoint) on the memory network", errno: EADDRINUSE)
        }
    }

    deinit { close() }

    public var counters: TransportCounters { lock.lock(); defer { lock.unlock() }; return counted }

    /// Queues a datagram as if it had arrived from `from`.
    public func inject(_ bytes: [UInt8], from: Endpoint) { inbound.push((bytes, from)) }

    /// Datagrams not yet received.
    public var pendingCount: Int { inbound.count }

    @discardableResult
    public func receiveBatch(into batch: DatagramBatch) -> Int {
        let taken = inbound.take(upTo: batch.capacity)
        var truncated = 0
        let n = batch.refill(socketIndex: localEndpoint.socket) {
            for (i, d) in zip(0..., taken) {
                batch.peers[i] = planet_peer(d.from)
                batch.segmentSizes[i] = 0
                guard d.bytes.count <= batch.slotSize else {
                    batch.lengths[i] = -1
                    truncated += 1
                    continue
                }
                batch.lengths[i] = Int32(d.bytes.count)
                d.bytes.withUnsafeBytes { (batch.slab + i * batch.slotSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
            return taken.count
        }
        if truncated > 0 {
            lock.lock()
            counted.truncatedDrops += truncated
            lock.unlock()
        }
        return n
    }

    @discardableResult
    public func sendBatch(_ batch: SendBatch) -> Int {
        defer { batch.removeAll() }
        for i in 0..<batch.count {
            let bytes = Array(UnsafeRawBufferPointer(start: batch.pointers[i], count: Int(batch.lengths[i])))
            network.carry(bytes, from: localEndpoint, to: batch.endpoints[i])
        }
        return batch.count
    }

    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        network.unbind(localEndpoint)
        inbound.close()
    }
}
