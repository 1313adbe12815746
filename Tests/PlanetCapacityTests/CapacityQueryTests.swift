import XCTest
import PlanetCore
@testable import PlanetCapacity

final class CapacityQueryTests: XCTestCase {
    func query(_ args: [(String, String)]) throws -> CapacityQuery {
        try CapacityQuery.parse(args).get()
    }

    func candidates() -> [CapacityQuery.Candidate] {
        let spec: [(String, UInt64, Bool, Int?, Double, Double)] = [
            ("BE", 16, true, 30, 51.05, 3.72),   // Ghent
            ("BE", 4, true, 10, 50.85, 4.35),    // Brussels, too little memory
            ("BE", 8, false, 20, 50.63, 5.57),   // Liège, no IPv4
            ("NL", 32, true, 5, 52.37, 4.90),    // Amsterdam
            ("BE", 12, true, nil, 51.22, 4.40),  // Antwerp, no route
            ("BE", 8, true, 40, 50.47, 4.87),    // Namur
        ]
        return spec.map { cc, gib, v4, metric, lat, lon in
            let id = NodeIdentity.generate()
            var r = makeRecord(id, country: cc, freeMemory: gib * ByteSize.gib)
            r.publicIPv4 = v4
            r.latitude = lat; r.longitude = lon
            return .init(record: r, metric: metric, ageSeconds: Double(gib), distanceKm: nil)
        }
    }

    func testBelgiumEightGigabytesPublicIPv4NearestFirst() throws {
        let c = candidates()
        let q = try query([("country", "be"), ("freeMru", "8G"), ("ipv4", "true"), ("sort", "rtt")])
        let rows = q.apply(c)
        XCTAssertEqual(rows.map(\.metric), [30, 40, nil], "by route metric, no route last")
        XCTAssertEqual(Set(rows.map(\.record.key)), Set([c[0], c[5], c[4]].map(\.record.key)))
        XCTAssertEqual(try query([("country", "BE"), ("freeMru", "8G"), ("reachable", "true")]).apply(c).count, 3)
        XCTAssertEqual(try query([("sort", "free-mru"), ("limit", "2")]).apply(c).map(\.record.free.mru), [32, 16].map { $0 * ByteSize.gib })
        XCTAssertEqual(try query([("sort", "free-mru"), ("order", "asc"), ("limit", "1")]).apply(c).first?.record.free.mru, 4 * ByteSize.gib)
    }

    func testNearWithRadiusAndOtherFilters() throws {
        let c = candidates()
        // 60 km around Brussels: Brussels, Ghent (~50 km), Antwerp (~41 km), Namur (~55 km).
        let near = try query([("near", "50.85,4.35"), ("radius", "60"), ("sort", "distance")])
        let rows = near.apply(c.map { .init(record: $0.record, metric: $0.metric, ageSeconds: 0,
                                            distanceKm: CapacityQuery.distanceKm(from: (50.85, 4.35), to: $0.record)) })
        XCTAssertEqual(rows.count, 4)
        XCTAssertEqual(rows.first?.distanceKm.map { $0 < 1 }, true, "Brussels itself first")
        XCTAssertEqual(try query([("gpu", "nvidia")]).apply(c).count, 6)
        XCTAssertEqual(try query([("gpu", "amd")]).apply(c).count, 0)
        XCTAssertEqual(try query([("farm", "7,9")]).apply(c).count, 6)
        XCTAssertEqual(try query([("farm", "9")]).apply(c).count, 0)
        XCTAssertEqual(try query([("tag", "gpu-lab"), ("totalCru", "16")]).apply(c).count, 6)
        XCTAssertEqual(try query([("totalCru", "17")]).apply(c).count, 0)
    }

    func testBadArgumentsNameTheArgument() {
        for (name, value) in [("freeMru", "lots"), ("country", "BEL"), ("near", "91,0"), ("sort", "speed"), ("order", "up"),
                              ("limit", "0"), ("farm", "a,b"), ("ipv4", "maybe"), ("bogus", "1")] {
            guard case .failure(let e) = CapacityQuery.parse([(name, value)]) else { XCTFail("\(name)=\(value) accepted"); continue }
            XCTAssertEqual(e.argument, name)
        }
        guard case .failure(let e) = CapacityQuery.parse([("radius", "5")]) else { return XCTFail("radius without near accepted") }
        XCTAssertEqual(e.argument, "radius")
    }

    func testSizesParseAsGridUsersWriteThem() {
        XCTAssertEqual(ByteSize.parse("512M"), 512 * ByteSize.mib)
        XCTAssertEqual(ByteSize.parse("16G"), 16 * ByteSize.gib)
        XCTAssertEqual(ByteSize.parse("16GiB"), 16 * ByteSize.gib)
        XCTAssertEqual(ByteSize.parse("2T"), 2 * ByteSize.tib)
        XCTAssertEqual(ByteSize.parse("1.5g"), 3 * ByteSize.gib / 2)
        XCTAssertEqual(ByteSize.parse("1000"), 1000)
        XCTAssertNil(ByteSize.parse("-1G"))
        XCTAssertNil(ByteSize.parse("16X"))
        XCTAssertNil(ByteSize.parse(""))
        XCTAssertEqual(ByteSize.text(16 * ByteSize.gib), "16G")
        XCTAssertEqual(ByteSize.text(1536 * ByteSize.mib), "1536M")
    }
}
