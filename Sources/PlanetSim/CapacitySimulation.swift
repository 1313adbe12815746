import PlanetCore
import PlanetCapacity

/// planetsim's capacity mode (`--capacity`): the real `CapacityGossip` and `CapacityDirectory`
/// of every node over simulated links in virtual time, without routing (gossip does not use
/// routes). It measures what Docs/scale.md reports: how long after a cold start every node
/// holds every record, how long a changed record takes to reach 99% and 100% of the nodes,
/// the steady gossip bytes per link per second, and the directory's memory per node.
///
/// Links carry each direction's messages through a token bucket of the node's neighbour pacer
/// (`Node.neighbourBytesPerSecond` after a `neighbourBurstBytes` burst) and deliver them after
/// the link's latency. Each message counts its body, its frame type byte and the link's
/// framing and UDP/IPv6 headers (`perMessageOverhead`). All nodes share one memoising
/// signature check, so each distinct record is verified once per run; every node still applies
/// every other rule itself. Messages travel decoded (`drainMessages`, `receive(_:CapacityMessage)`),
/// so a record is one array from its announcer to every directory that holds it: at 10⁴ nodes
/// all announcing, 10⁸ entries share 10⁴ arrays (the codec has its own tests; the links are
/// charged `encodedCount`).
public final class CapacitySimulation {
    public struct Config: Sendable {
        public var nodes = 1000
        public var topology: TopologyKind = .random
        public var degree = 4
        public var seed: UInt64 = 1
        /// Nodes that announce a record (chosen from the seed); 0: every node. Every node
        /// holds and relays all records either way.
        public var announcers = 0
        public var announceInterval = 1800.0
        /// Virtual seconds of steady state measured after the change (0: skip).
        public var steadySeconds = 300.0
        /// Re-announcements per second during the steady phase; nil: one per node per
        /// `announceInterval` as if every node announced (the load a full directory makes).
        public var steadyRate: Double?
        public var maxSeconds = 600.0
        /// Each node's `CapacityGossip.floodDelay`; nil: the default planetd uses.
        public var floodHold: Double?
        public var pacerBytesPerSecond = 1_000_000.0
        public var pacerBurstBytes = 262_144.0
        public init() {}
    }

    public struct Report: Sendable {
        public var nodes = 0, links = 0, announcers = 0
        public var recordBytes = 0
        /// nil: not every node held every record by `maxSeconds`.
        public var coldStartSeconds: Double?
        public var change99Seconds: Double?
        public var change100Seconds: Double?
        /// Gossip bytes that one changed record cost, per link (both directions).
        public var changeBytesPerLink = 0.0
        public var steadyBytesPerLinkPerSecond: Double?
        public var steadyRecordsPerSecond = 0.0
        public var coldStartBytesPerLink = 0.0
        public var memoryBytesPerNode = 0
        /// The directory's own bytes per record held, the record's bytes not counted (the
        /// entry, its index slot, its share of the buckets).
        public var directoryBytesPerEntry = 0.0
        public var verifications = 0
        public var rejections = 0
        /// By reason: in an honest mesh only `stale` (a node re-announced before its previous
        /// record reached everyone, and the two arrived out of order somewhere).
        public var rejectionsByReason: [String: Int] = [:]
        public var virtualSeconds = 0.0
        /// The most messages in flight at once (the simulator's own memory; in planetd they
        /// would wait in the neighbours' pacers).
        public var peakMessagesInFlight = 0

        public func json(wallSeconds: Double?) -> JSONValue {
            func num(_ v: Double?) -> JSONValue { v.map { .number(($0 * 1000).rounded() / 1000) } ?? .null }
            var o: [(String, JSONValue)] = [
                ("mode", .string("capacity")), ("nodes", .number(Double(nodes))), ("links", .number(Double(links))),
                ("announcers", .number(Double(announcers))), ("recordBytes", .number(Double(recordBytes))),
                ("coldStartSeconds", num(coldStartSeconds)), ("coldStartBytesPerLink", num(coldStartBytesPerLink)),
                ("change99Seconds", num(change99Seconds)), ("change100Seconds", num(change100Seconds)),
                ("changeBytesPerLink", num(changeBytesPerLink)),
                ("steadyBytesPerLinkPerSecond", num(steadyBytesPerLinkPerSecond)), ("steadyRecordsPerSecond", num(steadyRecordsPerSecond)),
                ("memoryBytesPerNode", .number(Double(memoryBytesPerNode))),
                ("directoryBytesPerEntry", num(directoryBytesPerEntry)), ("signatureVerifications", .number(Double(verifications))),
                ("rejections", .number(Double(rejections))),
                ("rejectionsByReason", .object(rejectionsByReason.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })),
                ("virtualSeconds", num(virtualSeconds)), ("peakMessagesInFlight", .number(Double(peakMessagesInFlight))),
            ]
            if let wallSeconds { o.append(("wallSeconds", num(wallSeconds))) }
            return .object(o)
        }

        public func table(wallSeconds: Double?) -> String {
            func s(_ v: Double?) -> String { v.map { String(Int(($0 * 1000).rounded())) + " ms" } ?? "timeout" }
            var lines = [
                "capacity gossip: nodes \(nodes)  links \(links)  announcers \(announcers)  record \(recordBytes) B",
                "cold start, every record everywhere  \(s(coldStartSeconds))   (\(Int(coldStartBytesPerLink)) B per link)",
                "one change at 99% / 100% of nodes    \(s(change99Seconds)) / \(s(change100Seconds))   (\(Int(changeBytesPerLink)) B per link)",
                "steady gossip per link               \(steadyBytesPerLinkPerSecond.map { String(Int($0)) + " B/s" } ?? "not measured")   (\(((steadyRecordsPerSecond * 100).rounded()) / 100) records/s)",
                "directory memory per node            \(memoryBytesPerNode / 1024) KiB (planetd: own copies of the records)   \(Int(directoryBytesPerEntry.rounded())) B per entry besides the record",
                "signature checks \(verifications)   rejections \(rejections) \(rejectionsByReason.sorted { $0.key < $1.key })   virtual \(Int(virtualSeconds)) s   peak in flight \(peakMessagesInFlight) messages",
            ]
            if let wallSeconds { lines.append("wall \(Int(wallSeconds.rounded())) s") }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// Framing each gossip message pays on the wire besides its body: the inner frame type
    /// (1), the link's transport header and tag (13 + 16), UDP (8) and IPv6 (40).
    public static let perMessageOverhead = 78
    static let unixEpoch = 1_800_000_000.0

    /// A message in flight, not encoded: its records are the announcers' arrays, shared by
    /// every node (the bytes `encodedCount` says it would take are what the link is charged).
    struct Delivery { let to: Int32; let from: Int32; let message: CapacityMessage }
    enum Event { case deliver(Delivery), tick(Int32), flush(Int32), reannounce }

    public let config: Config
    var random: SplitMix64
    var keys: [PublicKey] = []
    var identities: [NodeIdentity] = []
    var index: [PublicKey: Int32] = [:]
    var gossips: [CapacityGossip] = []
    var neighbours: [[Int32]] = []
    var latency: [Int64: UInt64] = [:]
    /// Per directed link: the pacer's theoretical arrival time (GCRA form of a token bucket).
    var pacer: [Int64: Double] = [:]
    var queue = EventQueue<Event>()
    var now = 0.0
    var bytesSent = 0.0
    var heldTotal = 0
    var announcerIds: [Int32] = []
    var seqnos: [Int32: UInt64] = [:]
    var lastRecordBytes = 0
    var inFlight = 0, peakInFlight = 0
    /// When each node's held outbox is due to be drained, in queue time (.max: nothing scheduled).
    var flushAt: [UInt64] = []

    public init(config: Config) {
        self.config = config
        random = SplitMix64(seed: config.seed)
    }

    static func pair(_ a: Int32, _ b: Int32) -> Int64 { Int64(a) << 32 | Int64(b) }

    /// Runs the phases and reports; `progress` gets a line per phase.
    public func run(progress: (String) -> Void = { _ in }) -> Report {
        var report = Report()
        let n = config.nodes
        report.nodes = n
        // One shared memo: each distinct record's signature is checked once per run. Keyed by
        // (key, seqno), whose hash is cheaper than the whole record's; a hit still needs the
        // very bytes that verified (the arrays are shared, so that compare is an identity check).
        struct Signed: Hashable { let key: PublicKey; let seqno: UInt64 }
        var verified: [Signed: [UInt8]] = [:]
        var verifications = 0
        let verify: ([UInt8]) -> Bool = { bytes in
            guard let (key, seqno) = CapacityRecord.header(bytes) else { return false }
            if verified[Signed(key: key, seqno: seqno)] == bytes { return true }
            verifications += 1
            guard CapacityRecord.verify(bytes) else { return false }
            verified[Signed(key: key, seqno: seqno)] = bytes
            return true
        }
        for i in 0..<n {
            let id = NodeIdentity.generate()
            identities.append(id)
            keys.append(id.publicKey)
            index[id.publicKey] = Int32(i)
            let g = CapacityGossip(directory: CapacityDirectory(maxRecords: 1_000_000, verify: verify))
            if let hold = config.floodHold { g.floodDelay = hold }
            gossips.append(g)
        }
        let announcerCount = config.announcers == 0 ? n : min(config.announcers, n)
        // Each node will hold every record: one allocation each instead of a doubling series.
        for g in gossips { g.directory.reserveCapacity(announcerCount) }
        neighbours = Array(repeating: [], count: n)
        flushAt = Array(repeating: .max, count: n)
        let specs = SimulatedTopology.build(config.topology, nodes: n, degree: config.degree, random: &random)
        for l in specs {
            let a = Int32(l.a), b = Int32(l.b)
            neighbours[l.a].append(b)
            neighbours[l.b].append(a)
            let lat = UInt64(l.latencySeconds * 1e9)
            latency[CapacitySimulation.pair(a, b)] = lat
            latency[CapacitySimulation.pair(b, a)] = lat
        }
        report.links = specs.count
        var order = Array(0..<Int32(n))
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
        announcerIds = Array(order.prefix(announcerCount)).sorted()
        report.announcers = announcerCount

        // Cold start: every node up at once, its own record published, every link coming up.
        let start = instant(0)
        for a in announcerIds { publish(a) }
        for i in 0..<n {
            for j in neighbours[i] { gossips[i].neighbourUp(keys[Int(j)], now: start) }
            queue.push(UInt64(CapacityGossip.resummaryInterval * 1e9), .tick(Int32(i)))
        }
        for i in 0..<n { drain(Int32(i)) }
        report.recordBytes = lastRecordBytes
        let want = n * announcerCount
        var step = 0.5
        while heldTotal < want && now < config.maxSeconds {
            run(until: min(config.maxSeconds, now + step)) { self.heldTotal >= want }
            progress("cold start: \(now) s virtual, \(heldTotal) of \(want) records held")
            step = min(step * 2, 30)
        }
        report.coldStartSeconds = heldTotal >= want ? now : nil
        report.coldStartBytesPerLink = bytesSent / Double(max(1, report.links))
        progress("cold start: \(report.coldStartSeconds.map { "\($0) s" } ?? "incomplete") (\(heldTotal) of \(want) records held)")

        // One change: an announcer re-issues its record; how long until 99% and 100% hold it.
        let changer = announcerIds[Int(random.next() % UInt64(announcerIds.count))]
        let changedAt = now + 1
        run(until: changedAt) { false }
        publish(changer)
        let seqno = seqnos[changer]!
        let changerKey = keys[Int(changer)]
        let bytesBefore = bytesSent
        var holders: Set<Int32> = [changer]
        let need99 = Int((Double(n) * 0.99).rounded(.up))
        run(until: changedAt + config.maxSeconds, onDelivery: { to in
            guard !holders.contains(to), self.gossips[Int(to)].directory[changerKey]?.seqno == seqno else { return }
            holders.insert(to)
            if holders.count >= need99 && report.change99Seconds == nil { report.change99Seconds = self.now - changedAt }
        }) { holders.count >= n }
        report.change100Seconds = holders.count >= n ? now - changedAt : nil
        report.changeBytesPerLink = (bytesSent - bytesBefore) / Double(max(1, report.links))
        progress("change: 99% in \(report.change99Seconds.map { "\($0) s" } ?? "-"), 100% in \(report.change100Seconds.map { "\($0) s" } ?? "-")")

        // Steady state: re-announcements at the rate of a full directory, and the summaries.
        if config.steadySeconds > 0 {
            let rate = config.steadyRate ?? Double(n) / config.announceInterval
            report.steadyRecordsPerSecond = rate
            let from = now, steadyBytesBefore = bytesSent
            scheduleReannounce(after: from, rate: rate)
            run(until: from + config.steadySeconds) { false }
            report.steadyBytesPerLinkPerSecond = (bytesSent - steadyBytesBefore) / Double(max(1, report.links)) / config.steadySeconds
            progress("steady: \(Int(report.steadyBytesPerLinkPerSecond!)) B per link per second")
        }
        report.virtualSeconds = now
        report.peakMessagesInFlight = peakInFlight
        report.verifications = verifications
        for g in gossips {
            for (reason, count) in g.directory.rejections {
                report.rejections += Int(count)
                report.rejectionsByReason[reason.rawValue, default: 0] += Int(count)
            }
        }
        // planetd holds its own copy of each record's bytes (here they are shared).
        let d = gossips[0].directory
        report.memoryBytesPerNode = d.estimatedMemoryBytes(sharedRecordBytes: false)
        report.directoryBytesPerEntry = Double(d.estimatedMemoryBytes(sharedRecordBytes: true)) / Double(max(1, d.count))
        return report
    }

    func instant(_ seconds: Double) -> Instant { Instant(seconds: seconds) }
    var unixNow: Double { CapacitySimulation.unixEpoch + now }

    func publish(_ node: Int32) {
        let seqno = (seqnos[node] ?? 0) + 1
        seqnos[node] = seqno
        let issued = UInt64(unixNow)
        let record = CapacityRecord(
            key: keys[Int(node)], seqno: seqno, issuedAt: issued, expiresAt: issued + UInt64(3 * config.announceInterval),
            uptimeSeconds: 86_400, publicIPv4: node % 3 == 0, publicIPv6: true,
            total: CapacityResources(cru: 32, mru: 128 << 30, sru: 2 << 40, hru: 8 << 40),
            used: CapacityResources(cru: 1, mru: 12 << 30, sru: 0, hru: 0),
            latitude: 50.85, longitude: 4.35, country: "BE", farmId: UInt32(node % 100), city: "Brussels",
            farmName: "farm-\(node % 100)", version: PlanetVersion.string,
            gpus: node % 10 == 0 ? [CapacityGPU(vendor: 0x10de, device: 0x2204, name: "nvidia")] : [], tags: ["sim"])
        let bytes = record.signed(by: identities[Int(node)])
        lastRecordBytes = bytes.count
        let before = gossips[Int(node)].directory.count
        gossips[Int(node)].publish(bytes, now: instant(now), unixNow: unixNow)
        heldTotal += gossips[Int(node)].directory.count - before
        drain(node)
    }

    func scheduleReannounce(after t: Double, rate: Double) {
        // Exponential gaps: announcers' timers are independent.
        let u = max(1e-12, Double(random.next() >> 11) / Double(1 << 53))
        queue.push(UInt64((t - log(u) / rate) * 1e9), .reannounce)
    }

    func drain(_ node: Int32) {
        let from = node
        gossips[Int(node)].drainMessages { to, message in
            guard let j = index[to] else { return }
            let size = Double(message.encodedCount + CapacitySimulation.perMessageOverhead)
            bytesSent += size
            let link = CapacitySimulation.pair(from, j)
            // Token bucket as GCRA: a message leaves once the bucket would hold it.
            let emission = 1 / config.pacerBytesPerSecond
            let tat = max(pacer[link] ?? 0, now)
            let depart = max(now, tat - config.pacerBurstBytes * emission)
            pacer[link] = tat + size * emission
            let arrive = depart + Double(latency[link] ?? 0) / 1e9
            queue.push(UInt64(arrive * 1e9), .deliver(Delivery(to: j, from: from, message: message)))
            inFlight += 1
            peakInFlight = max(peakInFlight, inFlight)
        }
        // A held outbox: come back when it is due (the node's deadline, in planetd).
        // A microsecond late, so converting the time back and forth never lands it just short.
        let due = gossips[Int(node)].nextDeadline.seconds + 1e-6
        guard due < now + CapacityGossip.resummaryInterval - 1 else { return }
        let at = UInt64(due * 1e9)
        if at < flushAt[Int(node)] {
            flushAt[Int(node)] = at
            queue.push(at, .flush(node))
        }
    }

    func run(until limit: Double, onDelivery: (Int32) -> Void = { _ in }, done: () -> Bool) {
        while !done(), let t = queue.nextTime, Double(t) / 1e9 <= limit, let item = queue.pop() {
            now = Double(item.time) / 1e9
            switch item.payload {
            case .deliver(let d):
                inFlight -= 1
                let g = gossips[Int(d.to)]
                let before = g.directory.count
                g.advance(now: instant(now))
                g.receive(d.message, from: keys[Int(d.from)], now: instant(now), unixNow: unixNow)
                heldTotal += g.directory.count - before
                onDelivery(d.to)
                drain(d.to)
            case .flush(let i):
                if flushAt[Int(i)] <= item.time { flushAt[Int(i)] = .max }
                gossips[Int(i)].advance(now: instant(now))
                drain(i)
            case .tick(let i):
                gossips[Int(i)].tick(now: instant(now), unixNow: unixNow)
                drain(i)
                queue.push(UInt64((now + CapacityGossip.resummaryInterval) * 1e9), .tick(i))
            case .reannounce:
                publish(announcerIds[Int(random.next() % UInt64(announcerIds.count))])
                scheduleReannounce(after: now, rate: config.steadyRate ?? Double(config.nodes) / config.announceInterval)
            }
        }
        if !done() && now < limit { now = limit }
    }
}

#if canImport(Glibc)
import Glibc
#endif
