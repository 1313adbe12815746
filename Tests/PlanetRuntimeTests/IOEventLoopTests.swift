import XCTest
import Foundation
import PlanetCore
@testable import PlanetRuntime

/// Collects values across threads for assertions.
final class Recorder<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    func add(_ t: T) { lock.lock(); items.append(t); lock.unlock() }
    var values: [T] { lock.lock(); defer { lock.unlock() }; return items }
}

final class IOEventLoopTests: XCTestCase {
    func testClockIsMonotonic() {
        let a = MonotonicClock.now()
        let b = MonotonicClock.now()
        XCTAssertGreaterThan(a.nanoseconds, 0)
        XCTAssertLessThanOrEqual(a, b)
    }

    func testDeadlinesFireInOrderAndNeverEarly() throws {
        let loop = try EventLoop()
        let start = MonotonicClock.now()
        let deadlines = [start.adding(seconds: 0.005), start.adding(seconds: 0.010), start.adding(seconds: 0.020)]
        var fired: [(Instant, Instant)] = []
        var next = 0
        loop.onDeadline { now in
            fired.append((deadlines[next], now))
            next += 1
            if next < deadlines.count { loop.setDeadline(deadlines[next]) } else { loop.stop() }
        }
        loop.setDeadline(deadlines[0])
        loop.run()
        XCTAssertEqual(fired.count, 3)
        for (deadline, now) in fired { XCTAssertGreaterThanOrEqual(now, deadline) }
        XCTAssertEqual(loop.deadline, .never)
    }

    func testResettingDeadlineReplacesTheEarlierOne() throws {
        let loop = try EventLoop()
        let now = MonotonicClock.now()
        let later = now.adding(seconds: 0.02)
        var firedAt: [Instant] = []
        loop.onDeadline { t in firedAt.append(t); loop.stop() }
        loop.setDeadline(now.adding(seconds: 0.001))
        loop.setDeadline(later)
        loop.run()
        XCTAssertEqual(firedAt.count, 1)
        XCTAssertGreaterThanOrEqual(firedAt[0], later)
    }

    func testPastDeadlineFiresAndNeverDisarms() throws {
        let loop = try EventLoop()
        var fired = 0
        loop.onDeadline { _ in fired += 1 }
        loop.setDeadline(.zero)
        loop.setDeadline(.never)
        // A disarmed timer must not fire: stop via a post after a past deadline that IS armed.
        loop.post { loop.setDeadline(Instant(nanoseconds: 1)) }
        loop.onDeadline { _ in fired += 1; loop.stop() }
        loop.run()
        XCTAssertEqual(fired, 1)
    }

    func testPostFromOtherThreadsRunsOnLoopThread() throws {
        let loop = try EventLoop()
        let seen = Recorder<Int>()
        let loopThread = Recorder<UInt>()
        let postThreads = Recorder<UInt>()
        let runner = Thread {
            loopThread.add(UInt(pthread_self()))
            loop.run()
        }
        runner.start()
        let group = DispatchGroup()
        for i in 0..<100 {
            DispatchQueue.global().async(group: group) {
                loop.post {
                    seen.add(i)
                    postThreads.add(UInt(pthread_self()))
                }
            }
        }
        group.wait()
        let done = DispatchSemaphore(value: 0)
        loop.post { done.signal() }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        loop.stop()
        XCTAssertEqual(Set(seen.values), Set(0..<100))
        XCTAssertEqual(loopThread.values.count, 1)
        XCTAssertEqual(Set(postThreads.values), Set(loopThread.values))
    }

    func testPostQueueIsBounded() throws {
        let loop = try EventLoop()
        for _ in 0..<EventLoop.postCapacity { XCTAssertTrue(loop.post {}) }
        XCTAssertFalse(loop.post {})
        XCTAssertEqual(loop.droppedPosts, 1)
        let ran = Recorder<Int>()
        loop.post { ran.add(1) }  // refused too: the queue has not drained
        loop.stop()
        loop.run()
        XCTAssertEqual(ran.values, [])
        XCTAssertEqual(loop.droppedPosts, 2)
    }

    func testFDCallbackFiresAndUnregisterSilencesIt() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]); close(fds[1]) }
        var reads: [UInt8] = []
        try loop.register(fd: fds[0]) {
            var b: UInt8 = 0
            if read(fds[0], &b, 1) == 1 { reads.append(b) }
            if reads.count == 2 { loop.unregister(fd: fds[0]); loop.stop() }
        }
        var bytes: [UInt8] = [42, 43]
        XCTAssertEqual(write(fds[1], &bytes, 2), 2)
        loop.run()
        XCTAssertEqual(reads, [42, 43])
    }

    func testUDPSocketOnLoop() throws {
        let loop = try EventLoop()
        let a = try UDPSocket(listen: try PeerURI.parse("udp://[::1]:0", allowKey: false).get())
        let b = try UDPSocket(listen: try PeerURI.parse("udp://[::1]:0", allowKey: false).get())
        let batch = DatagramBatch(capacity: 8)
        var got: [[UInt8]] = []
        try loop.register(fd: b.fd) {
            let n = b.receiveBatch(into: batch)
            for i in 0..<n { got.append(Array(batch.datagram(i))) }
            if got.count == 3 { loop.stop() }
        }
        for i: UInt8 in 1...3 { a.send([i], to: b.localEndpoint) }
        loop.run()
        XCTAssertEqual(got, [[1], [2], [3]])
    }

    func testPeriodicTimerTicksUntilCancelled() throws {
        let loop = try EventLoop()
        var ticks = 0
        var timer: PeriodicTimer?
        timer = try PeriodicTimer(loop: loop, every: 0.002) {
            ticks += 1
            if ticks == 3 { timer?.cancel(); loop.stop() }
        }
        loop.run()
        XCTAssertEqual(ticks, 3)
        _ = timer
    }
}
