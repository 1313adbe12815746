import Foundation
import PlanetCore
import PlanetLink
import PlanetNode
#if canImport(Glibc)
import Glibc
#endif

/// Runs a `Node` on Linux: one event-loop thread owns the node and everything that feeds it
/// (its datagram transports, its packet devices, multicast beacons, the node's deadline).
///
/// Threads: the loop thread (whoever calls `run()`; planetd's main thread) does all the node's
/// work. The admin server, the metrics server and the explorer page each run a thread of their
/// own ("planet-admin", "planet-metrics", "planet-web", `StreamServerLoop`) that only parses requests and
/// `post`s them to the loop (`NodeAdminHandler`); the resolver runs getaddrinfo on a
/// Dispatch queue and posts the answers back. So the node itself needs no locks. (planetd adds
/// one more thread, which waits for SIGINT/SIGTERM and calls `stop()`.)
///
/// After every input the runner drains the node's output: datagrams are batched per transport
/// (one sendmmsg each), packets are written to the device their `interface` names, host names
/// go to the resolver.
///
/// I/O goes through two protocols, `DatagramTransport` (UDP sockets) and `PacketDevice` (the
/// TUN, keyed `.tun`; other `PacketInterface`s for any device a runner is given; VMs are
/// kernel-routed through the TUN and set up by `VMHost`), so tests drive the runner through
/// in-memory doubles (PlanetTesting's `MemoryTransport`, `MemoryPacketDevice`). It calls them once per batch,
/// never per packet, so holding them as existentials costs the data path nothing measurable.
public final class NodeRunner: @unchecked Sendable {
    public let node: Node
    let config: NodeConfig
    let logger: Logger
    let loop: EventLoop
    let scopes: LinkLocalScopes
    let transports: [any DatagramTransport]
    /// Each transport's family, read once: choosing a transport for a datagram then calls nothing.
    let transportFamilies: [Int32]
    let devices: [PacketInterface: any PacketDevice]
    var multicast: MulticastSocket?
    let resolver: Resolver
    var admin: AdminServer?
    var metrics: MetricsServer?
    var web: WebServer?
    var beaconTimer: PeriodicTimer?
    var seqnoTimer: PeriodicTimer?
    var localEndpointsTimer: PeriodicTimer?
    var capacityTimer: PeriodicTimer?  // capacity directory: NodeRunner+Capacity.swift
    lazy var capacitySaver = CapacityDirectorySaver(path: CapacityDirectoryFile.path(config), logger: logger)
    let receiveBatch: DatagramBatch
    var sendBatches: [SendBatch] = []
    var lastBeaconTimestamp: UInt64 = 0
    let seqnoFile: RouterSeqnoFile
    var seqnoSaveFailing = false
    var spareOutput = NodeOutput()
    let coalescer = PacketCoalescer()
    /// The VMs this node hosts, host side (nil without a TUN: VMs are routed through it).
    public internal(set) var vmHost: VMHost?
    /// Packets the node addressed to an interface with no device (`io-unknown-interface`).
    var unknownInterfaceDrops = 0
    /// The node's Yggdrasil 0.5 side (NodeRunner+Yggdrasil.swift), when `peers` or `listen`
    /// name a tcp:// or tls:// link.
    var yggdrasil: YggdrasilGateway?

    static let beaconInterval = 5.0
    /// The node's transmit slots: room for a full send (`sendEvery`) and what one more input
    /// adds (a TCP super-packet from the TUN becomes up to ~45 datagrams).
    static let transmitSlots = 256
    /// The readers send what the node queued once this many wait: one full `sendmmsg`.
    static let sendEvery = 64

    /// Ciphers this node offers: what the CPU runs, minus both AES-based ciphers when the
    /// operator sets PLANETARY_NO_AES=1 (to rule out a broken AES unit), minus AEGIS-256 alone
    /// with PLANETARY_NO_AEGIS=1 (to compare with AES-256-GCM).
    static func offeredCiphers(environment: [String: String] = ProcessInfo.processInfo.environment) -> TransportCiphers {
        var c = TransportCiphers.hardwareSupported
        func set(_ name: String) -> Bool { if let v = environment[name], !v.isEmpty, v != "0" { return true }; return false }
        if set("PLANETARY_NO_AES") { c.remove(.aes256Gcm); c.remove(.aegis256) }
        if set("PLANETARY_NO_AEGIS") { c.remove(.aegis256) }
        return c
    }

    /// UDP segmentation offload on the TUN unless the operator sets PLANETARY_NO_USO=1 (to
    /// compare, or to rule it out).
    static func wantsUDPOffload(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let v = environment["PLANETARY_NO_USO"], !v.isEmpty, v != "0" else { return true }
        return false
    }

    /// planetd's runner: binds a UDP socket per `listen` URI, creates and configures the TUN
    /// (when enabled) and the multicast socket (when discovery is on).
    public convenience init(config: NodeConfig, identity: NodeIdentity, logger: Logger) throws(StartupError) {
        let scopes = LinkLocalScopes()
        var sockets: [any DatagramTransport] = []
        // tcp:// and tls:// listen URIs are Yggdrasil listeners (YggdrasilTransport), not UDP sockets.
        for (i, uri) in config.listen.enumerated() where uri.scheme == .udp {
            do {
                sockets.append(try UDPSocket(listen: uri, socketIndex: i, scopes: scopes, gro: true))
            } catch {
                throw StartupError("listen[\(i)] \(uri): cannot bind: \(error)")
            }
        }
        var devices: [PacketInterface: any PacketDevice] = [:]
        if config.tun.enabled {
            do {
                let device = try TunDevice(name: config.tun.name, offload: true, udpOffload: NodeRunner.wantsUDPOffload())
                try device.configure(address: identity.address, mtu: config.tun.mtu)
                devices[.tun] = device
                // Which offloads the kernel took decides the data path's cost (Docs/performance.md).
                logger.info("tun offloads", [("tcp", device.offloading ? "on" : "off"), ("udp", device.udpOffloading ? "on" : "off")])
            } catch {
                throw StartupError("tun: cannot create \(config.tun.name): \(error) (planetd needs root or CAP_NET_ADMIN)")
            }
        }
        var multicast: MulticastSocket?
        if !config.multicast.isEmpty, !sockets.isEmpty {
            do {
                multicast = try MulticastSocket(patterns: config.multicast, excluded: [config.tun.name], scopes: scopes)
            } catch {
                logger.warn("link-local discovery is off: cannot open multicast socket", [("error", "\(error)")])
            }
        }
        try self.init(config: config, identity: identity, logger: logger, transports: sockets, devices: devices,
                      multicast: multicast, scopes: scopes)
        if config.tun.enabled {
            let host = VMHost(subnet: identity.subnet, tunName: config.tun.name, mtu: config.tun.mtu, stateDir: config.stateDir,
                              host: SystemHostNetwork(), logger: logger)
            adoptVMs(host)
        }
    }

    /// A runner over the given transports and devices, opened by the caller: planetd's sockets
    /// and TUN, or in-memory doubles. `transports[i]` must report socket index i. The runner
    /// owns them from here on and closes them when it stops.
    public init(config: NodeConfig, identity: NodeIdentity, logger: Logger, transports: [any DatagramTransport],
                devices: [PacketInterface: any PacketDevice], multicast: MulticastSocket? = nil,
                scopes: LinkLocalScopes = LinkLocalScopes()) throws(StartupError) {
        for (i, t) in transports.enumerated() where t.localEndpoint.socket != i {
            throw StartupError("transport \(i) (\(t.localEndpoint)) reports socket index \(t.localEndpoint.socket)")
        }
        self.config = config
        self.logger = logger
        self.scopes = scopes
        self.transports = transports
        transportFamilies = transports.map(\.family)
        self.devices = devices
        self.multicast = multicast
        do { loop = try EventLoop() } catch { throw StartupError("cannot create event loop: \(error)") }
        resolver = Resolver(loop: loop)
        let slot = max(2048, config.tun.mtu + 512)
        sendBatches = transports.map { _ in SendBatch(capacity: 64, slotSize: slot) }
        // The node writes and seals every datagram in these slots; the flush sends them from there.
        let transmits = TransmitQueue(slotCount: NodeRunner.transmitSlots, slotSize: slot)
        // 64 KiB slots: with UDP_GRO one receive may hold a whole run of a peer's datagrams.
        receiveBatch = DatagramBatch(capacity: 64, slotSize: 65536)
        seqnoFile = RouterSeqnoFile(stateDir: config.stateDir)
        node = Node(identity: identity, config: config, logger: logger, now: MonotonicClock.now(), ciphers: NodeRunner.offeredCiphers(),
                    transmits: transmits)
        restoreSeqno()
        startCapacity()  // capacity directory: NodeRunner+Capacity.swift
        try startYggdrasil()  // NodeRunner+Yggdrasil.swift
    }

    /// Re-applies the host's leases (a vanished namespace or tap is reported by `vm list`, not
    /// fatal), tells the node every VM's address and policy, and what they declare to the
    /// capacity record, and starts the watch that repairs what the host loses behind planetd's
    /// back (`VMHost.watch`). Before the loop runs.
    public func adoptVMs(_ host: VMHost) {
        vmHost = host
        for lease in host.restore() { node.setVM(name: lease.name, address: lease.address, policy: lease.policy) }
        declareVMCapacity()  // capacity directory: NodeRunner+Capacity.swift
        host.startWatching()
    }

    // MARK: Lifetime

    /// Runs the loop on the calling thread until `stop()`, with the admin and metrics servers and
    /// the explorer page.
    public func run() throws(StartupError) {
        try start()
        let handler = NodeAdminHandler(runner: self)
        let server = AdminServer(options: .init(config: config), handler: handler, logger: logger)
        try server.start()
        admin = server
        if !config.metricsListen.isEmpty {
            let m = MetricsServer(listen: config.metricsListen, logger: logger, provider: MetricsServer.statsProvider(from: handler))
            try m.start()
            metrics = m
        }
        // After the admin socket: a second planetd on the same socket says so, not that the
        // page's port is taken. The page asks the same handler the socket does.
        if !config.webListen.isEmpty {
            let w = WebServer(listen: config.webListen, handler: handler, logger: logger)
            try w.start()
            web = w
        }
        loop.run()
        shutdown()
    }

    /// Registers every input with the loop and sends the node's first output; `run()` then runs
    /// the loop. Tests call this alone and turn the loop themselves (`EventLoop.runOnce`).
    func start() throws(StartupError) {
        do {
            for (i, t) in transports.enumerated() {
                try loop.register(fd: t.readinessFD) { [unowned self] in self.readTransport(i) }
            }
            for (interface, device) in devices {
                try loop.register(fd: device.readinessFD) { [unowned self] in self.readDevice(device, interface: interface) }
            }
            if let multicast {
                try loop.register(fd: multicast.fd) { [unowned self] in self.readMulticast() }
                try multicast.startRescanning(on: loop)
                beaconTimer = try PeriodicTimer(loop: loop, every: NodeRunner.beaconInterval) { [unowned self] in self.sendBeacons() }
                sendBeacons()
            }
            seqnoTimer = try PeriodicTimer(loop: loop, every: 30) { [unowned self] in self.saveSeqno() }
            capacityTimer = try PeriodicTimer(loop: loop, every: NodeRunner.capacityInterval) { [unowned self] in self.capacityTimerFired() }
            refreshLocalEndpoints()
            localEndpointsTimer = try PeriodicTimer(loop: loop, every: NodeRunner.localEndpointsInterval) { [unowned self] in
                self.refreshLocalEndpoints()
            }
        } catch {
            throw StartupError("cannot start the event loop: \(error)")
        }
        loop.onDeadline { [unowned self] now in
            self.node.tick(now: now)
            self.yggdrasil?.tick(now: now)
            self.flush()
        }
        flush()
    }

    /// Safe from any thread (a signal waiter).
    public func stop() { loop.stop() }

    func shutdown() {
        // The VMs' host state stays as it is (their interfaces, rules and filters outlive
        // planetd, and the next start adopts them); only the watch stops.
        vmHost?.stopWatching()
        web?.stop()
        metrics?.stop()
        admin?.stop()
        saveSeqno()
        saveCapacity(final: true)  // capacity directory: NodeRunner+Capacity.swift
        yggdrasil?.transport.stop()
        for device in devices.values { device.close() }
        for t in transports { t.close() }
        multicast?.close()
    }

    func sendBeacons() {
        guard let multicast, let port = transports.first?.localEndpoint.port else { return }
        // The wall clock, not the monotonic one: see `WallClock` for why a beacon needs it.
        var stamp = WallClock.unixMilliseconds()
        if stamp <= lastBeaconTimestamp { stamp = lastBeaconTimestamp + 1 }
        lastBeaconTimestamp = stamp
        multicast.sendBeacon(node.makeBeacon(listenPort: port, timestamp: stamp))
    }

    /// The transport to send to `endpoint` from: an IPv4 one for IPv4 if there is one, else the
    /// first IPv6 (dual-stack) one.
    func socketIndex(for endpoint: Endpoint) -> Int {
        if endpoint.isIPv4, let i = transportFamilies.firstIndex(of: AF_INET) { return i }
        return transportFamilies.firstIndex(of: AF_INET6) ?? 0
    }

    // MARK: Seqno persistence

    /// A restarted node starts its route seqno past the one it last announced, so its fresh
    /// updates win over the old ones its neighbours still hold (`RouterSeqnoFile`).
    func restoreSeqno() {
        do {
            if let seqno = try seqnoFile.restore() { node.restoreRouteSeqno(seqno) }
        } catch {
            logger.warn("route seqno not restored: starting from 0, so neighbours may prefer our old routes for a while",
                        [("error", error.description)])
        }
    }

    /// Saves every 30 s and on stop. A failure is logged once until a save succeeds again: the
    /// node runs on regardless, but after a restart its routes could lose to its own old ones.
    func saveSeqno() {
        do {
            try seqnoFile.save(node.routeSeqno)
            if seqnoSaveFailing { logger.info("route seqno saved again", [("path", seqnoFile.path)]) }
            seqnoSaveFailing = false
        } catch {
            if !seqnoSaveFailing { logger.warn("cannot save the route seqno", [("error", error.description)]) }
            seqnoSaveFailing = true
        }
    }
}
