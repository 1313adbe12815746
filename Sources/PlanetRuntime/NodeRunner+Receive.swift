import Foundation
import PlanetCore
import PlanetLink
import PlanetNode
#if canImport(Glibc)
import Glibc
#endif

/// The runner's inputs: datagrams from its transports and packets from its devices, handed to
/// the node where they lie, each batch followed by a flush (NodeRunner+Flush.swift).
extension NodeRunner {

    func readTransport(_ index: Int) {
        let transport = transports[index]
        var rounds = 0
        while rounds < 8 {
            // Nothing queued may still point into the slots this receive overwrites.
            precondition(!node.transmits.hasBorrowed, "a relayed datagram would be sent from a receive slot filled again")
            let n = transport.receiveBatch(into: receiveBatch)
            if n == 0 { break }
            let now = MonotonicClock.now()
            // Relayed data is sealed again in the receive slot and queued from there, and packets
            // for us go to the device from there: all before the next receive reuses the slots,
            // which is what repaying the loan at the flush below stands for.
            let loan = receiveBatch.lend()
            for i in 0..<n where receiveBatch.length(i) >= 0 {
                let from = receiveBatch.endpoint(i)
                receiveBatch.forEachMutableDatagram(in: i, under: loan) { datagram in
                    node.receiveDatagram(inPlace: datagram, from: from, now: now)
                }
                // A full sendmmsg's worth goes out at once (as the batch did when it filled); the
                // queue then never holds more than that and what one datagram adds.
                if node.transmits.count >= NodeRunner.sendEvery { sendTransmits() }
            }
            flush(repaying: loan)
            rounds += 1
            if n < receiveBatch.capacity { break }
        }
    }

    /// Drains a packet device: with offload each read may be a 64 KiB TCP super-packet that
    /// becomes ~45 segments, so output is flushed every few dozen packets to keep the send
    /// batch full but bounded, and reads per wakeup are capped (the fd is level-triggered; the
    /// rest waits).
    func readDevice(_ device: any PacketDevice, interface: PacketInterface) {
        var now = MonotonicClock.now()
        var handled = 0
        _ = device.readPackets(maxReads: 64) { packet, checksumPartial in
            node.receiveTunPacket(raw: packet, checksumPartial: checksumPartial, from: interface, now: now)
            handled += 1
            // A full sendmmsg's worth of datagrams goes out at once (as the batch did when it
            // filled); a super-packet becomes up to ~45, so the 256 slots never run out.
            if node.transmits.count >= NodeRunner.sendEvery { sendTransmits() }
            if handled >= 48 {
                flush()
                handled = 0
                now = MonotonicClock.now()
            }
        }
        if handled > 0 { flush() }
    }

    func readMulticast() {
        guard let multicast else { return }
        let n = multicast.receive(into: receiveBatch)
        guard n > 0 else { return }
        let now = MonotonicClock.now()
        for i in 0..<n where receiveBatch.length(i) > 0 {
            var from = receiveBatch.endpoint(i)
            from.socket = socketIndex(for: from)
            node.receiveDatagram(Array(receiveBatch.datagram(i)), from: from, now: now)
        }
        flush()
    }
}
