import PlanetCore
import PlanetCapacity

/// What the Yggdrasil-through-a-dual-node feature (YggdrasilViaChoice.swift) asks of the node:
/// the candidates it knows and can reach, and whether to say it is one.
extension Node {
    /// Nodes with a Planetary route whose signed capacity record carries the `yggdrasil-via`
    /// tag, with the route's metric. Reads the route table first and the directory by key, so
    /// only reachable nodes' records are decoded (their signatures were checked on arrival).
    public func yggdrasilViaCandidates() -> [YggdrasilViaChoice.Candidate] {
        var out: [YggdrasilViaChoice.Candidate] = []
        for r in router.routes() where r.nextHop != nil && r.origin != identity.publicKey {
            guard let entry = capacity.directory[r.origin], Node.offersYggdrasil(entry.bytes),
                  let candidate = yggdrasilViaReachable(r.origin) else { continue }
            out.append(candidate)
        }
        return out
    }

    /// Why `yggdrasilViaCandidates` is empty, for the log: how many records in the directory
    /// carry the tag, and how many of those nodes have a Planetary route. An operator reading
    /// "no dual node reachable" can then tell "nobody offers" from "offered but unreachable".
    public func yggdrasilViaCounts() -> (announced: Int, routed: Int) {
        var announced = 0, routed = 0
        for entry in capacity.directory.entries where entry.key != identity.publicKey && Node.offersYggdrasil(entry.bytes) {
            announced += 1
            if yggdrasilViaReachable(entry.key) != nil { routed += 1 }
        }
        return (announced, routed)
    }

    /// Whether a held record (its signature checked on arrival) carries the `yggdrasil-via` tag.
    private static func offersYggdrasil(_ record: [UInt8]) -> Bool {
        (try? CapacityRecord.decode(record))?.tags.contains(YggdrasilViaSetting.tag) ?? false
    }

    /// Nodes with a Planetary route, tagged or not, for an explicit `yggdrasil.via` (the
    /// operator named the node; its record need not say anything).
    public func yggdrasilViaReachable(_ key: PublicKey) -> YggdrasilViaChoice.Candidate? {
        router.metric(to: key).map { .init(key: key, metric: $0) }
    }

    /// The key of the node owning `address`, when it has a Planetary route.
    public func planetaryKey(owning address: IPv6Address) -> PublicKey? {
        router.route(forAddress: address)?.destination
    }

    /// Whether this node announces that it accepts Yggdrasil links on its overlay address.
    public func announceYggdrasilVia(_ serves: Bool, now: Instant) {
        capacity.announcer.servesYggdrasil = serves
        capacity.announce(now: now)
        pump(now: now)
    }
}
