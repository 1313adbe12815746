import Foundation
import PlanetCore
import PlanetAdmin
import PlanetRuntime

/// Answers every call with a fixed reply of the call's own type (PlanetAdmin's, so a renamed
/// field is renamed here too) and records what it was asked. The replies read as an older
/// daemon's would: no NAT fields in getSelf, no path in getSessions.
package final class FakeAdminHandler: AdminHandler, @unchecked Sendable {
    package init() {}

    private let lock = NSLock()
    private var _calls: [AdminRequest] = []
    package var calls: [AdminRequest] { lock.lock(); defer { lock.unlock() }; return _calls }

    package static let key = String(repeating: "ab", count: 32)
    package static let otherKey = String(repeating: "cd", count: 32)

    package static let typedReplies: [AdminCall: any AdminResponse] = [
        .getSelf: SelfReply(publicKey: key, address: "200:1234::1", subnet: "300:1234::/64", version: "0.1.0", uptimeSeconds: 192,
                            publicEndpoints: nil, natMapping: nil, localEndpoints: nil, punching: nil),
        .getPeers: PeersReply(peers: [
            .init(publicKey: key, address: "200:1234::1", endpoint: "192.0.2.1:8470", uri: "udp://192.0.2.1:8470", state: "up", rttMs: 1.234,
                  rxBytes: 1536, txBytes: 10_485_760, uptimeSeconds: 7500, inbound: false, cipher: "aes-256-gcm", punched: false),
            .init(publicKey: nil, address: nil, endpoint: "[2001:db8::1]:8470", uri: "udp://[2001:db8::1]:8470", state: "backoff", rttMs: nil,
                  rxBytes: 0, txBytes: 0, uptimeSeconds: 0, inbound: false, cipher: nil, punched: false),
        ]),
        .getRoutes: RoutesReply(routes: [
            .init(prefix: "300:1234::/64", address: "200:1234::1", publicKey: key, nextHop: otherKey, metric: 96, seqno: 7),
        ]),
        .getSessions: SessionsReply(sessions: [
            .init(publicKey: otherKey, address: "200:cdcd::1", rxBytes: 2048, txBytes: 512, uptimeSeconds: 59, cipher: nil, path: nil, nextHop: nil),
        ]),
        .getStats: StatsReply(rxPackets: 1_234_567, txPackets: 42, rxBytes: 1_073_741_824, txBytes: 100,
                              drops: Counters([("badMac", 3), ("noRoute", 1)]), peersUp: 1, routes: 1, sessions: 1,
                              handshakesCompleted: 5, handshakesFailed: 2, capacityRecords: 0),
        .addPeer: EmptyReply(),
        .removePeer: EmptyReply(),
    ]

    /// The same replies as the socket carries them, by call name.
    package static let replies: [String: JSONValue] = Dictionary(uniqueKeysWithValues: typedReplies.map { call, reply in
        (call.rawValue, (try? JSONValueCoder.encode(reply)) ?? .null)
    })

    package func handle(_ request: AdminRequest) -> Result<any AdminResponse, AdminError> {
        lock.lock()
        _calls.append(request)
        lock.unlock()
        if case .removePeer(let uri) = request, uri.description == "udp://192.0.2.9:1" { return .failure(AdminError("no such peer udp://192.0.2.9:1")) }
        return FakeAdminHandler.typedReplies[request.call].map { .success($0) } ?? .failure(AdminError("fake has no reply for \(request.call.rawValue)"))
    }
}
