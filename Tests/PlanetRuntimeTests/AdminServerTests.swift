import XCTest
import PlanetCore
import PlanetAdmin
@testable import PlanetRuntime
import PlanetTesting
#if canImport(Glibc)
import Glibc
#endif

final class AdminServerTests: XCTestCase {
    var dir = ""
    var socketPath: String { dir + "/admin.sock" }
    let handler = FakeAdminHandler()
    var server: AdminServer?

    override func setUp() {
        dir = TempDir.make()
    }

    override func tearDown() {
        server?.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    @discardableResult
    func startServer(_ configure: (inout AdminServer.Options) -> Void = { _ in }) throws -> AdminServer {
        var options = AdminServer.Options(socketPath: socketPath)
        configure(&options)
        let s = AdminServer(options: options, handler: handler)
        try s.start()
        server = s
        return s
    }

    func testEveryCallThroughTheClient() throws {
        try startServer()
        let client = AdminClient(socketPath: socketPath)
        for name in ["getSelf", "getPeers", "getRoutes", "getSessions", "getStats"] {
            XCTAssertEqual(try client.call(name), FakeAdminHandler.replies[name], name)
        }
        XCTAssertEqual(try client.call("addPeer", arguments: [("uri", .string("udp://192.0.2.1:8470"))]), .object([]))
        XCTAssertEqual(try client.call("removePeer", arguments: [("uri", .string("udp://192.0.2.1:8470"))]), .object([]))
        // Read as the shared reply types, as planetctl reads them.
        let routes = try client.call(.getRoutes, as: RoutesReply.self)
        XCTAssertEqual(routes.routes.first?.metric, 96)
        XCTAssertEqual(try client.call(.getPeers, as: PeersReply.self).peers.map(\.state), ["up", "backoff"])
        XCTAssertThrowsError(try client.call(.getRoutes, as: PeersReply.self)) { e in
            guard case .badResponse(let m)? = e as? AdminClientError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("peers: missing"), m)
        }
        let list = try client.call("list")
        XCTAssertEqual(list["requests"]?.arrayValue?.compactMap(\.stringValue), AdminCall.names)
        // The handler gets typed requests, the URI parsed.
        let uri = try PeerURI.parse("udp://192.0.2.1:8470").get()
        XCTAssertEqual(handler.calls, [.getSelf, .getPeers, .getRoutes, .getSessions, .getStats, .addPeer(uri), .removePeer(uri),
                                       .getRoutes, .getPeers, .getRoutes])
    }

    func testHandlerErrorReachesTheClient() throws {
        try startServer()
        let client = AdminClient(socketPath: socketPath)
        XCTAssertThrowsError(try client.call("removePeer", arguments: [("uri", .string("udp://192.0.2.9:1"))])) { e in
            XCTAssertEqual(e as? AdminClientError, .daemon(AdminError("no such peer udp://192.0.2.9:1", kind: .node)))
        }
        // The connection stays usable after an error reply.
        XCTAssertEqual(try client.call("getSelf"), FakeAdminHandler.replies["getSelf"])
    }

    func testBadRequestsGetErrorsAndTheConnectionSurvives() throws {
        try startServer()
        let client = AdminClient(socketPath: socketPath)
        let cases: [(String, String)] = [
            ("{\"request\": \"getPeers\"", "malformed JSON"),
            ("not json at all", "malformed JSON"),
            ("[1, 2]", "must be a JSON object"),
            ("{}", "missing \"request\""),
            ("{\"request\": 5}", "\"request\" must be a string"),
            ("{\"request\": \"getEverything\"}", "unknown request 'getEverything'"),
            ("{\"request\": \"addPeer\", \"uri\": 5}", "argument 'uri' of addPeer must be a string, got number"),
            ("{\"request\": \"addPeer\"}", "addPeer needs the argument 'uri'"),
            ("{\"request\": \"getPeers\", \"verbose\": true}", "getPeers takes no argument 'verbose'"),
        ]
        for (line, expected) in cases {
            let reply = try client.exchange(line + "\n")
            let doc = try JSONValue.parse(reply)
            XCTAssertEqual(doc["status"], .string("error"), line)
            XCTAssertTrue(doc["error"]?.stringValue?.contains(expected) ?? false, "\(line) -> \(reply)")
        }
        XCTAssertTrue(handler.calls.isEmpty, "no bad request may reach the handler")
        XCTAssertEqual(try client.call("getSelf"), FakeAdminHandler.replies["getSelf"])
    }

    func testReplyLinesAreTheDocumentedShape() throws {
        try startServer()
        let raw = try XCTUnwrap(RawSocket(unixPath: socketPath))
        raw.write("{\"request\":\"addPeer\",\"uri\":\"udp://192.0.2.1:8470\"}\n")
        XCTAssertEqual(raw.readLine(), "{\"status\":\"success\",\"response\":{}}")
        raw.write("{\"request\":\"nope\"}\n")
        let error = try XCTUnwrap(raw.readLine())
        XCTAssertTrue(error.hasPrefix("{\"status\":\"error\",\"error\":\"unknown request 'nope'"), error)
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        try startServer()
        let raw = try XCTUnwrap(RawSocket(unixPath: socketPath))
        raw.write("{\"request\":\"getSelf\"}\n\n{\"request\":\"list\"}\r\n{\"request\":\"getStats\"}\n")
        let replies = (0..<3).compactMap { _ in raw.readLine() }.map { try? JSONValue.parse($0) }
        XCTAssertEqual(replies.count, 3)
        XCTAssertEqual(replies[0]?["response"], FakeAdminHandler.replies["getSelf"])
        XCTAssertNotNil(replies[1]?["response"]?["requests"])
        XCTAssertEqual(replies[2]?["response"], FakeAdminHandler.replies["getStats"])
    }

    func testOversizedRequestGetsAnErrorAndIsClosed() throws {
        try startServer()
        let raw = try XCTUnwrap(RawSocket(unixPath: socketPath))
        raw.write(String(repeating: "x", count: 100_000))
        let reply = try XCTUnwrap(raw.readLine())
        XCTAssertTrue(reply.contains("request longer than 65536 bytes"), reply)
        XCTAssertTrue(raw.readsEndOfStream())
        // The server is fine for others.
        XCTAssertEqual(try AdminClient(socketPath: socketPath).call("getSelf"), FakeAdminHandler.replies["getSelf"])
    }

    func testOversizedLineWithNewlineIsRefused() throws {
        try startServer { $0.maxRequestBytes = 1000 }
        let raw = try XCTUnwrap(RawSocket(unixPath: socketPath))
        raw.write("{\"request\":\"getSelf\",\"pad\":\"" + String(repeating: "y", count: 2000) + "\"}\n")
        XCTAssertTrue(raw.readLine()?.contains("request longer than 1000 bytes") ?? false)
        XCTAssertTrue(raw.readsEndOfStream())
    }

    func testSilentClientDoesNotBlockOthers() throws {
        try startServer()
        let silent = try XCTUnwrap(RawSocket(unixPath: socketPath))
        let halfLine = try XCTUnwrap(RawSocket(unixPath: socketPath))
        halfLine.write("{\"request\":")
        let client = AdminClient(socketPath: socketPath)
        XCTAssertEqual(try client.call("getPeers"), FakeAdminHandler.replies["getPeers"])
        // The half-sent request completes later and is answered.
        halfLine.write("\"getSelf\"}\n")
        XCTAssertEqual(try JSONValue.parse(XCTUnwrap(halfLine.readLine()))["response"], FakeAdminHandler.replies["getSelf"])
        _ = silent
    }

    func testIdleClientIsClosed() throws {
        try startServer { $0.idleTimeout = 0.05 }
        let idle = try XCTUnwrap(RawSocket(unixPath: socketPath))
        XCTAssertTrue(idle.readsEndOfStream())
    }

    func testClientsBeyondTheLimitAreRefused() throws {
        try startServer { $0.maxClients = 2 }
        let a = try XCTUnwrap(RawSocket(unixPath: socketPath))
        let b = try XCTUnwrap(RawSocket(unixPath: socketPath))
        let c = try XCTUnwrap(RawSocket(unixPath: socketPath))
        XCTAssertTrue(c.readLine()?.contains("too many admin connections (2)") ?? false)
        XCTAssertTrue(c.readsEndOfStream())
        // Those admitted are served.
        a.write("{\"request\":\"list\"}\n")
        XCTAssertTrue(a.readLine()?.contains("\"success\"") ?? false)
        _ = b
    }

    func testDisconnectingClientWithUnreadReplyDoesNotHurt() throws {
        try startServer()
        do {
            let raw = try XCTUnwrap(RawSocket(unixPath: socketPath))
            raw.write(String(repeating: "{\"request\":\"getPeers\"}\n", count: 200))
        }
        XCTAssertEqual(try AdminClient(socketPath: socketPath).call("getSelf"), FakeAdminHandler.replies["getSelf"])
    }

    func testSocketModeGroupAndParentDirectory() throws {
        let nested = dir + "/run/planetary/admin.sock"
        let groupName = String(cString: getgrgid(getegid())!.pointee.gr_name)
        let s = AdminServer(options: .init(socketPath: nested, group: groupName), handler: handler)
        try s.start()
        defer { s.stop() }
        var st = stat()
        XCTAssertEqual(lstat(nested, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFSOCK)
        XCTAssertEqual(st.st_mode & 0o777, 0o660)
        XCTAssertEqual(st.st_gid, getegid())
        var dst = stat()
        XCTAssertEqual(lstat(dir + "/run/planetary", &dst), 0)
        XCTAssertEqual(dst.st_mode & 0o777, 0o755)
        s.stop()
        XCTAssertFalse(FileManager.default.fileExists(atPath: nested), "stop removes the socket")
    }

    func testUnknownGroupIsAStartupError() {
        let s = AdminServer(options: .init(socketPath: socketPath, group: "no-such-group-planetary"), handler: handler)
        XCTAssertThrowsError(try s.start()) { e in
            XCTAssertTrue("\(e)".contains("adminGroup 'no-such-group-planetary'"), "\(e)")
        }
    }

    func testStaleSocketIsReplaced() throws {
        // A socket file nobody listens on, as a crashed daemon leaves behind.
        let fd = SocketSupport.unixStreamSocket()
        XCTAssertEqual(SocketSupport.bind(fd, unix: SocketSupport.unixAddress(socketPath)!), 0)
        close(fd)
        XCTAssertTrue(FileManager.default.fileExists(atPath: socketPath))
        try startServer()
        XCTAssertEqual(try AdminClient(socketPath: socketPath).call("getSelf"), FakeAdminHandler.replies["getSelf"])
    }

    func testLiveSocketIsNotTakenOver() throws {
        try startServer()
        let second = AdminServer(options: .init(socketPath: socketPath), handler: handler)
        XCTAssertThrowsError(try second.start()) { e in
            XCTAssertEqual("\(e)", "another planetd is using \(socketPath) (stop it first, or choose another adminSocket)")
        }
        second.stop()
        // The first server still owns and serves its socket.
        XCTAssertEqual(try AdminClient(socketPath: socketPath).call("getSelf"), FakeAdminHandler.replies["getSelf"])
    }

    func testNonSocketFileIsNeverDeleted() throws {
        _ = FileManager.default.createFile(atPath: socketPath, contents: Data("keep".utf8))
        XCTAssertThrowsError(try startServer())
        XCTAssertEqual(FileManager.default.contents(atPath: socketPath), Data("keep".utf8))
    }

    func testStopDoesNotRemoveASocketThatReplacedOurs() throws {
        let s = try startServer()
        unlink(socketPath)
        let other = SocketSupport.unixStreamSocket()
        XCTAssertEqual(SocketSupport.bind(other, unix: SocketSupport.unixAddress(socketPath)!), 0)
        defer { close(other) }
        s.stop()
        XCTAssertTrue(FileManager.default.fileExists(atPath: socketPath))
    }

    func testClientErrorsWhenTheDaemonIsNotRunning() throws {
        XCTAssertThrowsError(try AdminClient(socketPath: socketPath).call("getSelf")) { e in
            XCTAssertEqual(e as? AdminClientError, .notRunning(path: socketPath, reason: "no such file"))
            XCTAssertEqual("\(e)", "cannot connect to \(socketPath): no such file — is planetd running?")
        }
        let fd = SocketSupport.unixStreamSocket()
        XCTAssertEqual(SocketSupport.bind(fd, unix: SocketSupport.unixAddress(socketPath)!), 0)
        close(fd)
        XCTAssertThrowsError(try AdminClient(socketPath: socketPath).call("getSelf")) { e in
            XCTAssertEqual(e as? AdminClientError, .notRunning(path: socketPath, reason: "connection refused"))
        }
    }

    func testPermissionDeniedMentionsAdminGroup() throws {
        XCTAssertTrue(AdminClientError.permissionDenied(path: "/run/x.sock").description.contains("adminGroup"))
        guard geteuid() != 0 else { throw XCTSkip("root is never denied a socket connection") }
        try startServer()
        chmod(socketPath, 0)
        XCTAssertThrowsError(try AdminClient(socketPath: socketPath).call("getSelf")) { e in
            XCTAssertEqual(e as? AdminClientError, .permissionDenied(path: socketPath))
        }
    }

    func testDefaultSocketPath() {
        XCTAssertEqual(AdminClient.defaultSocketPath(environment: [:]), "/run/planetary/planetd.sock")
        XCTAssertEqual(AdminClient.defaultSocketPath(environment: ["PLANETCTL_SOCKET": "/tmp/p.sock"]), "/tmp/p.sock")
    }

    func testManyPipelinedRequestsAreAllAnswered() throws {
        try startServer()
        let raw = try XCTUnwrap(RawSocket(unixPath: socketPath))
        let count = 5000
        // Written from another thread: a client that writes everything before reading would
        // stall itself, since the server reads no more from a client that leaves replies unread.
        let writer = Thread { raw.write(String(repeating: "{\"request\":\"list\"}\n", count: count)) }
        writer.start()
        var answered = 0
        while answered < count, let line = raw.readLine() {
            XCTAssertTrue(line.hasPrefix("{\"status\":\"success\""))
            answered += 1
        }
        XCTAssertEqual(answered, count)
    }

    func testNonUTF8LineIsAnError() throws {
        try startServer()
        let raw = try XCTUnwrap(RawSocket(unixPath: socketPath))
        raw.write([0x7b, 0xff, 0xfe, 0x7d, 0x0a])
        XCTAssertTrue(raw.readLine()?.contains("not UTF-8") ?? false)
    }

    /// A handler that hops elsewhere and waits with a deadline turns a stuck node into an
    /// error reply, and the admin server keeps serving.
    func testHandlerThatTimesOutYieldsAnError() throws {
        final class StuckHandler: AdminHandler, @unchecked Sendable {
            func handle(_ request: AdminRequest) -> Result<any AdminResponse, AdminError> {
                AdminRendezvous<any AdminResponse>().wait(timeout: 0.01)
            }
        }
        let s = AdminServer(options: .init(socketPath: socketPath), handler: StuckHandler())
        try s.start()
        defer { s.stop() }
        let client = AdminClient(socketPath: socketPath)
        XCTAssertThrowsError(try client.call("getSelf")) { e in
            guard case .daemon(let m)? = e as? AdminClientError else { return XCTFail("\(e)") }
            XCTAssertEqual(m.kind, .node)
            XCTAssertTrue(m.message.contains("did not answer"), m.message)
        }
        XCTAssertNotNil(try client.call("list")["requests"])
    }

    func testRendezvousTimesOutAndIgnoresLateAnswers() {
        let r = AdminRendezvous<JSONValue>()
        guard case .failure(let e) = r.wait(timeout: 0) else { return XCTFail("expected a timeout") }
        XCTAssertTrue(e.message.contains("did not answer"))
        let answered = AdminRendezvous<JSONValue>()
        answered.fulfil(.success(.string("first")))
        answered.fulfil(.success(.string("second")))
        XCTAssertEqual(try answered.wait(timeout: 1).get(), .string("first"))
    }
}
