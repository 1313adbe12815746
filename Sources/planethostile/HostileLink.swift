#if canImport(Glibc)
import Glibc
#endif
import PlanetCore
import PlanetLink

/// The hostile node's one link layer: the project's own `LinkLayer` (a fresh key, real
/// handshakes, so what it sends arrives authenticated) over a plain UDP socket, turned by hand.
/// Both subcommands are built on it; neither needs a `Node` or `NodeRunner`, so nothing in the
/// product carries a hook for them.
final class HostileLink {
    let identity = NodeIdentity.generate()
    let links: LinkLayer
    private let fd: Int32
    private var clockStart = timespec()
    private var buffer = [UInt8](repeating: 0, count: 65536)

    /// Binds [::]:`listenPort`; reads wait at most 20 ms, so `pump` keeps the link layer's timers.
    init(listenPort: UInt16) {
        clock_gettime(CLOCK_MONOTONIC, &clockStart)
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { die(1, "socket failed") }
        self.fd = fd
        var local = sockaddr_in6()
        local.sin6_family = sa_family_t(AF_INET6)
        local.sin6_port = listenPort.bigEndian
        guard withUnsafePointer(to: &local, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }) == 0 else {
            die(1, "bind [::]:\(listenPort) failed")
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        links = LinkLayer(identity: identity, rng: SplitMix64(seed: UInt64(getpid())), now: Instant(seconds: 1000))
    }

    /// Monotonic, starting at 1000 s as the link layer was made.
    func now() -> Instant {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Instant(seconds: Double(t.tv_sec - clockStart.tv_sec) + Double(t.tv_nsec - clockStart.tv_nsec) / 1e9 + 1000)
    }

    /// Unix time, for capacity records.
    func unixNow() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Dials `[ADDR]:PORT` (an IPv6 literal).
    func dial(_ peer: Peer) {
        links.addPeer(uri: PeerURI(host: peer.endpoint.address.description, port: peer.endpoint.port), now: now())
    }

    /// Sends one inner frame on the link to `key`; false when the link layer refused it.
    @discardableResult
    func send(frame: [UInt8], to key: PublicKey) -> Bool { links.send(frame: frame, to: key, now: now()) }

    /// Sends what the link layer queued.
    func flush() {
        for (bytes, to) in links.transmits.drain() { send(bytes, to: to) }
    }

    /// Runs the link layer for `seconds` (0: one turn): sends what it queues, feeds it what
    /// arrives, answers its lookups (peers are IPv6 literals), and hands every other event to
    /// `handle`.
    func pump(_ seconds: Double, _ handle: (LinkEvent) -> Void = { _ in }) {
        let end = now().adding(seconds: seconds)
        repeat {
            flush()
            for event in links.drainEvents() {
                if case .resolve(let uri) = event {
                    let endpoints = IPv6Address(uri.host).map { [Endpoint(address: $0, port: uri.port)] } ?? []
                    links.resolved(uri: uri, endpoints: endpoints, now: now())
                } else {
                    handle(event)
                }
            }
            var from = sockaddr_in6()
            var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let n = buffer.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &length) } }
            }
            if n > 0 {
                let address = withUnsafeBytes(of: from.sin6_addr) { IPv6Address(Array($0))! }
                links.receive(datagram: Array(buffer[..<n]), from: Endpoint(address: address, port: UInt16(bigEndian: from.sin6_port)), now: now())
            }
            if links.nextDeadline <= now() { links.tick(now: now()) }
        } while seconds > 0 && now() < end
    }

    private func send(_ bytes: [UInt8], to e: Endpoint) {
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = e.port.bigEndian
        withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in for (i, b) in e.address.bytes.enumerated() { raw[i] = b } }
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            } }
        }
    }
}

/// A peer given on the command line as `[ADDR]:PORT`.
struct Peer {
    let text: String
    let endpoint: Endpoint

    init(_ text: String) {
        guard case .success(let uri) = PeerURI.parse("udp://" + text, allowKey: false),
              let address = IPv6Address(uri.host) else { die(2, "--peer must be [IPv6]:PORT, got '\(text)'") }
        self.text = text
        endpoint = Endpoint(address: address, port: uri.port)
    }
}

func die(_ code: Int32, _ message: String) -> Never {
    say(message)
    exit(code)
}

/// One line on stderr (the integration tests keep it in the node's log).
func say(_ message: String) {
    var line = "planethostile: " + message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
