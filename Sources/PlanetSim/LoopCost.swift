import Foundation
import PlanetCore
import PlanetCapacity

/// What the capacity directory costs the event loop at size: the periodic save (serialize and
/// write the file) and a finder call (`nodes find`: every record decoded, filtered, sorted),
/// timed over a directory of N genuinely signed records (`planetsim --loop-cost N`). The
/// figures go in Docs/scale.md; the loop's budget for any one piece of work is 1 ms.
public struct LoopCost {
    public struct Report: Sendable {
        public var records = 0
        public var fillSeconds = 0.0
        /// Medians over `rounds`, in milliseconds.
        public var snapshotMs = 0.0
        public var saveMs = 0.0
        public var writeMs = 0.0
        public var decodeAllMs = 0.0
        public var findMs = 0.0
        public var findIndexedMs = 0.0
        public var fileBytes = 0
        public var matched = 0
        /// 2,048 lookups in a table keyed by public key as large as the directory: what one slice
        /// of route metrics costs the loop (the router's index is such a table).
        public var metricSliceMs = 0.0
    }

    public let records: Int
    public let rounds: Int

    public init(records: Int, rounds: Int = 5) {
        self.records = records
        self.rounds = rounds
    }

    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    /// Times `body` `rounds` times; the median in milliseconds.
    func time(_ body: () -> Void) -> Double {
        var out: [Double] = []
        for _ in 0..<rounds {
            let t = LoopCost.seconds()
            body()
            out.append((LoopCost.seconds() - t) * 1000)
        }
        return LoopCost.median(out)
    }

    public func run(progress: (String) -> Void) -> Report {
        var report = Report()
        let unixNow = 2_000_000_000.0
        let directory = CapacityDirectory(maxRecords: max(records, 1), hashSeed: 1)
        let countries = ["BE", "NL", "DE", "FR", "US", "EG", "IN", "BR"]
        let started = LoopCost.seconds()
        for i in 0..<records {
            let id = NodeIdentity.generate()
            let memory = UInt64(4 + i % 60) * ByteSize.gib
            let r = CapacityRecord(key: id.publicKey, seqno: 1, issuedAt: UInt64(unixNow) - 60, expiresAt: UInt64(unixNow) + 5400,
                                   uptimeSeconds: 3600, publicIPv4: i % 3 == 0, publicIPv6: true,
                                   total: CapacityResources(cru: 16, mru: memory + 2 * ByteSize.gib, sru: 512 * ByteSize.gib, hru: 0),
                                   used: CapacityResources(cru: 1, mru: 2 * ByteSize.gib, sru: 0, hru: 0),
                                   latitude: Double(i % 180) - 90, longitude: Double(i % 360) - 180, country: countries[i % countries.count],
                                   farmId: UInt32(i % 500), city: "City \(i % 1000)", farmName: "farm", version: "0.1.0")
            _ = directory.offer(r.signed(by: id), unixNow: unixNow)
            if i > 0 && i % 20_000 == 0 { progress("\(i) records signed and stored") }
        }
        report.records = directory.count
        report.fillSeconds = LoopCost.seconds() - started
        // What a save does on the loop today: serialize the whole directory, then write it.
        var file: [UInt8] = []
        report.saveMs = time { file = directory.saved() }
        report.fileBytes = file.count
        let path = NSTemporaryDirectory() + "planetsim-loop-cost-\(getpid())"
        defer { unlink(path) }
        report.writeMs = time { try? Data(file).write(to: URL(fileURLWithPath: path), options: .atomic) }
        // What taking a snapshot for work elsewhere costs: copying the entries (copy on write).
        var snapshot: [CapacityDirectory.Entry] = []
        report.snapshotMs = time { snapshot = directory.entries }
        _ = snapshot.count
        // A finder call as the node makes it: decode every record, then filter and sort.
        let query = try! CapacityQuery.parse([("country", "BE"), ("freeMru", "8G"), ("sort", "free-mru"), ("limit", "20")]).get()
        var decoded: [CapacityRecord] = []
        report.decodeAllMs = time { decoded = directory.entries.compactMap { try? CapacityRecord.decode($0.bytes) } }
        report.findMs = time {
            let candidates = directory.entries.compactMap { e -> CapacityQuery.Candidate? in
                guard let r = try? CapacityRecord.decode(e.bytes) else { return nil }
                return CapacityQuery.Candidate(record: r, metric: 1, ageSeconds: 60, distanceKm: nil)
            }
            report.matched = query.apply(candidates).count
        }
        // The same over records decoded once (what an incremental index would hold).
        report.findIndexedMs = time {
            _ = query.apply(decoded.map { CapacityQuery.Candidate(record: $0, metric: 1, ageSeconds: 60, distanceKm: nil) })
        }
        var table: [PublicKey: Int] = [:]
        for (i, e) in directory.entries.enumerated() { table[e.key] = i }
        let keys = directory.entries.prefix(2048).map(\.key)
        var found = 0
        report.metricSliceMs = time { found = keys.reduce(0) { $0 + (table[$1] ?? 0) } }
        _ = found
        return report
    }
}
