import XCTest
import PlanetCore

/// The core's one output: entries leave in the order they were queued, whatever made them
/// (a slot written in place, a copy, a borrow of the caller's memory), and nothing is lost when
/// the slots run out.
final class TransmitQueueTests: XCTestCase {
    let e1 = Endpoint(address: IPv6Address("fd00::1")!, port: 1)
    let e2 = Endpoint(address: IPv6Address("fd00::2")!, port: 2)

    func contents(_ q: TransmitQueue) -> [[UInt8]] { (0..<q.count).map { Array(q.datagram($0)) } }

    func testEntriesKeepTheirOrderWhateverMadeThem() {
        let q = TransmitQueue(slotCount: 4, slotSize: 16)
        var received: [UInt8] = [7, 7, 7]
        q.append([1], to: e1)
        received.withUnsafeBytes { q.append(borrowed: $0, to: e2) }
        q.append(to: e1, maxLength: 8) { slot in slot[0] = 2; slot[1] = 3; return 2 }
        XCTAssertEqual(contents(q), [[1], [7, 7, 7], [2, 3]])
        XCTAssertEqual(q.endpoints, [e1, e2, e1])
        XCTAssertTrue(q.hasBorrowed)
        XCTAssertEqual(q.freeSlots, 2, "the borrow took no slot")
        // A borrow sees its memory as it is when sent (the relay seals in place after queueing).
        received[0] = 9
        XCTAssertEqual(Array(q.datagram(1)), [9, 7, 7])
        q.removeAll()
        XCTAssertTrue(q.isEmpty)
        XCTAssertFalse(q.hasBorrowed)
        XCTAssertEqual(q.freeSlots, 4)
    }

    func testAFillThatWritesNothingQueuesNothing() {
        let q = TransmitQueue(slotCount: 2, slotSize: 16)
        XCTAssertFalse(q.append(to: e1, maxLength: 8) { _ in 0 })
        XCTAssertTrue(q.isEmpty)
        XCTAssertEqual(q.freeSlots, 2)
    }

    func testPastTheSlotsAndTheSlotSizeNothingIsLost() {
        let q = TransmitQueue(slotCount: 2, slotSize: 4)
        for i in 0..<5 { q.append([UInt8](repeating: UInt8(i), count: 3), to: e1) }
        q.append([UInt8](repeating: 9, count: 40), to: e2)   // larger than a slot
        XCTAssertEqual(q.count, 6)
        XCTAssertEqual(q.freeSlots, 0)
        XCTAssertEqual(contents(q), (0..<5).map { [UInt8](repeating: UInt8($0), count: 3) } + [[UInt8](repeating: 9, count: 40)])
        XCTAssertEqual(q.drain().map(\.to), [e1, e1, e1, e1, e1, e2])
        XCTAssertTrue(q.isEmpty)
    }

    /// A caller whose buffer dies before the flush copies what borrowed it, and only that.
    func testOwnBorrowedCopiesTheBorrowsOut() {
        let q = TransmitQueue(slotCount: 4, slotSize: 16)
        q.append([1], to: e1)
        var buffer: [UInt8] = [5, 6]
        buffer.withUnsafeBytes { q.append(borrowed: $0, to: e2) }
        q.ownBorrowed(from: 0)
        XCTAssertFalse(q.hasBorrowed)
        buffer[0] = 0
        XCTAssertEqual(contents(q), [[1], [5, 6]], "the copy still follows the caller's buffer")
    }
}
