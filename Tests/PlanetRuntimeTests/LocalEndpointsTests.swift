import XCTest
import PlanetCore
import PlanetNode
@testable import PlanetRuntime

/// The runner gives the node its local candidates for hole punching: a socket bound to one
/// address is reachable only there; the host's interface addresses never include what a peer
/// could not or must not be sent to.
final class LocalEndpointsTests: XCTestCase {
    func testABoundTransportOffersItsOwnEndpoint() throws {
        let mesh = RunnerMesh()
        let runner = try mesh.add("a")
        XCTAssertEqual(runner.node.localEndpoints, [mesh.endpoints["a"]!])
    }

    func testInterfaceAddressesLeaveOutLoopbackLinkLocalAndOverlay() {
        for a in InterfaceAddresses.unicast() {
            XCTAssertTrue(EndpointCandidates.isProbeable(Endpoint(address: a, port: 8470)), "\(a) offered")
        }
        XCTAssertFalse(InterfaceAddresses.isOffered(IPv6Address("::1")!))
        XCTAssertFalse(InterfaceAddresses.isOffered(IPv6Address("::ffff:127.0.0.1")!))
        XCTAssertFalse(InterfaceAddresses.isOffered(IPv6Address("fe80::1")!))
        XCTAssertFalse(InterfaceAddresses.isOffered(IPv6Address("200:1234::1")!))
        XCTAssertTrue(InterfaceAddresses.isOffered(IPv6Address("::ffff:10.1.0.2")!))
        XCTAssertTrue(InterfaceAddresses.isOffered(IPv6Address("2001:db8::5")!))
    }
}
