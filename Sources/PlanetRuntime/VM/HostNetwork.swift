import PlanetCore

/// One change a VM attachment makes to the host, and (by `HostNetwork.undo`) how it is taken
/// back. `VMHost.plan` lists them in order; an attach that fails part-way undoes the ones done,
/// in reverse, so a failed attach leaves nothing half-made; a detach undoes them all.
///
/// Every step is idempotent (replace, not add; an interface that is there is adopted when it is
/// what the step would make), so re-applying the leases when planetd starts again over what the
/// last run left, after a clean stop or a crash, is the same as a fresh attach. What the host
/// lost meanwhile (a flushed ruleset, a deleted rule) is made again by the same steps.
public enum HostStep: Hashable, Sendable {
    /// A tap for a hypervisor (created, or adopted if it exists), owned by `owner` if given.
    case tap(interface: String, owner: String?)
    /// A veth pair: `interface` on the node, `VMLease.containerInterface` inside `netns`
    /// (adopted if the pair is already there, as a previous run leaves it).
    case veth(interface: String, netns: String)
    /// The node side up with the overlay's MTU and the link-local gateway address.
    case nodeSide(interface: String, mtu: Int)
    /// Inside the container: the peer's MAC, MTU, the address as a /128, routes to 200::/7 and
    /// 300::/8 via the gateway.
    case containerSide(netns: String, mac: String, address: IPv6Address, mtu: Int)
    /// The VM's /128 on its interface.
    case route(address: IPv6Address, interface: String)
    /// What arrives on the VM's interface from the VM's address looks up the VM table (overlay →
    /// TUN, nothing else), so even VM-to-VM traffic on this node passes planetd; anything else
    /// it would forward is prohibited. The second source check, in routing rather than nftables:
    /// a host whose nftables ruleset is flushed still forwards nothing spoofed.
    case rule(interface: String, address: IPv6Address)
    /// The source filter: only the VM's address (and link-local and `::`, for neighbour
    /// discovery) may come in on the interface; the rest is counted under `counter` and dropped.
    case sourceFilter(interface: String, address: IPv6Address, counter: String)

    public var description: String {
        switch self {
        case .tap(let i, let o): return "tap \(i)" + (o.map { " (owner \($0))" } ?? "")
        case .veth(let i, let n): return "veth \(i) into netns \(n)"
        case .nodeSide(let i, let m): return "configure \(i) (mtu \(m), gateway \(VMTable.gateway))"
        case .containerSide(let n, _, let a, _): return "configure \(VMLease.containerInterface) in netns \(n) (\(a))"
        case .route(let a, let i): return "route \(a)/128 dev \(i)"
        case .rule(let i, let a): return "policy rules iif \(i) (from \(a) to the VM table, the rest prohibited)"
        case .sourceFilter(let i, let a, _): return "source filter on \(i) (only \(a))"
        }
    }
}

/// A host change that did not happen: the step and what the host said.
public struct HostError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What `VMHost` needs from the host: carrying out and undoing steps, and a few questions.
/// `SystemHostNetwork` runs Debian's `ip` and `nft`; `MemoryHostNetwork` is the in-memory
/// double the unit tests use (it can be told to fail at any step).
public protocol HostNetwork: AnyObject, Sendable {
    /// Carries out `step`; returns whether it created something that was not there (an adopted
    /// tap was there: a rollback must leave it).
    func apply(_ step: HostStep) throws(HostError) -> Bool
    /// Takes `step` back, best effort: what is already gone is not an error.
    func undo(_ step: HostStep)
    /// The shared parts every VM uses (the VM route table, the filter table), made before the
    /// first VM and removed after the last, so a node without VMs has nothing of them.
    func ensureShared(tun: String) throws(HostError)
    func removeShared()
    /// Cuts a VM's interface off before anything is (re-)applied to it and whenever applying
    /// failed: nothing it sends is forwarded or delivered, by means that do not depend on the
    /// parts being repaired (a prohibit rule ahead of the VM's rules, IPv6 off, the link down).
    /// Fail closed: an interface a previous run left is never up without its filter.
    func isolate(interface: String) throws(HostError)
    /// Takes `isolate` back, after the whole plan is in force again (`nodeSide` brings the link
    /// up and IPv6 back; this removes the prohibit rule).
    func release(interface: String)
    /// Which of `steps` are not in force on the host now, and whether the shared parts are:
    /// the watch's question (`VMHost.watch`). Steps inside a container are the tenant's and not
    /// checked.
    func audit(_ steps: [HostStep], tun: String) -> HostAudit
    func interfaceExists(_ name: String) -> Bool
    func netnsExists(_ name: String) -> Bool
    /// The packets each source-filter counter dropped, by counter name.
    func filterCounters() -> [String: UInt64]
}

/// What `HostNetwork.audit` found: the shared parts present or not, and the steps not in force.
public struct HostAudit: Equatable, Sendable {
    public var sharedInForce: Bool
    public var missing: [HostStep]
    public init(sharedInForce: Bool, missing: [HostStep]) {
        self.sharedInForce = sharedInForce
        self.missing = missing
    }
}
