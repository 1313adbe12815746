import Foundation
import PlanetCore
import PlanetLink
import PlanetNode
#if canImport(Glibc)
import Glibc
#endif

/// Runs a `Node` on Linux: one event-loop thread owns the node and everything that feeds it
/// (UDP sockets, the TUN, multicast beacons, the node's deadline). Other threads — the admin
/// server, the resolver — only `post` closures onto that loop, so the node itself needs no locks.
///
/// After every input the runner drains the node's output: datagrams are batched per socket
/// into one sendmmsg, packets are written to the TUN, host names go to the resolver.
public final class NodeRunner: @unchecked Sendable {
    public let node: Node
    let config: NodeConfig
    let logger: Logger
    let loop: EventLoop
    let scopes = LinkLocalScopes()
    var sockets: [UDPSocket] = []
    var tun: TunDevice?
    var multicast: MulticastSocket?
    var resolver: Resolver!
    var admin: AdminServer?
    var metrics: MetricsServer?
    var beaconTimer: PeriodicTimer?
    var seqnoTimer: PeriodicTimer?
    var capacityTimer: PeriodicTimer?  // capacity directory: NodeRunner+Capacity.swift
    let receiveBatch: DatagramBatch
    let tunBatch: DatagramBatch
    var sendBatches: [SendBatch] = []
    var lastBeaconTimestamp: UInt64 = 0
    var spareOutput = NodeOutput()
    let coalescer = TCPCoalescer()

    static let beaconInterval = 5.0

    /// Ciphers this node offers: what the CPU runs, minus AES-256-GCM when the operator sets
    /// PLANETARY_NO_AES=1 (to compare, or to rule out a broken AES unit).
    static func offeredCiphers(environment: [String: String] = ProcessInfo.processInfo.environment) -> TransportCiphers {
        var c = TransportCiphers.hardwareSupported
        if let v = environment["PLANETARY_NO_AES"], !v.isEmpty, v != "0" { c.remove(.aes256Gcm) }
        return c
    }

    public init(config: NodeConfig, identity: NodeIdentity, logger: Logger) throws(StartupError) {
        self.config = config
        self.logger = logger
        do { loop = try EventLoop() } catch { throw StartupError("cannot create event loop: \(error)") }
        let slot = max(2048, config.tun.mtu + 512)
        // 64 KiB slots: with UDP_GRO one receive may hold a whole run of a peer's datagrams.
        receiveBatch = DatagramBatch(capacity: 64, slotSize: 65536)
        tunBatch = DatagramBatch(capacity: 64, slotSize: config.tun.mtu + 64)
        node = Node(identity: identity, config: config, logger: logger, now: MonotonicClock.now(), ciphers: NodeRunner.offeredCiphers())
        restoreSeqno()
        startCapacity()  // capacity directory: NodeRunner+Capacity.swift

        for (i, uri) in config.listen.enumerated() {
            do {
                let socket = try UDPSocket(listen: uri, socketIndex: i, scopes: scopes, gro: true)
                sockets.append(socket)
                sendBatches.append(SendBatch(capacity: 64, slotSize: slot))
            } catch {
                throw StartupError("listen[\(i)] \(uri): cannot bind: \(error)")
            }
        }
        if config.tun.enabled {
            do {
                let device = try TunDevice(name: config.tun.name, offload: true)
                try device.configure(address: identity.address, mtu: config.tun.mtu)
                tun = device
            } catch {
                throw StartupError("tun: cannot create \(config.tun.name): \(error) (planetd needs root or CAP_NET_ADMIN)")
            }
        }
        if !config.multicast.isEmpty, !sockets.isEmpty {
            do {
                multicast = try MulticastSocket(patterns: config.multicast, excluded: [config.tun.name], scopes: scopes)
            } catch {
                logger.warn("link-local discovery is off: cannot open multicast socket", [("error", "\(error)")])
            }
        }
    }

    // MARK: Lifetime

    /// Runs the loop on the calling thread until `stop()`.
    public func run() throws(StartupError) {
        resolver = Resolver(loop: loop)
        do {
            for (i, s) in sockets.enumerated() {
                try loop.register(fd: s.fd) { [unowned self] in self.readSocket(i) }
            }
            if let tun { try loop.register(fd: tun.fd) { [unowned self] in self.readTun() } }
            if let multicast {
                try loop.register(fd: multicast.fd) { [unowned self] in self.readMulticast() }
                try multicast.startRescanning(on: loop)
                beaconTimer = try PeriodicTimer(loop: loop, every: NodeRunner.beaconInterval) { [unowned self] in self.sendBeacons() }
                sendBeacons()
            }
            seqnoTimer = try PeriodicTimer(loop: loop, every: 30) { [unowned self] in self.saveSeqno() }
            capacityTimer = try PeriodicTimer(loop: loop, every: NodeRunner.capacityInterval) { [unowned self] in self.capacityTimerFired() }
        } catch {
            throw StartupError("cannot start the event loop: \(error)")
        }
        loop.onDeadline { [unowned self] now in
            self.node.tick(now: now)
            self.flush()
        }
        let handler = NodeAdminHandler(runner: self)
        let server = AdminServer(options: .init(config: config), handler: handler, logger: logger)
        try server.start()
        admin = server
        if !config.metricsListen.isEmpty {
            let m = MetricsServer(listen: config.metricsListen, logger: logger, provider: MetricsServer.statsProvider(from: handler))
            try m.start()
            metrics = m
        }
        flush()
        loop.run()
        shutdown()
    }

    /// Safe from any thread (a signal waiter).
    public func stop() { loop.stop() }

    func shutdown() {
        metrics?.stop()
        admin?.stop()
        saveSeqno()
        saveCapacity()  // capacity directory: NodeRunner+Capacity.swift
        tun?.close()
        for s in sockets { s.close() }
        multicast?.close()
    }

    // MARK: Inputs

    func readSocket(_ index: Int) {
        let socket = sockets[index]
        var rounds = 0
        while rounds < 8 {
            let n = socket.receiveBatch(into: receiveBatch)
            if n == 0 { break }
            let now = MonotonicClock.now()
            for i in 0..<n where receiveBatch.length(i) >= 0 {
                let from = receiveBatch.endpoint(i)
                receiveBatch.forEachMutableDatagram(in: i) { datagram in
                    // Relayed data is sealed again in the receive slot and sent from there
                    // before the next receive reuses it (the flush below).
                    guard let (length, to) = node.receiveDatagram(inPlace: datagram, from: from, now: now) else { return }
                    queue(borrowing: UnsafeRawBufferPointer(rebasing: datagram[..<length]), to: to)
                }
            }
            flush()
            rounds += 1
            if n < receiveBatch.capacity { break }
        }
    }

    /// Drains the TUN: with offload each read may be a 64 KiB TCP super-packet that becomes ~45
    /// segments, so output is flushed every few dozen packets to keep the send batch full but
    /// bounded, and reads per wakeup are capped (the fd is level-triggered; the rest waits).
    func readTun() {
        guard let tun else { return }
        var now = MonotonicClock.now()
        var handled = 0
        var reads = 0
        while reads < 64 {
            let got = tun.readPackets(maxReads: 1) { packet, checksumPartial in
                node.receiveTunPacket(raw: packet, checksumPartial: checksumPartial, now: now)
                handled += 1
            }
            if got == 0 { break }
            reads += got
            if handled >= 48 {
                flush()
                handled = 0
                now = MonotonicClock.now()
            }
        }
        if handled > 0 { flush() }
    }

    func readMulticast() {
        guard let multicast else { return }
        let n = multicast.receive(into: receiveBatch)
        guard n > 0 else { return }
        let now = MonotonicClock.now()
        for i in 0..<n where receiveBatch.length(i) > 0 {
            var from = receiveBatch.endpoint(i)
            from.socket = socketIndex(for: from)
            node.receiveDatagram(Array(receiveBatch.datagram(i)), from: from, now: now)
        }
        flush()
    }

    func sendBeacons() {
        guard let multicast, let port = sockets.first?.localEndpoint.port else { return }
        var stamp = UInt64(Date().timeIntervalSince1970 * 1000)
        if stamp <= lastBeaconTimestamp { stamp = lastBeaconTimestamp + 1 }
        lastBeaconTimestamp = stamp
        multicast.sendBeacon(node.links.makeBeacon(listenPort: port, timestamp: stamp))
    }

    /// The socket to send to `endpoint` from: an IPv4 one for IPv4 if there is one, else the first
    /// IPv6 (dual-stack) socket.
    func socketIndex(for endpoint: Endpoint) -> Int {
        if endpoint.isIPv4, let i = sockets.firstIndex(where: { $0.family == AF_INET }) { return i }
        return sockets.firstIndex(where: { $0.family == AF_INET6 }) ?? 0
    }

    // MARK: Outputs

    func sendSocket(for endpoint: Endpoint) -> Int {
        endpoint.socket < sockets.count ? endpoint.socket : socketIndex(for: endpoint)
    }

    /// A datagram that stays in its receive slot until the next flush sends it.
    func queue(borrowing bytes: UnsafeRawBufferPointer, to endpoint: Endpoint) {
        let i = sendSocket(for: endpoint)
        if sendBatches[i].isFull { sockets[i].sendBatch(sendBatches[i]) }
        sendBatches[i].append(borrowing: bytes, to: endpoint)
    }

    func flush() {
        // Swapping with a spare keeps both outputs' arrays allocated across flushes.
        var out = spareOutput
        swap(&out, &node.output)
        defer { out.removeAll(); spareOutput = out }
        for (bytes, endpoint) in out.datagrams {
            let i = sendSocket(for: endpoint)
            if sendBatches[i].isFull { sockets[i].sendBatch(sendBatches[i]) }
            sendBatches[i].append(bytes, to: endpoint)
        }
        for (i, batch) in sendBatches.enumerated() where !batch.isEmpty { sockets[i].sendBatch(batch) }
        if let tun {
            if tun.offloading {
                coalescer.coalesce(out.tunPackets) { packet, header in _ = tun.write(packet, header: header) }
            } else {
                for packet in out.tunPackets { packet.withUnsafeBytes { tun.writeCompletingChecksum($0, partial: packet.checksumPartial) } }
            }
        }
        for uri in out.resolve {
            resolver.resolve(uri) { [unowned self] result in
                let now = MonotonicClock.now()
                switch result {
                case .success(let endpoints):
                    let placed = endpoints.map { e -> Endpoint in var e = e; e.socket = self.socketIndex(for: e); return e }
                    self.node.resolved(uri, endpoints: placed, now: now)
                case .failure(let error):
                    self.logger.info("cannot resolve peer", [("uri", uri.description), ("error", "\(error)")])
                    self.node.resolved(uri, endpoints: [], now: now)
                }
                self.flush()
            }
        }
        loop.setDeadline(node.nextDeadline)
    }

    /// Non-zero losses at the runtime's edge, for `getStats`.
    func ioDrops() -> [(String, UInt64)] {
        var out: [(String, UInt64)] = []
        if let tun {
            if tun.offloadDrops > 0 { out.append(("io-tun-offload-malformed", UInt64(tun.offloadDrops))) }
            if tun.writeErrors > 0 { out.append(("io-tun-write-failed", UInt64(tun.writeErrors))) }
        }
        let unsent = sockets.reduce(0) { $0 + $1.sendErrors }
        if unsent > 0 { out.append(("io-udp-send-failed", UInt64(unsent))) }
        return out
    }

    // MARK: Seqno persistence

    var seqnoPath: String { config.stateDir + "/router-seqno" }

    /// A restarted node starts its route seqno past the one it last announced, so its fresh
    /// updates win over the old ones its neighbours still hold.
    func restoreSeqno() {
        guard let text = try? String(contentsOfFile: seqnoPath, encoding: .utf8),
              let saved = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return }
        node.router.restoreSelfSeqno(saved &+ 64)
    }

    func saveSeqno() {
        try? "\(node.router.selfSeqno)\n".write(toFile: seqnoPath, atomically: true, encoding: .utf8)
    }
}

/// Answers admin calls on the loop thread: the admin server's thread posts the call and waits
/// (bounded) for the reply, so a slow node can't wedge the admin socket forever.
final class NodeAdminHandler: AdminHandler, @unchecked Sendable {
    unowned let runner: NodeRunner

    init(runner: NodeRunner) { self.runner = runner }

    func handle(request: String, arguments: JSONValue) -> Result<JSONValue, AdminError> {
        let rendezvous = AdminRendezvous()
        let posted = runner.loop.post { [runner] in
            var result = runner.node.admin(request, arguments, now: MonotonicClock.now())
            if request == AdminCall.getStats.rawValue, case .success(let stats) = result {
                result = .success(NodeAdminHandler.adding(runner.ioDrops(), toDropsOf: stats))
            }
            runner.flush()
            switch result {
            case .success(let v): rendezvous.fulfil(.success(v))
            case .failure(let e): rendezvous.fulfil(.failure(AdminError(e.description)))
            }
        }
        guard posted else { return .failure(AdminError("node is busy")) }
        return rendezvous.wait(timeout: 5)
    }

    /// The node counts what it drops; what the runtime loses at the kernel's edge (a TUN read
    /// whose offload framing doesn't add up, a failed TUN write, a datagram the socket refused)
    /// joins the same `drops` object, under `io-` reasons, kept in name order.
    static func adding(_ io: [(String, UInt64)], toDropsOf stats: JSONValue) -> JSONValue {
        guard !io.isEmpty, case .object(var fields) = stats, let i = fields.firstIndex(where: { $0.0 == "drops" }),
              case .object(let drops) = fields[i].1 else { return stats }
        let merged = (drops + io.map { ($0.0, JSONValue.number(Double($0.1))) }).sorted { $0.0 < $1.0 }
        fields[i].1 = .object(merged)
        return .object(fields)
    }
}
