import XCTest
@testable import PlanetLink

final class PlanetLinkSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(PlanetLinkModule.self) }
}
