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

    func handleVM(_ call: AdminRequest) -> Result<JSONValue, AdminError> {
        guard let host = runner.vmHost else {
            return .failure(AdminError("\(call.call.rawValue): VMs need the node's TUN (tun.enabled is false)"))
        }
        switch call {
        case .vmAttach(let request):
            let name = request.name
            // More than the node has free (when it announces capacity) is refused, or with
            // `force` attached with a warning in the reply and the log.
            let over: [String]
            switch onLoop({ node in
                .array(node.capacityFree.map { NodeRunner.overDeclared(request, free: $0).map { .string($0.description) } } ?? [])
            }) {
            case .failure(let e): return .failure(e)
            case .success(let v): over = (v.arrayValue ?? []).compactMap(\.stringValue)
            }
            if !over.isEmpty, !request.force {
                // Named by the first resource over (the message lists every one).
                let argument = String(over[0].prefix { $0 != ":" })
                return .failure(AdminError(over.joined(separator: "; ") + "; --force attaches it anyway", kind: .argument, argument: argument))
            }
            switch host.attach(request) {
            case .failure(let e): return .failure(AdminError(e))
            case .success(let lease):
                _ = onLoop { [runner] node in
                    node.setVM(name: lease.name, address: lease.address, policy: lease.policy)
                    runner.declareVMCapacity()
                    return .object([])
                }
                for w in over { runner.logger.warn("vm attached beyond free capacity (--force)", [("name", lease.name), ("problem", w)]) }
                guard !over.isEmpty else { return show(host, lease) }
                return show(host, lease).map { vm in .object((vm.objectValue ?? []) + [("warnings", .array(over.map { .string($0) }))]) }
            }
        case .vmDetach(let name):
            switch host.detach(name: name) {
            case .failure(let e): return .failure(AdminError(e))
            case .success(let lease):
                _ = onLoop { [runner] node in
                    node.removeVM(address: lease.address)
                    runner.declareVMCapacity()
                    return .object([])
                }
                return .success(.object([("name", .string(lease.name)), ("address", .string(lease.address.description))]))
            }
        case .vmPolicy(let name, let allow):
            switch host.setPolicy(name: name, allow: allow) {
            case .failure(let e): return .failure(AdminError(e))
            case .success(let lease):
                _ = onLoop { node in node.setVM(name: lease.name, address: lease.address, policy: lease.policy); return .object([]) }
                return show(host, lease)
            }
        case .vmShow(let name):
            if let refusal = host.unreadableLeases { return .failure(AdminError(refusal)) }
            guard let lease = host.lease(named: name) else { return .failure(.argument("name", "no VM named '\(name)'")) }
            return show(host, lease)
        case .vmList:
            // An empty list would say "no VMs" where the unreadable file holds some.
            if let refusal = host.unreadableLeases { return .failure(AdminError(refusal)) }
            let leases = host.leases
            let spoofed = host.spoofedPackets()
            let states = leases.map { host.state(of: $0) }
            return onLoop { node in
                .object([("vms", .array(leases.enumerated().map { i, l in
                    NodeAdminHandler.vmJSON(l, state: states[i], problem: host.problem(of: l.name), spoofed: spoofed[l.name] ?? 0,
                                            repairs: host.repairCount(of: l.name), entry: node.vmEntry(address: l.address))
                }))])
            }
        case .vmCloudInit(let name):
            switch host.cloudInit(name: name) {
            case .failure(let e): return .failure(AdminError(e))
            case .success(let doc): return .success(.object([("name", .string(name)), ("networkConfig", .string(doc))]))
            }
        default:
            return .failure(AdminError("\(call.call.rawValue) is not a VM call"))
        }
    }

    func show(_ host: VMHost, _ lease: VMLease) -> Result<JSONValue, AdminError> {
        let state = host.state(of: lease)
        let spoofed = host.spoofedPackets()[lease.name] ?? 0
        let problem = host.problem(of: lease.name)
        let repairs = host.repairCount(of: lease.name)
        return onLoop { node in
            NodeAdminHandler.vmJSON(lease, state: state, problem: problem, spoofed: spoofed, repairs: repairs,
                                    entry: node.vmEntry(address: lease.address))
        }
    }

    /// Runs `body` on the loop thread with the node and waits for its answer (bounded).
    func onLoop(_ body: @escaping @Sendable (Node) -> JSONValue) -> Result<JSONValue, AdminError> {
        let rendezvous = AdminRendezvous()
        let posted = runner.loop.post { [runner] in
            rendezvous.fulfil(.success(body(runner.node)))
            runner.flush()
        }
        guard posted else { return .failure(AdminError("node is busy")) }
        return rendezvous.wait(timeout: 5)
    }

    static func vmJSON(_ l: VMLease, state: String, problem: String?, spoofed: UInt64, repairs: Int, entry: VMGuard.Entry?) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("name", .string(l.name)),
            ("address", .string(l.address.description)),
            ("interface", .string(l.interface)),
            ("kind", .string(l.kind.rawValue)),
            ("netns", l.netns.map { .string($0) } ?? .null),
            ("mac", .string(l.mac)),
            ("gateway", .string(VMTable.gateway.description)),
            ("policy", .array(l.policy.texts.map { .string($0) })),
            ("state", .string(state)),
            ("rxBytes", .number(Double(entry?.rxBytes ?? 0))),
            ("txBytes", .number(Double(entry?.txBytes ?? 0))),
            ("rxPackets", .number(Double(entry?.rxPackets ?? 0))),
            ("txPackets", .number(Double(entry?.txPackets ?? 0))),
            ("refusedPackets", .number(Double(entry?.refused ?? 0))),
            ("spoofedPackets", .number(Double(spoofed))),
            ("repairs", .number(Double(repairs))),
            ("cpu", l.cpu.map { .number(Double($0)) } ?? .null),
            ("memoryBytes", l.memoryBytes.map { .number(Double($0)) } ?? .null),
            ("diskBytes", l.diskBytes.map { .number(Double($0)) } ?? .null),
        ]
        if let owner = l.owner { fields.append(("owner", .string(owner))) }
        if let problem { fields.append(("problem", .string(problem))) }
        return .object(fields)
    }
}
