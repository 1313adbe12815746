import PlanetCore
import PlanetAdmin
import PlanetCapacity

/// The finder's admin calls (Docs/cli.md): `getNodes` lists every record held, `getNode` shows
/// one by key or overlay address, `findNodes` filters and sorts. Every row carries the node's
/// overlay address and the route metric from this node, which only this node knows: the
/// directory is the same everywhere, the answer's order is not.
/// The directory as the loop holds it at one moment, for a finder call answered elsewhere:
/// taking it costs the loop nothing (the entries are a copy-on-write array), so the decoding,
/// filtering and sorting — ~290 ms at 10⁵ records (`planetsim --loop-cost`, Docs/scale.md) —
/// run on the admin thread, and only route metrics are asked of the loop, in slices.
public struct CapacityFinderSnapshot: Sendable {
    let entries: [CapacityDirectory.Entry]
    let unixNow: Double
    let ownKey: PublicKey
    let coordinates: (latitude: Double, longitude: Double)?
    /// On a stub: what its upstream found (signatures checked), with the upstream's route
    /// metrics and how many records it holds; nil: answer from `entries`.
    var fetched: Fetched?

    struct Fetched: Sendable {
        let records: [[UInt8]]
        let metrics: [PublicKey: Int]
        let held: Int
    }
}

extension Node {
    /// The finder's input, taken on the loop; nil before the runtime has told the node the time.
    public func capacityFinderSnapshot(now: Instant) -> CapacityFinderSnapshot? {
        guard let unix = capacity.unixTime(now) else { return nil }
        let coordinates = config.capacity.latitude.flatMap { lat in config.capacity.longitude.map { (lat, $0) } }
        return CapacityFinderSnapshot(entries: capacity.directory.entries, unixNow: unix, ownKey: identity.publicKey, coordinates: coordinates)
    }

    /// This node's route metric to each key (nil: no route), on the loop; the finder asks for a
    /// slice at a time.
    public func routeMetrics(to keys: ArraySlice<PublicKey>) -> [Int?] {
        keys.map { key in router.metric(to: key).flatMap { $0 == .max ? nil : Int($0) } }
    }

    /// The finder's calls answered on the loop in one go (NodeHarness and tests; planetd answers
    /// them off the loop, `answerCapacity(_:snapshot:metrics:)` from the admin thread).
    func capacityAdmin(_ request: AdminRequest, now: Instant) -> Result<any AdminResponse, AdminError> {
        guard !findsThroughUpstream else {
            return .failure(AdminError("a stub asks its upstream: answered asynchronously (admin(_:now:reply:))"))
        }
        guard let snapshot = capacityFinderSnapshot(now: now) else {
            return .failure(AdminError("the node has not been told the time yet; try again"))
        }
        return Node.answerCapacity(request, snapshot: snapshot) { routeMetrics(to: $0[...]) }
    }

    /// Answers `getNodes`, `findNodes` or `getNode` from `snapshot`, on any thread: every
    /// record decoded, the query's own filters applied, then `metrics` asked for the keys that
    /// passed (the route metric is the loop's to know), then sorted and limited.
    public static func answerCapacity(_ request: AdminRequest, snapshot: CapacityFinderSnapshot,
                                      metrics: ([PublicKey]) -> [Int?]) -> Result<any AdminResponse, AdminError> {
        let unix = snapshot.unixNow
        let records = snapshot.fetched.map { $0.records.compactMap { try? CapacityRecord.decode($0) } }
            ?? snapshot.entries.compactMap { try? CapacityRecord.decode($0.bytes) }
        func candidates(_ rs: [CapacityRecord], near: (latitude: Double, longitude: Double)?) -> [CapacityQuery.Candidate] {
            // On a stub the metric is the upstream's (the stub routes everything through it).
            let found = snapshot.fetched.map { f in rs.map { f.metrics[$0.key] } } ?? metrics(rs.map(\.key))
            return zip(rs, found).map { r, metric in
                CapacityQuery.Candidate(record: r, metric: r.key == snapshot.ownKey ? 0 : metric, ageSeconds: max(0, unix - Double(r.issuedAt)),
                                        distanceKm: near.flatMap { CapacityQuery.distanceKm(from: $0, to: r) })
            }
        }
        let filters: [AdminRequest.Filter]
        switch request {
        case .getNode(let text):
            let record: CapacityRecord?
            if let k = PublicKey(hex: text) {
                record = records.first { $0.key == k }
                guard record != nil else { return .failure(AdminError("no capacity record for \(k.hex)")) }
            } else if let a = IPv6Address(text) {
                record = records.first { $0.key.address == a || $0.key.subnet.contains(a) }
                guard record != nil else { return .failure(AdminError("no capacity record for address \(text)")) }
            } else {
                return .failure(.argument("node", "'\(text)' is neither a public key (64 hex digits) nor an overlay address"))
            }
            return .success(nodeReply(candidates([record!], near: nil)[0], unixNow: unix))
        case .getNodes: filters = []
        case .findNodes(let given): filters = given
        default:
            return .failure(AdminError("not a capacity call"))
        }
        let query: CapacityQuery
        switch CapacityQuery.parse(filters.map { ($0.filter.argument, $0.value) }) {
        case .success(let q): query = q
        case .failure(let e): return .failure(.argument(e.argument, e.reason))
        }
        var origin = query.near
        if query.sort == .distance && origin == nil {
            guard let here = snapshot.coordinates else {
                return .failure(.argument("sort", "distance needs near LAT,LON (this node has no coordinates in its config)"))
            }
            origin = here
        }
        let rows = query.apply(candidates(records.filter(query.matches), near: origin))
        return .success(NodesReply(nodes: rows.map { nodeReply($0, unixNow: unix) }, held: UInt64(snapshot.fetched?.held ?? snapshot.entries.count)))
    }

    static func nodeReply(_ c: CapacityQuery.Candidate, unixNow: Double) -> NodeRecordReply {
        let r = c.record
        func resources(_ x: CapacityResources) -> NodeRecordReply.Resources { .init(cru: x.cru, mru: x.mru, sru: x.sru, hru: x.hru) }
        return NodeRecordReply(
            publicKey: r.key.hex, address: r.key.address.description, metric: c.metric.map { UInt64(max(0, $0)) },
            distanceKm: c.distanceKm.map { ($0 * 10).rounded() / 10 }, ageSeconds: UInt64(max(0, c.ageSeconds)),
            expiresInSeconds: UInt64(max(0, Double(r.expiresAt) - unixNow)), seqno: UInt64(r.seqno), country: r.country, city: r.city,
            latitude: r.latitude, longitude: r.longitude, farmId: UInt64(r.farmId), farmName: r.farmName,
            total: resources(r.total), used: resources(r.used), free: resources(r.free),
            gpus: r.gpus.map { .init(vendor: $0.vendorName, vendorId: UInt64($0.vendor), deviceId: UInt64($0.device), name: $0.name) },
            publicIPv4: r.publicIPv4, publicIPv6: r.publicIPv6, tags: r.tags, version: r.version, uptimeSeconds: UInt64(r.uptimeSeconds))
    }
}
