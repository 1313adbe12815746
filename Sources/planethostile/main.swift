#if canImport(Glibc)
import Glibc
#endif
import PlanetCapacity
import PlanetCore
import PlanetLink
import PlanetNode
import PlanetRouting

// planethostile: a neighbour that completes a real link handshake with a node and then
// misbehaves, for Tests/Integration/test_hostile_peer.sh. Built on the project's own link
// layer over a plain UDP socket; never installed. (The `capacity` branch's planetfault, a
// misbehaving planetd, is the other half of the hostile-peer tooling; this one needs no node
// of its own, so it can send what no node would.)
//
//   planethostile --listen PORT --peer [ADDR]:PORT MODE COUNT
//
// MODE: malformed   COUNT inner frames of every type, random lengths and bytes
//       origins     COUNT genuinely signed routes for fresh keys (fake origins)
//       retract     COUNT retractions and absurd-metric refreshes for random keys
//       replay      the first signed update sent COUNT times (replayed, same seqno)
//       sessions    COUNT session inits to the peer's own overlay address
//       records     100 re-announcements of one key (far faster than its rate limit),
//                   then COUNT genuinely signed capacity records for fresh keys
// Prints one line: what it sent. Exit 2 on bad arguments, 1 if it cannot link in 10 s.

func die(_ code: Int32, _ message: String) -> Never {
    var line = "planethostile: " + message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(code)
}

var args = Array(CommandLine.arguments.dropFirst())
@MainActor func take(_ flag: String) -> String {
    guard let i = args.firstIndex(of: flag), i + 1 < args.count else { die(2, "\(flag) is required") }
    let v = args[i + 1]
    args.removeSubrange(i...(i + 1))
    return v
}
guard let listenPort = UInt16(take("--listen")) else { die(2, "--listen must be a port number") }
let peerText = take("--peer")
guard case .success(let peerURI) = PeerURI.parse("udp://" + peerText, allowKey: false),
      let peerAddress = IPv6Address(peerURI.host) else { die(2, "--peer must be [IPv6]:PORT, got '\(peerText)'") }
guard args.count == 2, let count = Int(args[1]), count >= 0 else { die(2, "usage: --listen PORT --peer [ADDR]:PORT MODE COUNT") }
let mode = args[0]
guard ["malformed", "origins", "retract", "replay", "sessions", "records"].contains(mode) else { die(2, "unknown MODE '\(mode)'") }

// MARK: A UDP socket

let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
guard fd >= 0 else { die(1, "socket failed") }
var local = sockaddr_in6()
local.sin6_family = sa_family_t(AF_INET6)
local.sin6_port = listenPort.bigEndian
guard withUnsafePointer(to: &local, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }) == 0 else {
    die(1, "bind [::]:\(listenPort) failed")
}
var timeout = timeval(tv_sec: 0, tv_usec: 20_000)
setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

@MainActor func sockaddr6(_ e: Endpoint) -> sockaddr_in6 {
    var sa = sockaddr_in6()
    sa.sin6_family = sa_family_t(AF_INET6)
    sa.sin6_port = e.port.bigEndian
    withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in for (i, b) in e.address.bytes.enumerated() { raw[i] = b } }
    return sa
}

@MainActor func send(_ bytes: [UInt8], to e: Endpoint) {
    var sa = sockaddr6(e)
    _ = bytes.withUnsafeBytes { b in
        withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
        } }
    }
}

var clockStart = timespec()
clock_gettime(CLOCK_MONOTONIC, &clockStart)
@MainActor func now() -> Instant {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Instant(seconds: Double(t.tv_sec - clockStart.tv_sec) + Double(t.tv_nsec) / 1e9 + 1000)
}

// MARK: Linking

let identity = NodeIdentity.generate()
let links = LinkLayer(identity: identity, rng: SplitMix64(seed: UInt64(getpid())), now: now())
let peerEndpoint = Endpoint(address: peerAddress, port: peerURI.port)
links.addPeer(uri: PeerURI(host: peerURI.host, port: peerURI.port), now: now())
var peerKey: PublicKey?
var buffer = [UInt8](repeating: 0, count: 65536)

/// Runs the link layer for `seconds`: sends what it queues, feeds it what arrives.
@MainActor func pump(_ seconds: Double) {
    let end = now().adding(seconds: seconds)
    repeat {
        for (bytes, to) in links.transmits.drain() { send(bytes, to: to) }
        for event in links.drainEvents() {
            switch event {
            case .linkUp(let key, _, _): peerKey = key
            case .resolve(let uri): links.resolved(uri: uri, endpoints: [peerEndpoint], now: now())
            default: break
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
    } while now() < end && !(seconds == 0)
}

let linkDeadline = now().adding(seconds: 10)
while peerKey == nil, now() < linkDeadline { pump(0.05) }
guard let target = peerKey else { die(1, "no link to \(peerText) within 10 s") }

/// One inner frame to the target on the link; the link keeps running between sends.
var sent = 0
@MainActor func frame(_ bytes: [UInt8]) {
    if links.send(frame: bytes, to: target, now: now()) { sent += 1 }
    if sent % 64 == 0 { pump(0.001) } else {
        for (b, to) in links.transmits.drain() { send(b, to: to) }
    }
}

/// Routing TLVs packed into messages that fit a link frame (the routing inner frame 0x10).
@MainActor func routing(_ tlvs: [RoutingTLV]) {
    var w = ByteWriter(capacity: 1400)
    w.u8(RoutingMessage.version)
    for tlv in tlvs {
        if w.bytes.count + tlv.encodedSize > 1200 {
            frame([InnerFrameType.routing.rawValue] + w.bytes)
            w = ByteWriter(capacity: 1400)
            w.u8(RoutingMessage.version)
        }
        tlv.encode(into: &w)
    }
    if w.bytes.count > 1 { frame([InnerFrameType.routing.rawValue] + w.bytes) }
}

var rng = SplitMix64(seed: 15)
@MainActor func randomBytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }

switch mode {
case "malformed":
    let types: [UInt8] = [0x00, 0x01, 0x02, 0x10, 0x11, 0x20, 0x21, 0x22, 0x30, 0xff]
    for i in 0..<count {
        let length = Int(rng.next() % 300)
        frame([types[i % types.count]] + randomBytes(length))
    }
case "origins":
    var batch: [RoutingTLV] = []
    for _ in 0..<count {
        let fake = NodeIdentity.generate()
        batch.append(.update(origin: fake.publicKey, seqno: 1, flags: 0, metric: 10,
                             signature: OriginSignature.sign(fake, seqno: 1, flags: 0)))
        if batch.count == 1000 { routing(batch); batch.removeAll() }
    }
    routing(batch)
case "retract":
    var batch: [RoutingTLV] = []
    for i in 0..<count {
        let key = PublicKey(randomBytes(32)) ?? identity.publicKey
        batch.append(i % 2 == 0 ? .retraction(origin: key) : .refresh(origin: key, seqno: UInt32.max, metric: 0))
    }
    routing(batch)
case "replay":
    let fake = NodeIdentity.generate()
    let update = RoutingTLV.update(origin: fake.publicKey, seqno: 7, flags: 0, metric: 10,
                                   signature: OriginSignature.sign(fake, seqno: 7, flags: 0))
    for _ in 0..<count { routing([update]) }
case "sessions":
    let destination = target.address
    for i in 0..<count {
        let hs = HandshakeInitiator(local: identity, localIndex: UInt32(i + 1), expectedPeer: target, domain: "planetary-session-v1")
        let message = [SessionMessageType.handshakeInit.rawValue] + hs.initMessage()
        frame(OverlayPacket.make(hopLimit: 64, destination: destination, source: identity.address, message: message))
    }
case "records":
    // Records carry Unix times; each is valid for an hour from now, so the receiver's rules
    // (issue time, expiry, lifetime) pass and only its bounds and rate limits stand in the way.
    let unix = UInt64(time(nil))
    var batch: [[UInt8]] = []
    var size = 2
    @MainActor func add(_ record: [UInt8]) {
        if !batch.isEmpty && (size + 2 + record.count > CapacityMessage.maxBytes || batch.count == 255) {
            frame([InnerFrameType.capacity.rawValue] + CapacityMessage.records(batch).encoded())
            batch.removeAll()
            size = 2
        }
        batch.append(record)
        size += 2 + record.count
    }
    // The re-announcements first, while the directory still has room for their key.
    let churner = NodeIdentity.generate()
    for seqno in 1...100 {
        add(CapacityRecord(key: churner.publicKey, seqno: UInt64(seqno), issuedAt: unix, expiresAt: unix + 3600).signed(by: churner))
    }
    for _ in 0..<count {
        let fake = NodeIdentity.generate()
        add(CapacityRecord(key: fake.publicKey, seqno: 1, issuedAt: unix, expiresAt: unix + 3600,
                           total: CapacityResources(cru: 64, mru: 1 << 40, sru: 0, hru: 0), country: "ZZ").signed(by: fake))
    }
    if !batch.isEmpty { frame([InnerFrameType.capacity.rawValue] + CapacityMessage.records(batch).encoded()) }
default:
    break
}
pump(1)
print("planethostile \(mode): \(sent) frames sent to \(target.short) over a live link")
