import XCTest
import PlanetFuzz

/// Every fuzz target over its corpus in `Fuzz/corpus/<target>/` (the seeds, and every input
/// that once crashed a target, kept as a regression): none may trap. The fuzzers themselves
/// run in Tools/fuzz; this keeps their findings fixed in every `swift test`.
final class FuzzCorpusTests: XCTestCase {
    static let corpusRoot: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fuzz/corpus"
    }()

    func testEveryTargetHasACorpusAndRunsItWithoutTrapping() throws {
        for target in FuzzTargets.all {
            let files = try FuzzCorpus.files([Self.corpusRoot + "/" + target.name])
            XCTAssertFalse(files.isEmpty, "\(target.name) has no seed corpus")
            for path in files {
                try FuzzCorpus.read(path).withUnsafeBytes { target.run($0) }
            }
        }
    }

    func testTargetNamesAreUnique() {
        XCTAssertEqual(Set(FuzzTargets.all.map(\.name)).count, FuzzTargets.all.count)
    }
}
