import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetControl

/// The `nodes find` filters are declared once (`NodeFilter`); Docs/cli.md's filter table and
/// planetctl's help must say what the declaration says, row for row.
final class NodeFilterDocTests: XCTestCase {
    /// The filter table's rows as cells, backticks removed and `\|` read as `|`.
    func documentedFilters() throws -> [[String]] {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Docs/cli.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try XCTUnwrap(lines.firstIndex(of: "| filter | admin argument | keeps records with |"), "Docs/cli.md has no filter table")
        return lines[(header + 2)...].prefix { $0.hasPrefix("|") }.map { row in
            row.replacingOccurrences(of: "\\|", with: "\u{0}").split(separator: "|").map {
                $0.replacingOccurrences(of: "\u{0}", with: "|").replacingOccurrences(of: "`", with: "").trimmingCharacters(in: .whitespaces)
            }
        }
    }

    func testDocsListEveryFilterAsDeclared() throws {
        let rows = try documentedFilters()
        XCTAssertEqual(rows.map { $0.first ?? "" }, NodeFilter.allCases.map(\.usage), "options, in order")
        XCTAssertEqual(rows.map { $0.count > 1 ? $0[1] : "" }, NodeFilter.allCases.map(\.argument), "admin arguments")
        XCTAssertEqual(rows.map { $0.count > 2 ? $0[2] : "" }, NodeFilter.allCases.map(\.help), "descriptions")
    }

    func testHelpAndParserComeFromTheDeclaration() throws {
        let help = try PlanetctlHelp.text(for: ["nodes", "find"]).get()
        for f in NodeFilter.allCases {
            XCTAssertTrue(PlanetctlHelp.usage.contains(f.usage), "overview lacks \(f.usage)")
            XCTAssertTrue(help.contains("  " + f.usage), "nodes find --help lacks \(f.usage)")
            XCTAssertTrue(help.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
                .contains(f.help), "nodes find --help lacks what \(f.usage) does")
            // Every declared filter is taken by the parser and sent as its admin argument.
            let words: [String]
            switch f.value {
            case .flag: words = ["--" + f.option]
            case .optional: words = ["--" + f.option]
            case .required: words = ["--" + f.option, f == .near ? "50.85,4.35" : f == .radius ? "5" : f == .sort ? "rtt" : f == .order ? "asc" : f == .country ? "BE" : "7"]
            }
            let extra = f == .radius ? ["--near", "50.85,4.35"] : []
            let c = try PlanetctlCommand.parse(["nodes", "find"] + words + extra).get()
            guard case .findNodes(let sent) = c.request else { return XCTFail("\(words) is not findNodes") }
            XCTAssertEqual(sent.first?.filter, f)
            XCTAssertTrue(sent.first.map { AdminRequest.findNodes([$0]).line.contains("\"\(f.argument)\":") } ?? false)
        }
    }
}
