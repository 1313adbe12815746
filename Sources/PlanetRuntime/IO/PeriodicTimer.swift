#if canImport(Glibc)
import Glibc
#endif
import CPlanetShim
import PlanetCore

/// A repeating timer on the event loop for runtime housekeeping (interface re-scans,
/// beacons). Separate from the loop's single deadline, which belongs to the core.
public final class PeriodicTimer {
    public let fd: Int32
    private weak var loop: EventLoop?

    /// Starts firing every `seconds` (first after one interval) on `loop`'s thread.
    public init(loop: EventLoop, every seconds: Double, _ tick: @escaping () -> Void) throws(SystemError) {
        let f = planet_timerfd()
        guard f >= 0 else { throw SystemError("timerfd_create") }
        fd = f
        self.loop = loop
        do {
            try loop.register(fd: f) {
                var expirations: UInt64 = 0
                _ = Glibc.read(f, &expirations, 8)
                tick()
            }
        } catch {
            Glibc.close(f)
            throw error
        }
        _ = planet_timerfd_set_interval(f, UInt64(max(0.001, seconds) * 1e9))
    }

    /// Stops it for good; the loop forgets the fd.
    public func cancel() {
        guard let loop else { return }
        loop.unregister(fd: fd)
        self.loop = nil
        Glibc.close(fd)
    }

    deinit { cancel() }
}
