import PlanetCore
import PlanetAdmin
import PlanetCapacity

/// The finder's admin calls (Docs/cli.md): `getNodes` lists every record held, `getNode` shows
/// one by key or overlay address, `findNodes` filters and sorts. Every row carries the node's
/// overlay address and the route metric from this node, which only this node knows: the
/// directory is the same everywhere, the answer's order is not.
extension Node {
    func capacityAdmin(_ request: AdminRequest, now: Instant) -> Result<any AdminResponse, AdminError> {
        guard let unix = capacity.unixTime(now) else { return .failure(AdminError("the node has not been told the time yet; try again")) }
        let filters: [AdminRequest.Filter]
        switch request {
        case .getNode(let text):
            let key: PublicKey
            if let k = PublicKey(hex: text) {
                key = k
            } else if let a = IPv6Address(text), let k = capacity.directory.entries.lazy.map(\.key).first(where: { $0.address == a || $0.subnet.contains(a) }) {
                key = k
            } else if IPv6Address(text) != nil {
                return .failure(AdminError("no capacity record for address \(text)"))
            } else {
                return .failure(.argument("node", "'\(text)' is neither a public key (64 hex digits) nor an overlay address"))
            }
            guard let c = candidates(unixNow: unix, near: nil).first(where: { $0.record.key == key }) else {
                return .failure(AdminError("no capacity record for \(key.hex)"))
            }
            return .success(nodeReply(c, unixNow: unix))
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
            guard let lat = config.capacity.latitude, let lon = config.capacity.longitude else {
                return .failure(.argument("sort", "distance needs near LAT,LON (this node has no coordinates in its config)"))
            }
            origin = (lat, lon)
        }
        let rows = query.apply(candidates(unixNow: unix, near: origin))
        return .success(NodesReply(nodes: rows.map { nodeReply($0, unixNow: unix) }, held: UInt64(capacity.directory.count)))
    }

    /// Every held record decoded, with this node's route metric to it (0 for itself).
    func candidates(unixNow: Double, near: (latitude: Double, longitude: Double)?) -> [CapacityQuery.Candidate] {
        capacity.directory.entries.compactMap { e in
            guard let r = try? CapacityRecord.decode(e.bytes) else { return nil }
            let metric: Int? = r.key == identity.publicKey ? 0 : router.metric(to: r.key).flatMap { $0 == .max ? nil : Int($0) }
            return CapacityQuery.Candidate(record: r, metric: metric, ageSeconds: max(0, unixNow - Double(r.issuedAt)),
                                           distanceKm: near.flatMap { CapacityQuery.distanceKm(from: $0, to: r) })
        }
    }

    func nodeReply(_ c: CapacityQuery.Candidate, unixNow: Double) -> NodeRecordReply {
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
