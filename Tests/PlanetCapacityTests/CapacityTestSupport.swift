import PlanetCore
@testable import PlanetCapacity

/// Records for tests: a full one by default, every field set, so tampering with any byte
/// touches something meaningful.
func makeRecord(_ id: NodeIdentity, seqno: UInt64 = 1, issuedAt: UInt64 = 1_000_000, lifetime: UInt64 = 5400,
                country: String = "BE", freeMemory: UInt64 = 16 * ByteSize.gib, farm: UInt32 = 7, tags: [String] = ["gpu-lab"]) -> CapacityRecord {
    CapacityRecord(key: id.publicKey, seqno: seqno, issuedAt: issuedAt, expiresAt: issuedAt + lifetime, uptimeSeconds: 3600,
                   publicIPv4: true, publicIPv6: false,
                   total: CapacityResources(cru: 16, mru: freeMemory + 2 * ByteSize.gib, sru: 512 * ByteSize.gib, hru: 4 * ByteSize.tib),
                   used: CapacityResources(cru: 1, mru: 2 * ByteSize.gib, sru: 0, hru: 0),
                   latitude: 51.05, longitude: 3.72, country: country, farmId: farm, city: "Ghent", farmName: "freefarm",
                   version: "0.1.0", gpus: [CapacityGPU(vendor: 0x10de, device: 0x2204, name: "nvidia")], tags: tags)
}

/// Moves messages between gossiping nodes until none are left: the reconciliation and
/// flooding logic without a network, clock fixed.
struct GossipMesh {
    var nodes: [PublicKey: CapacityGossip] = [:]
    var bytesMoved = 0
    var messagesMoved = 0
    /// Bytes delivered to each node.
    var bytesTo: [PublicKey: Int] = [:]
    /// Moves on by a hold's length each round, so flooded records leave.
    var now = Instant(seconds: 100)
    /// Hostile relays: every record in a message from this node is changed by its function on
    /// the way (the gossip itself has no such hook; the mesh is the wire).
    var tampering: [PublicKey: ([UInt8]) -> [UInt8]] = [:]
    let unixNow: Double

    init(unixNow: Double) { self.unixNow = unixNow }

    mutating func add(_ key: PublicKey, _ g: CapacityGossip) { nodes[key] = g }

    func link(_ a: PublicKey, _ b: PublicKey) {
        nodes[a]!.neighbourUp(b, now: now)
        nodes[b]!.neighbourUp(a, now: now)
    }

    /// Returns the number of rounds it took.
    @discardableResult
    mutating func run(maxRounds: Int = 100) -> Int {
        for round in 0..<maxRounds {
            var inFlight: [(to: PublicKey, from: PublicKey, body: [UInt8])] = []
            for (from, g) in nodes { g.drainOutgoing { to, body in inFlight.append((to, from, body)) } }
            if inFlight.isEmpty {
                // Nothing left but held outboxes, if any: let their hold pass.
                let held = nodes.values.contains { $0.hasOutgoing }
                if !held { return round }
                now = now.adding(seconds: 0.2)
                for g in nodes.values { g.advance(now: now) }
                continue
            }
            for m in inFlight {
                bytesMoved += m.body.count
                bytesTo[m.to, default: 0] += m.body.count
                messagesMoved += 1
                nodes[m.to]?.receive(tampered(m.body, by: m.from), from: m.from, now: now, unixNow: unixNow)
            }
        }
        return maxRounds
    }

    private func tampered(_ body: [UInt8], by from: PublicKey) -> [UInt8] {
        guard let change = tampering[from], case .records(let records)? = CapacityMessage.decode(body) else { return body }
        return CapacityMessage.records(records.map(change)).encoded()
    }
}

func heldSet(_ d: CapacityDirectory) -> [PublicKey: UInt64] {
    Dictionary(uniqueKeysWithValues: d.entries.map { ($0.key, $0.seqno) })
}
