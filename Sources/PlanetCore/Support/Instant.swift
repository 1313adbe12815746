/// A point on the monotonic clock the runtime feeds in. The core never reads a clock
/// itself; tests and the simulator pass whatever time they like.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    public init(seconds: Double) { self.nanoseconds = UInt64(max(0, seconds) * 1e9) }

    public static let zero = Instant(nanoseconds: 0)
    /// Later than any real time; "no timer".
    public static let never = Instant(nanoseconds: .max)

    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public func adding(seconds: Double) -> Instant {
        if self == .never { return self }
        let delta = seconds * 1e9
        if delta >= 0 {
            let (sum, overflow) = nanoseconds.addingReportingOverflow(UInt64(delta))
            return Instant(nanoseconds: overflow ? .max : sum)
        }
        let d = UInt64(-delta)
        return Instant(nanoseconds: nanoseconds > d ? nanoseconds - d : 0)
    }

    public func seconds(since earlier: Instant) -> Double {
        nanoseconds >= earlier.nanoseconds ? Double(nanoseconds - earlier.nanoseconds) / 1e9
                                           : -Double(earlier.nanoseconds - nanoseconds) / 1e9
    }

    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }
    public var description: String { String(format3(seconds)) + "s" }
}

func format3(_ v: Double) -> String {
    let scaled = (v * 1000).rounded() / 1000
    return "\(scaled)"
}
