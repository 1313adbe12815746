/// What a stateful fuzz target runs its inputs against: nodes, links or routers with keys and
/// handshakes already done. Building one costs far more than an input, so each kind is built on
/// the first input and kept for the rest of the run (state carries over between inputs, as it
/// does for a real node receiving one packet after another).
protocol FuzzWorld: AnyObject {
    init()
}

/// One world per type. The fuzzer runs its inputs one at a time on one thread.
nonisolated(unsafe) private var worlds: [ObjectIdentifier: AnyObject] = [:]

extension FuzzWorld {
    /// The world of this kind, built on first use.
    static func get() -> Self {
        let id = ObjectIdentifier(Self.self)
        if let world = worlds[id] as? Self { return world }
        let world = Self()
        worlds[id] = world
        return world
    }

    /// Drops the world of this kind, so the next `get` builds a fresh one (tests).
    static func reset() { worlds[ObjectIdentifier(Self.self)] = nil }
}
