/// A layer's reasons to drop something (a datagram, a frame, a packet, a routing message):
/// every drop is counted under exactly one, so `planetctl stats` can say why traffic is missing.
public protocol DropReasonCode: CaseIterable, Equatable, Sendable where AllCases == [Self] {
    /// The name `planetctl stats` and the metrics show (with the layer's prefix, if any).
    var reportName: String { get }
}

/// The one shape of drop counters: a count per reason of one `DropReasonCode` type, in an
/// array (a drop costs one add), reported as `(name, count)` pairs of the non-zero ones, which
/// is what every layer hands the admin API and the metrics (`report`). The link layer, the
/// router and the node's data plane each keep one; the neighbour protocols and the runtime's
/// edge report in the same pairs.
public struct DropCounters<Reason: DropReasonCode>: Sendable, Equatable {
    var counts: [UInt64]

    public init() { counts = [UInt64](repeating: 0, count: Reason.allCases.count) }

    @inline(__always)
    static func slot(_ reason: Reason) -> Int { Reason.allCases.firstIndex(of: reason)! }

    public mutating func count(_ reason: Reason, _ n: Int = 1) { counts[Self.slot(reason)] &+= UInt64(n) }

    public subscript(_ reason: Reason) -> UInt64 { counts[Self.slot(reason)] }

    public var total: UInt64 { counts.reduce(0, &+) }

    /// The non-zero counts by name, in the order the reasons are declared.
    public func report(prefix: String = "") -> [(String, UInt64)] {
        zip(Reason.allCases, counts).compactMap { r, n in n > 0 ? (prefix + r.reportName, n) : nil }
    }
}
