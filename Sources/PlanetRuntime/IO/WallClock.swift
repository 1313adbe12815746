#if canImport(Glibc)
import Glibc
#endif

/// The one place the process reads the wall clock, kept apart from `MonotonicClock` so it is
/// plain that nothing time-critical depends on it. Its single use is the discovery beacon's
/// timestamp: receivers drop a beacon not newer than the last they saw from that key (replays),
/// and they remember that across our restarts, which reset the monotonic clock (a reboot does)
/// but not the wall clock. A wall-clock step backwards only makes our beacons look stale for a
/// while; `NodeRunner` keeps its stamps increasing within a run. Deadlines, RTTs and timeouts
/// all use the monotonic clock.
enum WallClock {
    /// Milliseconds since the Unix epoch (CLOCK_REALTIME).
    static func unixMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(max(0, ts.tv_sec)) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}
