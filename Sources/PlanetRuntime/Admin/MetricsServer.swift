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
    public var boundPort: UInt16 { TCPListener.boundPort(served.fd) }

    public func start() throws(StartupError) {
        guard !served.isServing else { return }
        let fd = try TCPListener.open(listenAddress, key: "metricsListen", purpose: "metrics")
        let provider = self.provider
        guard let newLoop = StreamServerLoop(
            listener: fd, limits: .init(maxClients: 16, idleTimeout: 10), threadName: "planet-metrics",
            refusal: HTTPRequestHead.response(status: "503 Service Unavailable", body: "too many connections\n"),
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
        let head: HTTPRequestHead
        switch HTTPRequestHead.read(c.input, maxBytes: maxRequestBytes) {
        case .incomplete: return
        case .tooLarge:
            c.input.removeAll()
            c.send(response(status: "431 Request Header Fields Too Large", body: "request too large\n"))
            c.closeWhenFlushed = true
            return
        case .malformed:
            c.input.removeAll()
            c.closeWhenFlushed = true
            c.send(response(status: "400 Bad Request", body: "bad request\n"))
            return
        case .head(let h): head = h
        }
        c.input.removeAll()
        c.closeWhenFlushed = true
        guard head.path == "/metrics" else {
            c.send(response(status: "404 Not Found", body: "metrics are at /metrics\n"))
            return
        }
        guard head.method == "GET" || head.method == "HEAD" else {
            c.send(response(status: "405 Method Not Allowed", body: "only GET\n", extra: "Allow: GET, HEAD\r\n"))
            return
        }
        guard let snapshot = provider() else {
            c.send(response(status: "503 Service Unavailable", body: "the node did not answer\n"))
            return
        }
        c.send(response(status: "200 OK", body: snapshot.prometheusText, contentType: "text/plain; version=0.0.4; charset=utf-8",
                        headOnly: head.method == "HEAD"))
    }

    static func response(status: String, body: String, contentType: String = "text/plain; charset=utf-8", extra: String = "", headOnly: Bool = false) -> String {
        HTTPRequestHead.response(status: status, body: body, contentType: contentType, extra: extra, headOnly: headOnly)
    }
}
