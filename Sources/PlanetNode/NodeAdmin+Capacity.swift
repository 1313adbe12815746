import PlanetCore
import PlanetAdmin
import PlanetCapacity

/// The finder's admin calls (Docs/cli.md): `getNodes` lists every record held, `getNode` shows
/// one by key or overlay address, `findNodes` filters and sorts. Every row carries the node's
/// overlay address and the route metric from this node, which only this node knows: the
/// directory is the same everywhere, the answer's order is not.
extension Node {
    func capacityAdmin(_ request: AdminRequest, now: Instant) -> Result<JSONValue, AdminError> {
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
            return .success(nodeJSON(c, unixNow: unix))
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
        return .success(.object([("nodes", .array(rows.map { nodeJSON($0, unixNow: unix) })),
                                 ("held", .number(Double(capacity.directory.count)))]))
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

    func nodeJSON(_ c: CapacityQuery.Candidate, unixNow: Double) -> JSONValue {
        let r = c.record
        func number(_ v: Double?) -> JSONValue { v.map { JSONValue.number($0) } ?? .null }
        let gpus: [JSONValue] = r.gpus.map { g in
            let fields: [(String, JSONValue)] = [("vendor", .string(g.vendorName)), ("vendorId", .number(Double(g.vendor))),
                                                 ("deviceId", .number(Double(g.device))), ("name", .string(g.name))]
            return .object(fields)
        }
        var o: [(String, JSONValue)] = []
        o.append(("publicKey", .string(r.key.hex)))
        o.append(("address", .string(r.key.address.description)))
        o.append(("metric", number(c.metric.map(Double.init))))
        o.append(("distanceKm", number(c.distanceKm.map { ($0 * 10).rounded() / 10 })))
        o.append(("ageSeconds", .number(c.ageSeconds.rounded(.down))))
        o.append(("expiresInSeconds", .number(max(0, Double(r.expiresAt) - unixNow).rounded(.down))))
        o.append(("seqno", .number(Double(r.seqno))))
        o.append(("country", .string(r.country)))
        o.append(("city", .string(r.city)))
        o.append(("latitude", number(r.latitude)))
        o.append(("longitude", number(r.longitude)))
        o.append(("farmId", .number(Double(r.farmId))))
        o.append(("farmName", .string(r.farmName)))
        o.append(("total", r.total.json))
        o.append(("used", r.used.json))
        o.append(("free", r.free.json))
        o.append(("gpus", .array(gpus)))
        o.append(("publicIPv4", .bool(r.publicIPv4)))
        o.append(("publicIPv6", .bool(r.publicIPv6)))
        o.append(("tags", .array(r.tags.map { JSONValue.string($0) })))
        o.append(("version", .string(r.version)))
        o.append(("uptimeSeconds", .number(Double(r.uptimeSeconds))))
        return .object(o)
    }
}
