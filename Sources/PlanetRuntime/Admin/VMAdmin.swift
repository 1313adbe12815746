import PlanetCore
import PlanetAdmin
import PlanetNode

/// The admin calls for VMs (`vmAttach`, `vmDetach`, `vmList`, `vmShow`, `vmPolicy`,
/// `vmCloudInit`; schemas in Docs/cli.md). Host changes run here, on the admin thread, so the
/// event loop keeps forwarding while `ip` and `nft` work; only the node's part (a VM's address
/// and policy in, what VMs declare to the capacity record, its counters out) is posted to the
/// loop.
extension NodeAdminHandler {
    static let vmCalls: Set<AdminCall> = [.vmAttach, .vmDetach, .vmList, .vmShow, .vmPolicy, .vmCloudInit]

    func handleVM(_ call: AdminRequest) -> Result<any AdminResponse, AdminError> {
        guard let host = runner.vmHost else {
            return .failure(AdminError("\(call.call.rawValue): VMs need the node's TUN (tun.enabled is false)"))
        }
        switch call {
        case .vmAttach(let request):
            // More than the node has free (when it announces capacity) is refused, or with
            // `force` attached with a warning in the reply and the log.
            let over: [VMTableError]
            switch onLoop({ node in node.capacityFree.map { NodeRunner.overDeclared(request, free: $0) } ?? [] }) {
            case .failure(let e): return .failure(e)
            case .success(let v): over = v
            }
            if let first = over.first, !request.force {
                // Named by the first resource over (the message lists every one).
                return .failure(AdminError(over.map(\.description).joined(separator: "; ") + "; --force attaches it anyway",
                                           kind: .argument, argument: first.argument))
            }
            switch host.attach(request) {
            case .failure(let e): return .failure(AdminError(e))
            case .success(let lease):
                // The host is changed; if the node does not take the VM, the host is rolled back
                // (and the node told to forget it, should the posted work still run).
                if case .failure(let e) = onLoop({ [runner] node in
                    node.setVM(name: lease.name, address: lease.address, policy: lease.policy)
                    runner.declareVMCapacity()
                }) {
                    _ = host.detach(name: lease.name)
                    _ = runner.loop.post { [runner] in runner.node.removeVM(address: lease.address); runner.declareVMCapacity() }
                    runner.logger.warn("vm attach undone: the node did not take it", [("name", lease.name), ("error", e.message)])
                    return .failure(AdminError("the node did not take VM '\(lease.name)' (\(e.message)); the attach was undone", kind: .node))
                }
                for w in over { runner.logger.warn("vm attached beyond free capacity (--force)", [("name", lease.name), ("problem", w.description)]) }
                return show(host, lease).map { vm in
                    var vm = vm
                    if !over.isEmpty { vm.warnings = over.map(\.description) }
                    return vm
                }
            }
        case .vmDetach(let name):
            switch host.detach(name: name) {
            case .failure(let e): return .failure(AdminError(e))
            case .success(let lease):
                // The host's part is gone and cannot be brought back as it was; the node's is
                // reported when it did not confirm (the posted work may still run).
                if case .failure(let e) = onLoop({ [runner] node in
                    node.removeVM(address: lease.address)
                    runner.declareVMCapacity()
                }) {
                    runner.logger.warn("vm detached on the host; the node did not confirm", [("name", lease.name), ("error", e.message)])
                    return .failure(AdminError("VM '\(lease.name)' is detached on the host, but the node did not confirm forgetting it "
                                               + "(\(e.message)); its address and policy go at the latest when planetd restarts", kind: .node))
                }
                return .success(VMDetachReply(name: lease.name, address: lease.address.description))
            }
        case .vmPolicy(let name, let allow):
            let previous = host.lease(named: name)?.policy
            switch host.setPolicy(name: name, allow: allow) {
            case .failure(let e): return .failure(AdminError(e))
            case .success(let lease):
                // Not taken by the node: the saved policy goes back to what the node enforces.
                if case .failure(let e) = onLoop({ node in node.setVM(name: lease.name, address: lease.address, policy: lease.policy) }) {
                    if let previous {
                        _ = host.setPolicy(name: name, allow: previous.texts)
                        _ = runner.loop.post { [runner] in runner.node.setVM(name: lease.name, address: lease.address, policy: previous) }
                    }
                    return .failure(AdminError("the node did not take the new policy for VM '\(name)' (\(e.message)); the previous one stays",
                                               kind: .node))
                }
                return show(host, lease).map { $0 }
            }
        case .vmShow(let name):
            if let refusal = host.unreadableLeases { return .failure(AdminError(refusal)) }
            guard let lease = host.lease(named: name) else { return .failure(.argument("name", "no VM named '\(name)'")) }
            return show(host, lease).map { $0 }
        case .vmList:
            // An empty list would say "no VMs" where the unreadable file holds some.
            if let refusal = host.unreadableLeases { return .failure(AdminError(refusal)) }
            let leases = host.leases
            let spoofed = host.spoofedPackets()
            let states = leases.map { host.state(of: $0) }
            let problems = leases.map { host.problem(of: $0.name) }
            let repairs = leases.map { host.repairCount(of: $0.name) }
            return onLoop { node in
                VMListReply(vms: leases.enumerated().map { i, l in
                    NodeAdminHandler.vmReply(l, state: states[i], problem: problems[i], spoofed: spoofed[l.name] ?? 0,
                                             repairs: repairs[i], entry: node.vmEntry(address: l.address))
                })
            }.map { $0 }
        case .vmCloudInit(let name):
            switch host.cloudInit(name: name) {
            case .failure(let e): return .failure(AdminError(e))
            case .success(let doc): return .success(VMCloudInitReply(name: name, networkConfig: doc))
            }
        default:
            return .failure(AdminError("\(call.call.rawValue) is not a VM call"))
        }
    }

    func show(_ host: VMHost, _ lease: VMLease) -> Result<VMReply, AdminError> {
        let state = host.state(of: lease)
        let spoofed = host.spoofedPackets()[lease.name] ?? 0
        let problem = host.problem(of: lease.name)
        let repairs = host.repairCount(of: lease.name)
        return onLoop { node in
            NodeAdminHandler.vmReply(lease, state: state, problem: problem, spoofed: spoofed, repairs: repairs,
                                     entry: node.vmEntry(address: lease.address))
        }
    }

    /// Runs `body` on the loop thread with the node and waits for its answer (bounded).
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (Node) -> T) -> Result<T, AdminError> {
        let rendezvous = AdminRendezvous<T>()
        let posted = runner.loop.post { [runner] in
            rendezvous.fulfil(.success(body(runner.node)))
            runner.flush()
        }
        guard posted else { return .failure(AdminError("node is busy")) }
        return rendezvous.wait(timeout: 5)
    }

    static func vmReply(_ l: VMLease, state: String, problem: String?, spoofed: UInt64, repairs: Int, entry: VMGuard.Entry?) -> VMReply {
        VMReply(name: l.name, address: l.address.description, interface: l.interface, kind: l.kind.rawValue, netns: l.netns, mac: l.mac,
                gateway: VMTable.gateway.description, policy: l.policy.texts, state: state,
                rxBytes: entry?.rxBytes ?? 0, txBytes: entry?.txBytes ?? 0, rxPackets: entry?.rxPackets ?? 0, txPackets: entry?.txPackets ?? 0,
                refusedPackets: entry?.refused ?? 0, spoofedPackets: spoofed, repairs: UInt64(max(0, repairs)),
                cpu: l.cpu, memoryBytes: l.memoryBytes, diskBytes: l.diskBytes, owner: l.owner, problem: problem)
    }
}
