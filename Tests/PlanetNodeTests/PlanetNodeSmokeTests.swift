import XCTest
@testable import PlanetNode

final class PlanetNodeSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(PlanetNodeModule.self) }
}
