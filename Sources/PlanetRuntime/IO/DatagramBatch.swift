import CPlanetShim
import PlanetCore

/// Preallocated storage for one recvmmsg call: `capacity` slots of `slotSize` bytes in one
/// slab, plus lengths and peers. Reused for every batch, so receiving allocates nothing.
///
/// Every receive fills it through `refill`, which counts fills (`generation`) and refuses, in
/// debug builds, to overwrite slots that are still lent out (`ReceiveLoan`).
public final class DatagramBatch {
    public let capacity: Int
    public let slotSize: Int
    /// Datagrams filled by the last receive.
    public internal(set) var count = 0
    /// Socket index stamped on the endpoints of the last receive.
    public internal(set) var socketIndex = 0
    /// Fills so far: what a `ReceiveLoan` compares to know its bytes are
    /// still there.
    public private(set) var generation: UInt64 = 0
    /// A `ReceiveLoan` for the current fill is outstanding.
    public private(set) var isLent = false
    // Package access: PlanetTesting's `MemoryTransport` fills the slots as recvmmsg would,
    // through `refill` like every receive.
    package let slab: UnsafeMutableRawPointer
    package let lengths: UnsafeMutablePointer<Int32>
    package let peers: UnsafeMutablePointer<planet_peer>
    /// Per slot: the datagram size of a UDP GRO run glued into it, 0 for a single datagram.
    package let segmentSizes: UnsafeMutablePointer<Int32>

    public init(capacity: Int = 64, slotSize: Int = 65535) {
        precondition(capacity > 0 && capacity <= 256 && slotSize > 0)
        self.capacity = capacity
        self.slotSize = slotSize
        slab = UnsafeMutableRawPointer.allocate(byteCount: capacity * slotSize, alignment: 16)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        peers = .allocate(capacity: capacity)
        peers.initialize(repeating: planet_peer(), count: capacity)
        segmentSizes = .allocate(capacity: capacity)
        segmentSizes.initialize(repeating: 0, count: capacity)
    }

    deinit {
        slab.deallocate()
        lengths.deallocate()
        peers.deallocate()
        segmentSizes.deallocate()
    }

    /// Fills the batch: `receive` writes into the slab, lengths, peers and segment sizes and
    /// returns how many slots it filled (negative: none, an error). The only way a receive
    /// overwrites slots, so the borrow-until-flush rule is checked in one place.
    @inline(__always)
    package func refill(socketIndex: Int, _ receive: () -> Int) -> Int {
        assert(!isLent, "a receive batch was filled again before the flush of what was borrowed from it (ReceiveLoan)")
        generation &+= 1
        self.socketIndex = socketIndex
        let n = receive()
        count = max(0, n)
        return n
    }

    /// Lends the current fill's slots: to decrypt and relay in place, under the returned loan,
    /// which must be repaid (after the flush) before the next fill.
    public func lend() -> ReceiveLoan {
        assert(!isLent, "one loan per fill")
        isLent = true
        return ReceiveLoan(batch: self, generation: generation)
    }

    func repay(_ loanGeneration: UInt64) {
        assert(isLent && loanGeneration == generation, "a loan repaid twice, or for an earlier fill")
        isLent = false
    }

    /// Whether `bytes` lie within one slot of the slab.
    func owns(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let offset = UnsafeRawPointer(slab).distance(to: base)
        return offset >= 0 && offset / slotSize < capacity && offset % slotSize + bytes.count <= slotSize
    }

    /// Calls `body` with each datagram of slot i, writable: one, or every datagram of a GRO run
    /// (each `segmentSize` bytes, the last possibly shorter), for callers that decrypt (and
    /// relay) in place. Writable views only under a loan of this fill: whatever the callee
    /// leaves in the slot must be sent before the batch is filled again.
    @inline(__always)
    public func forEachMutableDatagram(in i: Int, under loan: borrowing ReceiveLoan, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
        assert(loan.batch === self && loan.generation == generation, "a loan of another batch or an earlier fill")
        let whole = mutableDatagram(i)
        let size = Int(segmentSizes[i])
        guard size > 0, size < whole.count else {
            if !whole.isEmpty { body(whole) }
            return
        }
        var offset = 0
        while offset < whole.count {
            let n = min(size, whole.count - offset)
            body(UnsafeMutableRawBufferPointer(rebasing: whole[offset..<(offset + n)]))
            offset += n
        }
    }

    /// Length of datagram i; -1 when it was truncated (larger than slotSize).
    public func length(_ i: Int) -> Int { Int(lengths[i]) }

    /// Bytes of datagram i (empty when truncated); valid until the next receive.
    public func datagram(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: slab + i * slotSize, count: max(0, Int(lengths[i])))
    }

    /// Writable view of slot i; handed out only under a loan (`forEachMutableDatagram`).
    private func mutableDatagram(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: slab + i * slotSize, count: max(0, Int(lengths[i])))
    }

    public func endpoint(_ i: Int) -> Endpoint { peers[i].endpoint(socket: socketIndex) }

    /// Interface index the datagram arrived on, for link-local sources; 0 otherwise.
    public func scopeID(_ i: Int) -> UInt32 { peers[i].scope_id }
}
