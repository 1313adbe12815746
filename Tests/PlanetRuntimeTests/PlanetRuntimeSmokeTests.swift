import XCTest
@testable import PlanetRuntime

final class PlanetRuntimeSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(PlanetRuntimeModule.self) }
}
