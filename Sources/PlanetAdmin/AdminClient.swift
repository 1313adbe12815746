import PlanetCore
#if canImport(Glibc)
import Glibc
#endif

/// Why an admin call failed, worded for the one line planetctl prints.
public enum AdminClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing at the socket path, or a socket nobody listens on.
    case notRunning(path: String, reason: String)
    case permissionDenied(path: String)
    case connectFailed(path: String, reason: String)
    /// The connection broke or timed out mid-call.
    case transport(String)
    /// The daemon answered with `"status": "error"`.
    case daemon(AdminError)
    case badResponse(String)

    public var description: String {
        switch self {
        case let .notRunning(path, reason): return "cannot connect to \(path): \(reason) — is planetd running?"
        case let .permissionDenied(path):
            return "cannot connect to \(path): permission denied — run as root or as a member of the config's adminGroup"
        case let .connectFailed(path, reason): return "cannot connect to \(path): \(reason)"
        case let .transport(m): return m
        case let .daemon(e): return "planetd: \(e.message)"
        case let .badResponse(m): return m
        }
    }
}

/// A connection to the admin socket. Calls are synchronous and may be repeated on one
/// connection; the first call connects.
public final class AdminClient {
    public let socketPath: String
    /// Seconds a call may wait for the daemon before giving up.
    public let timeout: Double
    /// A reply longer than this is refused rather than buffered without end.
    public var maxResponseBytes = 256 << 20
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    public init(socketPath: String, timeout: Double = 15) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    deinit { close() }

    /// `$PLANETCTL_SOCKET` if set, else the config default.
    public static func defaultSocketPath(environment: [String: String]) -> String {
        if let s = environment["PLANETCTL_SOCKET"], !s.isEmpty { return s }
        return NodeConfig().adminSocket
    }

    public func connect() throws(AdminClientError) {
        if fd >= 0 { return }
        guard let addr = UnixSocket.address(socketPath) else {
            throw .connectFailed(path: socketPath, reason: "the path is empty or longer than 107 bytes")
        }
        let s = UnixSocket.stream()
        guard s >= 0 else { throw .connectFailed(path: socketPath, reason: UnixSocket.errnoText()) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if UnixSocket.connect(s, addr) != 0 {
            let e = errno
            Glibc.close(s)
            switch e {
            case ENOENT: throw .notRunning(path: socketPath, reason: "no such file")
            case ECONNREFUSED: throw .notRunning(path: socketPath, reason: "connection refused")
            case EACCES, EPERM: throw .permissionDenied(path: socketPath)
            default: throw .connectFailed(path: socketPath, reason: UnixSocket.errnoText(e))
            }
        }
        fd = s
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        buffer.removeAll()
    }

    /// Sends one request and returns the `"response"` object.
    public func call(_ request: AdminRequest) throws(AdminClientError) -> JSONValue {
        try call(rawLine: request.line)
    }

    /// Sends one request and reads the reply as its type (`PeersReply` for `getPeers`…); a
    /// reply that does not read is `badResponse`, naming the field.
    public func call<R: AdminResponse>(_ request: AdminRequest, as type: R.Type) throws(AdminClientError) -> R {
        let response = try call(request)
        do { return try JSONValueCoder.decode(type, from: response) } catch {
            throw .badResponse("planetd's reply to \(request.call.rawValue) does not read: \(error.description)")
        }
    }

    /// Sends `rawLine` as is (it should end in a newline) and reads one reply line.
    public func call(rawLine: String) throws(AdminClientError) -> JSONValue {
        let reply = try exchange(rawLine)
        switch AdminReply.parse(reply) {
        case .success(let v): return v
        case .failure(let e): throw e
        }
    }

    /// Sends bytes and returns the next reply line, without interpreting it.
    public func exchange(_ rawLine: String) throws(AdminClientError) -> String {
        try connect()
        let bytes = Array(rawLine.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno
                close()
                throw .transport(e == EAGAIN ? "the daemon did not accept the request within \(Int(timeout)) s" : "lost the connection to planetd: \(UnixSocket.errnoText(e))")
            }
            sent += n
        }
        return try readLine()
    }

    private func readLine() throws(AdminClientError) -> String {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let nl = buffer.firstIndex(of: 0x0a) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            guard buffer.count <= maxResponseBytes else {
                close()
                throw .badResponse("the daemon's reply is longer than \(maxResponseBytes) bytes")
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n > 0 { buffer.append(contentsOf: chunk[..<n]); continue }
            let e = errno
            close()
            if n == 0 { throw .transport("planetd closed the connection without answering") }
            if e == EAGAIN || e == EWOULDBLOCK { throw .transport("planetd did not answer within \(Int(timeout)) s") }
            throw .transport("lost the connection to planetd: \(UnixSocket.errnoText(e))")
        }
    }
}
