#if canImport(Glibc)
import Glibc
#endif
import CPlanetShim
import PlanetCore

/// A nonblocking UDP socket bound to one listen URI. `[::]` (or any IPv6 literal) makes a
/// dual-stack AF_INET6 socket whose IPv4 peers appear as v4-mapped endpoints; an IPv4
/// literal makes an AF_INET socket, for which v4-mapped endpoints are converted back to
/// sockaddr_in on send. Every endpoint it reports carries `socketIndex`.
public final class UDPSocket: DatagramTransport {
    /// Requested kernel buffer size; forced past rmem_max/wmem_max when running as root.
    public static let defaultBufferSize = 4 << 20

    public let fd: Int32
    public let family: Int32
    public let socketIndex: Int
    public let localEndpoint: Endpoint
    /// Effective receive buffer the kernel granted (it reports double the request).
    public let receiveBufferSize: Int
    /// UDP_GRO accepted: receive batches need 64 KiB slots (65536 bytes).
    public let groEnabled: Bool
    public let scopes: LinkLocalScopes

    /// Failures counted rather than thrown: the data path keeps going.
    public private(set) var receiveErrors = 0
    public private(set) var truncatedDrops = 0
    public private(set) var sendErrors = 0
    public private(set) var lastSendErrno: Int32 = 0
    /// UDP GSO for runs of equal-size datagrams to one peer; the shim clears it for good when
    /// the kernel can't segment on this socket's route.
    public var gsoEnabled: Int32 = 1
    private var closed = false

    /// Binds `uri` (host must be an IPv4 or IPv6 literal; port 0 picks a free port). `gro` turns
    /// on UDP_GRO; the caller must then receive into 64 KiB slots.
    public var readinessFD: Int32 { fd }
    public var counters: TransportCounters {
        TransportCounters(receiveErrors: receiveErrors, truncatedDrops: truncatedDrops, sendErrors: sendErrors)
    }

    public init(listen uri: PeerURI, socketIndex: Int = 0, bufferSize: Int = UDPSocket.defaultBufferSize,
                scopes: LinkLocalScopes = LinkLocalScopes(), gro: Bool = false) throws(SystemError) {
        let bindEndpoint: Endpoint
        var scope: UInt32 = 0
        if uri.hostIsIPv6Literal {
            var host = uri.host
            if let pct = host.firstIndex(of: "%") {
                let ifname = String(host[host.index(after: pct)...])
                scope = NetworkInterface.index(of: ifname) ?? UInt32(ifname) ?? 0
                host = String(host[..<pct])
            }
            guard let a = IPv6Address(host) else { throw SystemError("parse listen address \(uri.host)", errno: EINVAL) }
            family = AF_INET6
            bindEndpoint = Endpoint(address: a, port: uri.port)
        } else {
            var v4 = in_addr()
            guard inet_pton(AF_INET, uri.host, &v4) == 1 else {
                throw SystemError("listen host '\(uri.host)' is not an IP literal", errno: EINVAL)
            }
            let b = withUnsafeBytes(of: v4) { Array($0) }
            family = AF_INET
            bindEndpoint = Endpoint(ipv4: b[0], b[1], b[2], b[3], port: uri.port)
        }
        let s = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw SystemError("socket") }
        if family == AF_INET6 { _ = planet_set_v6only(s, 0) }
        var one: Int32 = 1
        _ = setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = planet_set_pmtu_dont(s, family)
        let granted = planet_set_buffers(s, Int32(bufferSize))
        // Runs of datagrams (our peers send them with GSO) arrive glued in one receive. Only
        // useful with receive slots of 64 KiB: `groEnabled` tells the owner to size them so.
        groEnabled = gro && planet_set_udp_gro(s) == 0
        var peer = planet_peer(bindEndpoint, scope: scope)
        guard planet_bind(s, family, &peer) == 0 else {
            let e = SystemError("bind \(uri)")
            Glibc.close(s)
            throw e
        }
        var local = planet_peer()
        _ = planet_local_peer(s, &local)
        fd = s
        self.socketIndex = socketIndex
        self.scopes = scopes
        receiveBufferSize = Int(max(0, granted))
        localEndpoint = local.endpoint(socket: socketIndex)
    }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// Receives what is waiting, up to the batch's capacity, without blocking. Returns the
    /// number of datagrams (0 when none). Truncated datagrams keep their slot with length
    /// -1 and are counted.
    @discardableResult
    public func receiveBatch(into batch: DatagramBatch) -> Int {
        let n = batch.refill(socketIndex: socketIndex) {
            Int(planet_recvmmsg_gro(fd, batch.slab.assumingMemoryBound(to: UInt8.self), batch.slotSize,
                                    Int32(batch.capacity), batch.lengths, batch.peers, batch.segmentSizes))
        }
        guard n >= 0 else {
            receiveErrors += 1
            return 0
        }
        for i in 0..<n {
            if batch.lengths[i] < 0 { truncatedDrops += 1 }
            let p = batch.peers[i]
            if p.scope_id != 0 { scopes.remember(p.scope_id, for: IPv6Address(high: p.high, low: p.low)) }
        }
        return n
    }

    /// Sends one datagram. False (and counted) when the kernel refuses it.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to endpoint: Endpoint) -> Bool {
        var peer = planet_peer(endpoint, scope: scopes.scope(for: endpoint.address))
        let r = planet_sendto(fd, family, bytes.baseAddress, bytes.count, &peer)
        if r < 0 {
            sendErrors += 1
            lastSendErrno = errno
            return false
        }
        return true
    }

    @discardableResult
    public func send(_ bytes: [UInt8], to endpoint: Endpoint) -> Bool {
        bytes.withUnsafeBytes { send($0, to: endpoint) }
    }

    /// Sends every datagram in the batch with as few sendmmsg calls as possible (runs of
    /// equal-size datagrams to one peer as one UDP GSO message each), then
    /// empties it. A datagram the kernel refuses (unreachable, wrong family) is skipped and
    /// counted; EAGAIN drops the rest (the socket buffer is full). Returns how many left.
    @discardableResult
    public func sendBatch(_ batch: SendBatch) -> Int {
        defer { batch.removeAll() }
        let total = batch.count
        for i in 0..<total {
            let e = batch.endpoints[i]
            batch.peers[i] = planet_peer(e, scope: scopes.scope(for: e.address))
        }
        var sent = 0, next = 0
        while next < total {
            let r = Int(planet_sendmmsg_gso(fd, family, batch.pointers + next, batch.lengths + next, batch.peers + next,
                                            Int32(total - next), &gsoEnabled))
            if r > 0 {
                sent += r
                next += r
                continue
            }
            let err = errno
            lastSendErrno = err
            if err == EAGAIN || err == EWOULDBLOCK {
                sendErrors += total - next
                break
            }
            sendErrors += 1
            next += 1
        }
        return sent
    }
}
