import Foundation
import PlanetCore
import PlanetAdmin
import PlanetRuntime

/// Answers every call with a fixed, schema-shaped reply and records what it was asked.
package final class FakeAdminHandler: AdminHandler, @unchecked Sendable {
    package init() {}

    private let lock = NSLock()
    private var _calls: [AdminRequest] = []
    package var calls: [AdminRequest] { lock.lock(); defer { lock.unlock() }; return _calls }

    package static let key = String(repeating: "ab", count: 32)
    package static let otherKey = String(repeating: "cd", count: 32)

    package static let replies: [String: JSONValue] = [
        "getSelf": .object([("publicKey", .string(key)), ("address", .string("200:1234::1")), ("subnet", .string("300:1234::/64")),
                            ("version", .string("0.1.0")), ("uptimeSeconds", .number(192))]),
        "getPeers": .object([("peers", .array([
            .object([("publicKey", .string(key)), ("address", .string("200:1234::1")), ("endpoint", .string("192.0.2.1:8470")),
                     ("uri", .string("udp://192.0.2.1:8470")), ("state", .string("up")), ("rttMs", .number(1.234)),
                     ("rxBytes", .number(1536)), ("txBytes", .number(10_485_760)), ("uptimeSeconds", .number(7500)), ("inbound", .bool(false)),
                     ("cipher", .string("aes-256-gcm"))]),
            .object([("publicKey", .null), ("address", .null), ("endpoint", .string("[2001:db8::1]:8470")),
                     ("uri", .string("udp://[2001:db8::1]:8470")), ("state", .string("backoff")), ("rttMs", .null),
                     ("rxBytes", .number(0)), ("txBytes", .number(0)), ("uptimeSeconds", .number(0)), ("inbound", .bool(false))]),
        ]))]),
        "getRoutes": .object([("routes", .array([
            .object([("prefix", .string("300:1234::/64")), ("address", .string("200:1234::1")), ("publicKey", .string(key)),
                     ("nextHop", .string(otherKey)), ("metric", .number(96)), ("seqno", .number(7))]),
        ]))]),
        "getSessions": .object([("sessions", .array([
            .object([("publicKey", .string(otherKey)), ("address", .string("200:cdcd::1")), ("rxBytes", .number(2048)),
                     ("txBytes", .number(512)), ("uptimeSeconds", .number(59))]),
        ]))]),
        "getStats": .object([("rxPackets", .number(1_234_567)), ("txPackets", .number(42)), ("rxBytes", .number(1_073_741_824)),
                             ("txBytes", .number(100)), ("drops", .object([("badMac", .number(3)), ("noRoute", .number(1))])),
                             ("peersUp", .number(1)), ("routes", .number(1)), ("sessions", .number(1)),
                             ("handshakesCompleted", .number(5)), ("handshakesFailed", .number(2)), ("capacityRecords", .number(0))]),
        "addPeer": .object([]),
        "removePeer": .object([]),
    ]

    /// The replies are JSON as documented (JSONValue is an `AdminResponse`), so a test of the
    /// socket or of planetctl's tables can also hand it fields a real reply type would not carry.
    package func handle(_ request: AdminRequest) -> Result<any AdminResponse, AdminError> {
        lock.lock()
        _calls.append(request)
        lock.unlock()
        if case .removePeer(let uri) = request, uri.description == "udp://192.0.2.9:1" { return .failure(AdminError("no such peer udp://192.0.2.9:1")) }
        return FakeAdminHandler.replies[request.call.rawValue].map { .success($0 as any AdminResponse) } ?? .failure(AdminError("fake has no reply for \(request.call.rawValue)"))
    }
}
