import PlanetCore
#if canImport(Glibc)
import Glibc
#endif

/// A `planetctl nodes find` question: filters named as grid-explorer users know them, a sort
/// and a limit. It arrives as the `findNodes` admin call's string arguments (Docs/cli.md), is
/// checked here (a bad value names its argument) and applied to decoded records together with
/// what only the asking node knows: its route metric to each record's key.
public struct CapacityQuery: Equatable, Sendable {
    public enum Sort: String, CaseIterable, Sendable {
        /// `metric`: the route metric from this node (what a route's cost is made of, not a
        /// measured round trip); `rtt` is its old name, still read for scripts.
        case freeMru = "free-mru", freeSru = "free-sru", freeHru = "free-hru", cru, distance, metric, age
    }

    public var freeMru: UInt64?
    public var freeSru: UInt64?
    public var freeHru: UInt64?
    public var totalCru: UInt64?
    public var country: String?
    public var city: String?
    public var farms: [UInt32]?
    public var ipv4 = false
    public var ipv6 = false
    /// "" for any GPU, else a vendor name (`nvidia`, `amd`, `intel`…) or hex vendor id.
    public var gpu: String?
    public var tag: String?
    public var near: (latitude: Double, longitude: Double)?
    public var radiusKm: Double?
    public var reachable = false
    public var sort = Sort.metric
    /// nil: the sort's natural order (most free first for sizes, nearest/youngest first otherwise).
    public var descending: Bool?
    public var limit: Int?

    public init() {}

    public static func == (a: CapacityQuery, b: CapacityQuery) -> Bool {
        a.freeMru == b.freeMru && a.freeSru == b.freeSru && a.freeHru == b.freeHru && a.totalCru == b.totalCru
            && a.country == b.country && a.city == b.city && a.farms == b.farms && a.ipv4 == b.ipv4 && a.ipv6 == b.ipv6
            && a.gpu == b.gpu && a.tag == b.tag && a.near?.latitude == b.near?.latitude && a.near?.longitude == b.near?.longitude
            && a.radiusKm == b.radiusKm && a.reachable == b.reachable && a.sort == b.sort && a.descending == b.descending && a.limit == b.limit
    }

    public struct ArgumentError: Error, Equatable, CustomStringConvertible {
        public let argument: String
        public let reason: String
        public var description: String { "\(argument): \(reason)" }
    }

    public static func parse(_ args: [(String, String)]) -> Result<CapacityQuery, ArgumentError> {
        var q = CapacityQuery()
        func bad(_ a: String, _ r: String) -> Result<CapacityQuery, ArgumentError> { .failure(ArgumentError(argument: a, reason: r)) }
        func flag(_ v: String) -> Bool? { ["true": true, "1": true, "yes": true, "false": false, "0": false, "no": false][v] }
        for (name, value) in args {
            // Every filter `NodeFilter` declares is handled below (the switch is exhaustive).
            guard let filter = NodeFilter(rawValue: name) else { return bad(name, "unknown filter") }
            switch filter {
            case .freeMru, .freeSru, .freeHru:
                guard let n = ByteSize.parse(value) else { return bad(name, "'\(value)' is not a size like 512M, 16G or 2T") }
                if filter == .freeMru { q.freeMru = n } else if filter == .freeSru { q.freeSru = n } else { q.freeHru = n }
            case .totalCru:
                guard let n = UInt64(value) else { return bad(name, "'\(value)' is not a whole number of CPUs") }
                q.totalCru = n
            case .country:
                guard value.utf8.count == 2, value.allSatisfy({ $0.isASCII && $0.isLetter }) else { return bad(name, "'\(value)' is not a two-letter country code like BE") }
                q.country = value.uppercased()
            case .city:
                q.city = value
            case .farm:
                var farms: [UInt32] = []
                for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let id = UInt32(part.trimmedSpaces) else { return bad(name, "'\(value)' is not a farm id or a comma-separated list of them") }
                    farms.append(id)
                }
                q.farms = farms
            case .ipv4, .ipv6, .reachable:
                guard let b = flag(value) else { return bad(name, "'\(value)' is not true or false") }
                if filter == .ipv4 { q.ipv4 = b } else if filter == .ipv6 { q.ipv6 = b } else { q.reachable = b }
            case .gpu:
                q.gpu = value.lowercased()
            case .tag:
                q.tag = value
            case .near:
                let parts = value.split(separator: ",")
                guard parts.count == 2, let lat = Double(parts[0].trimmedSpaces), let lon = Double(parts[1].trimmedSpaces),
                      abs(lat) <= 90, abs(lon) <= 180 else { return bad(name, "'\(value)' is not LAT,LON in degrees like 50.85,4.35") }
                q.near = (lat, lon)
            case .radius:
                guard let km = Double(value), km.isFinite, km > 0 else { return bad(name, "'\(value)' is not a positive number of kilometres") }
                q.radiusKm = km
            case .sort:
                guard let s = Sort(rawValue: value == "rtt" ? "metric" : value) else { return bad(name, "'\(value)' is not one of \(Sort.allCases.map(\.rawValue).joined(separator: ", "))") }
                q.sort = s
            case .order:
                guard value == "asc" || value == "desc" else { return bad(name, "'\(value)' is not asc or desc") }
                q.descending = value == "desc"
            case .limit:
                guard let n = Int(value), n > 0 else { return bad(name, "'\(value)' is not a positive whole number") }
                q.limit = n
            }
        }
        if q.radiusKm != nil && q.near == nil { return bad("radius", "needs near LAT,LON to measure from") }
        return .success(q)
    }

    /// Whether `r` passes every filter but `reachable`, which needs the caller's route table
    /// (the radius is measured here, from `near` to the record's coordinates).
    public func matches(_ r: CapacityRecord) -> Bool {
        let free = r.free
        if let n = freeMru, free.mru < n { return false }
        if let n = freeSru, free.sru < n { return false }
        if let n = freeHru, free.hru < n { return false }
        if let n = totalCru, r.total.cru < n { return false }
        if let c = country, r.country != c { return false }
        if let c = city, r.city.lowercased() != c.lowercased() { return false }
        if let farms, !farms.contains(r.farmId) { return false }
        if ipv4 && !r.publicIPv4 { return false }
        if ipv6 && !r.publicIPv6 { return false }
        if let gpu {
            if r.gpus.isEmpty { return false }
            if !gpu.isEmpty && !r.gpus.contains(where: { $0.vendorName == gpu || String($0.vendor, radix: 16) == gpu }) { return false }
        }
        if let tag, !r.tags.contains(tag) { return false }
        if let near, let radiusKm {
            guard let d = CapacityQuery.distanceKm(from: near, to: r), d <= radiusKm else { return false }
        }
        return true
    }

    /// Great-circle distance (haversine, mean Earth radius), nil when the record has no coordinates.
    public static func distanceKm(from p: (latitude: Double, longitude: Double), to r: CapacityRecord) -> Double? {
        guard let lat = r.latitude, let lon = r.longitude else { return nil }
        let rad = Double.pi / 180
        let dLat = (lat - p.latitude) * rad, dLon = (lon - p.longitude) * rad
        let a = sinHalfSquared(dLat) + cos(p.latitude * rad) * cos(lat * rad) * sinHalfSquared(dLon)
        return 2 * 6371.0 * asin(min(1, a.squareRoot()))
    }

    static func sinHalfSquared(_ x: Double) -> Double { let s = sin(x / 2); return s * s }

    /// A record with what the asking node knows about it: the sort keys.
    public struct Candidate: Sendable {
        public let record: CapacityRecord
        /// Route metric from the asking node; nil: no route.
        public let metric: Int?
        public let ageSeconds: Double
        public let distanceKm: Double?
        public init(record: CapacityRecord, metric: Int?, ageSeconds: Double, distanceKm: Double?) {
            self.record = record; self.metric = metric; self.ageSeconds = ageSeconds; self.distanceKm = distanceKm
        }
    }

    /// Filters, sorts and limits. Rows without the sort key (no route, no coordinates) come
    /// last in either order; ties break by key so the answer is stable.
    public func apply(_ candidates: [Candidate]) -> [Candidate] {
        let kept = candidates.filter { (!reachable || $0.metric != nil) && matches($0.record) }
        let desc = descending ?? [.freeMru, .freeSru, .freeHru, .cru].contains(sort)
        func key(_ c: Candidate) -> Double? {
            switch sort {
            case .freeMru: return Double(c.record.free.mru)
            case .freeSru: return Double(c.record.free.sru)
            case .freeHru: return Double(c.record.free.hru)
            case .cru: return Double(c.record.total.cru)
            case .distance: return c.distanceKm
            case .metric: return c.metric.map(Double.init)
            case .age: return c.ageSeconds
            }
        }
        let sorted = kept.sorted { a, b in
            switch (key(a), key(b)) {
            case let (x?, y?) where x != y: return desc ? x > y : x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.record.key < b.record.key
            }
        }
        if let limit { return Array(sorted.prefix(limit)) }
        return sorted
    }
}

extension Substring {
    var trimmedSpaces: String { String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
}
