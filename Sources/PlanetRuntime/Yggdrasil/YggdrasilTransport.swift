import PlanetCore
import PlanetYggdrasil
#if canImport(Glibc)
import Glibc
#endif

/// Names one Yggdrasil stream connection for as long as it lives; never reused. The router keys
/// its ironwood peers by it (`IronwoodPeerID`).
public typealias YggdrasilConnectionID = UInt64

/// One row of `YggdrasilTransport.peers`: what `planetctl peers` shows of an Yggdrasil link.
public struct YggdrasilPeerInfo: Sendable, Equatable {
    public enum State: String, Sendable { case connecting, handshaking, up }
    public var id: YggdrasilConnectionID
    /// The configured URI (password redacted) of an outbound link; `scheme://REMOTE` inbound.
    public var uri: String
    public var remote: Endpoint
    public var direction: YggdrasilLink.Direction
    public var state: State
    /// The peer's key, once its handshake passed.
    public var key: PublicKey?
    public var priority: UInt8
    /// Seconds since the handshake passed (0 before).
    public var uptime: Double
    public var bytesIn: UInt64
    public var bytesOut: UInt64
}

/// A configured outbound peer that is not connected right now: when it is tried next and why
/// the last attempt ended (yggdrasil's `getPeers` shows these as down with `last_error`).
public struct YggdrasilDialInfo: Sendable, Equatable {
    public var uri: String
    public var nextAttempt: Instant
    public var lastError: String
}

/// Yggdrasil 0.5 links over tcp:// and tls:// on the daemon's event loop: listeners, dialers
/// that redial with yggdrasil's back-off, and one `YggdrasilLink` per connection, all on
/// non-blocking sockets with no thread of their own. Frames go to and come from the owner (the
/// runner, which hands them to the ironwood router) through `onEvent` and `send`.
///
/// The owner also drives time: `nextDeadline` joins the runner's deadline and `handleDeadline`
/// runs when it passes (handshake and read deadlines, keepalives, connect timeouts, redials).
/// Writes are batched: `send` only queues; queued bytes go out once per loop turn (a posted
/// flush), or at once when the owner calls `flush()`, one write per connection.
///
/// Loop-confined: every method runs on the event loop's thread.
public final class YggdrasilTransport {
    public enum Event: Equatable {
        /// A link passed its handshake: an ironwood peer with this key and link priority.
        case established(YggdrasilConnectionID, PublicKey, priority: UInt8)
        /// A frame from an established link (keepalives are handled here and not reported).
        case frame(YggdrasilConnectionID, IronwoodFrame)
        /// An established link ended (a connection that never got through its handshake ends
        /// without an event: it was never a peer; it is still counted in `closeCounters`).
        case closed(YggdrasilConnectionID, YggdrasilLinkClose)
    }

    /// yggdrasil's dialer timeout (link_tcp.go: 5 s), covering connect (and TLS, inside the
    /// link's 6 s handshake deadline).
    public static let connectTimeout = 5.0
    /// yggdrasil's defaultBackoffLimit: 2^12 s.
    public static let defaultMaxBackoff = 4096.0
    /// Connections at most (inbound and outbound); beyond, an accepted socket is closed at once.
    public static let maxConnections = 1024
    /// Bytes read per connection per readiness event (more come on the next turn).
    static let readChunk = 65536
    static let readsPerTurn = 8

    private let loop: EventLoop
    private let identity: NodeIdentity
    private let logger: Logger
    private let resolver: Resolver
    private let clock: () -> Instant
    /// `allowedPublicKeys`: inbound links from other keys are refused after their handshake.
    public var allowedKeys: Set<PublicKey>
    public var onEvent: (Event) -> Void = { _ in }
    /// Called once after the events of one readiness (up to `readsPerTurn` reads, any number of
    /// frames) were all reported: the owner can carry out their consequences once per batch
    /// instead of once per frame (`inBatch` says when it may defer).
    public var onBatchEnd: () -> Void = {}
    /// True while a batch's events are being reported through `onEvent`.
    public private(set) var inBatch = false

    private var tlsContext: YggdrasilTLSContext?
    private var listeners: [Int32: PeerURI] = [:]
    private var connections: [YggdrasilConnectionID: Connection] = [:]
    private var dialers: [String: Dialer] = [:]
    private var nextID: YggdrasilConnectionID = 1
    private var dirty: [Connection] = []
    private var flushPosted = false
    private var readBuffer = [UInt8](repeating: 0, count: YggdrasilTransport.readChunk)

    /// Every connection that ended, by reason (handshake refusals included).
    public private(set) var closeCounters = DropCounters<YggdrasilLinkClose.Code>()
    /// Accepted sockets closed at once because `maxConnections` were open.
    public private(set) var refusedOverCapacity: UInt64 = 0
    /// Outbound connection attempts that failed before a byte was exchanged.
    public private(set) var dialFailures: UInt64 = 0

    public init(loop: EventLoop, identity: NodeIdentity, allowedKeys: Set<PublicKey> = [], logger: Logger = .disabled,
                clock: @escaping () -> Instant = MonotonicClock.now) {
        self.loop = loop
        self.identity = identity
        self.allowedKeys = allowedKeys
        self.logger = logger
        self.clock = clock
        resolver = Resolver(loop: loop)
        // OpenSSL writes to the socket with write(2), not send(MSG_NOSIGNAL): a peer that resets
        // a tls:// link must cost an EPIPE, not the process. planetd ignores SIGPIPE already
        // (StandardStreams); this makes the transport safe in any process.
        StandardStreams.ignoreBrokenPipe()
    }

    /// The owner is going away: its handler may no longer be valid, so nothing is reported.
    deinit {
        onEvent = { _ in }
        stop()
    }

    // MARK: Listening

    /// Listens on a tcp:// or tls:// URI (its `password` and `priority` apply to every link it
    /// accepts). Returns the bound port (useful with port 0).
    @discardableResult
    public func listen(_ uri: PeerURI) throws(StartupError) -> UInt16 {
        guard uri.scheme.isYggdrasil else { throw StartupError("listen \(uri.redactedDescription): not an Yggdrasil URI") }
        if uri.scheme == .tls { _ = try tls() }
        let fd = try TCPListener.open(uri.hostPort, key: "listen", purpose: "Yggdrasil \(uri.scheme.rawValue)")
        SocketSupport.setNonBlocking(fd)
        do {
            try loop.register(fd: fd) { [unowned self] in accept(on: fd) }
        } catch {
            Glibc.close(fd)
            throw StartupError("listen \(uri.redactedDescription): \(error)")
        }
        listeners[fd] = uri
        let port = TCPListener.boundPort(fd)
        logger.info("Yggdrasil listener started", [("uri", uri.redactedDescription), ("port", "\(port)")])
        return port
    }

    private func tls() throws(StartupError) -> YggdrasilTLSContext {
        if let tlsContext { return tlsContext }
        let made = try YggdrasilTLSContext(identity: identity)
        tlsContext = made
        return made
    }

    private func accept(on listener: Int32) {
        guard let uri = listeners[listener] else { return }
        for _ in 0..<16 {
            var ss = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &ss) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.accept(listener, $0, &len)
                }
            }
            guard fd >= 0 else { return }
            SocketSupport.setNonBlocking(fd)
            SocketSupport.setCloseOnExec(fd)
            guard connections.count < Self.maxConnections else {
                refusedOverCapacity &+= 1
                Glibc.close(fd)
                continue
            }
            let remote = Self.endpoint(ss)
            let options = YggdrasilLink.Options(password: uri.password, priority: uri.priority ?? 0, allowedKeys: allowedKeys)
            let c = Connection(id: takeID(), fd: fd, direction: .inbound, scheme: uri.scheme, remote: remote, dialer: nil)
            connections[c.id] = c
            do {
                try loop.register(fd: fd) { [unowned self, unowned c] in service(c) }
            } catch {
                connections[c.id] = nil
                Glibc.close(fd)
                continue
            }
            open(c, options: options, serverName: nil)
        }
    }

    // MARK: Dialling

    /// Adds a configured peer: dialled now, and again after every failure or disconnection with
    /// yggdrasil's back-off (2, 4, 8 … s up to `maxbackoff`, default 4096 s; reset by a
    /// handshake that passes). False when the same URI is already configured.
    @discardableResult
    public func addPeer(_ uri: PeerURI) -> Bool {
        guard uri.scheme.isYggdrasil, dialers[uri.description] == nil else { return false }
        if uri.scheme == .tls {
            do { _ = try tls() } catch { logger.error("cannot dial \(uri.redactedDescription): \(error)"); return false }
        }
        let d = Dialer(uri: uri)
        dialers[uri.description] = d
        startDial(d)
        return true
    }

    /// Removes a configured peer and closes its link; the URI names it as `addPeer` got it, or by
    /// its endpoint when only one peer is configured there. False when none matches.
    @discardableResult
    public func removePeer(_ uri: PeerURI) -> Bool {
        var key = uri.description
        if dialers[key] == nil {
            let there = dialers.values.filter { $0.uri.endpointText == uri.endpointText }
            guard there.count == 1 else { return false }
            key = there[0].uri.description
        }
        guard let d = dialers.removeValue(forKey: key) else { return false }
        d.removed = true
        if let id = d.connection, let c = connections[id] { end(c, .local("peer removed")) }
        return true
    }

    /// The configured peers' URIs.
    public var configuredPeers: [PeerURI] { dialers.values.map(\.uri).sorted { $0.description < $1.description } }

    private func startDial(_ d: Dialer) {
        d.nextAttempt = .never
        if let literal = Self.literalEndpoint(d.uri) {
            d.endpoints = [literal]
            d.endpointIndex = 0
            connectNext(d)
            return
        }
        d.resolving = true
        resolver.resolve(d.uri) { [weak self, d] result in
            guard let self, !d.removed else { return }
            d.resolving = false
            switch result {
            case .success(let endpoints):
                d.endpoints = endpoints
                d.endpointIndex = 0
                connectNext(d)
            case .failure(let e):
                dialFailed(d, e.description)
            }
        }
    }

    /// Tries the dialer's next address (yggdrasil tries each the host resolves to in turn).
    private func connectNext(_ d: Dialer) {
        while d.endpointIndex < d.endpoints.count {
            let endpoint = d.endpoints[d.endpointIndex]
            d.endpointIndex += 1
            switch connectSocket(to: endpoint) {
            case .failure(let why):
                d.lastError = "\(endpoint): \(why)"
            case .success(let (fd, done)):
                let c = Connection(id: takeID(), fd: fd, direction: .outbound, scheme: d.uri.scheme, remote: endpoint, dialer: d)
                connections[c.id] = c
                d.connection = c.id
                do {
                    try loop.register(fd: fd) { [unowned self, unowned c] in service(c) }
                } catch {
                    connections[c.id] = nil
                    Glibc.close(fd)
                    d.connection = nil
                    d.lastError = "\(error)"
                    continue
                }
                if done {
                    openOutbound(c, d)
                } else {
                    c.connectDeadline = clock().adding(seconds: Self.connectTimeout)
                    setWritable(c, true)
                }
                return
            }
        }
        dialFailed(d, d.lastError)
    }

    private func openOutbound(_ c: Connection, _ d: Dialer) {
        c.connectDeadline = .never
        let options = YggdrasilLink.Options(password: d.uri.password, priority: d.uri.priority ?? 0,
                                            pinnedKeys: Set(d.uri.pinnedKeys), allowedKeys: allowedKeys)
        // Go sends the URI's host as SNI when it is a name (or `?sni=`), never an IP literal.
        let sni = d.uri.sni ?? (Self.literalEndpoint(d.uri) == nil ? d.uri.host : nil)
        open(c, options: options, serverName: sni)
    }

    private func dialFailed(_ d: Dialer, _ why: String) {
        dialFailures &+= 1
        d.lastError = why
        logger.debug("Yggdrasil dial failed", [("uri", d.uri.redactedDescription), ("error", why)])
        backOff(d)
    }

    /// yggdrasil's backoffNow: one more failure doubles the wait, from 2 s, up to the limit.
    private func backOff(_ d: Dialer) {
        guard !d.removed else { return }
        d.connection = nil
        if d.backoff < 32 { d.backoff += 1 }
        let wait = min(Double(UInt64(1) << UInt64(d.backoff)), d.uri.maxBackoff ?? Self.defaultMaxBackoff)
        d.nextAttempt = clock().adding(seconds: wait)
    }

    // MARK: Connections

    /// Starts the link on a connected socket: the stream (TLS or plain) and our handshake.
    private func open(_ c: Connection, options: YggdrasilLink.Options, serverName: String?) {
        var one: Int32 = 1
        // Go's net package turns Nagle off on every TCP connection; small frames go out at once.
        setsockopt(c.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if c.scheme == .tls {
            guard let context = tlsContext,
                  let s = TLSStream(context: context, fd: c.fd, serverName: serverName, accepting: c.direction == .inbound) else {
                return end(c, .local("cannot start TLS: \(YggdrasilTLSContext.lastError())"))
            }
            c.stream = s
        } else {
            c.stream = PlainStream(fd: c.fd)
        }
        do {
            c.link = try YggdrasilLink(identity: identity, direction: c.direction, options: options, now: clock())
        } catch {
            return end(c, .handshake(error))
        }
        flush(c)
    }

    /// The fd's handler: the loop says only that it is ready, so try what the state allows.
    private func service(_ c: Connection) {
        guard !c.ended else { return }
        if c.link == nil {
            guard let d = c.dialer else { return }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err == EINPROGRESS || err == EALREADY { return }
            if err != 0 {
                d.lastError = "\(c.remote): \(SocketSupport.errnoText(err))"
                discardAttempt(c)
                connectNext(d)
                return
            }
            setWritable(c, false)
            openOutbound(c, d)
            return
        }
        // Write first: yggdrasil writes its handshake before it reads the peer's, so a peer we
        // are about to refuse still gets ours and can name the reason (a wrong password) too.
        flush(c)
        inBatch = true
        readSome(c)
        inBatch = false
        onBatchEnd()
        // What the batch made the owner send on this link goes in this turn, in one write.
        if !c.ended { flush(c) }
    }

    private func readSome(_ c: Connection) {
        guard let stream = c.stream else { return }
        var reads = 0
        while !c.ended, reads < Self.readsPerTurn || stream.hasBuffered {
            reads += 1
            let n = readBuffer.withUnsafeMutableBytes { stream.read(into: $0) }
            guard let n else {
                let why = stream.failure
                deliver(c, c.link?.close(because: .remoteClosed(why == "end of stream" ? "" : why)) ?? [])
                return
            }
            if n == 0 { return }
            c.bytesIn &+= UInt64(n)
            let events = c.link?.receive(readBuffer[0..<n], now: clock()) ?? []
            deliver(c, events)
        }
    }

    private func deliver(_ c: Connection, _ events: [YggdrasilLink.Event]) {
        for event in events {
            switch event {
            case .established(let key, let priority):
                c.upSince = clock()
                c.dialer?.backoff = 0
                c.dialer?.lastError = ""
                logger.info("Yggdrasil link up", [("direction", c.direction.rawValue), ("peer", key.hex),
                                                  ("remote", c.remote.description), ("scheme", c.scheme.rawValue)])
                onEvent(.established(c.id, key, priority: priority))
            case .frame(let frame):
                onEvent(.frame(c.id, frame))
            case .closed(let reason):
                finish(c, reason)
            }
        }
    }

    /// Sends queued output: one write per connection of everything queued (the kernel takes
    /// what it can; the rest waits for the socket to be writable).
    private func flush(_ c: Connection) {
        guard !c.ended, let stream = c.stream else { return }
        if let out = c.link?.takeOutput(), !out.isEmpty {
            if c.unsentOffset == c.unsent.count {
                c.unsent = out
                c.unsentOffset = 0
            } else {
                c.unsent.append(contentsOf: out)
            }
        }
        while c.unsentOffset < c.unsent.count {
            let n = c.unsent.withUnsafeBytes { stream.write(UnsafeRawBufferPointer(rebasing: $0[c.unsentOffset...])) }
            guard let n else {
                deliver(c, c.link?.close(because: .remoteClosed(stream.failure)) ?? [])
                return
            }
            if n == 0 { break }
            c.unsentOffset += n
            c.bytesOut &+= UInt64(n)
        }
        if c.unsentOffset == c.unsent.count {
            c.unsent.removeAll(keepingCapacity: c.unsent.count <= 1 << 20)
            c.unsentOffset = 0
        } else if c.unsentOffset > 1 << 20 {
            c.unsent.removeFirst(c.unsentOffset)
            c.unsentOffset = 0
        }
        setWritable(c, c.unsentOffset < c.unsent.count || stream.wantsWritable)
    }

    private func setWritable(_ c: Connection, _ want: Bool) {
        guard c.watchingWritable != want else { return }
        c.watchingWritable = want
        loop.watchWritable(fd: c.fd, want)
    }

    /// Queues a frame on an established link; it goes out with this turn's flush. False when the
    /// link is unknown, not established, or refused the frame (`YggdrasilLink.send`).
    @discardableResult
    public func send(_ id: YggdrasilConnectionID, _ frame: IronwoodFrame) -> Bool {
        guard let c = connections[id], !c.ended, c.link != nil else { return false }
        guard c.link!.send(frame, now: clock()) else { return false }
        markDirty(c)
        return true
    }

    private func markDirty(_ c: Connection) {
        if !c.dirty {
            c.dirty = true
            dirty.append(c)
        }
        if !flushPosted {
            flushPosted = true
            let me = LoopBound(self)
            loop.post { me.value.flush() }
        }
    }

    /// Writes everything `send` queued since the last flush (once per turn by itself; the owner
    /// may call it sooner).
    public func flush() {
        flushPosted = false
        let list = dirty
        dirty.removeAll(keepingCapacity: true)
        for c in list {
            c.dirty = false
            flush(c)
        }
    }

    /// Ends a link (the router's decision: a bad signature, a duplicate). Reported as `.closed`.
    public func close(_ id: YggdrasilConnectionID, reason: YggdrasilLinkClose) {
        guard let c = connections[id] else { return }
        end(c, reason)
    }

    private func end(_ c: Connection, _ reason: YggdrasilLinkClose) {
        if let events = c.link?.close(because: reason), !events.isEmpty {
            deliver(c, events)
        } else {
            finish(c, reason)
        }
    }

    /// The link is over: count it, tell the owner if it was a peer, release the socket, and let
    /// its dialer (if any) try again later.
    private func finish(_ c: Connection, _ reason: YggdrasilLinkClose) {
        guard !c.ended else { return }
        c.ended = true
        closeCounters.count(reason.code)
        let wasUp = c.upSince != nil
        if wasUp || reason.code != .remoteClosed {
            logger.info(wasUp ? "Yggdrasil link down" : "Yggdrasil link refused",
                        [("direction", c.direction.rawValue), ("remote", c.remote.description), ("reason", reason.description)])
        }
        // What is queued still goes, as far as the socket takes it now (our handshake, above
        // all, when we refuse the peer's): yggdrasil's side had written it before reading.
        if let stream = c.stream {
            if let out = c.link?.takeOutput(), !out.isEmpty { c.unsent.append(contentsOf: out) }
            if c.unsentOffset < c.unsent.count {
                _ = c.unsent.withUnsafeBytes { stream.write(UnsafeRawBufferPointer(rebasing: $0[c.unsentOffset...])) }
            }
            stream.shutdown()
        }
        loop.unregister(fd: c.fd)
        Glibc.close(c.fd)
        connections[c.id] = nil
        if let d = c.dialer, d.connection == c.id {
            d.lastError = reason.description
            backOff(d)
        }
        if wasUp { onEvent(.closed(c.id, reason)) }
    }

    /// A connect that failed: the socket goes without a count (the dialer counts the failure).
    private func discardAttempt(_ c: Connection) {
        c.ended = true
        loop.unregister(fd: c.fd)
        Glibc.close(c.fd)
        connections[c.id] = nil
        c.dialer?.connection = nil
    }

    // MARK: Time

    /// The earliest of every link's timer, connect timeout and redial.
    public var nextDeadline: Instant {
        var d = Instant.never
        for c in connections.values {
            d = min(d, c.connectDeadline)
            if let link = c.link { d = min(d, link.nextDeadline) }
        }
        for dialer in dialers.values { d = min(d, dialer.nextAttempt) }
        return d
    }

    public func handleDeadline(now: Instant) {
        for c in Array(connections.values) where !c.ended {
            if now >= c.connectDeadline, let d = c.dialer {
                d.lastError = "\(c.remote): connect timed out after \(Int(Self.connectTimeout)) s"
                discardAttempt(c)
                connectNext(d)
                continue
            }
            guard var link = c.link, now >= link.nextDeadline else { continue }
            let events = link.handleDeadline(now: now)
            c.link = link
            deliver(c, events)
            if !c.ended, (c.link?.pendingOutput ?? 0) > 0 { markDirty(c) }
        }
        for d in Array(dialers.values) where now >= d.nextAttempt && d.connection == nil && !d.resolving {
            startDial(d)
        }
    }

    // MARK: Inspection and shutdown

    /// Every connection, sorted by id.
    public var peers: [YggdrasilPeerInfo] {
        let now = clock()
        return connections.values.sorted { $0.id < $1.id }.map { c in
            let state: YggdrasilPeerInfo.State
            var key: PublicKey?, priority: UInt8 = 0
            switch c.link?.state {
            case nil: state = .connecting
            case .handshaking?, .closed?: state = .handshaking
            case .established(let k, let p)?: state = .up; key = k; priority = p
            }
            let uri = c.dialer?.uri.redactedDescription ?? "\(c.scheme.rawValue)://\(c.remote)"
            return YggdrasilPeerInfo(id: c.id, uri: uri, remote: c.remote, direction: c.direction, state: state, key: key,
                                     priority: priority, uptime: c.upSince.map { now.seconds(since: $0) } ?? 0,
                                     bytesIn: c.bytesIn, bytesOut: c.bytesOut)
        }
    }

    /// Configured peers waiting to redial.
    public var waitingDials: [YggdrasilDialInfo] {
        dialers.values.filter { $0.connection == nil }.sorted { $0.uri.description < $1.uri.description }
            .map { YggdrasilDialInfo(uri: $0.uri.redactedDescription, nextAttempt: $0.nextAttempt, lastError: $0.lastError) }
    }

    /// Closes every link (reported as `.closed` for established ones) and listener.
    public func stop() {
        for d in dialers.values { d.removed = true }
        dialers.removeAll()
        for c in Array(connections.values) { end(c, .local("stopping")) }
        for fd in listeners.keys {
            loop.unregister(fd: fd)
            Glibc.close(fd)
        }
        listeners.removeAll()
    }

    private func takeID() -> YggdrasilConnectionID {
        defer { nextID += 1 }
        return nextID
    }

    // MARK: Sockets

    /// A non-blocking TCP socket connecting to `endpoint`: the fd and whether it is connected
    /// already (loopback can be), or why it failed.
    private func connectSocket(to endpoint: Endpoint) -> Result<(Int32, Bool), SocketFailure> {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(SocketFailure(SocketSupport.errnoText())) }
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = endpoint.port.bigEndian
        endpoint.address.withBytes { src in
            withUnsafeMutableBytes(of: &sa.sin6_addr) { $0.copyMemory(from: UnsafeRawBufferPointer(start: src, count: 16)) }
        }
        let r = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        if r == 0 { return .success((fd, true)) }
        if errno == EINPROGRESS { return .success((fd, false)) }
        let why = SocketSupport.errnoText()
        Glibc.close(fd)
        return .failure(SocketFailure(why))
    }

    struct SocketFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    static func literalEndpoint(_ uri: PeerURI) -> Endpoint? {
        if let v6 = IPv6Address(uri.host) { return Endpoint(address: v6, port: uri.port) }
        let parts = uri.host.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard parts.count == 4, uri.host.split(separator: ".", omittingEmptySubsequences: false).count == 4 else { return nil }
        return Endpoint(ipv4: parts[0], parts[1], parts[2], parts[3], port: uri.port)
    }

    static func endpoint(_ ss: sockaddr_storage) -> Endpoint {
        var ss = ss
        return withUnsafePointer(to: &ss) { p in
            if p.pointee.ss_family == sa_family_t(AF_INET) {
                return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { s4 in
                    let a = UInt32(bigEndian: s4.pointee.sin_addr.s_addr)
                    return Endpoint(ipv4: UInt8(a >> 24), UInt8(a >> 16 & 0xff), UInt8(a >> 8 & 0xff), UInt8(a & 0xff),
                                    port: UInt16(bigEndian: s4.pointee.sin_port))
                }
            }
            return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { s6 in
                let address = withUnsafeBytes(of: s6.pointee.sin6_addr) { IPv6Address($0) } ?? IPv6Address(high: 0, low: 0)
                return Endpoint(address: address, port: UInt16(bigEndian: s6.pointee.sin6_port))
            }
        }
    }
}

/// One socket and its link.
private final class Connection {
    let id: YggdrasilConnectionID
    let fd: Int32
    let direction: YggdrasilLink.Direction
    let scheme: PeerURI.Scheme
    let remote: Endpoint
    /// The configured peer this connection dials for (outbound only).
    let dialer: Dialer?
    var stream: YggdrasilStream?
    /// Nil while the TCP connect is in progress.
    var link: YggdrasilLink?
    var connectDeadline: Instant = .never
    var unsent: [UInt8] = []
    var unsentOffset = 0
    var bytesIn: UInt64 = 0
    var bytesOut: UInt64 = 0
    var upSince: Instant?
    var watchingWritable = false
    var dirty = false
    var ended = false

    init(id: YggdrasilConnectionID, fd: Int32, direction: YggdrasilLink.Direction, scheme: PeerURI.Scheme, remote: Endpoint, dialer: Dialer?) {
        self.id = id
        self.fd = fd
        self.direction = direction
        self.scheme = scheme
        self.remote = remote
        self.dialer = dialer
    }
}

/// A configured outbound peer and its redial state (yggdrasil's per-URI link goroutine).
private final class Dialer {
    let uri: PeerURI
    var backoff = 0
    var nextAttempt: Instant = .never
    var endpoints: [Endpoint] = []
    var endpointIndex = 0
    var connection: YggdrasilConnectionID?
    var resolving = false
    var removed = false
    var lastError = ""

    init(uri: PeerURI) { self.uri = uri }
}
