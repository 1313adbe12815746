import XCTest
import Foundation
import PlanetCore
@testable import PlanetRuntime

final class IOResolverTests: XCTestCase {
    private func resolveOnLoop(_ text: String) throws -> Result<[Endpoint], Resolver.Failure> {
        let loop = try EventLoop()
        let resolver = Resolver(loop: loop)
        var result: Result<[Endpoint], Resolver.Failure>?
        resolver.resolve(try PeerURI.parse(text).get()) { r in
            result = r
            loop.stop()
        }
        loop.run()
        return try XCTUnwrap(result)
    }

    func testIPv4LiteralBecomesV4Mapped() throws {
        let r = try resolveOnLoop("udp://192.0.2.7:9000")
        XCTAssertEqual(try r.get(), [Endpoint(ipv4: 192, 0, 2, 7, port: 9000)])
    }

    func testIPv6Literal() throws {
        let r = try resolveOnLoop("udp://[2001:db8::5]:1")
        XCTAssertEqual(try r.get(), [Endpoint(address: IPv6Address("2001:db8::5")!, port: 1)])
    }

    func testLocalhostResolvesToLoopback() throws {
        let endpoints = try resolveOnLoop("udp://localhost:7").get()
        XCTAssertFalse(endpoints.isEmpty)
        let loopbacks: Set<Endpoint> = [Endpoint(address: IPv6Address("::1")!, port: 7), Endpoint(ipv4: 127, 0, 0, 1, port: 7)]
        for e in endpoints { XCTAssertTrue(loopbacks.contains(e), "\(e)") }
        XCTAssertEqual(Set(endpoints).count, endpoints.count, "no duplicates")
    }

    func testUnresolvableNameFails() throws {
        let r = try resolveOnLoop("udp://no-such-host.invalid:7")
        guard case .failure = r else { return XCTFail("expected failure, got \(r)") }
    }
}
