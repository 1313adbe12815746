import Foundation
import XCTest
@testable import PlanetCore

/// Compares our derivation with the real yggdrasil binary on fresh keys, where it is installed
/// (./Tools/test installs the Debian package, so CI always runs this).
final class YggdrasilBinaryTests: XCTestCase {
    func yggdrasilPath() -> String? {
        ["/usr/sbin/yggdrasil", "/usr/bin/yggdrasil", "/usr/local/bin/yggdrasil"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func run(_ path: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testFreshKeysAgainstRealYggdrasil() throws {
        guard let ygg = yggdrasilPath() else { throw XCTSkip("yggdrasil is not installed") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("planet-ygg-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Include keys with long leading-zero runs: grind a few by trying seeds.
        var identities = (0..<12).map { _ in NodeIdentity.generate() }
        var tries = 0
        while identities.filter({ $0.publicKey.bytes[0] == 0 }).count < 2 && tries < 20000 {
            let id = NodeIdentity.generate()
            if id.publicKey.bytes[0] == 0 { identities.append(id) }
            tries += 1
        }
        for (i, id) in identities.enumerated() {
            let conf = dir.appendingPathComponent("ygg\(i).json")
            try "{\"PrivateKey\": \"\(id.privateKeyHex)\"}".write(to: conf, atomically: true, encoding: .utf8)
            XCTAssertEqual(try run(ygg, ["-useconffile", conf.path, "-address"]), id.address.description)
            XCTAssertEqual(try run(ygg, ["-useconffile", conf.path, "-subnet"]), id.subnet.description)
        }
    }

    func testGeneratedYggdrasilConfigKeepsItsKey() throws {
        guard let ygg = yggdrasilPath() else { throw XCTSkip("yggdrasil is not installed") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("planet-ygg-hjson-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for json in [false, true] {
            let text = try run(ygg, json ? ["-genconf", "-json"] : ["-genconf"])
            let conf = dir.appendingPathComponent(json ? "y.json" : "y.hjson")
            try text.write(to: conf, atomically: true, encoding: .utf8)
            let id = try YggdrasilConfig.privateKey(fromConfigText: text)
            XCTAssertEqual(try run(ygg, ["-useconffile", conf.path, "-address"]), id.address.description)
        }
    }
}
