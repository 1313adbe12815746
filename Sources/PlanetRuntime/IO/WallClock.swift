#if canImport(Glibc)
import Glibc
#endif

/// Where the runtime reads the wall clock (the log's timestamps aside, `StderrLog`), kept apart
/// from `MonotonicClock` so it is plain that nothing time-critical depends on it. Two uses:
/// - the discovery beacon's timestamp: receivers drop a beacon not newer than the last they saw
///   from that key (replays), and they remember that across our restarts, which reset the
///   monotonic clock (a reboot does) but not the wall clock. A wall-clock step backwards only
///   makes our beacons look stale for a while; `NodeRunner` keeps its stamps increasing within
///   a run;
/// - capacity records' issue and expiry times, which other nodes must agree on
///   (`NodeRunner+Capacity`, `CapacityDirectoryFile`).
/// Deadlines, RTTs and timeouts all use the monotonic clock.
enum WallClock {
    /// Seconds since the Unix epoch.
    static func unixSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Milliseconds since the Unix epoch (CLOCK_REALTIME).
    static func unixMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(max(0, ts.tv_sec)) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}
