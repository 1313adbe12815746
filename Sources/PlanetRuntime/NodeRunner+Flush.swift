import Foundation
import PlanetCore
import PlanetLink
import PlanetNode
#if canImport(Glibc)
import Glibc
#endif

/// The runner's outputs: what the node asked for after an input — its datagrams, in the order
/// of its one queue (`Node.transmits`), into the send batches by socket, without a copy; packets
/// to the device each names; names to resolve — and the node's next deadline for the loop. The
/// runner alone sends, and only here.
extension NodeRunner {

    func sendSocket(for endpoint: Endpoint) -> Int {
        endpoint.socket < transports.count ? endpoint.socket : socketIndex(for: endpoint)
    }

    /// Sends everything the node queued, in its order (per socket), and empties the queue.
    func sendTransmits() {
        let queue = node.transmits
        queue.forEach { pointer, length, endpoint in
            let i = sendSocket(for: endpoint)
            if sendBatches[i].isFull { transports[i].sendBatch(sendBatches[i]) }
            sendBatches[i].append(borrowing: UnsafeRawBufferPointer(start: pointer, count: length), to: endpoint)
        }
        for (i, batch) in sendBatches.enumerated() where !batch.isEmpty { transports[i].sendBatch(batch) }
        queue.removeAll()
    }

    /// Carries out the node's output, then repays the loan of the receive batch it may have
    /// borrowed from: everything that pointed into its slots has been sent or written.
    func flush(repaying loan: consuming ReceiveLoan) {
        flush()
        loan.repay()
    }

    func flush() {
        // Swapping with a spare keeps both outputs' arrays allocated across flushes.
        // Yggdrasil's deliveries first: the node's checks may add to its output below.
        yggdrasil?.drain(now: MonotonicClock.now())
        var out = spareOutput
        swap(&out, &node.output)
        defer { out.removeAll(); spareOutput = out }
        sendTransmits()
        writePackets(out.tunPackets)
        for uri in out.resolve {
            resolver.resolve(uri) { [unowned self] result in
                let now = MonotonicClock.now()
                switch result {
                case .success(let endpoints):
                    let placed = endpoints.map { e -> Endpoint in var e = e; e.socket = self.socketIndex(for: e); return e }
                    self.node.resolved(uri, endpoints: placed, now: now)
                case .failure(let error):
                    self.logger.info("cannot resolve peer", [("uri", uri.description), ("error", "\(error)")])
                    self.node.resolved(uri, endpoints: [], now: now)
                }
                self.flush()
            }
        }
        if let yggdrasil {
            // What the node's output sent Yggdrasil's way (its packets, ICMPv6 errors).
            yggdrasil.drain(now: MonotonicClock.now())
            loop.setDeadline(min(node.nextDeadline, yggdrasil.nextDeadline))
        } else {
            loop.setDeadline(node.nextDeadline)
        }
    }

    /// Hands each device its packets in one call. Today all of a flush's packets are for the
    /// TUN: one compare per packet finds that out, and the whole array goes to one device.
    /// Packets for several devices are split per device, keeping their order within each.
    func writePackets(_ packets: [NodeOutput.TunPacket]) {
        guard let first = packets.first?.interface else { return }
        if packets.allSatisfy({ $0.interface == first }) {
            write(packets, to: first)
            return
        }
        var order: [PacketInterface] = []
        var split: [PacketInterface: [NodeOutput.TunPacket]] = [:]
        for p in packets {
            if split[p.interface] == nil { order.append(p.interface) }
            split[p.interface, default: []].append(p)
        }
        for interface in order { write(split[interface]!, to: interface) }
    }

    func write(_ packets: [NodeOutput.TunPacket], to interface: PacketInterface) {
        guard let device = devices[interface] else {
            // The node named a device this runner does not have (a VM's, detached meanwhile):
            // nowhere to deliver, so the packets are counted as lost at the runtime's edge.
            unknownInterfaceDrops += packets.count
            return
        }
        device.writePackets(packets, coalescer: coalescer)
    }

    /// Non-zero losses at the runtime's edge, for `getStats`.
    func ioDrops() -> [(String, UInt64)] {
        var out: [(String, UInt64)] = []
        let device = devices.values.reduce(PacketDeviceCounters()) { $0 + $1.counters }
        let transport = transports.reduce(TransportCounters()) { sum, t in
            let c = t.counters
            return TransportCounters(receiveErrors: sum.receiveErrors + c.receiveErrors, truncatedDrops: sum.truncatedDrops + c.truncatedDrops,
                                     sendErrors: sum.sendErrors + c.sendErrors)
        }
        let multicastErrors = multicast?.receiveErrors ?? 0
        for (name, n) in [("io-tun-read-failed", device.readErrors), ("io-tun-offload-malformed", device.offloadDrops),
                          ("io-tun-write-failed", device.writeErrors), ("io-unknown-interface", unknownInterfaceDrops),
                          ("io-udp-receive-failed", transport.receiveErrors + multicastErrors),
                          ("io-udp-truncated", transport.truncatedDrops), ("io-udp-send-failed", transport.sendErrors)] where n > 0 {
            out.append((name, UInt64(n)))
        }
        return out
    }
}
