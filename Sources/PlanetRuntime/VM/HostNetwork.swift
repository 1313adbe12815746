import PlanetCore

/// One change a VM attachment makes to the host, and (by `HostNetwork.undo`) how it is taken
/// back. `VMHost.plan` lists them in order; an attach that fails part-way undoes the ones done,
/// in reverse, so a failed attach leaves nothing half-made; a detach undoes them all.
///
/// Every step is idempotent where the host allows it (replace, not add), so re-applying the
/// leases when planetd starts again over what the last run left is the same as a fresh attach.
public enum HostStep: Equatable, Sendable {
    /// A tap for a hypervisor (created, or adopted if it exists), owned by `owner` if given.
    case tap(interface: String, owner: String?)
    /// A veth pair: `interface` on the node, `VMLease.containerInterface` inside `netns`.
    case veth(interface: String, netns: String)
    /// The node side up with the overlay's MTU and the link-local gateway address.
    case nodeSide(interface: String, mtu: Int)
    /// Inside the container: the peer's MAC, MTU, the address as a /128, routes to 200::/7 and
    /// 300::/8 via the gateway.
    case containerSide(netns: String, mac: String, address: IPv6Address, mtu: Int)
    /// The VM's /128 on its interface.
    case route(address: IPv6Address, interface: String)
    /// Everything arriving on the VM's interface looks up the VM table (overlay → TUN, nothing
    /// else), so even VM-to-VM traffic on this node passes planetd.
    case rule(interface: String)
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
        case .rule(let i): return "policy rule iif \(i)"
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
    func interfaceExists(_ name: String) -> Bool
    func netnsExists(_ name: String) -> Bool
    /// The packets each source-filter counter dropped, by counter name.
    func filterCounters() -> [String: UInt64]
}
