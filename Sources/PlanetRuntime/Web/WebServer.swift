import PlanetCore
import PlanetAdmin
#if canImport(Glibc)
import Glibc
#endif

/// The explorer page (`webListen`, Docs/operations.md "The explorer page"): a read-only HTTP
/// listener that serves the page's three files (`/`, `/app.js`, `/style.css`, compiled into
/// the binary: no external assets, no build step) and its JSON (`/api/...`, `WebAPI`). It runs
/// on its own thread with the metrics server's loop (`StreamServerLoop`): one request per
/// connection, a bounded head, an idle timeout, and anything that is not a small well-formed
/// GET answered with a 4xx, never a crash. Only GET and HEAD are served: nothing here can
/// change the node.
public final class WebServer: @unchecked Sendable {
    public let listenAddress: String
    private let handler: AdminHandler
    private let logger: Logger
    private var served = ServedListener()
    static let maxRequestBytes = 8192

    /// `listen` is `HOST:PORT` as in the config (`[::1]:8472`).
    public init(listen: String, handler: AdminHandler, logger: Logger = .disabled) {
        self.listenAddress = listen
        self.handler = handler
        self.logger = logger
    }

    deinit { stop() }

    /// The port actually bound (useful with port 0), or 0 when not started.
    public var boundPort: UInt16 { TCPListener.boundPort(served.fd) }

    public func start() throws(StartupError) {
        guard !served.isServing else { return }
        let fd: Int32
        do { fd = try TCPListener.open(listenAddress, key: "webListen", purpose: "the explorer page") } catch {
            // On by default, so this is how a second planetd on the host first hears of the key.
            throw StartupError(error.description + "; set webListen to another HOST:PORT, or \"\" to turn the page off")
        }
        let handler = self.handler
        guard let newLoop = StreamServerLoop(
            listener: fd, limits: .init(maxClients: 32, idleTimeout: 10), threadName: "planet-web",
            refusal: HTTPRequestHead.response(status: "503 Service Unavailable", body: "too many connections\n"),
            onInput: { c in WebServer.serve(c, handler: handler) }
        ) else {
            close(fd)
            throw StartupError("cannot start the explorer page's thread")
        }
        let loopback = TCPListener.isLoopback(fd)
        served.start(fd: fd, loop: newLoop)
        logger.info("explorer page listening", [("url", "http://\(listenAddress)/")])
        if !loopback {
            logger.warn("webListen is not a loopback address: the explorer page shows this node's peers, routes and directory to anyone who reaches it",
                        [("address", listenAddress)])
        }
    }

    public func stop() {
        served.stop()
    }

    /// The page's files: path → (content type, body).
    static let files: [String: (type: String, body: [UInt8])] = [
        "/": ("text/html; charset=utf-8", Array(ExplorerPage.html.utf8)),
        "/index.html": ("text/html; charset=utf-8", Array(ExplorerPage.html.utf8)),
        "/app.js": ("text/javascript; charset=utf-8", Array(ExplorerScript.js.utf8)),
        "/style.css": ("text/css; charset=utf-8", Array(ExplorerStyle.css.utf8)),
    ]

    /// Sent with every answer: nothing is cached (the numbers change), and the page may load
    /// only its own files and JSON, and may not be framed by another site.
    static let commonHeaders = "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
        + "X-Frame-Options: DENY\r\nContent-Security-Policy: default-src 'self'; img-src 'self' data:; frame-ancestors 'none'\r\n"

    static func serve(_ c: StreamConnection, handler: AdminHandler) {
        guard let response = respond(to: c.input, handler: handler) else { return }
        c.input.removeAll()
        c.closeWhenFlushed = true
        c.send(response)
    }

    /// The response to what a client has sent so far, or nil while its request head is not
    /// complete. Public for the `web` fuzz target, which feeds it arbitrary bytes.
    public static func respond(to input: [UInt8], handler: AdminHandler) -> [UInt8]? {
        let head: HTTPRequestHead
        switch HTTPRequestHead.read(input, maxBytes: maxRequestBytes) {
        case .incomplete: return nil
        case .tooLarge: head = HTTPRequestHead(method: "", path: "", query: "", headers: [:])
        case .malformed: head = HTTPRequestHead(method: "", path: "?", query: "", headers: [:])
        case .head(let h): head = h
        }
        return answer(head, handler: handler)
    }

    /// The whole response to one request head (`path` "" for a head over the limit, "?" for a
    /// malformed one).
    static func answer(_ head: HTTPRequestHead, handler: AdminHandler) -> [UInt8] {
        func reply(_ status: String, _ body: [UInt8], type: String = "text/plain; charset=utf-8", extra: String = "") -> [UInt8] {
            HTTPRequestHead.response(status: status, body: body, contentType: type, extra: commonHeaders + extra, headOnly: head.method == "HEAD")
        }
        func reply(_ status: String, _ text: String, extra: String = "") -> [UInt8] { reply(status, Array(text.utf8), extra: extra) }
        if head.path.isEmpty { return reply("431 Request Header Fields Too Large", "request too large\n") }
        if head.path == "?" { return reply("400 Bad Request", "bad request\n") }
        guard head.method == "GET" || head.method == "HEAD" else {
            return reply("405 Method Not Allowed", "the explorer page is read-only: only GET\n", extra: "Allow: GET, HEAD\r\n")
        }
        guard hostIsAllowed(head.headers["host"]) else {
            return reply("403 Forbidden", "the explorer page answers only to an IP address or localhost in Host\n")
        }
        if let file = files[head.path] { return reply("200 OK", file.body, type: file.type) }
        if let api = WebAPI.answer(path: head.path, query: head.query, handler: handler) {
            return reply(api.status, api.body, type: "application/json")
        }
        return reply("404 Not Found", "no such page: \(head.path)\n")
    }

    /// A web page elsewhere could point a name it controls at this address (DNS rebinding) and
    /// read the JSON from the visitor's browser; such a request carries that name in `Host`.
    /// So only an IP literal or `localhost` is served (what a browser sends for the default
    /// address and over an SSH tunnel); no `Host` at all (HTTP/1.0, scripts) is fine.
    static func hostIsAllowed(_ host: String?) -> Bool {
        guard let host, !host.isEmpty else { return true }
        var name = Substring(host)
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            return IPv6Address(String(name[name.index(after: name.startIndex)..<close])) != nil
        }
        if let colon = name.lastIndex(of: ":") { name = name[..<colon] }
        if name.lowercased() == "localhost" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isNumber) && (Int(p) ?? 256) <= 255 }
    }
}
