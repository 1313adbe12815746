/// A binary min-heap of timed events; ties break by insertion order so a seed always
/// replays the same run. The heap holds plain integers and the payloads sit in a slab,
/// so sifting never retains or releases the messages the payloads carry.
struct EventQueue<Payload> {
    struct Item { let time: UInt64; let order: UInt64; let payload: Payload }
    private struct Entry { let time: UInt64; let order: UInt64; let slot: Int32 }
    private var heap: [Entry] = []
    private var slab: [Payload?] = []
    private var free: [Int32] = []
    private var counter: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextTime: UInt64? { heap.first?.time }

    mutating func push(_ time: UInt64, _ payload: Payload) {
        counter += 1
        let slot: Int32
        if let f = free.popLast() { slot = f; slab[Int(f)] = payload } else { slot = Int32(slab.count); slab.append(payload) }
        heap.append(Entry(time: time, order: counter, slot: slot))
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard less(heap[i], heap[p]) else { break }
            heap.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> Item? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && less(heap[l], heap[m]) { m = l }
            if r < heap.count && less(heap[r], heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        let payload = slab[Int(top.slot)].take()!
        free.append(top.slot)
        return Item(time: top.time, order: top.order, payload: payload)
    }

    private func less(_ a: Entry, _ b: Entry) -> Bool { a.time < b.time || (a.time == b.time && a.order < b.order) }
}
