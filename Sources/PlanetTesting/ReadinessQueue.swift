#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CPlanetShim
import PlanetRuntime

/// A queue that an epoll loop sees as readable while it holds anything: what the in-memory
/// doubles (`MemoryTransport`, `MemoryPacketDevice`) use in place of a socket's or a TUN's
/// receive queue. An eventfd stands for the readiness: each push signals it, and the take that
/// empties the queue drains it, so the level-triggered loop stops reporting the double readable.
/// Thread-safe, so a test may push while a loop runs on another thread.
final class ReadinessQueue<Element>: @unchecked Sendable {
    let fd: Int32
    private let lock = NSLock()
    private var items: [Element] = []
    private var closed = false

    init() throws(SystemError) {
        let fd = planet_eventfd()
        guard fd >= 0 else { throw SystemError("eventfd") }
        self.fd = fd
    }

    deinit { close() }

    func push(_ item: Element) {
        lock.lock()
        items.append(item)
        lock.unlock()
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }

    var count: Int { lock.lock(); defer { lock.unlock() }; return items.count }

    /// Up to `limit` items, oldest first.
    func take(upTo limit: Int) -> [Element] {
        lock.lock()
        defer { lock.unlock() }
        let n = min(limit, items.count)
        let taken = Array(items[..<n])
        items.removeFirst(n)
        if items.isEmpty {
            var value: UInt64 = 0
            _ = Glibc.read(fd, &value, 8)
        }
        return taken
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }
}
