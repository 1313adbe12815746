import PlanetCore

/// Memory the runtime lends the link layer to seal an outgoing datagram in: a slot of its send
/// batch. Sealing there instead of into an array of its own saves, per data packet, an
/// allocation, its release, the event that carries it and the runtime's copy into the batch.
///
/// Sans-I/O still: the sink is memory and a queue, nothing is sent while the node runs. The
/// runtime sends the batch at its next flush, as it sends `.transmit` events.
public protocol DatagramSink: AnyObject {
    /// Lends a slot of `maxLength` bytes for a datagram to `endpoint` and calls `fill`, which
    /// writes the datagram there and returns its length (0 or less: nothing to send, the slot
    /// stays free). Datagrams the node produced earlier the ordinary way must go out before it,
    /// so the sink queues those first. False when it lends nothing (`fill` not called): the
    /// caller sends the ordinary way.
    func send(to endpoint: Endpoint, maxLength: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) -> Bool
}
