#if canImport(Glibc)
import Glibc
#endif
import CPlanetShim
import PlanetCore
import PlanetNode
import PlanetRuntime

/// Drives every generated node on the calling thread: one epoll over all their sockets, one
/// heap of their deadlines, one receive batch and one transmit queue shared by all.
///
/// Why not a `NodeRunner` per node: each has its own event loop, timerfd, 64 × 64 KiB receive
/// batch and 256 transmit slots (~4.5 MB), and wants a thread; 10⁴ of them are 45 GB and 10⁴
/// threads. Here the nodes share what is only used during one call into one of them: the
/// receive batch (32 × 2 KiB) and the `TransmitQueue` (64 slots), which is sent through the
/// calling node's socket and emptied before the next node is called (`flush`), so no
/// datagram ever waits in it for another node's turn.
final class Generator {
    let options: Options
    let target: Endpoint
    private(set) var nodes: [VirtualNode] = []
    private var heap: DeadlineHeap
    private var nodeOfFD: [Int32] = []
    private let epfd: Int32
    private var ready = [Int32](repeating: 0, count: 256)
    private let transmits = TransmitQueue(slotCount: 64, slotSize: 2048)
    private let batch = DatagramBatch(capacity: 32, slotSize: 2048)
    private var unlinked: [Int] = []
    var pinger = Pinger()

    /// Every UDP byte and datagram the generated nodes sent and received (payloads, as the
    /// sockets saw them: the hub's control traffic to and from all of them).
    private(set) var bytesSent: UInt64 = 0
    private(set) var bytesReceived: UInt64 = 0
    private(set) var datagramsSent: UInt64 = 0
    private(set) var datagramsReceived: UInt64 = 0
    private(set) var sendFailures: UInt64 = 0
    private(set) var linkedCount = 0
    private(set) var lastLinkedAt: Instant?

    init(options: Options, target: Endpoint) throws(SystemError) {
        self.options = options
        self.target = target
        heap = DeadlineHeap(count: options.nodes)
        epfd = planet_epoll_create()
        guard epfd >= 0 else { throw SystemError("epoll_create1") }
        nodes.reserveCapacity(options.nodes)
    }

    /// The address node `i` binds. Towards an IPv4 loopback target every node gets its own
    /// source address in 127.0.0.0/8 (127.2.0.1 + i): the hub limits handshakes per source
    /// address (`LinkConstants.initsPerSourcePerSecond`, 2/s), and 10⁴ peers of a public hub
    /// come from 10⁴ hosts, not one. Otherwise the wildcard of the target's family: one source
    /// address, so linking is held to that limit (said on stderr).
    func bindHost(_ i: Int) -> String {
        if target.isIPv4, options.peer.host.hasPrefix("127.") {
            let a = 0x7f02_0001 + UInt32(i)
            return "\(a >> 24).\((a >> 16) & 0xff).\((a >> 8) & 0xff).\(a & 0xff)"
        }
        return target.isIPv4 ? "0.0.0.0" : "::"
    }

    // MARK: Nodes

    func startNode(now: Instant) throws(SystemError) {
        let i = nodes.count
        let identity = NodeIdentity.generate()
        // Small kernel buffers: a stub's traffic is its link's control frames and a few pings.
        let socket = try UDPSocket(listen: PeerURI(host: bindHost(i), port: 0), socketIndex: 0, bufferSize: 256 << 10)
        let node = Node(identity: identity, config: VirtualNode.config(peer: options.peer, identity: identity), logger: .disabled,
                        now: now, ciphers: .hardwareSupported, transmits: transmits)
        nodes.append(VirtualNode(node: node, socket: socket))
        guard planet_epoll_add(epfd, socket.fd) == 0 else { throw SystemError("epoll_ctl add") }
        let fd = Int(socket.fd)
        if fd >= nodeOfFD.count { nodeOfFD.append(contentsOf: repeatElement(-1, count: max(fd + 1 - nodeOfFD.count, 1024))) }
        nodeOfFD[fd] = Int32(i)
        unlinked.append(i)
        flush(i, now: now)
    }

    /// Carries out node `i`'s output: answers its resolve requests with the target's endpoint
    /// (parsed once), sends its datagrams from its socket, hands the packets it delivered to
    /// its TUN to the pinger (and a kernel's echo reply back into the node), and files its
    /// next deadline.
    func flush(_ i: Int, now: Instant) {
        let v = nodes[i]
        var rounds = 0
        repeat {
            if !v.node.output.resolve.isEmpty {
                let uris = v.node.output.resolve
                v.node.output.resolve.removeAll()
                for uri in uris { v.node.resolved(uri, endpoints: [target], now: now) }
            }
            sendTransmits(v)
            if !v.node.output.tunPackets.isEmpty {
                let packets = v.node.output.tunPackets
                v.node.output.tunPackets.removeAll()
                for p in packets {
                    if let reply = pinger.delivered(p.bytes, at: i, address: v.node.address, now: now) {
                        v.node.receiveTunPacket(reply, now: now)
                    }
                }
            }
            rounds += 1
        } while rounds < 8 && !(v.node.output.isEmpty && transmits.isEmpty)
        sendTransmits(v)
        // A deadline already due is taken on the next turn, not in this one: no node can keep
        // the loop from reading sockets.
        heap.schedule(i, at: max(v.node.nextDeadline, now.adding(seconds: 0.001)))
    }

    private func sendTransmits(_ v: VirtualNode) {
        guard !transmits.isEmpty else { return }
        transmits.forEach { pointer, length, endpoint in
            if v.socket.send(UnsafeRawBufferPointer(start: pointer, count: length), to: endpoint) {
                bytesSent += UInt64(length)
                datagramsSent += 1
            } else {
                sendFailures += 1
            }
        }
        transmits.removeAll()
    }

    private func receive(_ i: Int) {
        let v = nodes[i]
        for _ in 0..<4 {
            let n = v.socket.receiveBatch(into: batch)
            if n == 0 { return }
            let now = MonotonicClock.now()
            let loan = batch.lend()
            for k in 0..<n where batch.length(k) >= 0 {
                bytesReceived += UInt64(batch.length(k))
                datagramsReceived += 1
                let from = batch.endpoint(k)
                batch.forEachMutableDatagram(in: k, under: loan) { datagram in
                    v.node.receiveDatagram(inPlace: datagram, from: from, now: now)
                }
            }
            flush(i, now: now)
            loan.repay()
            if n < batch.capacity { return }
        }
    }

    // MARK: The loop

    /// One turn: waits for readable sockets or the earliest deadline (at most `maxWait`
    /// seconds), reads what is ready and ticks every node that is due.
    func turn(maxWait: Double) {
        var now = MonotonicClock.now()
        var wait = maxWait
        if let e = heap.earliest() { wait = min(wait, e <= now ? 0 : e.seconds(since: now)) }
        let timeout = Int32((wait * 1000).rounded(.up))
        let n = ready.withUnsafeMutableBufferPointer { planet_epoll_wait(epfd, $0.baseAddress, Int32($0.count), timeout) }
        for k in 0..<max(0, Int(n)) {
            let fd = Int(ready[k])
            guard fd < nodeOfFD.count, nodeOfFD[fd] >= 0 else { continue }
            receive(Int(nodeOfFD[fd]))
        }
        now = MonotonicClock.now()
        while let i = heap.popDue(now: now) {
            nodes[i].node.tick(now: now)
            flush(i, now: now)
        }
    }

    /// Runs turns until `done()` or `seconds` have passed.
    func run(for seconds: Double, until done: () -> Bool = { false }) {
        let end = MonotonicClock.now().adding(seconds: seconds)
        while !done() {
            let now = MonotonicClock.now()
            if now >= end { return }
            turn(maxWait: min(0.05, end.seconds(since: now)))
        }
    }

    /// Notes the nodes whose upstream link came up since the last look.
    func checkLinked(now: Instant) {
        unlinked.removeAll { i in
            guard nodes[i].isLinked else { return false }
            nodes[i].linkedAt = now
            linkedCount += 1
            lastLinkedAt = now
            return true
        }
    }

    /// Nodes whose link is up now (after linking, one may have dropped).
    var upCount: Int { nodes.reduce(0) { $0 + ($1.isLinked ? 1 : 0) } }

    // MARK: Pings

    private var nextSeq: UInt16 = 1

    /// Writes one echo request into node `a`'s TUN side for node `b`'s overlay address.
    func ping(from a: Int, to b: Int, now: Instant) {
        let seq = nextSeq
        nextSeq &+= 1
        pinger.sending(seq: seq, from: a, to: b, now: now)
        let packet = Pinger.request(from: nodes[a].node.address, to: nodes[b].node.address, seq: seq)
        nodes[a].node.receiveTunPacket(packet, now: now)
        flush(a, now: now)
    }
}
