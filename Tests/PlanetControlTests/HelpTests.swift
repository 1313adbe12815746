import XCTest
import PlanetCore
@testable import PlanetControl

/// `planetctl COMMAND --help` prints that command's help; a word that names no command is
/// refused (exit 2) with the nearest command suggested, never run as another.
final class HelpTests: XCTestCase {
    func testEveryCommandAndVerbHasItsOwnHelp() throws {
        var named = PlanetctlCommand.commandNames.map { [$0] }
        for (command, verbs) in PlanetctlCommand.verbs { named += verbs.map { [command, $0] } }
        XCTAssertEqual(Set(named), Set(PlanetctlHelp.commands.map(\.words)), "a command without help, or help without a command")
        for words in named {
            let text = try PlanetctlHelp.text(for: words).get()
            // `vm list`'s usage is `vm [list]`; every other starts with its own words.
            let usage = words == ["vm", "list"] ? "usage: planetctl vm [list]" : "usage: planetctl " + words.joined(separator: " ")
            XCTAssertTrue(text.hasPrefix(usage), "\(words): \(text.prefix(80))")
            XCTAssertFalse(text.contains("commands:\n"), "\(words) printed the overview")
        }
    }

    func testArgumentsAfterTheCommandPickTheCommandsHelp() throws {
        XCTAssertTrue(try PlanetctlHelp.text(for: ["vm", "attach", "web"]).get().hasPrefix("usage: planetctl vm attach NAME"))
        XCTAssertTrue(try PlanetctlHelp.text(for: ["nodes", "find", "BE"]).get().contains("--free-mru"))
        XCTAssertTrue(try PlanetctlHelp.text(for: ["peers", "remove", "udp://h:1"]).get().hasPrefix("usage: planetctl peers remove"))
        XCTAssertTrue(try PlanetctlHelp.text(for: ["self", "extra"]).get().hasPrefix("usage: planetctl self"))
        XCTAssertEqual(try PlanetctlHelp.text(for: []).get(), PlanetctlHelp.usage)
    }

    func testUnknownCommandsAreRefusedWithASuggestion() {
        let cases: [([String], String)] = [
            (["peer"], "unknown command 'peer' (did you mean 'peers'?)"),
            (["vms"], "unknown command 'vms' (did you mean 'vm'?)"),
            (["node"], "unknown command 'node' (did you mean 'nodes'?)"),
            (["sesions"], "did you mean 'sessions'?"),
            (["stat"], "did you mean 'stats'?"),
            (["frobnicate"], "unknown command 'frobnicate'; see planetctl --help"),
            (["peers", "rm", "udp://h:1"], "unknown peers command 'rm' (add, remove; see planetctl peers --help)"),
            (["vm", "atach", "web"], "unknown vm command 'atach' (did you mean 'attach'?)"),
            (["nodes", "fnd"], "unknown nodes command 'fnd' (did you mean 'find'?)"),
        ]
        for (words, message) in cases {
            for result in [PlanetctlCommand.parse(words), PlanetctlHelp.text(for: words).map { _ in PlanetctlCommand.stats }] {
                guard case .failure(let e) = result else { XCTFail("\(words) accepted"); continue }
                XCTAssertTrue(e.description.contains(message), "\(words): \(e.description)")
                XCTAssertFalse(e.description.contains("\n"))
            }
        }
    }
}
