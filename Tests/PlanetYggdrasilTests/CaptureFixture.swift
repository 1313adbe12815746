import Foundation
import XCTest
import PlanetCore

/// The bytes two real yggdrasil 0.5.12 nodes exchanged (Tools/capture-yggdrasil), with the keys,
/// priorities and passwords of the capture (Fixtures/yggdrasil-0.5.12/capture.json).
struct CaptureFixture {
    enum Run: String, CaseIterable { case plain, password, traffic }
    enum Side: String, CaseIterable { case listener, dialer }

    let run: Run
    let password: [UInt8]
    let listener: NodeIdentity
    let dialer: NodeIdentity
    let listenerPriority: UInt8
    let dialerPriority: UInt8
    let listenerStream: [UInt8]
    let dialerStream: [UInt8]

    func identity(_ side: Side) -> NodeIdentity { side == .listener ? listener : dialer }
    func peer(of side: Side) -> NodeIdentity { side == .listener ? dialer : listener }
    func priority(_ side: Side) -> UInt8 { side == .listener ? listenerPriority : dialerPriority }
    func stream(_ side: Side) -> [UInt8] { side == .listener ? listenerStream : dialerStream }

    static func load(_ run: Run) throws -> CaptureFixture {
        func data(_ name: String, _ ext: String, _ dir: String) throws -> Data {
            let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: ext,
                                                      subdirectory: "Fixtures/yggdrasil-0.5.12" + dir),
                                    "fixture \(dir)/\(name).\(ext) missing")
            return try Data(contentsOf: url)
        }
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data("capture", "json", "")) as? [String: Any])
        func key(_ side: String) throws -> NodeIdentity {
            let entry = try XCTUnwrap(json[side] as? [String: Any])
            return try NodeIdentity(hex: try XCTUnwrap(entry["private_key"] as? String))
        }
        let runs = try XCTUnwrap(json["runs"] as? [String: Any])
        let info = try XCTUnwrap(runs[run.rawValue] as? [String: Any])
        return CaptureFixture(
            run: run,
            password: Array(try XCTUnwrap(info["password"] as? String).utf8),
            listener: try key("listener"), dialer: try key("dialer"),
            listenerPriority: UInt8(try XCTUnwrap(info["listener_priority"] as? Int)),
            dialerPriority: UInt8(try XCTUnwrap(info["dialer_priority"] as? Int)),
            listenerStream: Array(try data("listener", "bin", "/" + run.rawValue)),
            dialerStream: Array(try data("dialer", "bin", "/" + run.rawValue)))
    }

    static func all() throws -> [CaptureFixture] { try Run.allCases.map(load) }
}

/// A deterministic byte source for the robustness loops (a test that fails must fail again).
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
