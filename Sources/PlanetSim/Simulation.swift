import PlanetCore
import PlanetRouting

/// What planetsim runs. Times are virtual seconds.
public struct SimulationConfig: Sendable {
    public var nodes = 100
    public var topology: TopologyKind = .random
    public var degree = 4
    public var seed: UInt64 = 1
    public var failLinks = 0
    /// Link flaps per virtual second during the churn phase (0: no churn phase).
    public var churnRate = 0.0
    public var churnSeconds = 60.0
    public var crash = 0
    public var partition = false
    /// Probability that a routing message is lost on a link.
    public var loss = 0.0
    public var bandwidthBytesPerSecond = 1_250_000.0
    /// How long the link layer takes to notice a dead link, and to bring a new one up.
    public var detectSeconds = 1.0
    public var handshakeSeconds = 0.2
    public var maxPhaseSeconds = 300.0
    public var steadySeconds = 120.0
    public var settleSeconds = 30.0
    /// Convergence is checked this often.
    public var checkSeconds = 0.25
    /// Sources whose paths to every destination are walked for loops and stretch (all when nodes <= this).
    public var sampleSources = 32
    /// Only this many nodes (chosen from the seed) originate a route; all nodes run routers
    /// and relay. 0: every node originates. Routing is computed per destination, so what is
    /// measured for the sampled origins is exact; per-node state and traffic scale with the
    /// number of origins (Docs/scale.md).
    public var origins = 0
    /// Stub nodes (`RouterConfig.stub`, Docs/protocol.md "Stub nodes") added beside the
    /// `nodes` routers: each linked to `stubPeers` distinct random routers (its configured
    /// peers, in order: the first is its upstream, the second its failover), keeping no table.
    public var stubs = 0
    public var stubPeers = 1
    /// Each sampled stub resolves this many random destinations through its upstream after
    /// convergence (origin query and signed answer), checked against the true key.
    public var stubResolves = 16
    /// A node's routing output waits while one of its links holds more than this much unsent
    /// data (in seconds of link time, 25 ms = 31 kB at 10 Mbit/s, less than a socket buffer);
    /// what the router has to say meanwhile coalesces in its tables. 0: never wait.
    public var paceSeconds = 0.025
    /// Triggered changes per drain (`RouterConfig.maxAdvertsPerDrain`) while pacing: 200
    /// signed updates are 21 kB. Bytes queued per link direction stay under about 52 kB.
    public var advertsPerDrain = 200
    public var router = RouterConfig()

    public init() {}
}

/// Runs real `Router`s over simulated links in virtual time.
public final class Simulation {
    public let config: SimulationConfig
    let origins = OriginDirectory()

    struct Link {
        let a: Int32, b: Int32
        let latency: UInt64
        let cost: UInt16
        var up = true
        var generation: UInt32 = 0
        var busyUntil: (UInt64, UInt64) = (0, 0)
    }

    enum Event {
        case deliver(link: Int32, from: Int32, generation: UInt32, message: [UInt8])
        case timer(node: Int32)
        case linkDetectedDown(link: Int32, generation: UInt32)
        case linkDetectedUp(link: Int32, generation: UInt32)
        case nodeStart(node: Int32)
        case restoreLink(link: Int32)
        case flush(node: Int32)
    }

    var random: SplitMix64
    var identities: [NodeIdentity] = []
    var routers: [Router?] = []
    var alive: [Bool] = []
    var scheduled: [UInt64] = []
    /// When a paced node's deferred drain is due (.max: none pending).
    var flushAt: [UInt64] = []
    /// Whether each node originates its own route (all, unless `origins` samples them).
    public private(set) var isOrigin: [Bool] = []
    /// Nodes `nodes..<nodes+stubs` are stubs; their links are stub links (measured apart).
    public private(set) var isStub: [Bool] = []
    var isStubLink: [Bool] = []
    var keyToNode: [PublicKey: Int32] = [:]
    var links: [Link] = []
    var adjacency: [[(node: Int32, link: Int32)]] = []
    var linkBetween: [UInt64: Int32] = [:]
    var queue = EventQueue<Event>()
    public private(set) var now: UInt64 = 0

    public private(set) var controlBytes = 0
    /// Bytes queued on links or in flight now, and the most at any moment.
    public private(set) var inFlightBytes = 0
    public private(set) var peakInFlightBytes = 0
    var bucketBytes: [Int: Int] = [:]
    /// The same for stub links alone.
    var stubBucketBytes: [Int: Int] = [:]

    public init(config: SimulationConfig) {
        self.config = config
        random = SplitMix64(seed: config.seed)
        let n = config.nodes + config.stubs
        for _ in 0..<n {
            var seed = [UInt8]()
            for _ in 0..<4 { let w = random.next(); for s in stride(from: 0, to: 64, by: 8) { seed.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) } }
            let pair = Sodium.signKeypair(seed: seed)
            let id = NodeIdentity(secretKey: pair.secret, publicKey: PublicKey(pair.publicKey)!)
            keyToNode[id.publicKey] = Int32(identities.count)
            identities.append(id)
        }
        routers = Array(repeating: nil, count: n)
        alive = Array(repeating: false, count: n)
        scheduled = Array(repeating: .max, count: n)
        flushAt = Array(repeating: .max, count: n)
        isOrigin = Array(repeating: config.origins == 0, count: n)
        if config.origins > 0 {
            var pick = SplitMix64(seed: config.seed ^ 0x0419_1715)
            var pool = Array(0..<n)
            for _ in 0..<min(config.origins, n) {
                let i = Int(pick.next() % UInt64(pool.count))
                pool.swapAt(i, pool.count - 1)
                isOrigin[pool.removeLast()] = true
            }
        }
        isStub = (0..<n).map { $0 >= config.nodes }
        adjacency = Array(repeating: [], count: n)
        var topoRandom = SplitMix64(seed: config.seed ^ 0x5eed_1234)
        var specs = SimulatedTopology.build(config.topology, nodes: config.nodes, degree: config.degree, random: &topoRandom)
        isStubLink = Array(repeating: false, count: specs.count)
        // Stubs hang off random routers (distinct ones when a stub has two), with the same
        // latency spread as the routers' links.
        for s in config.nodes..<n {
            var ups: [Int] = []
            while ups.count < min(config.stubPeers, config.nodes) {
                let u = Int(topoRandom.next() % UInt64(config.nodes))
                if !ups.contains(u) { ups.append(u) }
            }
            for u in ups {
                specs.append(SimulatedLinkSpec(a: s, b: u, latencySeconds: 0.002 + Double(topoRandom.next() % 58_000) / 1_000_000))
                isStubLink.append(true)
            }
        }
        for spec in specs {
            let l = Int32(links.count)
            let lat = UInt64(spec.latencySeconds * 1e9)
            links.append(Link(a: Int32(spec.a), b: Int32(spec.b), latency: lat,
                              cost: LinkCost.from(rttMilliseconds: spec.latencySeconds * 2000, loss: config.loss)))
            adjacency[spec.a].append((Int32(spec.b), l))
            adjacency[spec.b].append((Int32(spec.a), l))
            linkBetween[pairKey(Int32(spec.a), Int32(spec.b))] = l
        }
    }

    public var nodeCount: Int { identities.count }
    public var linkCount: Int { links.count }
    public var seconds: Double { Double(now) / 1e9 }
    public var signatureVerifications: Int { origins.verifications }

    func pairKey(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(min(a, b))) << 32 | UInt64(UInt32(max(a, b))) }
    func instant(_ t: UInt64) -> Instant { Instant(nanoseconds: t) }
    func ns(_ s: Double) -> UInt64 { UInt64(max(0, s) * 1e9) }

    // MARK: - Driving

    /// Starts every node at a random moment in the first second.
    public func start() {
        for i in 0..<nodeCount { queue.push(now + random.next() % 1_000_000_000, .nodeStart(node: Int32(i))) }
    }

    /// Processes events up to `until` (virtual nanoseconds), then sets the clock there.
    public func run(until: UInt64) {
        while let t = queue.nextTime, t <= until {
            let item = queue.pop()!
            now = item.time
            handle(item.payload)
        }
        now = max(now, until)
    }

    public func run(seconds s: Double) { run(until: now + ns(s)) }

    private func handle(_ e: Event) {
        switch e {
        case let .deliver(l, from, gen, message):
            inFlightBytes -= message.count + 61
            let link = links[Int(l)]
            guard link.up, link.generation == gen else { return }
            let to = link.a == from ? link.b : link.a
            guard alive[Int(to)], let r = routers[Int(to)] else { return }
            r.receive(message, from: identities[Int(from)].publicKey, now: instant(now))
            flush(to)
        case let .timer(node):
            guard scheduled[Int(node)] == now else { return }
            scheduled[Int(node)] = .max
            guard alive[Int(node)], let r = routers[Int(node)] else { return }
            r.tick(now: instant(now))
            flush(node)
        case let .linkDetectedDown(l, gen):
            let link = links[Int(l)]
            guard link.generation == gen, !link.up || !alive[Int(link.a)] || !alive[Int(link.b)] else { return }
            for (x, y) in [(link.a, link.b), (link.b, link.a)] where alive[Int(x)] {
                routers[Int(x)]?.neighbourDown(identities[Int(y)].publicKey, now: instant(now))
                flush(x)
            }
        case let .linkDetectedUp(l, gen):
            let link = links[Int(l)]
            guard link.up, link.generation == gen, alive[Int(link.a)], alive[Int(link.b)] else { return }
            for (x, y) in [(link.a, link.b), (link.b, link.a)] {
                routers[Int(x)]?.neighbourUp(identities[Int(y)].publicKey, cost: link.cost, now: instant(now))
                flush(x)
            }
        case let .nodeStart(node):
            bootNode(node)
        case let .restoreLink(l):
            setLink(l, up: true)
        case let .flush(node):
            guard flushAt[Int(node)] == now else { return }
            flushAt[Int(node)] = .max
            flush(node)
        }
    }

    private func bootNode(_ node: Int32) {
        let i = Int(node)
        var rc = config.router
        rc.advertisesSelf = isOrigin[i]
        rc.stub = isStub[i]
        if config.paceSeconds > 0 { rc.maxAdvertsPerDrain = config.advertsPerDrain }
        flushAt[i] = .max
        routers[i] = Router(identity: identities[i], config: rc, origins: origins, now: instant(now),
                            random: SplitMix64(seed: config.seed &+ UInt64(i) &* 0x9E37_79B9 &+ now))
        // A stub's configured peers, in the order it was given them.
        if isStub[i] { routers[i]!.setUpstreamPreference(adjacency[i].map { identities[Int($0.node)].publicKey }, now: instant(now)) }
        alive[i] = true
        for (peer, l) in adjacency[i] where alive[Int(peer)] && links[Int(l)].up {
            links[Int(l)].generation &+= 1
            queue.push(now + ns(config.handshakeSeconds), .linkDetectedUp(link: l, generation: links[Int(l)].generation))
        }
        flush(node)
    }

    /// Sends what the router queued and re-arms its timer. While one of the node's links has
    /// more than `paceSeconds` of data queued, the drain waits until it has not.
    private func flush(_ node: Int32) {
        guard let r = routers[Int(node)] else { return }
        var wait = paceWait(node)
        while wait == 0 {
            send(node, r.drainOutgoing())
            guard r.hasPendingOutput else { break }
            wait = paceWait(node)
        }
        if wait > 0 && flushAt[Int(node)] == .max {
            flushAt[Int(node)] = now + wait
            queue.push(now + wait, .flush(node: node))
        }
        let d = r.nextDeadline.nanoseconds
        if d < scheduled[Int(node)] {
            scheduled[Int(node)] = max(d, now)
            queue.push(max(d, now), .timer(node: node))
        }
    }

    /// How long until every up link of `node` has at most `paceSeconds` of data queued.
    private func paceWait(_ node: Int32) -> UInt64 {
        guard config.paceSeconds > 0 else { return 0 }
        var busiest: UInt64 = 0
        for (_, l) in adjacency[Int(node)] where links[Int(l)].up {
            let link = links[Int(l)]
            busiest = max(busiest, link.a == node ? link.busyUntil.0 : link.busyUntil.1)
        }
        let allowed = now + ns(config.paceSeconds)
        return busiest > allowed ? busiest - allowed : 0
    }

    private func send(_ node: Int32, _ messages: [(to: PublicKey, message: [UInt8])]) {
        for (to, message) in messages {
            guard let peer = keyToNode[to], let l = linkBetween[pairKey(node, peer)] else { continue }
            var link = links[Int(l)]
            guard link.up else { continue }
            let bytes = message.count + 1 + 60 // 0x10 byte, link framing, UDP/IP headers
            controlBytes += bytes
            bucketBytes[Int(now / 1_000_000_000), default: 0] += bytes
            if isStubLink[Int(l)] { stubBucketBytes[Int(now / 1_000_000_000), default: 0] += bytes }
            if config.loss > 0 && Double(random.next() % 1_000_000) / 1e6 < config.loss { continue }
            let serialize = UInt64(Double(bytes) / config.bandwidthBytesPerSecond * 1e9)
            let forward = link.a == node
            let busy = forward ? link.busyUntil.0 : link.busyUntil.1
            let done = max(now, busy) + serialize
            if forward { link.busyUntil.0 = done } else { link.busyUntil.1 = done }
            links[Int(l)] = link
            inFlightBytes += bytes
            peakInFlightBytes = max(peakInFlightBytes, inFlightBytes)
            queue.push(done + link.latency, .deliver(link: l, from: node, generation: link.generation, message: message))
        }
    }

    // MARK: - Faults

    public func setLink(_ l: Int32, up: Bool) {
        guard links[Int(l)].up != up else { return }
        links[Int(l)].up = up
        links[Int(l)].generation &+= 1
        let gen = links[Int(l)].generation
        if up {
            queue.push(now + ns(config.handshakeSeconds), .linkDetectedUp(link: l, generation: gen))
        } else {
            queue.push(now + ns(config.detectSeconds), .linkDetectedDown(link: l, generation: gen))
        }
    }

    public func upLinks() -> [Int32] {
        links.indices.filter { links[$0].up && alive[Int(links[$0].a)] && alive[Int(links[$0].b)] }.map(Int32.init)
    }

    public func randomUpLinks(_ k: Int) -> [Int32] {
        var pool = upLinks()
        var out: [Int32] = []
        while out.count < k && !pool.isEmpty {
            let i = Int(random.next() % UInt64(pool.count))
            pool.swapAt(i, pool.count - 1)
            out.append(pool.removeLast())
        }
        return out
    }

    public func restoreLinkLater(_ l: Int32, after s: Double) { queue.push(now + ns(s), .restoreLink(link: l)) }

    /// The node stops; neighbours notice after the detection delay, as with a dead link.
    public func crash(_ node: Int32) {
        let i = Int(node)
        guard alive[i] else { return }
        alive[i] = false
        routers[i] = nil
        for (_, l) in adjacency[i] {
            links[Int(l)].generation &+= 1
            queue.push(now + ns(config.detectSeconds), .linkDetectedDown(link: l, generation: links[Int(l)].generation))
        }
    }

    /// Restarts with a fresh router (seqno 0): the node must climb past its old seqnos.
    public func restart(_ node: Int32) {
        guard !alive[Int(node)] else { return }
        bootNode(node)
    }

    public func isAlive(_ node: Int32) -> Bool { alive[Int(node)] }
    public func router(_ node: Int) -> Router? { routers[node] }
    public func identity(_ node: Int) -> NodeIdentity { identities[node] }

    // MARK: - Observation

    /// Connected components over up links between alive routers. A stub relays nothing, so
    /// it joins no two components: it belongs to its upstream's (where its packets go), and
    /// every component it has an up link into reaches it (its own route goes to all its
    /// neighbours). `Reach` answers both.
    func components() -> Reach {
        var comp = [Int32](repeating: -1, count: nodeCount)
        var c: Int32 = 0
        var stack: [Int32] = []
        for s in 0..<nodeCount where alive[s] && !isStub[s] && comp[s] < 0 {
            comp[s] = c
            stack.append(Int32(s))
            while let x = stack.popLast() {
                for (y, l) in adjacency[Int(x)] where links[Int(l)].up && alive[Int(y)] && !isStub[Int(y)] && comp[Int(y)] < 0 {
                    comp[Int(y)] = c
                    stack.append(y)
                }
            }
            c += 1
        }
        var into: [Int32: [Int32]] = [:]
        for s in 0..<nodeCount where alive[s] && isStub[s] {
            var cs: [Int32] = []
            for (y, l) in adjacency[s] where links[Int(l)].up && alive[Int(y)] && !isStub[Int(y)] && !cs.contains(comp[Int(y)]) {
                cs.append(comp[Int(y)])
            }
            into[Int32(s)] = cs
            // Its own component: its upstream's; without one, alone.
            if let up = routers[s]?.stubUpstream, let u = keyToNode[up], alive[Int(u)] { comp[s] = comp[Int(u)] } else { comp[s] = c; c += 1 }
        }
        return Reach(comp: comp, stubInto: into)
    }

    /// Who can reach whom (`components()`).
    struct Reach {
        /// A router's component; a stub's upstream's; -1 for a dead node.
        let comp: [Int32]
        /// The router components each alive stub has an up link into.
        let stubInto: [Int32: [Int32]]

        subscript(_ i: Int) -> Int32 { comp[i] }

        /// Whether packets from `src` can reach `dst`: the same component, or `dst` a stub
        /// linked into `src`'s.
        func reaches(_ src: Int, _ dst: Int) -> Bool {
            guard comp[src] >= 0, comp[dst] >= 0 else { return false }
            if let cs = stubInto[Int32(dst)] { return cs.contains(comp[src]) }
            return comp[src] == comp[dst]
        }
    }

    /// Every alive node has a route to exactly the origins it can reach, no more (stale) and no less.
    public func routeCountsMatch() -> Bool {
        let comp = components()
        var originsIn = [Int](repeating: 0, count: nodeCount)
        for i in 0..<nodeCount where comp[i] >= 0 && isOrigin[i] {
            if let cs = comp.stubInto[Int32(i)] { for c in cs { originsIn[Int(c)] += 1 } } else { originsIn[Int(comp[i])] += 1 }
        }
        for i in 0..<nodeCount where alive[i] {
            // A stub holds no table: converged is holding none (its own route is out there,
            // which the routers' counts check).
            if isStub[i] { guard routers[i]!.originCount == 0 else { return false }; continue }
            guard routers[i]!.reachableCount == originsIn[Int(comp[i])] - (isOrigin[i] ? 1 : 0) else { return false }
        }
        return true
    }

    public enum Walk: Equatable { case reached(cost: Int, hops: Int), loop, blackhole }

    /// Follows next hops from `src` toward `dst` the way packets would.
    public func walk(from src: Int32, to dst: Int32, usedLinks: ((Int32) -> Void)? = nil) -> Walk {
        let key = identities[Int(dst)].publicKey
        var cur = src
        var cost = 0
        var hops = 0
        var seen = Set<Int32>()
        while cur != dst {
            guard alive[Int(cur)], let r = routers[Int(cur)], let hop = nextHop(r, at: cur, to: dst, key: key),
                  let next = keyToNode[hop] else { return .blackhole }
            guard let l = linkBetween[pairKey(cur, next)], links[Int(l)].up, alive[Int(next)] else { return .blackhole }
            usedLinks?(l)
            guard seen.insert(cur).inserted else { return .loop }
            cost += Int(links[Int(l)].cost)
            hops += 1
            cur = next
        }
        return .reached(cost: cost, hops: hops)
    }

    /// Where `r` sends a packet for `dst`: a router its route's next hop; a stub (which keeps
    /// no table) a neighbour directly when the destination is one (a link, as the stub's
    /// `route(forAddress:)` does), everything else to its upstream, which is where its packets
    /// go once the origin is resolved (`stubResolutions` checks resolving itself).
    func nextHop(_ r: Router, at cur: Int32, to dst: Int32, key: PublicKey) -> PublicKey? {
        guard isStub[Int(cur)] else { return r.nextHop(to: key) }
        if let l = linkBetween[pairKey(cur, dst)], links[Int(l)].up { return key }
        return r.stubUpstream
    }

    /// Shortest path costs from `src` over up links (Dijkstra).
    func shortest(from src: Int32) -> [Int] {
        var dist = [Int](repeating: .max, count: nodeCount)
        dist[Int(src)] = 0
        var heap = EventQueue<Int32>()
        heap.push(0, src)
        while let item = heap.pop() {
            let d = Int(item.time), x = item.payload
            guard d == dist[Int(x)] else { continue }
            guard x == src || !isStub[Int(x)] else { continue }  // a stub relays nothing
            for (y, l) in adjacency[Int(x)] where links[Int(l)].up && alive[Int(y)] {
                let nd = d + Int(links[Int(l)].cost)
                if nd < dist[Int(y)] { dist[Int(y)] = nd; heap.push(UInt64(nd), y) }
            }
        }
        return dist
    }

    public func sampleSources() -> [Int32] {
        let aliveNodes = (0..<nodeCount).filter { alive[$0] }.map(Int32.init)
        if aliveNodes.count <= config.sampleSources { return aliveNodes }
        var r = SplitMix64(seed: config.seed ^ 0xabcdef)
        var pool = aliveNodes
        var out: [Int32] = []
        while out.count < config.sampleSources {
            let i = Int(r.next() % UInt64(pool.count))
            pool.swapAt(i, pool.count - 1)
            out.append(pool.removeLast())
        }
        return out
    }

    public struct PathSurvey: Sendable {
        public var pairs = 0
        public var loops = 0
        public var unreachable = 0
        public var stretchSum = 0.0
        public var stretchCount = 0
        public var stretch: Double { stretchCount == 0 ? 1 : stretchSum / Double(stretchCount) }
    }

    /// Walks sampled sources to every destination in their component.
    public func survey() -> PathSurvey {
        let comp = components()
        var s = PathSurvey()
        for src in sampleSources() {
            let dist = shortest(from: src)
            for dst in 0..<nodeCount where Int32(dst) != src && alive[dst] && isOrigin[dst] && comp.reaches(Int(src), dst) {
                s.pairs += 1
                switch walk(from: src, to: Int32(dst)) {
                case .loop: s.loops += 1
                case .blackhole: s.unreachable += 1
                case .reached(let cost, _):
                    if dist[dst] > 0 && dist[dst] != .max { s.stretchSum += Double(cost) / Double(dist[dst]); s.stretchCount += 1 }
                }
            }
        }
        return s
    }

    /// Runs until routes match reachability (checked every `checkSeconds`); seconds taken, nil on timeout.
    public func runUntilConverged(maxSeconds: Double? = nil) -> Double? {
        let startT = now
        let limit = now + ns(maxSeconds ?? config.maxPhaseSeconds)
        while now < limit {
            run(until: min(limit, now + ns(config.checkSeconds)))
            if routeCountsMatch() { return Double(now - startT) / 1e9 }
        }
        return nil
    }

    /// Bytes per link per second between two virtual times, and the peak one-second bucket.
    public func controlRate(from a: UInt64, to b: UInt64) -> (mean: Double, peak: Double) {
        let l = Double(max(1, links.count))
        var total = 0
        var peak = 0
        for sec in Int(a / 1_000_000_000)..<max(Int(a / 1_000_000_000) + 1, Int(b / 1_000_000_000)) {
            let v = bucketBytes[sec] ?? 0
            total += v
            peak = max(peak, v)
        }
        let span = max(1e-9, Double(b - a) / 1e9)
        return (Double(total) / span / l, Double(peak) / l)
    }

    /// Mean router tables per alive router (stubs apart: `stubMemoryPerNode`).
    public func memoryPerNode() -> Int {
        let live = routers.indices.filter { !isStub[$0] }.compactMap { routers[$0] }
        guard !live.isEmpty else { return 0 }
        return live.reduce(0) { $0 + $1.estimatedMemoryBytes } / live.count
    }

    /// Mean routing state per alive stub: its tables plus its cache of resolved origins.
    public func stubMemoryPerNode() -> Int {
        let live = routers.indices.filter { isStub[$0] }.compactMap { routers[$0] }
        guard !live.isEmpty else { return 0 }
        return live.reduce(0) { $0 + $1.estimatedMemoryBytes + $1.stubMemoryBytes } / live.count
    }

    /// Steady bytes per second on a stub link (both directions), and on a router–router link.
    public func controlRateByKind(from a: UInt64, to b: UInt64) -> (router: Double, stub: Double) {
        let stubLinks = isStubLink.filter { $0 }.count, routerLinks = links.count - stubLinks
        var total = 0, stub = 0
        for sec in Int(a / 1_000_000_000)..<max(Int(a / 1_000_000_000) + 1, Int(b / 1_000_000_000)) {
            total += bucketBytes[sec] ?? 0
            stub += stubBucketBytes[sec] ?? 0
        }
        let span = max(1e-9, Double(b - a) / 1e9)
        return (Double(total - stub) / span / Double(max(1, routerLinks)), Double(stub) / span / Double(max(1, stubLinks)))
    }

    /// Each sampled alive stub asks its upstream for `stubResolves` random destinations and
    /// checks what comes back (the key that truly owns the address, signature verified by the
    /// stub). Returns (asked, resolved to the right key, wrong or unresolved).
    public func stubResolutions() -> (asked: Int, right: Int, wrong: Int) {
        var asked: [(stub: Int32, dst: Int32)] = []
        var pick = SplitMix64(seed: config.seed ^ 0x57b5)
        let comp = components()
        for src in sampleSources() where isStub[Int(src)] {
            let candidates = (0..<nodeCount).filter { Int32($0) != src && alive[$0] && isOrigin[$0] && comp.reaches(Int(src), $0) }
            guard !candidates.isEmpty, let r = routers[Int(src)] else { continue }
            for _ in 0..<config.stubResolves {
                let d = Int32(candidates[Int(pick.next() % UInt64(candidates.count))])
                asked.append((src, d))
                r.resolve(identities[Int(d)].address, now: instant(now))
            }
            flush(src)
        }
        var answers: [Int32: [StubResolution]] = [:]
        let askers = Set(asked.map(\.stub))
        for _ in 0..<20 {  // 5 s: the upstream answers 50 queries a second, with a burst
            run(seconds: 0.25)
            for s in askers { answers[s, default: []] += routers[Int(s)]?.drainResolutions() ?? [] }
        }
        var right = 0
        for (s, d) in asked {
            let want = identities[Int(d)]
            if answers[s]?.contains(where: { if case .resolved(let a, let k) = $0 { return a == want.address && k == want.publicKey }; return false }) == true {
                right += 1
            }
        }
        return (asked.count, right, asked.count - right)
    }

    func routerTotals() -> RouterStats {
        var t = RouterStats()
        for r in routers.compactMap({ $0 }) {
            let s = r.stats
            t.messagesSent += s.messagesSent; t.bytesSent += s.bytesSent; t.updatesAccepted += s.updatesAccepted
            t.drops.count(.unverifiedRefresh, Int(s.drops[.unverifiedRefresh])); t.drops.count(.queueFull, Int(s.drops[.queueFull]))
            t.seqnoRequestsSent += s.seqnoRequestsSent
            t.summariesSent += s.summariesSent; t.bucketsDiffering += s.bucketsDiffering; t.rangeListsSent += s.rangeListsSent
            t.reconciledRoutesSent += s.reconciledRoutesSent; t.prefixRetractionsSent += s.prefixRetractionsSent
            t.drops.count(.routeSlotsFull, Int(s.drops[.routeSlotsFull]))
        }
        return t
    }

    /// Over the routers (a stub holds no routes).
    public func meanRoutesPerNode() -> Double {
        let live = routers.indices.filter { !isStub[$0] }.compactMap { routers[$0] }
        return live.isEmpty ? 0 : Double(live.reduce(0) { $0 + $1.reachableCount }) / Double(live.count)
    }
}
