/// A binary min-heap of timed events; ties break by insertion order so a seed always
/// replays the same run.
struct EventQueue<Payload> {
    struct Item { let time: UInt64; let order: UInt64; let payload: Payload }
    private var heap: [Item] = []
    private var counter: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextTime: UInt64? { heap.first?.time }

    mutating func push(_ time: UInt64, _ payload: Payload) {
        counter += 1
        heap.append(Item(time: time, order: counter, payload: payload))
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
        return top
    }

    private func less(_ a: Item, _ b: Item) -> Bool { a.time < b.time || (a.time == b.time && a.order < b.order) }
}
