import CPlanetShim
import PlanetCore

/// Preallocated outgoing datagrams for one sendmmsg call. Datagrams are copied into the
/// batch's own slab (or written there directly with `append(to:maxLength:_:)`) so callers
/// need not keep their buffers alive until the flush.
public final class SendBatch {
    public let capacity: Int
    public let slotSize: Int
    public private(set) var count = 0
    let slab: UnsafeMutablePointer<UInt8>
    let pointers: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    let lengths: UnsafeMutablePointer<Int32>
    let peers: UnsafeMutablePointer<planet_peer>
    var endpoints: [Endpoint]

    public init(capacity: Int = 64, slotSize: Int = 65535) {
        precondition(capacity > 0 && capacity <= 256 && slotSize > 0)
        self.capacity = capacity
        self.slotSize = slotSize
        slab = .allocate(capacity: capacity * slotSize)
        pointers = .allocate(capacity: capacity)
        for i in 0..<capacity { (pointers + i).initialize(to: UnsafePointer(slab + i * slotSize)) }
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        peers = .allocate(capacity: capacity)
        peers.initialize(repeating: planet_peer(), count: capacity)
        endpoints = []
        endpoints.reserveCapacity(capacity)
    }

    deinit {
        slab.deallocate()
        pointers.deallocate()
        lengths.deallocate()
        peers.deallocate()
    }

    public var isFull: Bool { count == capacity }
    public var isEmpty: Bool { count == 0 }

    /// Copies a datagram in. False when the batch is full or the datagram too large.
    @discardableResult
    public func append(_ bytes: UnsafeRawBufferPointer, to endpoint: Endpoint) -> Bool {
        append(to: endpoint, maxLength: bytes.count) { slot in
            slot.copyMemory(from: bytes)
            return bytes.count
        }
    }

    @discardableResult
    public func append(_ bytes: [UInt8], to endpoint: Endpoint) -> Bool {
        bytes.withUnsafeBytes { append($0, to: endpoint) }
    }

    /// Lets `fill` write up to maxLength bytes straight into the next slot and return how
    /// many it wrote (0 or less discards the slot).
    @discardableResult
    public func append(to endpoint: Endpoint, maxLength: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        guard count < capacity, maxLength <= slotSize else { return false }
        let n = fill(UnsafeMutableRawBufferPointer(start: slab + count * slotSize, count: maxLength))
        guard n > 0 else { return true }
        lengths[count] = Int32(min(n, maxLength))
        endpoints.append(endpoint)
        count += 1
        return true
    }

    /// Queues a datagram that stays where it lies (a receive slot relayed in place): no copy.
    /// Its slot must not be refilled before the batch is sent (`ReceiveLoan`); `loansAreCurrent`
    /// says whether that held.
    @discardableResult
    public func append(_ borrowed: BorrowedDatagram, to endpoint: Endpoint) -> Bool {
        let bytes = borrowed.bytes
        guard count < capacity, bytes.count > 0, let base = bytes.baseAddress else { return false }
        pointers[count] = base.assumingMemoryBound(to: UInt8.self)
        lengths[count] = Int32(bytes.count)
        endpoints.append(endpoint)
        count += 1
        // One lender per batch in practice (the runner sends before it receives again); a
        // borrow from a later fill replaces the record, and the earlier one is then stale,
        // which `loansAreCurrent` reports.
        if let lender, lender !== borrowed.lender || lentGeneration != borrowed.generation { staleLoan = true }
        lender = borrowed.lender
        lentGeneration = borrowed.generation
        return true
    }

    /// The receive batch (and its fill) that borrowed datagrams in this batch point into.
    private unowned(unsafe) var lender: DatagramBatch?
    private var lentGeneration: UInt64 = 0
    private var staleLoan = false

    /// False when a datagram in the batch borrows a receive slot that has been filled again
    /// since: sending would put another datagram's bytes on the wire. Transports check it
    /// before they send.
    public var loansAreCurrent: Bool {
        guard let lender else { return true }
        return !staleLoan && lender.generation == lentGeneration
    }

    public func removeAll() {
        lender = nil
        staleLoan = false
        // Slots lent to borrowed datagrams point back at the slab.
        for i in 0..<count { pointers[i] = UnsafePointer(slab + i * slotSize) }
        count = 0
        endpoints.removeAll(keepingCapacity: true)
    }
}
