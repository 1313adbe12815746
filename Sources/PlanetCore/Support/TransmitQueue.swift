/// Everything the core sends, in the order it is to leave: the one output for datagrams. The
/// runtime makes it with the slot count and size it can send in a batch, hands it to the node
/// (which shares it with its link layer), and after each input reads its entries into its
/// `sendmmsg` vectors and empties it. Nothing here sends: the core writes memory and the runtime
/// alone flushes (as quinn-proto's `poll_transmit` writes into the caller's buffer).
///
/// An entry is a pointer, a length and an endpoint, whatever made it:
/// - a **slot** the core wrote and sealed a datagram in (`append(to:maxLength:_:)`): the data
///   path, no allocation per packet;
/// - a **borrowed** region of the runtime's receive slot, relayed in place
///   (`append(borrowed:to:)`): valid until the runtime's next flush, which it makes before it
///   receives into that slot again (`ReceiveLoan`);
/// - a **copy** of a datagram made elsewhere (`append(_:to:)`: handshakes, beacons' answers),
///   into a slot, or memory of its own when every slot is taken.
/// When the slots run out the queue still takes everything (into memory of its own, released
/// at `removeAll`): the runtime flushes before that happens on the data path (`freeSlots`).
public final class TransmitQueue {
    public let slotCount: Int
    public let slotSize: Int
    let slab: UnsafeMutableRawPointer
    /// The entries, in raw storage that grows by doubling (an entry is appended per datagram:
    /// no uniqueness checks or retains on the data path).
    var pointerStore: UnsafeMutablePointer<UnsafeRawPointer>
    var lengthStore: UnsafeMutablePointer<Int>
    public private(set) var endpoints: [Endpoint] = []
    var capacity: Int
    public private(set) var count = 0
    var slotsUsed = 0
    /// Copies that found no free slot, freed at `removeAll`.
    var overflow: [UnsafeMutableRawPointer] = []
    /// Entries that borrow the runtime's receive slots (see `hasBorrowed`).
    public private(set) var borrowedCount = 0

    public init(slotCount: Int = 256, slotSize: Int = 2048) {
        precondition(slotCount > 0 && slotSize > 0)
        self.slotCount = slotCount
        self.slotSize = slotSize
        slab = .allocate(byteCount: slotCount * slotSize, alignment: 16)
        capacity = slotCount * 2
        pointerStore = .allocate(capacity: capacity)
        lengthStore = .allocate(capacity: capacity)
        endpoints.reserveCapacity(capacity)
    }

    deinit {
        removeAll()
        slab.deallocate()
        pointerStore.deallocate()
        lengthStore.deallocate()
    }

    public var isEmpty: Bool { count == 0 }

    /// Entry `i`'s start (valid until `removeAll`).
    public func pointer(_ i: Int) -> UnsafeRawPointer { pointerStore[i] }

    @inline(__always)
    func push(_ p: UnsafeRawPointer, _ length: Int, _ endpoint: Endpoint) {
        if count == capacity { grow() }
        pointerStore[count] = p
        lengthStore[count] = length
        endpoints.append(endpoint)
        count += 1
    }

    func grow() {
        let bigger = capacity * 2
        let p = UnsafeMutablePointer<UnsafeRawPointer>.allocate(capacity: bigger)
        p.moveInitialize(from: pointerStore, count: count)
        pointerStore.deallocate()
        pointerStore = p
        let l = UnsafeMutablePointer<Int>.allocate(capacity: bigger)
        l.moveInitialize(from: lengthStore, count: count)
        lengthStore.deallocate()
        lengthStore = l
        capacity = bigger
    }

    /// Calls `body` with each entry in order: the runtime fills its `sendmmsg` vectors so.
    @inline(__always)
    public func forEach(_ body: (UnsafeRawPointer, Int, Endpoint) -> Void) {
        endpoints.withUnsafeBufferPointer { e in
            for i in 0..<count { body(pointerStore[i], lengthStore[i], e[i]) }
        }
    }
    public var freeSlots: Int { slotCount - slotsUsed }
    /// Whether an entry points into a receive slot: the runtime must flush before it refills one.
    public var hasBorrowed: Bool { borrowedCount > 0 }

    /// Lends `fill` up to `maxLength` bytes to write a datagram for `endpoint` in; it returns the
    /// length it wrote, 0 or less to send nothing (the memory is then free again).
    @discardableResult
    public func append(to endpoint: Endpoint, maxLength: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        let memory: UnsafeMutableRawPointer
        let fromSlab = slotsUsed < slotCount && maxLength <= slotSize
        memory = fromSlab ? slab + slotsUsed * slotSize : .allocate(byteCount: max(maxLength, 1), alignment: 16)
        let n = fill(UnsafeMutableRawBufferPointer(start: memory, count: maxLength))
        guard n > 0 else {
            if !fromSlab { memory.deallocate() }
            return false
        }
        if fromSlab { slotsUsed += 1 } else { overflow.append(memory) }
        push(UnsafeRawPointer(memory), min(n, maxLength), endpoint)
        return true
    }

    /// Queues a copy of `bytes`.
    public func append(_ bytes: UnsafeRawBufferPointer, to endpoint: Endpoint) {
        guard bytes.count > 0 else { return }
        append(to: endpoint, maxLength: bytes.count) { slot in
            slot.copyMemory(from: bytes)
            return bytes.count
        }
    }

    public func append(_ bytes: [UInt8], to endpoint: Endpoint) {
        bytes.withUnsafeBytes { append($0, to: endpoint) }
    }

    /// Queues a datagram that stays where it lies, in the runtime's receive slot: no copy.
    public func append(borrowed bytes: UnsafeRawBufferPointer, to endpoint: Endpoint) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        push(base, bytes.count, endpoint)
        borrowedCount += 1
        borrowedFrom = min(borrowedFrom, count - 1)
    }

    /// The first entry that may borrow (a bound, so `ownBorrowed` looks at no entry twice).
    var borrowedFrom = Int.max

    /// Copies the borrowed entries from `index` on into memory of their own: for a caller whose
    /// buffer dies before the flush (`Node.receiveDatagram(_:from:now:)` with an array).
    public func ownBorrowed(from index: Int) {
        guard borrowedCount > 0 else { return }
        var i = max(index, borrowedFrom)
        while i < count {
            if !isOwned(pointerStore[i]) {
                let copy = UnsafeMutableRawPointer.allocate(byteCount: lengthStore[i], alignment: 16)
                copy.copyMemory(from: pointerStore[i], byteCount: lengthStore[i])
                overflow.append(copy)
                pointerStore[i] = UnsafeRawPointer(copy)
                borrowedCount -= 1
            }
            i += 1
        }
    }

    func isOwned(_ p: UnsafeRawPointer) -> Bool {
        let offset = p - UnsafeRawPointer(slab)
        if offset >= 0 && offset < slotCount * slotSize { return true }
        return overflow.contains { UnsafeRawPointer($0) == p }
    }

    /// Entry `i`'s bytes (valid until `removeAll`).
    public func datagram(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pointerStore[i], count: lengthStore[i])
    }

    /// Copies of every entry, in order, and empties the queue: for tests, the simulator and
    /// tools that carry datagrams themselves.
    public func drain() -> [(bytes: [UInt8], to: Endpoint)] {
        let out = (0..<count).map { (Array(datagram($0)), endpoints[$0]) }
        removeAll()
        return out
    }

    public func removeAll() {
        count = 0
        endpoints.removeAll(keepingCapacity: true)
        for p in overflow { p.deallocate() }
        overflow.removeAll(keepingCapacity: true)
        slotsUsed = 0
        borrowedCount = 0
        borrowedFrom = .max
    }
}
