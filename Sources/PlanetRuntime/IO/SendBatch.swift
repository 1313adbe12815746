import CPlanetShim
import PlanetCore

/// The vectors of one `sendmmsg` call: a pointer, a length and a peer address per datagram.
/// The runner fills it from the node's `TransmitQueue` (whose slots, and the receive slots it
/// borrows, hold the bytes until the flush), so nothing is copied on the way to the kernel.
/// `append(_:to:)` copies instead, into a slab made on first use (the socket tests).
public final class SendBatch {
    public let capacity: Int
    public let slotSize: Int
    public private(set) var count = 0
    var slab: UnsafeMutablePointer<UInt8>?
    // Package access: PlanetTesting's `MemoryTransport` reads the batch as sendmmsg would.
    package let pointers: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    package let lengths: UnsafeMutablePointer<Int32>
    let peers: UnsafeMutablePointer<planet_peer>
    package private(set) var endpoints: [Endpoint]

    public init(capacity: Int = 64, slotSize: Int = 65535) {
        precondition(capacity > 0 && capacity <= 256 && slotSize > 0)
        self.capacity = capacity
        self.slotSize = slotSize
        pointers = .allocate(capacity: capacity)
        pointers.initialize(repeating: nil, count: capacity)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        peers = .allocate(capacity: capacity)
        peers.initialize(repeating: planet_peer(), count: capacity)
        endpoints = []
        endpoints.reserveCapacity(capacity)
    }

    deinit {
        slab?.deallocate()
        pointers.deallocate()
        lengths.deallocate()
        peers.deallocate()
    }

    public var isFull: Bool { count == capacity }
    public var isEmpty: Bool { count == 0 }

    /// Queues `bytes` where they lie: they must stay valid until the batch is sent.
    @discardableResult
    public func append(borrowing bytes: UnsafeRawBufferPointer, to endpoint: Endpoint) -> Bool {
        guard count < capacity, bytes.count > 0, let base = bytes.baseAddress else { return false }
        pointers[count] = base.assumingMemoryBound(to: UInt8.self)
        lengths[count] = Int32(bytes.count)
        endpoints.append(endpoint)
        count += 1
        return true
    }

    /// Copies a datagram in. False when the batch is full or the datagram too large.
    @discardableResult
    public func append(_ bytes: [UInt8], to endpoint: Endpoint) -> Bool {
        guard count < capacity, bytes.count <= slotSize, !bytes.isEmpty else { return false }
        if slab == nil { slab = .allocate(capacity: capacity * slotSize) }
        let slot = slab! + count * slotSize
        bytes.withUnsafeBytes { UnsafeMutableRawPointer(slot).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return append(borrowing: UnsafeRawBufferPointer(start: slot, count: bytes.count), to: endpoint)
    }

    public func removeAll() {
        count = 0
        endpoints.removeAll(keepingCapacity: true)
    }
}
