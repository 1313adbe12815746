import PlanetCore

/// What the IPv6 layer asks of the layers around it.
public enum YggdrasilIPv6Output: Equatable, Sendable {
    /// A message for the session layer (`IronwoodSessions.send`): the type byte 1, then an IPv6
    /// packet.
    case send(to: PublicKey, message: [UInt8])
    /// Ask the router for a path to the key a destination carries (a partial key: the bits
    /// the address or /64 holds, ones after; `YggdrasilBloomKey.partialKey`).
    case lookup(PublicKey)
    /// An IPv6 packet for the TUN: one that arrived and passed the checks, or an ICMPv6
    /// packet-too-big about one the TUN sent that was too large.
    case toTUN([UInt8])
    /// A protocol message (type byte 2: nodeinfo and the debug calls, yggdrasil's proto.go)
    /// from a session peer, the type byte removed. This layer does not answer them; whoever
    /// handles nodeinfo takes them from here, anything else may ignore them (yggdrasil ignores
    /// the ones it does not know).
    case protocolMessage(from: PublicKey, body: [UInt8])
}

/// Why the IPv6 layer dropped a packet (reported as `ygg-ipv6-…`).
public enum YggdrasilIPv6Drop: String, DropReasonCode {
    /// Not IPv6 (version nibble), or shorter than its header.
    case notIPv6 = "not-ipv6"
    /// From the TUN with a source that is neither our address nor in our /64 (link-local
    /// traffic, mostly; ipv6rwc drops it without an answer).
    case sourceNotOurs = "source-not-ours"
    /// From the TUN to an address outside 200::/8 and 300::/8.
    case destinationNotYggdrasil = "destination-not-yggdrasil"
    /// Larger than `mtu`; answered with a packet-too-big.
    case tooBig = "too-big"
    /// A packet waiting for its destination's key, replaced by a newer one to the same
    /// address or /64 (the latest only is kept, as in ipv6rwc).
    case bufferReplaced = "buffer-replaced"
    /// A packet waiting for its destination's key for two minutes.
    case bufferExpired = "buffer-expired"
    /// A waiting packet pushed out because `maxBuffers` destinations were waiting.
    case bufferFull = "buffer-full"
    /// A known key pushed out of the cache (the one unused longest) because it held
    /// `maxKeys`.
    case cacheFull = "cache-full"
    /// From the network to an address that is neither ours nor in our /64.
    case destinationNotOurs = "destination-not-ours"
    /// From the network with a source that is neither the sending key's address nor in its
    /// /64: someone else's address, refused.
    case sourceNotSender = "source-not-sender"
    /// A message of type 0 (dummy), an empty one, or a type yggdrasil does not know.
    case unknownType = "unknown-type"

    public var reportName: String { rawValue }
}

/// Bounds and times of the IPv6 layer.
public struct YggdrasilIPv6Config: Sendable, Equatable {
    /// Keys known with their address and /64. Every packet that arrives adds its sender (the
    /// wire feeds it), so it is bounded; beyond it the key unused longest goes (`cache-full`).
    public var maxKeys = 4096
    /// Addresses and /64s with a packet waiting for a key (one packet each), counted apart.
    /// Beyond it the oldest waiting packet goes (`buffer-full`).
    public var maxBuffers = 1024
    /// ipv6rwc's `keyStoreTimeout`: a key unused this long is forgotten, a waiting packet
    /// dropped.
    public var timeout: Double = 120

    public init() {}
}

/// yggdrasil-go's IPv6 layer (src/ipv6rwc/ipv6rwc.go, the type byte of src/core/core.go),
/// sans-I/O: IPv6 packets from the TUN become messages to keys, messages from keys become
/// packets for the TUN.
///
/// - **Out** (`outbound`): the source must be our address or in our /64; the destination an
///   address in 200::/8 or a /64 in 300::/8. A key known for that exact address (all 16 bytes)
///   or /64 (the first 8) gets the packet at once, the type byte 1 before it; otherwise the
///   packet waits (the latest one per address or /64) and the router is asked for the partial
///   key the destination carries. When the router hears of a path to a whole key
///   (`pathNotify`), the key is stored with its own address and /64, and packets waiting for
///   either go. The key is the key whose address it is, by derivation: nothing the network
///   says can bind an address to another key.
/// - **In** (`inbound`): type 1 is IPv6, 2 a protocol message, anything else is ignored. A
///   packet larger than our `mtu` is answered with a packet-too-big to its source (through
///   `outbound`, as ipv6rwc does); then its destination must be our address or in our /64, the
///   sender's key is stored (as a path notify would), and its source must be the sender's
///   address or in the sender's /64 — the check that stops a node from sending as another.
/// - **MTU.** yggdrasil has no MTU negotiation: a node's TUN MTU bounds what it sends, and a
///   receiver answers a larger packet with packet-too-big. planetd's TUN also carries Planetary
///   traffic and may be larger than the Yggdrasil side allows, so a too-large packet from the
///   TUN is answered too (to the TUN, from our address) — ipv6rwc never sees one.
public final class YggdrasilIPv6 {
    public static let typeDummy: UInt8 = 0
    public static let typeIPv6: UInt8 = 1
    public static let typeProtocol: UInt8 = 2

    /// The largest IPv6 packet a session message of `messageMTU` bytes can carry (yggdrasil's
    /// `Core.MTU`: one byte for the type, at most 65535).
    public static func maximumMTU(sessionMessageMTU: Int) -> Int { min(65535, sessionMessageMTU - 1) }

    public let config: YggdrasilIPv6Config
    let address: [UInt8]
    let subnet: UInt64
    /// The largest IPv6 packet sent or accepted; at least 1280 (ipv6rwc's `SetMTU` clamps).
    public private(set) var mtu: Int

    public private(set) var drops = DropCounters<YggdrasilIPv6Drop>()

    struct KnownKey {
        let key: PublicKey
        let address: [UInt8]
        let subnet: UInt64
        var expires: Instant
    }

    struct Waiting {
        var packet: [UInt8]
        var expires: Instant
    }

    var keys: [PublicKey: KnownKey] = [:]
    var byAddress: [[UInt8]: PublicKey] = [:]
    var bySubnet: [UInt64: PublicKey] = [:]
    var waitingForAddress: [[UInt8]: Waiting] = [:]
    var waitingForSubnet: [UInt64: Waiting] = [:]
    var earliestExpiry = Instant.never

    public init(identity: NodeIdentity, mtu: Int, config: YggdrasilIPv6Config = YggdrasilIPv6Config()) {
        self.config = config
        address = OverlayAddress.addressBytes(for: identity.publicKey)
        subnet = Self.subnetTag(address)
        self.mtu = max(1280, mtu)
    }

    public func setMTU(_ mtu: Int) { self.mtu = max(1280, mtu) }

    /// A /64 as its first 8 bytes with the subnet bit set: an address's own /64 tag is its
    /// first byte 02 → 03, which is how yggdrasil derives a key's subnet from its address.
    static func subnetTag(_ address: some Collection<UInt8>) -> UInt64 {
        var tag: UInt64 = 0
        for b in address.prefix(8) { tag = tag << 8 | UInt64(b) }
        return tag | (UInt64(0x01) << 56)
    }

    static func prefix8(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        var tag: UInt64 = 0
        for i in offset..<(offset + 8) { tag = tag << 8 | UInt64(bytes[i]) }
        return tag
    }

    // MARK: From the TUN

    /// A packet the TUN read (ipv6rwc's `writePC`).
    public func outbound(_ packet: [UInt8], now: Instant) -> [YggdrasilIPv6Output] {
        guard packet.count >= 40, packet[0] & 0xf0 == 0x60 else { drops.count(.notIPv6); return [] }
        // Compared in place (no 16-byte array per packet); the copy is made only when needed.
        guard packet[8..<24].elementsEqual(address) || Self.prefix8(packet, at: 8) == subnet else { drops.count(.sourceNotOurs); return [] }
        let destinationByte = packet[24]
        guard destinationByte == OverlayAddress.addressPrefixByte || destinationByte == OverlayAddress.subnetPrefixByte else {
            drops.count(.destinationNotYggdrasil)
            return []
        }
        guard packet.count <= mtu else {
            drops.count(.tooBig)
            guard YggdrasilPacketTooBig.mayAnswer(packet) else { return [] }
            return [.toTUN(YggdrasilPacketTooBig.packet(from: address, to: Array(packet[8..<24]), mtu: mtu, about: packet))]
        }
        if destinationByte == OverlayAddress.addressPrefixByte {
            let destination = Array(packet[24..<40])
            if let key = byAddress[destination] {
                touch(key, now: now)
                return [.send(to: key, message: Self.message(packet))]
            }
            if waitingForAddress[destination] != nil { drops.count(.bufferReplaced) } else { makeRoomForWaiting() }
            waitingForAddress[destination] = Waiting(packet: packet, expires: now.adding(seconds: config.timeout))
            noteExpiry(now.adding(seconds: config.timeout))
            return [.lookup(YggdrasilBloomKey.partialKey(fromAddressBytes: destination))]
        }
        let destination = Self.prefix8(packet, at: 24)
        if let key = bySubnet[destination] {
            touch(key, now: now)
            return [.send(to: key, message: Self.message(packet))]
        }
        if waitingForSubnet[destination] != nil { drops.count(.bufferReplaced) } else { makeRoomForWaiting() }
        waitingForSubnet[destination] = Waiting(packet: packet, expires: now.adding(seconds: config.timeout))
        noteExpiry(now.adding(seconds: config.timeout))
        // A /64 carries the key's first bits as an address does; its last 8 bytes are zero.
        return [.lookup(YggdrasilBloomKey.partialKey(fromAddressBytes: Array(packet[24..<32]) + [UInt8](repeating: 0, count: 8)))]
    }

    static func message(_ packet: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(1 + packet.count)
        out.append(typeIPv6)
        out += packet
        return out
    }

    func makeRoomForWaiting() {
        guard waitingForAddress.count + waitingForSubnet.count >= config.maxBuffers else { return }
        let oldestAddress = waitingForAddress.min { $0.value.expires < $1.value.expires }
        let oldestSubnet = waitingForSubnet.min { $0.value.expires < $1.value.expires }
        if let a = oldestAddress, oldestSubnet.map({ a.value.expires <= $0.value.expires }) ?? true {
            waitingForAddress[a.key] = nil
        } else if let s = oldestSubnet {
            waitingForSubnet[s.key] = nil
        }
        drops.count(.bufferFull)
    }

    // MARK: From the router

    /// The router found a path to `key` (ironwood's path notify, a whole key): store it and
    /// send what waited for its address or /64.
    public func pathNotify(key: PublicKey, now: Instant) -> [YggdrasilIPv6Output] {
        learn(key, now: now)
    }

    /// ipv6rwc's `update`: a key new to the cache is stored under its own address and /64 and
    /// the packets waiting for them go; a known one is kept longer.
    func learn(_ key: PublicKey, now: Instant) -> [YggdrasilIPv6Output] {
        if keys[key] != nil {
            touch(key, now: now)
            return []
        }
        if keys.count >= config.maxKeys, let idlest = keys.min(by: { $0.value.expires < $1.value.expires })?.key {
            forget(idlest)
            drops.count(.cacheFull)
        }
        let keyAddress = OverlayAddress.addressBytes(for: key)
        let known = KnownKey(key: key, address: keyAddress, subnet: Self.subnetTag(keyAddress),
                             expires: now.adding(seconds: config.timeout))
        keys[key] = known
        byAddress[known.address] = key
        bySubnet[known.subnet] = key
        noteExpiry(known.expires)
        var out: [YggdrasilIPv6Output] = []
        if let waiting = waitingForAddress.removeValue(forKey: known.address) {
            out.append(.send(to: key, message: Self.message(waiting.packet)))
        }
        if let waiting = waitingForSubnet.removeValue(forKey: known.subnet) {
            out.append(.send(to: key, message: Self.message(waiting.packet)))
        }
        return out
    }

    func touch(_ key: PublicKey, now: Instant) {
        keys[key]?.expires = now.adding(seconds: config.timeout)
    }

    /// Forgets `key`, and its address and /64 only where they still name it (another key may
    /// have taken a /64 since: the newest wins, as in ipv6rwc's maps).
    func forget(_ key: PublicKey) {
        guard let known = keys.removeValue(forKey: key) else { return }
        if byAddress[known.address] == key { byAddress[known.address] = nil }
        if bySubnet[known.subnet] == key { bySubnet[known.subnet] = nil }
    }

    // MARK: From the network

    /// A message the session layer opened from `key` (yggdrasil's `Core.ReadFrom` and
    /// ipv6rwc's `readPC`).
    public func inbound(from key: PublicKey, message: [UInt8], now: Instant) -> [YggdrasilIPv6Output] {
        guard let type = message.first else { drops.count(.unknownType); return [] }
        switch type {
        case Self.typeIPv6:
            break
        case Self.typeProtocol:
            return [.protocolMessage(from: key, body: Array(message.dropFirst()))]
        default:
            drops.count(.unknownType)
            return []
        }
        let packet = Array(message.dropFirst())
        guard packet.count >= 40, packet[0] & 0xf0 == 0x60 else { drops.count(.notIPv6); return [] }
        if packet.count > mtu {
            // Back to its source, from its destination, as the network carries any packet of
            // ours; a destination that is not ours fails outbound's source check there.
            drops.count(.tooBig)
            guard YggdrasilPacketTooBig.mayAnswer(packet) else { return [] }
            return outbound(YggdrasilPacketTooBig.packet(from: Array(packet[24..<40]), to: Array(packet[8..<24]), mtu: mtu, about: packet),
                            now: now)
        }
        guard packet[24..<40].elementsEqual(address) || Self.prefix8(packet, at: 24) == subnet else {
            drops.count(.destinationNotOurs)
            return []
        }
        var out = learn(key, now: now)
        let sender = keys[key]!
        guard packet[8..<24].elementsEqual(sender.address) || Self.prefix8(packet, at: 8) == sender.subnet else {
            drops.count(.sourceNotSender)
            return out
        }
        out.append(.toTUN(packet))
        return out
    }

    // MARK: Timers

    func noteExpiry(_ at: Instant) { earliestExpiry = min(earliestExpiry, at) }

    /// When `tick` has something to do.
    public var nextDeadline: Instant? { earliestExpiry == .never ? nil : earliestExpiry }

    /// Forgets keys unused for `timeout` and drops packets that waited that long.
    public func tick(now: Instant) {
        guard earliestExpiry <= now else { return }
        var earliest = Instant.never
        for (key, known) in keys {
            if known.expires <= now { forget(key) } else { earliest = min(earliest, known.expires) }
        }
        for (destination, waiting) in waitingForAddress {
            if waiting.expires <= now {
                waitingForAddress[destination] = nil
                drops.count(.bufferExpired)
            } else {
                earliest = min(earliest, waiting.expires)
            }
        }
        for (destination, waiting) in waitingForSubnet {
            if waiting.expires <= now {
                waitingForSubnet[destination] = nil
                drops.count(.bufferExpired)
            } else {
                earliest = min(earliest, waiting.expires)
            }
        }
        earliestExpiry = earliest
    }

    // MARK: Inspection

    /// The keys known, by key.
    public var knownKeys: [PublicKey] { keys.keys.sorted() }
    /// Destinations with a packet waiting for a key.
    public var waitingCount: Int { waitingForAddress.count + waitingForSubnet.count }
}
