import XCTest
import PlanetCore
@testable import PlanetYggdrasil

/// What planetctl self and routes read of the router: the root, coordinates and parent every
/// node agrees on, and for a path the peer forwarding picks, ironwood's tree distance and when
/// the path expires.
final class IronwoodInspectionTests: XCTestCase {
    func testChainRootCoordsAndPathRows() {
        let net = IronwoodTestNetwork(count: 5, seed: 21)
        for i in 0..<4 { net.connect(i, i + 1) }
        net.advance(8)
        XCTAssertTrue(net.converged)
        let root = net.smallest
        for i in net.routers.indices {
            let r = net.routers[i]
            XCTAssertEqual(r.root, net.key(root), "node \(i)")
            // Along a chain a node's depth is its distance from the root; only the root is its own parent.
            XCTAssertEqual(r.coords.count, abs(i - root), "node \(i)")
            XCTAssertEqual(r.parent, i == root ? net.key(i) : net.key(i < root ? i + 1 : i - 1), "node \(i)")
        }
        net.routers[0].lookup(net.key(4), now: net.now)
        net.pump()
        let row = net.routers[0].pathEntries.first { $0.key == net.key(4) }
        XCTAssertEqual(row?.path, net.routers[4].coords)
        XCTAssertEqual(row?.broken, false)
        XCTAssertEqual(row.map { $0.expires.seconds(since: net.now) } ?? 0, net.routers[0].timing.pathTimeout, accuracy: 1)
        // Four hops along the chain, the first to node 1, as forwarding would go.
        XCTAssertEqual(net.routers[0].treeDistance(to: net.routers[4].coords), 4)
        XCTAssertEqual(net.routers[0].nextHopKey(to: net.routers[4].coords), net.key(1))
        XCTAssertEqual(net.routers[2].nextHopKey(to: net.routers[0].coords), net.key(1))
        // Our own coordinates: no peer is closer.
        XCTAssertEqual(net.routers[0].treeDistance(to: net.routers[0].coords), 0)
        XCTAssertNil(net.routers[0].nextHopKey(to: net.routers[0].coords))
    }
}
