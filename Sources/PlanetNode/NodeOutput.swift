import PlanetCore

/// What a `Node` asks the runtime to do after an input: datagrams to send, packets to write to
/// the TUN, host names to resolve. The runtime drains it after every call into the node.
public struct NodeOutput {
    public var datagrams: [(bytes: [UInt8], to: Endpoint)] = []
    /// Slices of the decrypted datagrams they arrived in (no copy); write each as one packet.
    public var tunPackets: [TunPacket] = []
    public var resolve: [PeerURI] = []

    public init() {}

    /// An IPv6 packet for the TUN. `checksumPartial`: its TCP/UDP checksum field holds only the
    /// pseudo-header sum (the sender's kernel left it so and the overlay carried it so); the
    /// runtime hands it to the kernel as CHECKSUM_PARTIAL or completes it.
    public struct TunPacket {
        public var bytes: ArraySlice<UInt8>
        public var checksumPartial: Bool
        public init(_ bytes: ArraySlice<UInt8>, checksumPartial: Bool = false) {
            self.bytes = bytes
            self.checksumPartial = checksumPartial
        }
    }

    public var isEmpty: Bool { datagrams.isEmpty && tunPackets.isEmpty && resolve.isEmpty }

    public mutating func removeAll() {
        datagrams.removeAll(keepingCapacity: true)
        tunPackets.removeAll(keepingCapacity: true)
        resolve.removeAll(keepingCapacity: true)
    }
}
