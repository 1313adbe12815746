/// Every protocol constant of the link layer in one place, each with the reason for its value.
/// Times are seconds. Docs/protocol.md ("link layer") repeats this table.
public enum LinkConstants {
    // MARK: Transport keys (WireGuard's values, same reasoning)

    /// The initiator starts a new handshake after this many messages on a keypair, long
    /// before the nonce space is near its end, so rekeying never races exhaustion.
    public static let rekeyAfterMessages: UInt64 = 1 << 60
    /// A keypair never seals at or past this counter: the last 2^13 counters stay unused so a
    /// receiver's replay window (8192 bits) can never wrap around the end of the nonce space.
    public static let rejectAfterMessages: UInt64 = UInt64.max - (1 << 13) + 1
    /// The side that initiated the current keypair starts a new handshake after this age, which
    /// bounds how much traffic one key protects and gives forward secrecy every two minutes.
    public static let rekeyAfterTime: Double = 120
    /// The side that did not initiate rekeys after this age, covering an initiator that failed to.
    public static let rekeyAfterTimeResponder: Double = 150
    /// A keypair older than this is neither used nor accepted: rekeys happen at 120 s, so one
    /// this old means rekeying has failed for a minute and the old key must not live on.
    public static let rejectAfterTime: Double = 180
    /// Replay window, in packets: UDP reorders, and a window this wide tolerates the reordering
    /// of multi-gigabit bursts (WireGuard uses the same 8192-bit ring, 8128 usable).
    public static let replayWindowBits = 8192
    /// Bytes of an inner frame a sealed-payload transport frame (0x06) encrypts: the overlay
    /// header (34) and an end-to-end data message's header (13), rounded up. Everything after
    /// is end-to-end ciphertext already, so the link only authenticates it.
    public static let sealedPayloadEncryptedPrefix = 48
    /// Bytes at the end of a tag-bound frame's inner frame (0x08) that the link authenticates:
    /// the end-to-end session message's tag.
    public static let tagBoundAuthenticatedSuffix = 16

    // MARK: Handshake

    /// An unanswered init (or an unconfirmed keypair) is retried after this long. Rekeys and
    /// restores of an established link use it as is; a first contact starts faster (below).
    public static let handshakeRetryAfter: Double = 5
    /// A first contact (dialing a configured peer, or a node heard in a beacon) retries its
    /// first unanswered init after this long, doubling per unanswered init up to
    /// `handshakeRetryAfter`. Nodes that boot together (a testbed, a grid farm, a relay and
    /// its peers after an upgrade) dial peers that are not listening yet; at a fixed 5 s the
    /// whole line would wait 5 s for its last node, at 0.5 s doubling it links within about a
    /// second of the last start. Still above any ordinary round trip, so a peer that is
    /// answering is not sent a second init before its msg2 can arrive, and the doubling
    /// returns to the 5 s pace within four inits, so a dead host costs little more than before.
    public static let firstContactRetryInitial: Double = 0.5
    /// Each first-contact retry delay is multiplied by a random factor in [1 - j, 1 + j] (and
    /// capped at `handshakeRetryAfter`), so a farm booted together does not retry in lockstep.
    public static let firstContactRetryJitter: Double = 0.2
    /// Initiations to one endpoint before the attempt is given up and the dialer backs off.
    public static let handshakeAttempts = 4
    /// A responder forgets a half-finished handshake after this long: a real initiator answers
    /// msg2 within one round trip, and the state is what an attacker makes us hold.
    public static let pendingResponderTimeout: Double = 10
    /// Most half-finished responder states kept at once (oldest evicted first).
    public static let maxPendingResponders = 1024
    /// Most initiator handshakes in flight at once (one per peer plus beacon dials).
    public static let maxPendingInitiators = 1024

    // MARK: Liveness

    /// An idle link sends a keepalive this often: NAT UDP mappings commonly expire after 30 s
    /// (RFC 4787 asks for at least 2 min, but many devices use 30 s), so well under 25 s.
    public static let keepaliveInterval: Double = 10
    /// A ping measures RTT this often (each ping also keeps NAT mappings alive).
    public static let pingInterval: Double = 10
    /// A link repeats where it sees its peer (inner frame 0x03) this often, besides on link up
    /// and on roaming: the frame is not acknowledged, so a lost one is made good within a
    /// minute, and a NAT that changed the mapping without the peer roaming shows up too.
    public static let observedEndpointRefresh: Double = 60
    /// Weight of a new RTT sample in the smoothed RTT (RFC 6298 uses 1/8).
    public static let rttSmoothing: Double = 0.125
    /// With packets sent and none received for this long, start a fresh handshake: the peer
    /// may have restarted and lost our keys. Longer than ping interval plus a round trip.
    public static let silenceBeforeRehandshake: Double = 15
    /// No authenticated packet for this long means the peer is gone: four missed pings.
    public static let deadPeerTimeout: Double = 40
    /// Upper-layer frames sent and nothing back for this long: probe with pings. A live peer
    /// answers a ping within a round trip, so only a dead or cut-off one stays silent.
    public static let unansweredProbeAfter: Double = 1
    /// How often to ping while probing.
    public static let probeInterval: Double = 0.5
    /// Still silent this long after the first unanswered frame: the link is down, and routing
    /// moves traffic to another path. Four seconds covers 6 probes and any sane round trip.
    public static let unansweredDeadAfter: Double = 4

    /// Link timers (pings, keepalives, probes, retries, expiries) fire on a grid of this
    /// step (`LinkLayer.nextDeadline` is rounded up to it). Each timer pass visits every peer;
    /// a hub with 10⁴ links has ~3,000 timer events a second, so unaligned they cost a core,
    /// on a 50 ms grid they share 20 passes a second (Docs/scale.md, "A public hub"). 50 ms
    /// late is nothing to timers of half a second and more, and `tick` still runs whatever
    /// is due whenever it is called.
    public static let timerSlack: Double = 0.05

    // MARK: Redial

    /// A `.resolve` request the runtime has not answered after this long counts as a failure.
    public static let resolveTimeout: Double = 10

    /// First redial delay for a configured peer; doubles per failure up to the maximum.
    public static let redialInitial: Double = 1
    public static let redialMaximum: Double = 60
    /// Each delay is multiplied by a random factor in [1 - j, 1 + j] so many nodes that lost a
    /// common peer do not redial in lockstep.
    public static let redialJitter: Double = 0.2

    // MARK: Denial of service

    /// Handshake inits accepted per source address: a sustained rate and a burst.
    public static let initsPerSourcePerSecond: Double = 2
    public static let initBurstPerSource: Double = 8
    /// Handshake inits accepted from everyone together (each costs an X25519 and a signature).
    public static let initsGlobalPerSecond: Double = 400
    public static let initBurstGlobal: Double = 800
    /// Most source addresses tracked by the per-source limiter (oldest evicted).
    public static let maxRateLimitedSources = 4096
    /// Beacons verified per second (each costs an ed25519 verification).
    public static let beaconsPerSecond: Double = 50
    public static let beaconBurst: Double = 100
    /// Most beacon senders remembered for replay protection.
    public static let maxBeaconSenders = 1024
    /// The responder asks for return-routability cookies while its global init bucket holds
    /// less than this fraction of its burst: a quiet node answers inits at once, a node whose
    /// budget a flood is spending stops spending it on unproven source addresses. Half, so
    /// honest peers that did prove their address still find tokens left.
    public static let cookieLoadFraction: Double = 0.5
    /// The responder's cookie secret is replaced this often (the previous one stays valid), as
    /// WireGuard does: a cookie is good for 2 to 4 minutes and then has to be fetched again.
    public static let cookieSecretLifetime: Double = 120
    /// An initiator uses a cookie this long after receiving it: less than the shortest time
    /// the responder still accepts it (one secret lifetime).
    public static let cookieLifetime: Double = 110
    /// Most cookies an initiator keeps (one per endpoint it dialed that was busy).
    public static let maxStoredCookies = 1024
    /// Most peers (links) at once; inbound handshakes beyond this are refused. A public hub
    /// holds 10⁴ stubs (issue #25), measured at ~4 KB of the hub's memory each with
    /// Tools/loadgen (Docs/scale.md, "A public hub"): 16,384 bounds link state at ~70 MB. Each
    /// link still costs its peer a completed handshake under the global init budget (400/s),
    /// so filling the table takes 16,384 keys and ≥ 40 s, as 4,096 took ≥ 10 s.
    public static let maxPeers = 16_384

    // MARK: Hole punching

    /// Candidate endpoints probed per punch: a node offers its observed public endpoints and
    /// its interface addresses, and a handful covers every real home setup (one or two public
    /// mappings, a LAN address per family); more would only be a way to make us send inits.
    public static let maxPunchCandidates = 8
    /// Peers punched toward at once: each costs up to `maxPunchCandidates` ×
    /// `handshakeAttempts` inits over ~8 s.
    public static let maxConcurrentPunches = 16
}
