import PlanetCore

/// What a `Node` asks the runtime to do after an input: datagrams to send, packets to write to
/// the TUN, host names to resolve. The runtime drains it after every call into the node.
public struct NodeOutput {
    public var datagrams: [(bytes: [UInt8], to: Endpoint)] = []
    /// Slices of the decrypted datagrams they arrived in (no copy); write each as one packet.
    public var tunPackets: [ArraySlice<UInt8>] = []
    public var resolve: [PeerURI] = []

    public init() {}

    public var isEmpty: Bool { datagrams.isEmpty && tunPackets.isEmpty && resolve.isEmpty }

    public mutating func removeAll() {
        datagrams.removeAll(keepingCapacity: true)
        tunPackets.removeAll(keepingCapacity: true)
        resolve.removeAll(keepingCapacity: true)
    }
}
