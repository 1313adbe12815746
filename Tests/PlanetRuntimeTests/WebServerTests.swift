import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetRuntime
import PlanetTesting
#if canImport(Glibc)
import Glibc
#endif

/// Answers with the node's typed replies (not JSON), as NodeAdminHandler does, and records
/// what it was asked.
final class TypedAdminHandler: AdminHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [AdminRequest] = []
    var calls: [AdminRequest] { lock.lock(); defer { lock.unlock() }; return _calls }

    static let key = String(repeating: "ab", count: 32)
    static let record = NodeRecordReply(
        publicKey: key, address: "200:1234::1", metric: 96, distanceKm: nil, ageSeconds: 12, expiresInSeconds: 3000, seqno: 3,
        country: "BE", city: "Ghent", latitude: 51.05, longitude: 3.72, farmId: 7, farmName: "farm-7",
        total: .init(cru: 8, mru: 16 << 30, sru: 1 << 40, hru: 0), used: .init(cru: 1, mru: 2 << 30, sru: 0, hru: 0),
        free: .init(cru: 7, mru: 14 << 30, sru: 1 << 40, hru: 0), gpus: [.init(vendor: "nvidia", vendorId: 0x10de, deviceId: 0x2204, name: "")],
        publicIPv4: true, publicIPv6: false, tags: ["alpha"], version: "0.1.0", uptimeSeconds: 99)

    func handle(_ request: AdminRequest) -> Result<any AdminResponse, AdminError> {
        lock.lock()
        _calls.append(request)
        lock.unlock()
        switch request {
        case .getSelf:
            return .success(SelfReply(publicKey: Self.key, address: "200:1234::1", subnet: "300:1234::/64", version: "0.1.0", uptimeSeconds: 5,
                                      publicEndpoints: ["192.0.2.1:8470"], natMapping: "endpoint-independent", localEndpoints: [], punching: true))
        case .getPeers:
            return .success(PeersReply(peers: [
                .init(publicKey: Self.key, address: "200:1234::1", endpoint: "[fd7a:1:1::2]:8470", uri: "udp://[fd7a:1:1::2]:8470", state: "up",
                      rttMs: 0.5, rxBytes: 100, txBytes: 200, uptimeSeconds: 60, inbound: false, cipher: "aegis-256", punched: true),
                .init(publicKey: nil, address: nil, endpoint: nil, uri: "udp://example.org:8470", state: "backoff", rttMs: nil,
                      rxBytes: 0, txBytes: 0, uptimeSeconds: 0, inbound: false, cipher: nil, punched: nil),
            ]))
        case .getSessions:
            return .success(SessionsReply(sessions: [.init(publicKey: Self.key, address: "200:1234::1", rxBytes: 1, txBytes: 2, uptimeSeconds: 3,
                                                           cipher: "aes-256-gcm", path: "relayed", nextHop: Self.key)]))
        case .getRoutes:
            return .success(RoutesReply(routes: [.init(prefix: "300:1234::/64", address: "200:1234::1", publicKey: Self.key, nextHop: nil,
                                                       metric: 96, seqno: 7)]))
        case .vmList:
            return .success(VMListReply(vms: [VMReply(name: "web", address: "300:1234::10", interface: "tapweb", kind: "tap", netns: nil,
                                                      mac: "02:00:00:00:00:01", gateway: "fe80::1", policy: ["tcp/80"], state: "up")]))
        case .findNodes(let filters):
            if filters.contains(where: { $0.filter == .freeMru && $0.value == "lots" }) {
                return .failure(.argument("freeMru", "'lots' is not a size"))
            }
            return .success(NodesReply(nodes: [Self.record], held: 4))
        default:
            return .failure(AdminError("not asked of the web page: \(request.call.rawValue)"))
        }
    }
}

final class WebServerTests: XCTestCase {
    var dir = ""
    let handler = TypedAdminHandler()
    var web: WebServer?
    var admin: AdminServer?

    override func setUp() { dir = TempDir.make() }

    override func tearDown() {
        web?.stop()
        admin?.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func startWeb(_ handler: AdminHandler? = nil) throws -> WebServer {
        let server = WebServer(listen: "127.0.0.1:0", handler: handler ?? self.handler)
        try server.start()
        XCTAssertNotEqual(server.boundPort, 0)
        web = server
        return server
    }

    /// The whole answer to `text`, split into status line, headers and body.
    func request(_ server: WebServer, _ text: String) throws -> (status: String, headers: [String: String], body: String) {
        let s = try XCTUnwrap(RawSocket(tcpPort: server.boundPort))
        s.write(text)
        let reply = s.readToEnd()
        let parts = reply.components(separatedBy: "\r\n\r\n")
        let head = parts[0].components(separatedBy: "\r\n")
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            let kv = line.split(separator: ":", maxSplits: 1)
            if kv.count == 2 { headers[kv[0].lowercased()] = kv[1].trimmingCharacters(in: .whitespaces) }
        }
        return (head[0], headers, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    func get(_ server: WebServer, _ path: String, host: String = "127.0.0.1:8472") throws -> (status: String, headers: [String: String], body: String) {
        try request(server, "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nAccept: */*\r\n\r\n")
    }

    func testServesThePageAndItsFiles() throws {
        let server = try startWeb()
        let page = try get(server, "/")
        XCTAssertEqual(page.status, "HTTP/1.1 200 OK")
        XCTAssertEqual(page.headers["content-type"], "text/html; charset=utf-8")
        XCTAssertEqual(page.headers["content-length"], String(page.body.utf8.count))
        XCTAssertTrue(page.body.contains(#"<script src="/app.js" defer></script>"#))
        XCTAssertTrue(page.body.contains(#"<link rel="stylesheet" href="/style.css">"#))
        XCTAssertEqual(page.headers["cache-control"], "no-store")
        XCTAssertTrue(page.headers["content-security-policy"]?.contains("default-src 'self'") ?? false)
        // Nothing from elsewhere: every src and href is the server's own.
        for file in [ExplorerPage.html, ExplorerScript.js, ExplorerStyle.css] {
            XCTAssertFalse(file.contains("http://") && !file.contains("http://www.w3.org/2000/svg"), "an external reference")
            XCTAssertFalse(file.contains("https://"), "an external reference")
            XCTAssertFalse(file.contains("@import"))
        }
        let js = try get(server, "/app.js")
        XCTAssertEqual(js.status, "HTTP/1.1 200 OK")
        XCTAssertEqual(js.headers["content-type"], "text/javascript; charset=utf-8")
        XCTAssertEqual(js.body, ExplorerScript.js)
        let css = try get(server, "/style.css")
        XCTAssertEqual(css.headers["content-type"], "text/css; charset=utf-8")
        XCTAssertEqual(css.body, ExplorerStyle.css)
        XCTAssertTrue(handler.calls.isEmpty, "the files ask the node nothing")
    }

    /// Each endpoint's JSON is the `response` the admin socket sends for the same call, byte for
    /// byte: the same handler, the same typed reply, the same coder.
    func testAPIAnswersAreTheAdminReplies() throws {
        let server = try startWeb()
        let socket = dir + "/admin.sock"
        let adminServer = AdminServer(options: .init(socketPath: socket), handler: handler)
        try adminServer.start()
        admin = adminServer
        let client = AdminClient(socketPath: socket)
        let endpoints: [(String, AdminRequest)] = [("/api/self", .getSelf), ("/api/peers", .getPeers), ("/api/sessions", .getSessions),
                                                   ("/api/routes", .getRoutes), ("/api/vms", .vmList),
                                                   ("/api/nodes?country=BE", .findNodes([.init(.country, "BE")]))]
        for (path, request) in endpoints {
            let web = try get(server, path)
            XCTAssertEqual(web.status, "HTTP/1.1 200 OK", path)
            XCTAssertEqual(web.headers["content-type"], "application/json", path)
            let viaSocket = try client.call(rawLine: request.line)
            XCTAssertEqual(try JSONValue.parse(web.body), viaSocket, path)
            XCTAssertEqual(web.body, viaSocket.serialized(), path)
        }
        // And it reads back as the typed reply planetctl reads.
        let nodes = try JSONValueCoder.decode(NodesReply.self, from: JSONValue.parse(try get(server, "/api/nodes").body))
        XCTAssertEqual(nodes, NodesReply(nodes: [TypedAdminHandler.record], held: 4))
    }

    func testNodeFiltersByPlanetctlsNames() throws {
        let server = try startWeb()
        XCTAssertEqual(try get(server, "/api/nodes?country=be&free-mru=8G&ipv4&gpu=&city=Sint+Niklaas&tag=a%26b&farm=").status, "HTTP/1.1 200 OK")
        XCTAssertEqual(handler.calls.last, .findNodes([.init(.country, "be"), .init(.freeMru, "8G"), .init(.ipv4, "true"), .init(.gpu, ""),
                                                       .init(.city, "Sint Niklaas"), .init(.tag, "a&b")]),
                       "a flag needs no value, gpu may be empty, a blank filter is left out")
        // A name that is no filter is refused naming it, before the node is asked.
        let before = handler.calls.count
        let unknown = try get(server, "/api/nodes?freeMru=8G")
        XCTAssertEqual(unknown.status, "HTTP/1.1 400 Bad Request")
        XCTAssertEqual(try JSONValue.parse(unknown.body)["error"]?["argument"], .string("freeMru"))
        XCTAssertEqual(handler.calls.count, before)
        // A value the node refuses comes back as planetctl --json prints it.
        let refused = try get(server, "/api/nodes?free-mru=lots")
        XCTAssertEqual(refused.status, "HTTP/1.1 400 Bad Request")
        XCTAssertEqual(try JSONValue.parse(refused.body), .object([("error", .object([
            ("kind", .string("argument")), ("argument", .string("freeMru")), ("message", .string("freeMru: 'lots' is not a size"))]))]))
    }

    func testFiltersAreNodeFilter() throws {
        let server = try startWeb()
        let doc = try JSONValue.parse(try get(server, "/api/filters").body)
        let filters = try XCTUnwrap(doc["filters"]?.arrayValue)
        XCTAssertEqual(filters.map { $0["name"]?.stringValue }, NodeFilter.allCases.map(\.option))
        XCTAssertEqual(filters.map { $0["argument"]?.stringValue }, NodeFilter.allCases.map(\.argument))
        XCTAssertEqual(filters.first { $0["name"] == .string("ipv4") }?["takes"], .string("flag"))
        XCTAssertEqual(filters.first { $0["name"] == .string("gpu") }?["takes"], .string("optional"))
        XCTAssertEqual(filters.first { $0["name"] == .string("sort") }?["choices"]?.arrayValue?.contains(.string("free-mru")), true)
    }

    func testOnlyReadingAndOnlyWhatExists() throws {
        let server = try startWeb()
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            for path in ["/", "/api/peers", "/nowhere"] {
                let r = try request(server, "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}")
                XCTAssertEqual(r.status, "HTTP/1.1 405 Method Not Allowed", "\(method) \(path)")
                XCTAssertEqual(r.headers["allow"], "GET, HEAD")
            }
        }
        XCTAssertTrue(handler.calls.isEmpty, "a refused method asks the node nothing")
        XCTAssertEqual(try get(server, "/nowhere").status, "HTTP/1.1 404 Not Found")
        XCTAssertEqual(try get(server, "/api/stats").status, "HTTP/1.1 404 Not Found")
        XCTAssertEqual(try get(server, "/api/peers/extra").status, "HTTP/1.1 404 Not Found")
        XCTAssertEqual(try get(server, "/app.js/").status, "HTTP/1.1 404 Not Found")
        XCTAssertEqual(try request(server, "garbage\r\n\r\n").status, "HTTP/1.1 400 Bad Request")
        XCTAssertEqual(try request(server, "GET / HTTP/1.1\r\nno colon here\r\n\r\n").status, "HTTP/1.1 400 Bad Request")
        XCTAssertEqual(try request(server, "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 20000)).status,
                       "HTTP/1.1 431 Request Header Fields Too Large")
        let head = try request(server, "HEAD / HTTP/1.1\r\nHost: [::1]:8472\r\n\r\n")
        XCTAssertEqual(head.status, "HTTP/1.1 200 OK")
        XCTAssertEqual(head.body, "")
        XCTAssertEqual(head.headers["content-length"], String(ExplorerPage.html.utf8.count))
        // Still serving after all that.
        XCTAssertEqual(try get(server, "/api/self").status, "HTTP/1.1 200 OK")
    }

    /// A name in Host is another site's page reaching us through DNS rebinding: refused.
    func testOnlyAddressesAndLocalhostInHost() throws {
        let server = try startWeb()
        for host in ["localhost:8472", "LOCALHOST", "127.0.0.1:8472", "[::1]:8472", "[::1]", "192.0.2.7"] {
            XCTAssertEqual(try get(server, "/api/self", host: host).status, "HTTP/1.1 200 OK", host)
        }
        let calls = handler.calls.count
        for host in ["evil.example", "evil.example:8472", "127.0.0.1.evil.example", "[::1", "[nonsense]:1", "1.2.3.4.5", "256.1.1.1"] {
            XCTAssertEqual(try get(server, "/api/self", host: host).status, "HTTP/1.1 403 Forbidden", host)
        }
        XCTAssertEqual(handler.calls.count, calls)
        XCTAssertEqual(try request(server, "GET /api/self HTTP/1.0\r\n\r\n").status, "HTTP/1.1 200 OK", "no Host at all")
    }

    func testANodeThatCannotAnswerIs503() throws {
        let server = try startWeb(FakeAdminHandler())
        let r = try get(server, "/api/vms")
        XCTAssertEqual(r.status, "HTTP/1.1 503 Service Unavailable")
        XCTAssertEqual(try JSONValue.parse(r.body)["error"]?["kind"], .string("node"))
    }

    func testQueryDecoding() {
        XCTAssertEqual(WebAPI.queryPairs("a=1&b=x%20y+z&c&=skip&d=%zz&e=%C3%A9").map { "\($0.0)=\($0.1)" },
                       ["a=1", "b=x y z", "c=", "d=%zz", "e=é"])
        XCTAssertTrue(WebAPI.queryPairs("").isEmpty)
    }

    func testBadListenAddress() {
        XCTAssertThrowsError(try WebServer(listen: "nonsense", handler: handler).start())
        XCTAssertThrowsError(try WebServer(listen: "192.0.2.1:8472", handler: handler).start(), "an address not on this host")
    }
}
