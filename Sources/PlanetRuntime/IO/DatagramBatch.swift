import CPlanetShim
import PlanetCore

/// Preallocated storage for one recvmmsg call: `capacity` slots of `slotSize` bytes in one
/// slab, plus lengths and peers. Reused for every batch, so receiving allocates nothing.
public final class DatagramBatch {
    public let capacity: Int
    public let slotSize: Int
    /// Datagrams filled by the last receive.
    public internal(set) var count = 0
    /// Socket index stamped on the endpoints of the last receive.
    public internal(set) var socketIndex = 0
    let slab: UnsafeMutableRawPointer
    let lengths: UnsafeMutablePointer<Int32>
    let peers: UnsafeMutablePointer<planet_peer>
    /// Per slot: the datagram size of a UDP GRO run glued into it, 0 for a single datagram.
    let segmentSizes: UnsafeMutablePointer<Int32>

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

    /// Calls `body` with each datagram of slot i, writable: one, or every datagram of a GRO run
    /// (each `segmentSize` bytes, the last possibly shorter), for callers that decrypt (and
    /// relay) in place.
    @inline(__always)
    public func forEachMutableDatagram(in i: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
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

    /// Writable view of slot i, for callers that decrypt in place.
    public func mutableDatagram(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: slab + i * slotSize, count: max(0, Int(lengths[i])))
    }

    public func endpoint(_ i: Int) -> Endpoint { peers[i].endpoint(socket: socketIndex) }

    /// Interface index the datagram arrived on, for link-local sources; 0 otherwise.
    public func scopeID(_ i: Int) -> UInt32 { peers[i].scope_id }
}
