#if canImport(Glibc)
import Glibc
#endif
import PlanetCore

/// The one place the process reads the monotonic clock. CLOCK_MONOTONIC never jumps with
/// wall-clock changes; the event loop's timerfd uses the same clock, so deadlines line up
/// exactly. (The only other clock read is `WallClock`, for beacon timestamps.)
public enum MonotonicClock {
    public static func now() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }
}
