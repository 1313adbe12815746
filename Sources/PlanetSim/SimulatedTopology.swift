import PlanetCore
import PlanetRouting

/// The shapes planetsim can build. Every generator returns a connected graph (except
/// that `line`/`ring`/`grid` are connected by construction).
public enum TopologyKind: String, CaseIterable, Sendable {
    case random, scaleFree = "scale-free", line, ring, grid
}

public struct SimulatedLinkSpec: Sendable {
    public let a: Int, b: Int
    public let latencySeconds: Double
}

public enum SimulatedTopology {
    /// Undirected edges without duplicates or self-loops; latency 2–60 ms one way.
    public static func build(_ kind: TopologyKind, nodes n: Int, degree: Int, random: inout SplitMix64) -> [SimulatedLinkSpec] {
        var edges = Set<UInt64>()
        var list: [(Int, Int)] = []
        func add(_ a: Int, _ b: Int) {
            guard a != b else { return }
            let k = UInt64(min(a, b)) << 32 | UInt64(max(a, b))
            if edges.insert(k).inserted { list.append((a, b)) }
        }
        func pick(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
        switch kind {
        case .line:
            for i in 1..<max(n, 1) { add(i - 1, i) }
        case .ring:
            for i in 1..<max(n, 1) { add(i - 1, i) }
            if n > 2 { add(n - 1, 0) }
        case .grid:
            var side = 1
            while side * side < n { side += 1 }
            for i in 0..<n {
                if (i % side) + 1 < side && i + 1 < n { add(i, i + 1) }
                if i + side < n { add(i, i + side) }
            }
        case .random:
            for i in 1..<max(n, 1) { add(i, pick(i)) }
            let target = max(n - 1, n * degree / 2)
            var attempts = 0
            while list.count < target && attempts < target * 20 {
                attempts += 1
                add(pick(n), pick(n))
            }
        case .scaleFree:
            // Barabási–Albert: new nodes attach to m existing ones in proportion to degree.
            let m = max(1, degree / 2)
            var ends: [Int] = []
            for i in 1..<max(n, 1) {
                let want = min(m, i)
                var chosen = Set<Int>()
                var guardCount = 0
                while chosen.count < want && guardCount < 50 * want {
                    guardCount += 1
                    let c = ends.isEmpty ? pick(i) : (pick(3) == 0 ? pick(i) : ends[pick(ends.count)])
                    chosen.insert(c)
                }
                for c in chosen.sorted() { add(i, c); ends.append(i); ends.append(c) }
            }
        }
        return list.map { SimulatedLinkSpec(a: $0.0, b: $0.1, latencySeconds: 0.002 + Double(random.next() % 58_000) / 1_000_000) }
    }
}
