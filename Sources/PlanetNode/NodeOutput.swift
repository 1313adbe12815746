import PlanetCore

/// What a `Node` asks the runtime to do after an input besides sending datagrams (those are in
/// `Node.transmits`, in order): packets to write to the TUN, host names to resolve. The runtime
/// drains it after every call into the node.
public struct NodeOutput {
    /// Packets where they were decrypted (a slice of the datagram, or the runtime's receive slot:
    /// no copy); write each as one packet.
    public var tunPackets: [TunPacket] = []
    public var resolve: [PeerURI] = []

    public init() {}

    /// An IPv6 packet for the TUN. `checksumPartial`: its TCP/UDP checksum field holds only the
    /// pseudo-header sum (the sender's kernel left it so and the overlay carried it so); the
    /// runtime hands it to the kernel as CHECKSUM_PARTIAL or completes it.
    public struct TunPacket {
        package enum Storage {
            case array(ArraySlice<UInt8>)
            /// Decrypted where it arrived, in the runtime's receive slot
            /// (`Node.receiveDatagram(inPlace:)`): valid until the runtime's next flush.
            case borrowed(UnsafeRawBufferPointer)
        }
        package let storage: Storage
        public var checksumPartial: Bool
        /// The device to write it to (`.tun` unless the data plane picked a VM's own device).
        public var interface: PacketInterface = .tun

        public init(_ bytes: ArraySlice<UInt8>, checksumPartial: Bool = false) {
            storage = .array(bytes)
            self.checksumPartial = checksumPartial
        }

        init(borrowing bytes: UnsafeRawBufferPointer, checksumPartial: Bool) {
            storage = .borrowed(bytes)
            self.checksumPartial = checksumPartial
        }

        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            switch storage {
            case .array(let slice): return try slice.withUnsafeBytes(body)
            case .borrowed(let raw): return try body(raw)
            }
        }

        /// The packet's bytes (a copy when borrowed).
        public var bytes: ArraySlice<UInt8> {
            switch storage {
            case .array(let slice): return slice
            case .borrowed(let raw): return Array(raw)[...]
            }
        }

        public var count: Int {
            switch storage {
            case .array(let slice): return slice.count
            case .borrowed(let raw): return raw.count
            }
        }
    }

    /// Copies the packets from `index` on that borrow memory into arrays of their own: for a
    /// caller whose buffer dies before the runtime's flush (`Node.receiveDatagram(_:from:now:)`).
    mutating func ownTunPackets(from index: Int) {
        for i in index..<tunPackets.count {
            if case .borrowed = tunPackets[i].storage {
                var owned = NodeOutput.TunPacket(tunPackets[i].bytes, checksumPartial: tunPackets[i].checksumPartial)
                owned.interface = tunPackets[i].interface
                tunPackets[i] = owned
            }
        }
    }

    public var isEmpty: Bool { tunPackets.isEmpty && resolve.isEmpty }

    public mutating func removeAll() {
        tunPackets.removeAll(keepingCapacity: true)
        resolve.removeAll(keepingCapacity: true)
    }
}
