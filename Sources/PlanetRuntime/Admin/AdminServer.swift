import Foundation
import PlanetCore
import PlanetAdmin
#if canImport(Glibc)
import Glibc
#endif

/// The admin socket: a Unix stream socket speaking newline-delimited JSON (Docs/cli.md),
/// served by its own thread so the daemon's event loop never waits on an admin client.
/// Each request line is decoded into its typed value (`AdminRequest.decode`), then answered
/// by the `AdminHandler`; JSON exists only here, at the socket.
public final class AdminServer: @unchecked Sendable {
    public struct Options: Sendable {
        public var socketPath: String
        /// Group that may use the socket (mode 0660); empty keeps the daemon's group.
        public var group: String
        public var maxClients = 64
        /// A request line longer than this is answered with an error and the connection closed.
        public var maxRequestBytes = 65536
        /// A reply longer than this is replaced by an error (the tables are bounded well below it).
        public var maxResponseBytes = 64 << 20
        public var idleTimeout: Double = 60

        public init(socketPath: String, group: String = "") {
            self.socketPath = socketPath
            self.group = group
        }

        public init(config: NodeConfig) {
            self.init(socketPath: config.adminSocket, group: config.adminGroup)
        }
    }

    public let options: Options
    private let handler: AdminHandler
    private let logger: Logger
    private var served = ServedListener()
    /// The inode we bound, so stop() never unlinks a socket another process put in our place.
    private var boundInode: ino_t = 0

    public init(options: Options, handler: AdminHandler, logger: Logger = .disabled) {
        self.options = options
        self.handler = handler
        self.logger = logger
    }

    /// Creates the socket (replacing a stale one from a crashed run) and starts serving.
    public func start() throws(StartupError) {
        guard !served.isServing else { return }
        let path = options.socketPath
        guard let addr = SocketSupport.unixAddress(path) else { throw StartupError("admin socket path '\(path)' is empty or longer than 107 bytes") }
        var gid: gid_t? = nil
        if !options.group.isEmpty {
            guard let group = getgrnam(options.group) else { throw StartupError("adminGroup '\(options.group)' is not a group on this system") }
            gid = group.pointee.gr_gid
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
            try ConfigLoader.ensureDirectory(parent, mode: 0o755)
        }
        try removeStaleSocket(path, addr)

        let fd = SocketSupport.unixStreamSocket()
        guard fd >= 0 else { throw StartupError("cannot create admin socket: \(SocketSupport.errnoText())") }
        // The socket file takes its mode from the socket inode at bind time, so setting it
        // first leaves no moment where the file is wider open than 0660 (umask may narrow it;
        // the chmod below restores it).
        _ = fchmod(fd, 0o660)
        guard SocketSupport.bind(fd, unix: addr) == 0 else {
            let e = SocketSupport.errnoText()
            close(fd)
            throw StartupError("cannot bind admin socket \(path): \(e)")
        }
        var failure: String?
        if chmod(path, 0o660) != 0 { failure = "cannot set mode 0660 on \(path): \(SocketSupport.errnoText())" }
        if failure == nil, let gid, chown(path, uid_t.max, gid) != 0 {
            failure = "cannot give \(path) to group '\(options.group)': \(SocketSupport.errnoText())"
        }
        if failure == nil, listen(fd, 16) != 0 { failure = "cannot listen on \(path): \(SocketSupport.errnoText())" }
        var st = stat()
        if failure == nil, lstat(path, &st) != 0 { failure = "cannot stat \(path): \(SocketSupport.errnoText())" }
        let maxRequest = options.maxRequestBytes
        let maxResponse = options.maxResponseBytes
        let handler = self.handler
        let logger = self.logger
        let newLoop = failure != nil ? nil : StreamServerLoop(
            listener: fd,
            limits: .init(maxClients: options.maxClients, idleTimeout: options.idleTimeout),
            threadName: "planet-admin",
            refusal: AdminReply.line(.failure(AdminError("too many admin connections (\(options.maxClients)); try again", kind: .node)))
        ) { c in AdminServer.serve(c, handler: handler, maxRequest: maxRequest, maxResponse: maxResponse, logger: logger) }
        guard let newLoop else {
            close(fd)
            unlink(path)
            throw StartupError(failure ?? "cannot start the admin server thread")
        }
        boundInode = st.st_ino
        served.start(fd: fd, loop: newLoop)
        logger.info("admin socket ready", [("path", path)])
    }

    /// Stops serving, closes every client and removes the socket file. Safe to call twice.
    public func stop() {
        guard served.stop() else { return }
        var st = stat()
        if lstat(options.socketPath, &st) == 0, st.st_ino == boundInode { unlink(options.socketPath) }
    }

    deinit { stop() }

    /// A socket file left by a crashed run is removed; one that still answers belongs to a
    /// live daemon and is left alone. Anything that is not a socket is never deleted.
    private func removeStaleSocket(_ path: String, _ addr: sockaddr_un) throws(StartupError) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFSOCK else { throw StartupError("\(path) exists and is not a socket; remove it or choose another adminSocket") }
        let probe = SocketSupport.unixStreamSocket()
        guard probe >= 0 else { throw StartupError("cannot create admin socket: \(SocketSupport.errnoText())") }
        let r = SocketSupport.connect(probe, unix: addr)
        let e = errno
        close(probe)
        if r == 0 { throw StartupError("another planetd is using \(path) (stop it first, or choose another adminSocket)") }
        guard e == ECONNREFUSED else { throw StartupError("cannot check the existing admin socket \(path): \(SocketSupport.errnoText(e))") }
        guard unlink(path) == 0 || errno == ENOENT else { throw StartupError("cannot remove stale admin socket \(path): \(SocketSupport.errnoText())") }
    }

    /// Answers the complete request lines in `c.input`, one per call (the loop calls again
    /// once the reply is out).
    static func serve(_ c: StreamConnection, handler: AdminHandler, maxRequest: Int, maxResponse: Int, logger: Logger) {
        guard let newline = c.input.firstIndex(of: 0x0a) else {
            if c.input.count > maxRequest {
                c.input.removeAll()
                c.send(AdminReply.line(.failure(.request("request longer than \(maxRequest) bytes"))))
                c.closeWhenFlushed = true
            }
            return
        }
        if newline > maxRequest {
            c.input.removeAll()
            c.send(AdminReply.line(.failure(.request("request longer than \(maxRequest) bytes"))))
            c.closeWhenFlushed = true
            return
        }
        var lineBytes = c.input[..<newline]
        c.input.removeSubrange(...newline)
        if lineBytes.last == 0x0d { lineBytes = lineBytes.dropLast() }
        if lineBytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        guard let text = String(validating: lineBytes, as: UTF8.self) else {
            c.send(AdminReply.line(.failure(.request("malformed JSON: the request is not UTF-8"))))
            return
        }
        let answer: Result<any AdminResponse, AdminError>
        switch AdminRequest.decode(text) {
        case .failure(let e): answer = .failure(e)
        case .success(.list): answer = .success(ListReply())
        case .success(let request):
            logger.debug("admin request", [("request", request.call.rawValue)])
            answer = handler.handle(request)
        }
        // The typed reply becomes JSON here, and only here.
        let result = answer.flatMap { r -> Result<JSONValue, AdminError> in
            do { return .success(try JSONValueCoder.encode(r)) } catch { return .failure(AdminError("cannot write the reply: \(error)")) }
        }
        var reply = AdminReply.line(result)
        if reply.utf8.count > maxResponse {
            reply = AdminReply.line(.failure(AdminError("the reply is longer than \(maxResponse) bytes")))
        }
        c.send(reply)
    }
}
