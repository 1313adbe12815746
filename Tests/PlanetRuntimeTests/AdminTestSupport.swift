import Foundation
import PlanetCore
import PlanetAdmin
@testable import PlanetRuntime
#if canImport(Glibc)
import Glibc
#endif

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

/// Calls by their wire names, as a script would send them, answered as the JSON the socket
/// would carry: the line goes through the real decoder (`AdminRequest.decode`) and the reply
/// through the real encoder, so these tests also cover what the socket accepts and sends.
extension AdminHandler {
    func handle(request: String, arguments: JSONValue) -> Result<JSONValue, AdminError> {
        let line = JSONValue.object([("request", .string(request))] + (arguments.objectValue ?? [])).serialized()
        return AdminRequest.decode(line).flatMap { handle($0) }.flatMap { reply in
            Result { try JSONValueCoder.encode(reply) }.mapError { AdminError("cannot write the reply: \($0)") }
        }
    }
}

extension AdminClient {
    func call(_ name: String, arguments: [(String, JSONValue)] = []) throws(AdminClientError) -> JSONValue {
        try call(rawLine: JSONValue.object([("request", .string(name))] + arguments).serialized() + "\n")
    }
}
