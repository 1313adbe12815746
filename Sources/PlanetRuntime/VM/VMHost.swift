import Foundation
import PlanetCore
import PlanetAdmin

/// The host side of the VMs a node hosts: turns leases into host changes (`HostStep`s through
/// a `HostNetwork`), keeps the leases in the state directory, and answers what the host knows
/// (is the interface still there, what did the source filter drop). The node holds only each
/// VM's address and policy (`Node.setVM`); the runtime tells it after every change here.
///
/// Attach: check everything that can be checked without touching the host (name, address,
/// rules, sizes, that the namespace exists), then apply the plan step by step; if a step fails,
/// undo the ones done in reverse and report the failing step, so nothing is left half-made;
/// then save the leases (a failed save undoes the attach too).
///
/// Thread: the admin server's (one call at a time) and, before the loop runs, planetd's start;
/// the lock makes that explicit rather than assumed.
public final class VMHost: @unchecked Sendable {
    let lock = NSLock()
    var table: VMTable
    let host: any HostNetwork
    let tunName: String
    let mtu: Int
    let file: VMLeaseFile?
    let logger: Logger
    /// Leases that could not be re-applied (at start or by the watch), with the reason (shown as
    /// their state).
    var problems: [String: String] = [:]
    /// Leases whose interface is cut off (`HostNetwork.isolate`) because re-applying them failed.
    var isolated: Set<String> = []
    /// How often the watch found a lease's host state lost behind planetd's back and repaired it.
    var repairs: [String: Int] = [:]
    var watchTimer: DispatchSourceTimer?
    /// Why the lease file could not be read at start: until the operator fixes or moves it, no
    /// change is saved over it (a save would lose the leases it holds).
    var unreadableFile: VMTableError?

    /// `stateDir` nil: leases are not kept (tests).
    public init(subnet: IPv6Prefix, tunName: String, mtu: Int, stateDir: String?, host: any HostNetwork, logger: Logger = .disabled) {
        table = VMTable(subnet: subnet)
        self.host = host
        self.tunName = tunName
        self.mtu = mtu
        file = stateDir.map(VMLeaseFile.init)
        self.logger = logger
    }

    deinit { watchTimer?.cancel() }

    public var leases: [VMLease] { lock.withLock { table.leases } }
    public func lease(named name: String) -> VMLease? { lock.withLock { table.lease(named: name) } }
    public var declaredTotals: (cpu: Int, memoryBytes: UInt64, diskBytes: UInt64) { lock.withLock { table.declaredTotals } }

    /// The name of the VM's source-filter counter (and chain): from the name's hash, since
    /// names may hold characters nftables identifiers may not.
    public static func counter(for name: String) -> String { "spoof_" + VMTable.vethName(for: name).dropFirst(2) }

    public static let vethNodeMTU = 65535

    /// The steps that make a lease real, in order.
    public func plan(_ lease: VMLease) -> [HostStep] {
        var steps: [HostStep] = []
        switch lease.kind {
        case .tap: steps.append(.tap(interface: lease.interface, owner: lease.owner))
        case .netns: steps.append(.veth(interface: lease.interface, netns: lease.netns ?? ""))
        }
        // The filter before the interface comes up: nothing from the VM passes unchecked.
        steps.append(.sourceFilter(interface: lease.interface, address: lease.address, counter: VMHost.counter(for: lease.name)))
        // A veth drops, silently, a frame longer than the receiving end's MTU; the node's end
        // of a container's veth is therefore as large as a veth goes, so a container that sends
        // more than the overlay's MTU (it raised its own) meets the kernel's forwarding check
        // instead, and gets packet too big: path MTU discovery works from inside it. A tap has
        // no such check (the hypervisor's writes are taken whole), so it keeps the overlay's.
        steps.append(.nodeSide(interface: lease.interface, mtu: lease.kind == .netns ? VMHost.vethNodeMTU : mtu))
        if lease.kind == .netns, let ns = lease.netns {
            steps.append(.containerSide(netns: ns, mac: lease.mac, address: lease.address, mtu: mtu))
        }
        steps.append(.rule(interface: lease.interface, address: lease.address))
        steps.append(.route(address: lease.address, interface: lease.interface))
        return steps
    }

    // MARK: Attach

    /// A change may not be saved over a lease file that could not be read.
    func refusalToSave() -> VMTableError? {
        unreadableFile.map { VMTableError(argument: "host", "the lease file could not be read at start (\($0.description)); fix or move it and restart planetd") }
    }

    public func attach(_ r: VMAttachRequest) -> Result<VMLease, VMTableError> {
        lock.lock(); defer { lock.unlock() }
        if let e = refusalToSave() { return .failure(e) }
        if table.lease(named: r.name) != nil { return .failure(VMTableError(argument: "name", "a VM named '\(r.name)' is already attached")) }
        let address: IPv6Address
        switch table.address(for: r.name, requested: r.address) {
        case .success(let a): address = a
        case .failure(let e): return .failure(e)
        }
        if let ns = r.netns, !host.netnsExists(ns) {
            return .failure(VMTableError(argument: "netns", "no network namespace '\(ns)' (see ip netns list)"))
        }
        if let tap = r.tap, tap == tunName { return .failure(VMTableError(argument: "tap", "\(tap) is the node's own TUN")) }
        let lease = VMLease(name: r.name, address: address, kind: r.tap != nil ? .tap : .netns,
                            interface: r.tap ?? VMTable.vethName(for: r.name), netns: r.netns, mac: VMTable.mac(for: r.name),
                            owner: r.owner, policy: r.policy, cpu: r.cpu, memoryBytes: r.memoryBytes, diskBytes: r.diskBytes)
        var next = table
        if let e = next.add(lease) { return .failure(e) }
        let wasEmpty = table.byName.isEmpty
        if let e = realize(lease, removeSharedOnFailure: wasEmpty) { return .failure(e) }
        if let file {
            do { try file.save(next) } catch {
                unrealize(lease, lastOfAll: wasEmpty)
                return .failure(error)
            }
        }
        table = next
        problems[lease.name] = nil
        logger.info("vm attached", [("name", lease.name), ("address", lease.address.description), ("interface", lease.interface)])
        return .success(lease)
    }

    /// Applies a lease's plan; on failure undoes what it did (and the shared parts, when
    /// `removeSharedOnFailure`: a first attach made them, and no other VM uses them) and says
    /// which step failed.
    func realize(_ lease: VMLease, removeSharedOnFailure: Bool) -> VMTableError? {
        do { try host.ensureShared(tun: tunName) } catch {
            if removeSharedOnFailure { host.removeShared() }
            return VMTableError(argument: "host", error.message)
        }
        var done: [HostStep] = []
        for step in plan(lease) {
            do {
                let created = try host.apply(step)
                // An adopted interface was there before: a rollback leaves it (a detach removes
                // it; a re-apply that fails cuts it off instead).
                switch step {
                case .tap, .veth: if !created { continue }
                default: break
                }
                done.append(step)
            } catch {
                for s in done.reversed() { host.undo(s) }
                if removeSharedOnFailure { host.removeShared() }
                let argument: String
                switch step {
                case .tap: argument = "tap"
                case .veth, .containerSide: argument = "netns"
                default: argument = "host"
                }
                return VMTableError(argument: argument, "\(step.description) failed: \(error.message)")
            }
        }
        return nil
    }

    func unrealize(_ lease: VMLease, lastOfAll: Bool) {
        for s in plan(lease).reversed() { host.undo(s) }
        // An isolated lease's prohibit rule is keyed by the interface's name and outlives it.
        host.release(interface: lease.interface)
        isolated.remove(lease.name)
        if lastOfAll { host.removeShared() }
    }

    // MARK: Detach, policy

    public func detach(name: String) -> Result<VMLease, VMTableError> {
        lock.lock(); defer { lock.unlock() }
        if let e = refusalToSave() { return .failure(e) }
        guard let lease = table.lease(named: name) else { return .failure(VMTableError(argument: "name", "no VM named '\(name)'")) }
        var next = table
        next.remove(named: name)
        if let file {
            do { try file.save(next) } catch { return .failure(error) }
        }
        table = next
        problems[name] = nil
        repairs[name] = nil
        unrealize(lease, lastOfAll: table.byName.isEmpty)
        logger.info("vm detached", [("name", name)])
        return .success(lease)
    }

    public func setPolicy(name: String, allow: [String]) -> Result<VMLease, VMTableError> {
        lock.lock(); defer { lock.unlock() }
        if let e = refusalToSave() { return .failure(e) }
        guard table.lease(named: name) != nil else { return .failure(VMTableError(argument: "name", "no VM named '\(name)'")) }
        let policy: VMPolicy
        switch VMPolicy.parse(allow) {
        case .success(let p): policy = p
        case .failure(let e): return .failure(VMTableError(argument: "allow", e.description))
        }
        var next = table
        _ = next.setPolicy(policy, named: name)
        if let file {
            do { try file.save(next) } catch { return .failure(error) }
        }
        table = next
        return .success(table.lease(named: name)!)
    }

    // MARK: Start

    /// Reads the lease file and re-applies every lease over whatever the previous run left
    /// (after a clean stop or a crash the interfaces, rules and filters are still there, or some
    /// of them are). Every interface a lease names is cut off first, so none forwards while its
    /// filter is made again; each is released when its whole plan is in force. A lease that
    /// cannot be applied (its namespace is gone, a step fails) is kept, its interface stays cut
    /// off, and its state says why; never fatal: the node and its other VMs run on. Returns
    /// every lease (the node is told all policies).
    @discardableResult
    public func restore() -> [VMLease] {
        lock.lock(); defer { lock.unlock() }
        if let file {
            do { table = try file.load(subnet: table.subnet) } catch {
                unreadableFile = error
                logger.error("VM leases not restored, and VM changes refused until the file is fixed or moved",
                             [("error", error.description)])
                return []
            }
        }
        for lease in table.leases where host.interfaceExists(lease.interface) { cutOff(lease) }
        for lease in table.leases {
            if lease.kind == .netns, let ns = lease.netns, !host.netnsExists(ns) {
                problems[lease.name] = "netns \(ns) is gone"
                logger.warn("vm not re-applied: its namespace is gone", [("name", lease.name), ("netns", ns)])
                continue
            }
            reapply(lease, alreadyCutOff: true)
        }
        return table.leases
    }

    /// Makes `lease` real again over what the host has now. Called with the lock held;
    /// `alreadyCutOff`: `restore` cut every interface off before re-applying any.
    @discardableResult
    func reapply(_ lease: VMLease, alreadyCutOff: Bool = false) -> Bool {
        if !alreadyCutOff, host.interfaceExists(lease.interface) { cutOff(lease) }
        if let e = realize(lease, removeSharedOnFailure: false) {
            // `realize` undid what it made; an interface it adopted is still there: it stays cut off.
            if host.interfaceExists(lease.interface) { cutOff(lease) }
            if problems[lease.name] != e.description {
                logger.warn("vm not re-applied; its interface is cut off until it is", [("name", lease.name), ("error", e.description)])
            }
            problems[lease.name] = e.description
            return false
        }
        host.release(interface: lease.interface)
        isolated.remove(lease.name)
        if problems.removeValue(forKey: lease.name) != nil { logger.info("vm re-applied", [("name", lease.name)]) }
        return true
    }

    /// Isolates a lease's interface; if even that fails, removes the interface: a VM without
    /// its interface is down, a VM whose interface forwards unfiltered is a hole.
    func cutOff(_ lease: VMLease) {
        do {
            try host.isolate(interface: lease.interface)
            isolated.insert(lease.name)
        } catch {
            logger.error("vm interface cannot be isolated: removing it", [("name", lease.name), ("interface", lease.interface),
                                                                          ("error", error.message)])
            host.undo(lease.kind == .tap ? .tap(interface: lease.interface, owner: lease.owner)
                                         : .veth(interface: lease.interface, netns: lease.netns ?? ""))
            isolated.remove(lease.name)
        }
    }

    // MARK: Watch

    /// How often the watch audits the host while VMs are attached.
    public static let watchInterval = 5.0

    /// One audit of every lease's plan against the host, and a repair (`reapply`) of each lease
    /// that lost any part of it, or whose shared parts are gone (a flushed nftables ruleset, a
    /// deleted rule or route), or that is still cut off from a failed re-apply (retried each
    /// time; logged when its reason changes). Returns the names repaired.
    @discardableResult
    public func watch() -> [String] {
        lock.lock(); defer { lock.unlock() }
        let live = table.leases.filter { l in !(l.kind == .netns && !host.netnsExists(l.netns ?? "")) }
        guard !live.isEmpty else { return [] }
        let audit = host.audit(live.flatMap(plan), tun: tunName)
        var repaired: [String] = []
        for lease in live {
            let lost = plan(lease).filter { audit.missing.contains($0) }
            guard !lost.isEmpty || !audit.sharedInForce || problems[lease.name] != nil else { continue }
            if problems[lease.name] == nil {
                logger.warn("vm host state lost behind planetd's back: repairing",
                            [("name", lease.name), ("lost", audit.sharedInForce ? lost.map(\.description).joined(separator: "; ")
                                                                               : "the shared VM table and filter")])
            }
            if reapply(lease) {
                repairs[lease.name, default: 0] += 1
                repaired.append(lease.name)
            }
        }
        return repaired
    }

    /// Runs `watch` every `interval` seconds on a queue of its own (it runs `ip` and `nft`,
    /// which must not stall the event loop), until `stopWatching`.
    public func startWatching(every interval: Double = VMHost.watchInterval) {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "planetary.vm-watch"))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.watch() }
        lock.withLock { watchTimer?.cancel(); watchTimer = timer }
        timer.resume()
    }

    public func stopWatching() {
        lock.withLock { watchTimer?.cancel(); watchTimer = nil }
    }

    // MARK: Questions

    /// `up`; `netns-missing` or `interface-missing` when what it lives on vanished; `isolated`
    /// when re-applying it failed and its interface is cut off (`problem` says why); `failed`
    /// when re-applying failed and there is no interface to cut off.
    public func state(of lease: VMLease) -> String {
        if lease.kind == .netns, let ns = lease.netns, !host.netnsExists(ns) { return "netns-missing" }
        if !host.interfaceExists(lease.interface) { return "interface-missing" }
        return lock.withLock {
            if isolated.contains(lease.name) { return "isolated" }
            if problems[lease.name] != nil { return "failed" }
            return "up"
        }
    }

    public func problem(of name: String) -> String? { lock.withLock { problems[name] } }
    public func repairCount(of name: String) -> Int { lock.withLock { repairs[name] ?? 0 } }

    /// Why VM changes and listings are refused (the lease file could not be read at start), if
    /// they are: a listing would otherwise show no VMs where the file holds some.
    public var unreadableLeases: VMTableError? { lock.withLock { refusalToSave() } }

    /// Packets each VM's source filter dropped, by VM name.
    public func spoofedPackets() -> [String: UInt64] {
        let counters = host.filterCounters()
        var out: [String: UInt64] = [:]
        for l in leases { out[l.name] = counters[VMHost.counter(for: l.name)] ?? 0 }
        return out
    }

    public func cloudInit(name: String) -> Result<String, VMTableError> {
        guard let lease = lease(named: name) else { return .failure(VMTableError(argument: "name", "no VM named '\(name)'")) }
        return .success(VMCloudInit.networkConfig(for: lease, mtu: mtu))
    }
}
