import PlanetCore

/// The node's own record: built from the measurement, the operator's `capacity` config and
/// what VMs declare, signed, and re-issued when its content changes (at most once per
/// `debounce`) and every `announceInterval` regardless. Sans-I/O: the runtime measures and
/// reads the clock; this decides what to say and when.
public final class CapacityAnnouncer {
    public let identity: NodeIdentity
    public let config: CapacityConfig
    public private(set) var measurement: CapacityMeasurement?
    /// When the measurement was taken (Unix seconds), to age its uptime.
    var measuredAt = 0.0
    /// What attached VMs declare they use (`vm attach --cpu --memory --disk`), summed over the
    /// VMs the node hosts; the runtime sets it at start and after each attach and detach
    /// (`Node.setDeclaredByVMs`). Zero without VMs: used capacity is then the reserve alone.
    public var declaredByVMs = CapacityResources.zero { didSet { recompute() } }
    public let version: String
    /// This node accepts Yggdrasil links on its overlay address (a dual node, see
    /// YggdrasilVia.swift): its record carries the `yggdrasil-via` tag. A node whose operator
    /// left `capacity.enabled` off then still announces, but a record that says nothing about
    /// the machine (no resources, no location, no GPUs): only the signed claim.
    public var servesYggdrasil = false { didSet { recompute() } }

    /// A changed record waits at least this long after the previous one, so a burst of changes
    /// (VMs attached one after another) costs the overlay one record, not one each.
    public static let debounce = 5.0

    private(set) var lastContent: CapacityRecord?
    public private(set) var lastIssuedAt: Double?
    public private(set) var lastSeqno: UInt64 = 0

    public init(identity: NodeIdentity, config: CapacityConfig, version: String = PlanetVersion.string) {
        self.identity = identity
        self.config = config
        self.version = version
    }

    public func measured(_ m: CapacityMeasurement, unixNow: Double) {
        measurement = m
        measuredAt = unixNow
        recompute()
    }

    /// The default reserve: max(10% of memory, 2 GiB) and one CPU (Docs/operations.md).
    public static func reserve(_ config: CapacityConfig, measured m: CapacityMeasurement) -> CapacityResources {
        CapacityResources(cru: config.reserved.cru ?? 1, mru: config.reserved.mru ?? max(m.memoryBytes / 10, 2 * ByteSize.gib),
                          sru: config.reserved.sru ?? 0, hru: config.reserved.hru ?? 0)
    }

    /// What is offered: the configured amount, or all that was measured.
    public static func offered(_ config: CapacityConfig, measured m: CapacityMeasurement) -> CapacityResources {
        CapacityResources(cru: config.offer.cru ?? m.cpus, mru: config.offer.mru ?? m.memoryBytes,
                          sru: config.offer.sru ?? m.ssdBytes, hru: config.offer.hru ?? m.hddBytes)
    }

    /// An offer of more than the machine has, as a config error naming the field. Sizes in the
    /// units the config takes (`offers 64G but this machine has 31.3G`): the kernel counts
    /// memory in KiB, which would otherwise show as `32803004K`.
    public static func checkOffer(_ config: CapacityConfig, measured m: CapacityMeasurement) -> ConfigError? {
        for (name, offered, have, unit) in [("cru", config.offer.cru, m.cpus, "CPUs"), ("mru", config.offer.mru, m.memoryBytes, "bytes"),
                                            ("sru", config.offer.sru, m.ssdBytes, "bytes"), ("hru", config.offer.hru, m.hddBytes, "bytes")] {
            if let offered, offered > have {
                let said = unit == "CPUs" ? "\(offered) CPUs" : ByteSize.approximate(offered, roundingUp: true)
                let measured = unit == "CPUs" ? "\(have)" : ByteSize.approximate(have)
                return ConfigError(field: "capacity.offer.\(name)", reason: "offers \(said) but this machine has \(measured)")
            }
        }
        return nil
    }

    /// The record as it would be issued now, without seqno and times (nil when disabled or not
    /// yet measured).
    public func content() -> CapacityRecord? {
        guard config.enabled || servesYggdrasil, let m = measurement else { return nil }
        let viaTag = YggdrasilViaSetting.tag
        guard config.enabled else {
            return CapacityRecord(key: identity.publicKey, seqno: 0, issuedAt: 0, expiresAt: 0, version: version, tags: [viaTag])
        }
        let tags = servesYggdrasil ? Array(config.tags.filter { $0 != viaTag }.prefix(CapacityConfig.maxTags - 1)) + [viaTag]
                                   : config.tags.filter { $0 != viaTag }
        return CapacityRecord(
            key: identity.publicKey, seqno: 0, issuedAt: 0, expiresAt: 0, uptimeSeconds: 0,
            publicIPv4: m.publicIPv4, publicIPv6: m.publicIPv6,
            total: CapacityAnnouncer.offered(config, measured: m),
            used: CapacityAnnouncer.reserve(config, measured: m).adding(declaredByVMs),
            latitude: config.latitude, longitude: config.longitude, country: config.country, farmId: config.farmId,
            city: config.city, farmName: config.farmName, version: version, gpus: m.gpus, tags: tags)
    }

    /// When the next record is due (Unix seconds; nil: nothing to announce). Cached: the node
    /// asks for its deadline after every batch of packets, and building the record each time
    /// would allocate on the data path; it changes only with the inputs below.
    public func nextDue() -> Double? { due }

    private var due: Double?

    private func recompute() {
        guard let content = content() else { due = nil; return }
        guard let last = lastIssuedAt else { due = measuredAt; return }
        due = content != lastContent ? last + CapacityAnnouncer.debounce : last + config.announceInterval
    }

    /// A new signed record if one is due at `unixNow`. `heldSeqno` is the highest seqno the
    /// directory holds for this key (from before a restart, or heard back from the overlay):
    /// the new one must beat it or nobody would take it.
    public func poll(unixNow: Double, heldSeqno: UInt64?) -> [UInt8]? {
        guard let due = nextDue(), unixNow >= due, var record = content(), let m = measurement else { return nil }
        lastContent = record
        lastIssuedAt = unixNow
        let clockSeqno = UInt64(max(0, unixNow) * 1000)
        lastSeqno = max(lastSeqno &+ 1, (heldSeqno ?? 0) &+ 1, clockSeqno)
        record.seqno = lastSeqno
        record.issuedAt = UInt64(unixNow)
        record.expiresAt = UInt64(unixNow + config.effectiveExpiry)
        record.uptimeSeconds = m.uptimeSeconds + UInt64(max(0, unixNow - measuredAt))
        recompute()
        return record.signed(by: identity)
    }
}
