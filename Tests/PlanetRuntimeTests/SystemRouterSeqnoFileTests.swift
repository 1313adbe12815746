import Foundation
import XCTest
@testable import PlanetRuntime

/// The route seqno survives a restart, and a file that can't be read or written is an error
/// the runner logs, never a silent zero.
final class SystemRouterSeqnoFileTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "planet-seqno-\(UInt32.random(in: 0..<UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testAFirstStartHasNothingToRestore() throws {
        XCTAssertNil(try RouterSeqnoFile(stateDir: dir).restore())
    }

    func testARestartBeginsPastTheSavedSeqno() throws {
        let file = RouterSeqnoFile(stateDir: dir)
        try file.save(1000)
        XCTAssertEqual(try String(contentsOfFile: dir + "/router-seqno", encoding: .utf8), "1000\n")
        XCTAssertEqual(try file.restore(), 1000 + RouterSeqnoFile.restartMargin)
        // Seqnos wrap (RFC 8966 arithmetic), so the margin does too.
        try file.save(UInt32.max - 1)
        XCTAssertEqual(try file.restore(), RouterSeqnoFile.restartMargin - 2)
    }

    func testAFileWithoutASeqnoIsAnErrorNamingThePath() throws {
        try "twelve\n".write(toFile: dir + "/router-seqno", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RouterSeqnoFile(stateDir: dir).restore()) { error in
            XCTAssertTrue("\(error)".contains(dir + "/router-seqno"), "\(error)")
        }
    }

    func testAnUnwritableStateDirectoryIsAnError() {
        let file = RouterSeqnoFile(stateDir: dir + "/missing")
        XCTAssertThrowsError(try file.save(5)) { error in
            XCTAssertTrue("\(error)".contains("cannot write \(dir!)/missing/router-seqno"), "\(error)")
        }
    }
}
