import PlanetLink

/// The one registry of upper-layer frames a link carries: the first byte of a link's decrypted
/// payload from 0x10 up (the link layer keeps 0x00–0x0f for keepalive, ping and pong).
///
///     0x10–0x1f  neighbour protocols: spoken between two linked nodes, never forwarded
///                (`NeighbourProtocol`; each registers the one number it owns)
///     0x20–0x2f  the data plane: packets that cross the overlay
///
/// A new neighbour protocol (endpoint exchange next) takes a number here and
/// registers itself with `Node.register(_:)`; the receive path needs no other edit.
/// Unknown numbers are dropped and counted (`unknown-frame`).
public enum InnerFrameType: UInt8, Sendable, CaseIterable {
    /// Routing messages (Docs/protocol.md, "Routing"): the router, the first neighbour protocol.
    case routing = 0x10
    /// Capacity gossip (Docs/protocol.md, "Capacity records and gossip"): `CapacityNeighbour`.
    case capacity = 0x11
    /// An overlay packet: a session message on its way to a node, hop by hop (`OverlayPacket`).
    case overlay = 0x20
    /// A neighbour's own IPv6 packet, sealed by the link alone (one AEAD pass).
    case direct = 0x21
    /// As `direct`, the packet's TCP/UDP checksum partial (Docs/protocol.md).
    case directChecksumPartial = 0x22

    public static let neighbourProtocols: ClosedRange<UInt8> = 0x10...0x1f
}
