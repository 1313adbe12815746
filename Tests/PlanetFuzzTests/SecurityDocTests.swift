import XCTest
import Foundation
import PlanetFuzz

/// Docs/security.md names, for every check and bound, the test that proves it. Those names
/// drifted once (a row named a class whose tests pass without the check), and a renamed or
/// removed test would leave a row pointing at nothing; this reads the file and checks that
/// every test it names exists: `Class.testMethod` (and a bare `testMethod` after a
/// `Class.testX` in the same table cell or paragraph, which means that class), a bare test
/// class, every `test_*.sh` (Tests/Integration) and every fuzz target (`FuzzTargets.all`). It
/// lives here because this test target can see the fuzz targets. Existence only: that each
/// test fails without its check is proven by mutation when the row is written.
final class SecurityDocTests: XCTestCase {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    func testEveryTestTheSecurityDocNamesExists() throws {
        let doc = try String(contentsOf: Self.root.appendingPathComponent("Docs/security.md"), encoding: .utf8)
        let refs = SecurityDocReferences(doc)
        XCTAssertGreaterThan(refs.methods.count, 100, "the doc's test names were not found: has its style changed?")
        XCTAssertGreaterThan(refs.scripts.count, 5)
        XCTAssertGreaterThan(refs.fuzzTargets.count, 10)
        let tests = try TestIndex(Self.root.appendingPathComponent("Tests"))
        for r in refs.methods where !(tests.methods[r.type]?.contains(r.method) ?? false) {
            XCTFail("Docs/security.md line \(r.line) names \(r.type).\(r.method), which is not a test in Tests/")
        }
        for r in refs.bareMethods {
            XCTFail("Docs/security.md line \(r.line) names \(r.method) without a class before it in the same cell")
        }
        for r in refs.types where tests.methods[r.type] == nil {
            // A test target (`PlanetNodeTests`) is a directory.
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("Tests/" + r.type).path, isDirectory: &isDirectory),
               isDirectory.boolValue { continue }
            XCTFail("Docs/security.md line \(r.line) names \(r.type), which is neither a test class nor a test target in Tests/")
        }
        for r in refs.scripts where !FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("Tests/Integration/" + r.name).path) {
            XCTFail("Docs/security.md line \(r.line) names \(r.name), which is not in Tests/Integration")
        }
        let targets = Set(FuzzTargets.all.map(\.name))
        for r in refs.fuzzTargets where !targets.contains(r.name) {
            XCTFail("Docs/security.md line \(r.line) names fuzz target \(r.name), which FuzzTargets.all does not have")
        }
    }

    /// The checker itself finds wrong names (and does not take prose for test names).
    func testTheCheckerFindsWrongNames() throws {
        let doc = """
        | check | test |
        |---|---|
        | a | `SecurityDocTests.testTheCheckerFindsWrongNames`, `testNoSuchTest`; `NoSuchTests.testA` |
        | b | `testOrphan` and `test_no_such_thing.sh`, fuzz targets `routing`, `no-such-target` |
        Prose: `LinkLayer.punch` is not a test, `SecurityDocTests` is a class, `NoSuchClassTests` is not.

        ## Fuzzing

        | target | what |
        |---|---|
        | `bogus-target` | x |
        """
        let refs = SecurityDocReferences(doc)
        XCTAssertEqual(refs.methods.map { "\($0.type).\($0.method)" },
                       ["SecurityDocTests.testTheCheckerFindsWrongNames", "SecurityDocTests.testNoSuchTest", "NoSuchTests.testA"])
        XCTAssertEqual(refs.bareMethods.map(\.method), ["testOrphan"])
        XCTAssertEqual(refs.types.map(\.type), ["SecurityDocTests", "NoSuchClassTests"])
        XCTAssertEqual(refs.scripts.map(\.name), ["test_no_such_thing.sh"])
        XCTAssertEqual(refs.fuzzTargets.map(\.name), ["routing", "no-such-target", "bogus-target"])
        let tests = try TestIndex(Self.root.appendingPathComponent("Tests"))
        XCTAssertTrue(tests.methods["SecurityDocTests"]?.contains("testTheCheckerFindsWrongNames") ?? false)
        XCTAssertFalse(tests.methods["SecurityDocTests"]?.contains("testNoSuchTest") ?? true)
        XCTAssertNil(tests.methods["NoSuchTests"])
        XCTAssertTrue(tests.methods["FuzzCorpusTests"]?.contains("testEveryTargetHasACorpusAndRunsItWithoutTrapping") ?? false)
    }
}

/// The test names in a Markdown text, with the line each is on.
struct SecurityDocReferences {
    var methods: [(type: String, method: String, line: Int)] = []
    var bareMethods: [(method: String, line: Int)] = []
    var types: [(type: String, line: Int)] = []
    var scripts: [(name: String, line: Int)] = []
    var fuzzTargets: [(name: String, line: Int)] = []

    init(_ text: String) {
        var section = ""
        for (i, line) in text.components(separatedBy: "\n").enumerated() {
            let n = i + 1
            if line.hasPrefix("#") { section = line }
            // A cell (or a whole prose line) is where a bare method takes its class from.
            let isRow = line.hasPrefix("|")
            let cells = isRow ? line.split(separator: "|", omittingEmptySubsequences: false).map(String.init) : [line]
            for (c, cell) in cells.enumerated() {
                var type: String?
                for span in Self.spans(cell) {
                    if let dot = span.firstIndex(of: "."), Self.isTestClass(String(span[..<dot])),
                       Self.isMethod(String(span[span.index(after: dot)...])) {
                        type = String(span[..<dot])
                        methods.append((type!, String(span[span.index(after: dot)...]), n))
                    } else if Self.isMethod(span) {
                        if let type { methods.append((type, span, n)) } else { bareMethods.append((span, n)) }
                    } else if Self.isTestClass(span) {
                        types.append((span, n))
                    }
                }
                // The first column of the fuzzing tables names targets.
                if isRow, c == 1, section == "## Fuzzing", let span = Self.spans(cell).first, Self.isTargetName(span) {
                    fuzzTargets.append((span, n))
                }
            }
            for m in Self.matches(#"test_[a-z0-9_]+\.sh"#, in: line) { scripts.append((m, n)) }
            // "fuzz target `a`", "fuzz targets `a`, `b` and `c`".
            for list in Self.matches(#"fuzz targets? (?:`[^`]+`(?:,? and |, )?)+"#, in: line) {
                for span in Self.spans(list) where Self.isTargetName(span) { fuzzTargets.append((span, n)) }
            }
        }
    }

    static func spans(_ s: String) -> [String] {
        matches("`[^`]+`", in: s).map { String($0.dropFirst().dropLast()) }
    }

    static func matches(_ pattern: String, in s: String) -> [String] {
        let re = try! NSRegularExpression(pattern: pattern)
        let ns = s as NSString
        return re.matches(in: s, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
    }

    static func isTestClass(_ s: String) -> Bool { !matches(#"^[A-Z][A-Za-z0-9]*Tests$"#, in: s).isEmpty }
    static func isMethod(_ s: String) -> Bool { !matches(#"^test[A-Z][A-Za-z0-9_]*$"#, in: s).isEmpty }
    static func isTargetName(_ s: String) -> Bool { !matches(#"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"#, in: s).isEmpty }
}

/// The test methods in the Swift files under a directory, by class: a `func test…(` belongs
/// to the last type declared or extended at the start of a line above it.
struct TestIndex {
    var methods: [String: Set<String>] = [:]

    init(_ directory: URL) throws {
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)!
        for case let url as URL in files where url.pathExtension == "swift" {
            var type: String?
            for line in try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n") {
                if let t = SecurityDocReferences.matches(#"^(?:(?:final|public|open|private|fileprivate|internal) )*(?:class|struct|enum|extension) [A-Za-z0-9_]+"#, in: line).first {
                    type = String(t.split(separator: " ").last!)
                    if type!.hasSuffix("Tests") { methods[type!, default: []].formUnion([]) }
                } else if let type, let f = SecurityDocReferences.matches(#"^\s+(?:@[A-Za-z]+ )*func test[A-Za-z0-9_]*\("#, in: line).first {
                    let name = f.split(separator: " ").last!.dropLast()
                    methods[type, default: []].insert(String(name))
                }
            }
        }
    }
}
