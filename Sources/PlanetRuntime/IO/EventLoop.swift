#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CPlanetShim
import PlanetCore

/// A single-threaded epoll loop. Everything that touches the node runs on the thread
/// that calls `run()`: fd readability callbacks, the deadline timer, posted closures.
/// Other threads only `post` (and `stop`), which is the one thread-safe entry point.
///
/// The timer is one timerfd on CLOCK_MONOTONIC with an absolute expiry, because the core
/// exposes exactly one `nextDeadline`: the owner re-arms it after every step.
///
/// Thread confinement (why @unchecked Sendable is sound): `register`, `unregister`,
/// `onDeadline` and `setDeadline` are called on the loop thread or before `run()`; only
/// `post` and `stop` cross threads, and they go through the lock.
public final class EventLoop: @unchecked Sendable {
    /// Posted closures waiting at most; beyond it `post` refuses (control-plane threads
    /// post at human rates, so hitting it means the loop is wedged).
    public static let postCapacity = 4096
    private let epfd: Int32
    private let wakeFD: Int32
    private let timerFD: Int32
    private var handlers: [Int32: () -> Void] = [:]
    private var deadlineHandler: ((Instant) -> Void)?
    public private(set) var deadline: Instant = .never
    private let lock = NSLock()
    private var posted: [() -> Void] = []
    private var stopRequested = false
    private var running = false

    public init() throws(SystemError) {
        epfd = planet_epoll_create()
        guard epfd >= 0 else { throw SystemError("epoll_create1") }
        wakeFD = planet_eventfd()
        timerFD = planet_timerfd()
        guard wakeFD >= 0, timerFD >= 0 else {
            let e = SystemError("eventfd/timerfd_create")
            Glibc.close(epfd)
            if wakeFD >= 0 { Glibc.close(wakeFD) }
            if timerFD >= 0 { Glibc.close(timerFD) }
            throw e
        }
        try addToEpoll(wakeFD)
        try addToEpoll(timerFD)
    }

    deinit {
        Glibc.close(timerFD)
        Glibc.close(wakeFD)
        Glibc.close(epfd)
    }

    private func addToEpoll(_ fd: Int32) throws(SystemError) {
        guard planet_epoll_add(epfd, fd) == 0 else { throw SystemError("epoll_ctl add \(fd)") }
    }

    /// Calls `onReadable` (on the loop thread) whenever `fd` has data. Level-triggered:
    /// a handler that leaves data unread is called again, so batch-limited drains are safe.
    public func register(fd: Int32, onReadable: @escaping () -> Void) throws(SystemError) {
        try addToEpoll(fd)
        handlers[fd] = onReadable
    }

    /// Also calls `fd`'s handler when the fd can be written (`true`), or no longer (`false`). For
    /// stream sockets with output the kernel did not take, and connects in progress: the handler
    /// then tries both directions, since the loop reports only which fd is ready.
    public func watchWritable(fd: Int32, _ writable: Bool) {
        guard handlers[fd] != nil else { return }
        _ = planet_epoll_watch_writable(epfd, fd, writable ? 1 : 0)
    }

    public func unregister(fd: Int32) {
        guard handlers.removeValue(forKey: fd) != nil else { return }
        _ = planet_epoll_del(epfd, fd)
    }

    /// What runs when the deadline passes; it receives the current time.
    public func onDeadline(_ handler: @escaping (Instant) -> Void) { deadlineHandler = handler }

    /// Arms the one-shot timer for `instant` (replacing any earlier setting); `.never`
    /// disarms it. A deadline already past fires on the next loop turn.
    public func setDeadline(_ instant: Instant) {
        deadline = instant
        // The owner sets the deadline after every batch of packets, and it mostly moves later
        // (a session's "0.5 s from now"): re-arming only when it moves earlier saves a syscall
        // per batch. A timer left armed too early just fires, finds nothing due, and re-arms.
        guard instant != .never, armed == .never || instant < armed else { return }
        arm(instant)
    }

    /// What the timerfd is set to (.never when disarmed or already fired).
    private var armed: Instant = .never

    private func arm(_ instant: Instant) {
        armed = instant
        // An expiry of zero would disarm; the earliest real one is 1 ns.
        _ = planet_timerfd_set_absolute(timerFD, max(instant.nanoseconds, 1))
    }

    /// Closures refused because the queue was full.
    public var droppedPosts: Int { lock.lock(); defer { lock.unlock() }; return dropped }
    private var dropped = 0

    /// Runs `work` on the loop thread soon. Safe from any thread. False (counted) when
    /// `postCapacity` closures are already waiting.
    @discardableResult
    public func post(_ work: @escaping @Sendable () -> Void) -> Bool {
        lock.lock()
        guard posted.count < EventLoop.postCapacity else {
            dropped += 1
            lock.unlock()
            return false
        }
        posted.append(work)
        lock.unlock()
        wake()
        return true
    }

    /// Makes `run()` return after the current turn. Safe from any thread.
    public func stop() {
        lock.lock()
        stopRequested = true
        lock.unlock()
        wake()
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    /// Dispatches events until `stop()`.
    public func run() {
        running = true
        defer { running = false }
        while true {
            lock.lock()
            let stopping = stopRequested
            stopRequested = false
            lock.unlock()
            if stopping { return }
            if turn(timeoutMilliseconds: -1) < 0 { return }
        }
    }

    /// One turn on the calling thread, which becomes the loop thread for it: waits up to
    /// `timeoutMilliseconds` (0: not at all) for readiness, dispatches what is ready and
    /// returns how many events that was. For tests that drive one or more loops step by step
    /// from their own thread, with no thread of the loop's own.
    @discardableResult
    public func runOnce(timeoutMilliseconds: Int32) -> Int {
        max(0, turn(timeoutMilliseconds: timeoutMilliseconds))
    }

    private static let maxEvents: Int32 = 64
    private var ready = [Int32](repeating: 0, count: Int(EventLoop.maxEvents))

    /// Events dispatched, or -1 when epoll failed.
    private func turn(timeoutMilliseconds: Int32) -> Int {
        let n = ready.withUnsafeMutableBufferPointer { planet_epoll_wait(epfd, $0.baseAddress, EventLoop.maxEvents, timeoutMilliseconds) }
        if n < 0 { return -1 }
        for i in 0..<Int(n) {
            let fd = ready[i]
            if fd == wakeFD {
                var value: UInt64 = 0
                _ = Glibc.read(wakeFD, &value, 8)
                runPosted()
            } else if fd == timerFD {
                var expirations: UInt64 = 0
                _ = Glibc.read(timerFD, &expirations, 8)
                fireDeadlineIfDue()
            } else {
                handlers[fd]?()
            }
        }
        return Int(n)
    }

    private func runPosted() {
        lock.lock()
        let work = posted
        posted.removeAll()
        lock.unlock()
        for w in work { w() }
    }

    private func fireDeadlineIfDue() {
        // A handler may have moved the deadline later since this expiry was queued.
        let now = MonotonicClock.now()
        armed = .never
        guard deadline != .never else { return }
        guard deadline <= now else { arm(deadline); return }
        deadline = .never
        deadlineHandler?(now)
    }
}
