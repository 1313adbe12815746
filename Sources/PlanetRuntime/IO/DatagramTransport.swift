import PlanetCore

/// What `NodeRunner` needs from an underlay socket: a bound UDP socket (`UDPSocket`) or an
/// in-memory double in tests (PlanetTesting's `MemoryTransport`, as wireguard-go's `conn.Bind` has
/// `bindtest`). Datagrams move in batches both ways, so the runner calls a transport once per
/// batch (up to 64 datagrams), never per datagram.
public protocol DatagramTransport: AnyObject {
    /// Readable while datagrams wait; the runner registers it with its `EventLoop`.
    var readinessFD: Int32 { get }
    /// AF_INET6 (dual-stack: IPv4 peers as v4-mapped endpoints) or AF_INET: the runner sends
    /// to IPv4 peers from an AF_INET transport when it has one.
    var family: Int32 { get }
    /// The bound address and port; `socket` is the transport's index in the runner's list,
    /// which it stamps on every endpoint it reports.
    var localEndpoint: Endpoint { get }
    var counters: TransportCounters { get }

    /// Receives what is waiting, up to the batch's capacity, without blocking, filling the
    /// batch through `DatagramBatch.refill`. Returns the number of slots filled (0 when none);
    /// a truncated datagram keeps its slot with length -1.
    @discardableResult
    func receiveBatch(into batch: DatagramBatch) -> Int

    /// Sends every datagram in the batch, copying them out as the kernel does (from the node's
    /// transmit slots and the receive slots it borrowed, which hold them until the flush ends),
    /// then empties it. Returns how many left; refusals are counted, not thrown.
    @discardableResult
    func sendBatch(_ batch: SendBatch) -> Int

    func close()
}

/// A transport's losses, which `NodeRunner` reports under `io-` drop reasons.
public struct TransportCounters: Equatable, Sendable {
    public var receiveErrors = 0
    /// Datagrams larger than a receive slot.
    public var truncatedDrops = 0
    /// Datagrams the transport refused to send (full buffer, unreachable peer).
    public var sendErrors = 0

    public init(receiveErrors: Int = 0, truncatedDrops: Int = 0, sendErrors: Int = 0) {
        self.receiveErrors = receiveErrors
        self.truncatedDrops = truncatedDrops
        self.sendErrors = sendErrors
    }
}
