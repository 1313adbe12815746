import PlanetCore

/// VMs and containers the node hosts (Docs/architecture.md, "VMs on the overlay").
///
/// The kernel routes each VM on an interface of its own (the runtime sets that up); every
/// packet a VM sends to the overlay, and every packet for a VM from anywhere (the overlay, or
/// another VM on this node, which the kernel's policy routing sends through the TUN too), passes
/// the node. Here the node holds each packet for a VM to that VM's inbound policy, with the
/// sender's authenticated key: the session's or the direct link's peer for the overlay, this
/// node's own key for a neighbour VM. A refused packet is counted against its VM and answered
/// with a rate-limited ICMPv6 "administratively prohibited" from this node's address.
///
/// Source addresses are not checked here: the runtime drops a VM's packets from any source but
/// its own at the kernel's edge (nftables), where the arrival interface is still known.
extension Node {
    /// Adds the VM at `address`, or changes its policy; takes effect with the next packet.
    public func setVM(name: String, address vmAddress: IPv6Address, policy: VMPolicy) {
        vms.set(address: vmAddress, name: name, policy: policy)
    }

    public func removeVM(address vmAddress: IPv6Address) {
        vms.remove(address: vmAddress)
    }

    /// The VM's counters, by address (nil: not a VM of this node).
    public func vmEntry(address vmAddress: IPv6Address) -> VMGuard.Entry? { vms.entries[vmAddress] }

    /// Whether a packet for a local address may be delivered: one for a VM by the VM's policy;
    /// one for an address of the /64 that no VM holds, while the node hosts VMs, not at all
    /// (counted `vm-unknown-address`, answered "address unreachable"): nothing of the node's
    /// lives there, and the kernel would otherwise send it wherever its own routes say. The
    /// node's own address always may; so may the whole /64 of a node that hosts no VMs of its
    /// own, whose operator routes it by hand (a bridge of their own, as in test_subnet_vm.sh).
    func vmAdmits(_ packet: UnsafeRawBufferPointer, header h: IPv6Header, from sender: PublicKey, now: Instant) -> Bool {
        guard !vms.isEmpty else { return true }
        guard let entry = vms.entries[h.destination] else {
            guard h.destination != address, subnet.contains(h.destination) else { return true }
            stats.drop(.vmUnknownAddress)
            refuse(packet, with: .addressUnreachable, now: now)
            return false
        }
        if vms.admits(packet, header: h, to: entry, from: sender, now: now) { return true }
        stats.drop(.vmPolicyRefused)
        refuse(packet, now: now)
        return false
    }

    /// Counts a packet a local program (a VM's, or the node's) sends, against its VM.
    func vmSent(_ packet: UnsafeRawBufferPointer, header h: IPv6Header, now: Instant) {
        guard !vms.isEmpty, let entry = vms.entries[h.source] else { return }
        vms.sent(packet, header: h, by: entry, now: now)
    }

    /// "Administratively prohibited" (destination unreachable, code 1) to whoever sent a
    /// refused packet, routed like any packet of this node's: the sender is on the overlay, or
    /// is a VM of this node (then the kernel takes it from the TUN to that VM).
    func refuse(_ packet: UnsafeRawBufferPointer, with kind: ICMPv6.ErrorKind = .administrativelyProhibited, now: Instant) {
        let bytes = Array(packet)
        guard ICMPv6.mayReportError(about: bytes) else { return }
        guard vmRefusalLimiter.take(now: now) else { stats.drop(.icmpRateLimited); return }
        guard let icmp = ICMPv6.error(kind, from: address, about: bytes),
              let h = IPv6Header(icmp) else { return }
        stats.icmpErrorsSent += 1
        if isLocal(h.destination) {
            deliverToTun(NodeOutput.TunPacket(icmp[...]))
        } else {
            icmp.withUnsafeBytes { route($0, checksumPartial: false, header: h, now: now) }
        }
    }
}
