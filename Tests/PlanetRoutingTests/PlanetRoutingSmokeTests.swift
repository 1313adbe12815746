import XCTest
@testable import PlanetRouting

final class PlanetRoutingSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(PlanetRoutingModule.self) }
}
