import PlanetCore
import PlanetAdmin
#if canImport(Glibc)
import Glibc
#endif

/// An opt-in HTTP listener (`metricsListen`) that serves `GET /metrics` in the Prometheus
/// text format. It answers one request per connection and closes it, runs on its own
/// thread, and treats anything that is not a small well-formed GET as a 4xx, never a crash.
public final class MetricsServer: @unchecked Sendable {
    /// Returns the current numbers, or nil when the node cannot say right now (answered 503).
    /// Called on the metrics thread; like an `AdminHandler` it must return in bounded time.
    public typealias Provider = @Sendable () -> MetricsSnapshot?

    /// A provider that asks an admin handler for `getStats`, so the metrics and
    /// `planetctl stats` come from the same place.
    public static func statsProvider(from handler: AdminHandler) -> Provider {
        { [handler] in
            guard case .success(let reply) = handler.handle(.getStats) else { return nil }
            // A StatsReply from the node; any other handler's reply is read as one.
            guard let stats = reply as? StatsReply ?? (try? JSONValueCoder.decode(StatsReply.self, from: JSONValueCoder.encode(reply))) else { return nil }
            return MetricsSnapshot(stats)
        }
    }

    public let listenAddress: String
    private let provider: Provider
    private let logger: Logger
    private var served = ServedListener()
    static let maxRequestBytes = 8192

    /// `listen` is `HOST:PORT` as in the config (`127.0.0.1:9464`, `[::1]:9464`).
    public init(listen: String, logger: Logger = .disabled, provider: @escaping Provider) {
        self.listenAddress = listen
        self.provider = provider
        self.logger = logger
    }

    deinit { stop() }

    /// The port actually bound (useful with port 0), or 0 when not started.
    public var boundPort: UInt16 {
        let listener = served.fd
        guard listener >= 0 else { return 0 }
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        guard r == 0 else { return 0 }
        return withUnsafePointer(to: &ss) { p in
            if p.pointee.ss_family == sa_family_t(AF_INET6) {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    public func start() throws(StartupError) {
        guard !served.isServing else { return }
        let uri: PeerURI
        switch PeerURI.parse("udp://" + listenAddress, allowKey: false) {
        case .success(let u): uri = u
        case .failure: throw StartupError("metricsListen '\(listenAddress)' is not HOST:PORT (IPv6 in brackets)")
        }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        let gai = getaddrinfo(uri.host, String(uri.port), &hints, &res)
        guard gai == 0, let ai = res else { throw StartupError("metricsListen '\(listenAddress)': cannot resolve \(uri.host): \(String(cString: gai_strerror(gai)))") }
        defer { freeaddrinfo(res) }
        let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StartupError("cannot create metrics socket: \(SocketSupport.errnoText())") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0, listen(fd, 16) == 0 else {
            let e = SocketSupport.errnoText()
            close(fd)
            throw StartupError("cannot listen for metrics on \(listenAddress): \(e)")
        }
        let provider = self.provider
        guard let newLoop = StreamServerLoop(
            listener: fd, limits: .init(maxClients: 16, idleTimeout: 10), threadName: "planet-metrics",
            refusal: MetricsServer.response(status: "503 Service Unavailable", body: "too many connections\n"),
            onInput: { c in MetricsServer.serve(c, provider: provider) }
        ) else {
            close(fd)
            throw StartupError("cannot start the metrics server thread")
        }
        served.start(fd: fd, loop: newLoop)
        logger.info("metrics listening", [("address", listenAddress)])
    }

    public func stop() {
        served.stop()
    }

    static func serve(_ c: StreamConnection, provider: Provider) {
        guard let end = headerEnd(c.input) else {
            if c.input.count > maxRequestBytes {
                c.input.removeAll()
                c.send(response(status: "431 Request Header Fields Too Large", body: "request too large\n"))
                c.closeWhenFlushed = true
            }
            return
        }
        // Bytes, not Characters: Swift treats "\r\n" as one Character, which "\n" never matches.
        var lineBytes = c.input[..<(c.input.firstIndex(of: 0x0a) ?? end)]
        if lineBytes.last == 0x0d { lineBytes = lineBytes.dropLast() }
        let requestLine = String(decoding: lineBytes, as: UTF8.self)
        c.input.removeAll()
        c.closeWhenFlushed = true
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[1].hasPrefix("/") else {
            c.send(response(status: "400 Bad Request", body: "bad request\n"))
            return
        }
        let method = parts[0]
        let path = parts[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/metrics" else {
            c.send(response(status: "404 Not Found", body: "metrics are at /metrics\n"))
            return
        }
        guard method == "GET" || method == "HEAD" else {
            c.send(response(status: "405 Method Not Allowed", body: "only GET\n", extra: "Allow: GET, HEAD\r\n"))
            return
        }
        guard let snapshot = provider() else {
            c.send(response(status: "503 Service Unavailable", body: "the node did not answer\n"))
            return
        }
        c.send(response(status: "200 OK", body: snapshot.prometheusText, contentType: "text/plain; version=0.0.4; charset=utf-8", headOnly: method == "HEAD"))
    }

    /// Index just past the blank line ending the request head; a bare `\n\n` is accepted too.
    static func headerEnd(_ b: [UInt8]) -> Int? {
        var i = 0
        while i + 1 < b.count {
            if b[i] == 0x0a {
                if b[i + 1] == 0x0a { return i + 2 }
                if b[i + 1] == 0x0d, i + 2 < b.count, b[i + 2] == 0x0a { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    static func response(status: String, body: String, contentType: String = "text/plain; charset=utf-8", extra: String = "", headOnly: Bool = false) -> String {
        "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\(extra)Connection: close\r\n\r\n" + (headOnly ? "" : body)
    }
}
