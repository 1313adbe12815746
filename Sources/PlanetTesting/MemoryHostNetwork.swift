import Foundation
import PlanetCore
import PlanetRuntime

/// An in-memory host for `VMHost`'s tests: records what exists (interfaces, namespaces, steps
/// in force), and fails the n-th apply when told to, so rollback is checked step by step.
public final class MemoryHostNetwork: HostNetwork, @unchecked Sendable {
    let lock = NSLock()
    public private(set) var interfaces: Set<String> = []
    public var namespaces: Set<String> = []
    /// Steps applied and not undone, in order.
    public private(set) var inForce: [HostStep] = []
    public private(set) var shared = false
    /// Fail the apply with this index (0-based, counted over the double's life).
    public var failAtApply: Int?
    public private(set) var applies = 0
    public var counters: [String: UInt64] = [:]
    /// Interfaces cut off by `isolate` and not released.
    public private(set) var isolated: Set<String> = []
    /// Every isolate call, in order (a test checks the interface was cut off before re-applying).
    public private(set) var isolations: [String] = []
    /// Make isolate fail (the host refuses even that).
    public var failIsolate = false

    public init() {}

    /// An interface made outside planetd (an operator's tap).
    public func addExistingInterface(_ name: String) { lock.withLock { _ = interfaces.insert(name) } }
    public func removeInterface(_ name: String) { lock.withLock { _ = interfaces.remove(name) } }

    public func apply(_ step: HostStep) throws(HostError) -> Bool {
        lock.lock(); defer { lock.unlock() }
        defer { applies += 1 }
        if failAtApply == applies { throw HostError("injected failure at \(step.description)") }
        var created = false
        switch step {
        case .tap(let i, _):
            created = interfaces.insert(i).inserted
        case .veth(let i, let ns):
            guard namespaces.contains(ns) else { throw HostError("netns \(ns) does not exist") }
            created = interfaces.insert(i).inserted
        case .nodeSide(let i, _), .route(_, let i), .rule(let i, _), .sourceFilter(let i, _, _):
            guard interfaces.contains(i) else { throw HostError("no interface \(i)") }
        case .containerSide(let ns, _, _, _):
            guard namespaces.contains(ns) else { throw HostError("netns \(ns) does not exist") }
        }
        if !inForce.contains(step) { inForce.append(step) }
        return created
    }

    public func undo(_ step: HostStep) {
        lock.withLock {
            inForce.removeAll { $0 == step }
            switch step {
            case .tap(let i, _), .veth(let i, _):
                interfaces.remove(i)
                // Deleting a link takes everything on it with it, as the kernel does.
                inForce.removeAll { s in
                    switch s {
                    case .nodeSide(let j, _), .route(_, let j), .sourceFilter(let j, _, _): return j == i
                    default: return false
                    }
                }
            default: break
            }
        }
    }

    /// What the host loses behind planetd's back (`nft flush ruleset`, `ip rule flush`): the
    /// steps `matching` says, and the shared parts if `shared`.
    public func lose(shared loseShared: Bool = false, _ matching: (HostStep) -> Bool = { _ in false }) {
        lock.withLock {
            inForce.removeAll(where: matching)
            if loseShared { shared = false }
        }
    }

    public func isolate(interface: String) throws(HostError) {
        lock.lock(); defer { lock.unlock() }
        isolations.append(interface)
        if failIsolate { throw HostError("injected failure isolating \(interface)") }
        isolated.insert(interface)
    }

    public func release(interface: String) { lock.withLock { _ = isolated.remove(interface) } }

    public func audit(_ steps: [HostStep], tun: String) -> HostAudit {
        lock.withLock { HostAudit(sharedInForce: shared, missing: steps.filter { !inForce.contains($0) }) }
    }

    public func ensureShared(tun: String) throws(HostError) { lock.withLock { shared = true } }
    public func removeShared() { lock.withLock { shared = false } }
    public func interfaceExists(_ name: String) -> Bool { lock.withLock { interfaces.contains(name) } }
    public func netnsExists(_ name: String) -> Bool { lock.withLock { namespaces.contains(name) } }
    public func filterCounters() -> [String: UInt64] { lock.withLock { counters } }
}
