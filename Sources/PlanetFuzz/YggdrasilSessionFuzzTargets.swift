import PlanetCore
import PlanetYggdrasil

/// Two Yggdrasil session layers, A and B, with a session open between them, and B's IPv6 layer
/// on top (built once; fixed node keys, random session keys). Small tables, so the fuzzer
/// reaches their bounds.
final class YggdrasilSessionPair: FuzzWorld, @unchecked Sendable {
    let aIdentity = FuzzIdentity.make(31)
    let bIdentity = FuzzIdentity.make(32)
    let a: IronwoodSessions
    let b: IronwoodSessions
    let ipv6: YggdrasilIPv6
    var clock = FuzzClock()

    init() {
        var config = IronwoodSessionsConfig()
        config.maxSessions = 8
        config.maxBuffers = 8
        a = IronwoodSessions(identity: aIdentity, now: clock.now, unixSeconds: 1_800_000_000, networkMTU: 65535, config: config)
        b = IronwoodSessions(identity: bIdentity, now: clock.now, unixSeconds: 1_800_000_000, networkMTU: 65535, config: config)
        var ipv6Config = YggdrasilIPv6Config()
        ipv6Config.maxKeys = 8
        ipv6Config.maxBuffers = 8
        ipv6 = YggdrasilIPv6(identity: bIdentity, mtu: 1400, config: ipv6Config)
        a.send(to: bIdentity.publicKey, message: [YggdrasilIPv6.typeDummy], now: clock.now)
        pump()
        precondition(a.sessionCount == 1 && b.sessionCount == 1, "fuzz session pair did not open")
    }

    /// Carries session messages both ways until quiet; what B opens goes through its IPv6 layer.
    func pump() {
        var moved = true
        var rounds = 0
        while moved && rounds < 16 {
            moved = false
            rounds += 1
            for out in a.takeOutput() {
                moved = true
                if case .network(_, let payload) = out { b.receive(from: aIdentity.publicKey, payload: payload, now: clock.now) }
            }
            for out in b.takeOutput() {
                moved = true
                switch out {
                case .network(_, let payload): a.receive(from: bIdentity.publicKey, payload: payload, now: clock.now)
                case .deliver(let from, let message): _ = ipv6.inbound(from: from, message: message, now: clock.now)
                }
            }
        }
    }
}

enum YggdrasilSessionFuzzTargets {
    /// The first byte picks the way in, the rest is the input:
    /// 0 a session message to B from A's key (Init, Ack, data as the router delivers them);
    /// 1 a message A seals in the open session (so it reaches B's IPv6 layer opened);
    /// 2 a packet from B's TUN; 3 a message straight into B's IPv6 layer;
    /// anything else moves the clock by that many seconds (timers, expiry, ratchet).
    static let session = FuzzTarget("yggdrasil-session", "Yggdrasil 0.5 end-to-end sessions and the IPv6 layer over them") { input in
        let world = YggdrasilSessionPair.get()
        guard let mode = input.first else { return }
        let rest = Array(input.dropFirst())
        let now = world.clock.now
        switch mode {
        case 0: world.b.receive(from: world.aIdentity.publicKey, payload: rest, now: now)
        case 1: world.a.send(to: world.bIdentity.publicKey, message: rest, now: now)
        case 2: _ = world.ipv6.outbound(rest, now: now)
        case 3: _ = world.ipv6.inbound(from: world.aIdentity.publicKey, message: rest, now: now)
        default:
            world.clock.tick(Double(mode))
            world.a.tick(now: world.clock.now)
            world.b.tick(now: world.clock.now)
            world.ipv6.tick(now: world.clock.now)
        }
        world.pump()
    }

    /// Inputs in the formats the target reads: a handshake and data as B would get them, an
    /// IPv6 packet over the session, from the TUN and straight in, a clock step.
    static func seeds() -> [(String, [UInt8])] {
        let a = FuzzIdentity.make(31), b = FuzzIdentity.make(32)
        let handshake = IronwoodSessionInit(kind: .initiate, current: [UInt8](repeating: 1, count: 32), next: [UInt8](repeating: 2, count: 32),
                                            keySeq: 0, seq: 1_800_000_001)
        let sealedInit = handshake.sealed(from: a, to: b.publicKey, ephemeralSecret: [UInt8](repeating: 0x42, count: 32)) ?? []
        let data = IronwoodSessionTraffic.seal([1], senderNext: [UInt8](repeating: 3, count: 32), senderKeySeq: 1, receiverKeySeq: 1,
                                               nonce: 5, sharedKey: [UInt8](repeating: 0x33, count: 32)).encoded
        let aAddress = OverlayAddress.addressBytes(for: a.publicKey), bAddress = OverlayAddress.addressBytes(for: b.publicKey)
        func packet(_ source: [UInt8], _ destination: [UInt8]) -> [UInt8] {
            [0x60, 0, 0, 0, 0, 8, 17, 64] + source + destination + [0x12, 0x34, 0x56, 0x78, 0, 8, 0, 0]
        }
        return [
            ("init", [0] + sealedInit),
            ("data", [0] + data),
            ("ipv6-over-session", [1, YggdrasilIPv6.typeIPv6] + packet(aAddress, bAddress)),
            ("tun", [2] + packet(bAddress, aAddress)),
            ("ipv6-in", [3, YggdrasilIPv6.typeIPv6] + packet(aAddress, bAddress)),
            ("protocol", [3, YggdrasilIPv6.typeProtocol, 1]),
            ("clock", [61]),
        ]
    }
}
