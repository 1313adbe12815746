import Foundation
import PlanetCore
@testable import PlanetRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Answers every call with a fixed, schema-shaped reply and records what it was asked.
final class FakeAdminHandler: AdminHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [(String, JSONValue)] = []
    var calls: [(String, JSONValue)] { lock.lock(); defer { lock.unlock() }; return _calls }

    static let key = String(repeating: "ab", count: 32)
    static let otherKey = String(repeating: "cd", count: 32)

    static let replies: [String: JSONValue] = [
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
                             ("handshakesCompleted", .number(5)), ("handshakesFailed", .number(2))]),
        "addPeer": .object([]),
        "removePeer": .object([]),
    ]

    func handle(request: String, arguments: JSONValue) -> Result<JSONValue, AdminError> {
        lock.lock()
        _calls.append((request, arguments))
        lock.unlock()
        if request == "removePeer", arguments["uri"]?.stringValue == "udp://192.0.2.9:1" { return .failure(AdminError("no such peer udp://192.0.2.9:1")) }
        return FakeAdminHandler.replies[request].map { .success($0) } ?? .failure(AdminError("fake has no reply for \(request)"))
    }
}

/// A bare stream socket for talking to the servers byte by byte.
final class RawSocket: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []

    init?(unixPath: String) {
        guard let addr = SocketSupport.unixAddress(unixPath) else { return nil }
        let s = SocketSupport.unixStreamSocket()
        guard s >= 0, SocketSupport.connect(s, unix: addr) == 0 else { if s >= 0 { close(s) }; return nil }
        fd = s
        setTimeout()
    }

    init?(tcpPort: UInt16) {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = tcpPort.bigEndian
        sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let r = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard s >= 0, r == 0 else { if s >= 0 { close(s) }; return nil }
        fd = s
        setTimeout()
    }

    /// Generous, so a broken server fails the test instead of hanging it.
    private func setTimeout() {
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    @discardableResult
    func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// The next line, or nil at end of stream (or timeout).
    func readLine() -> String? {
        while true {
            if let nl = buffer.firstIndex(of: 0x0a) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            guard let more = readChunk() else { return nil }
            buffer += more
        }
    }

    /// Everything until the peer closes.
    func readToEnd() -> String {
        while let more = readChunk() { buffer += more }
        defer { buffer.removeAll() }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// True when the peer closed the connection (as opposed to the read timing out).
    func readsEndOfStream() -> Bool {
        var b = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &b, b.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    private func readChunk() -> [UInt8]? {
        var b = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &b, b.count, 0)
        return n > 0 ? Array(b[..<n]) : nil
    }
}

enum TempDir {
    static func make() -> String {
        let path = NSTemporaryDirectory() + "planet-admin-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
